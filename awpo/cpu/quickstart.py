"""The quick start: a few real AWPO training steps on a CPU, from nothing.

    python -m awpo.cpu.quickstart [--output-dir outputs/quickstart] [--steps 4] [--timeout-s 900] [--stall-s 300]
                                  [hydra overrides...]

1. checks that ``<output-dir>/data`` holds the bundled sample data (``examples/data/xlam_sample.json``, xLAM
   format) converted to ``train.parquet``/``val.parquet``: ``scripts/quickstart.sh`` converts it with
   ``data_preprocess.xlam`` before it starts this module (the library does not import the converters);
2. builds a tiny random Qwen3 model and a tokenizer with Qwen3's chat template (:mod:`awpo.tiny_model`);
3. trains with ``awpo.train`` through the CPU launcher (:mod:`awpo.cpu.launch`): the ``awpo``
   estimator, the ``awpo`` reward manager with the ``rule`` judge and the ``awpo_tool_agent`` loop, validating
   before and after training and saving a checkpoint at the last step. verl prints every step's metrics, the
   ``awpo/*`` ones included.

Model and data are built once and reused by later runs; the checkpoint directory is replaced on every run. Hydra's
run directory (the run's log and composed config) is ``<output-dir>/hydra``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from awpo.cpu import launch
from awpo.tiny_model import build_tiny_model, build_tiny_tokenizer


def prepare_model(directory: Path) -> Path:
    """The tiny model and tokenizer in ``directory`` (built when absent)."""
    if not (directory / "config.json").exists():
        build_tiny_model(directory, build_tiny_tokenizer())
    return directory


def missing_data(directory: Path) -> str | None:
    """Why ``directory`` cannot be trained on (no converted ``train.parquet``/``val.parquet``), or None."""
    missing = [name for name in ("train.parquet", "val.parquet") if not (directory / name).is_file()]
    if not missing:
        return None
    return (
        f"no {' or '.join(missing)} in {directory}: start the quick start with bash scripts/quickstart.sh, which "
        "converts examples/data/xlam_sample.json into it with data_preprocess.xlam"
    )


def training_overrides(model: Path, data: Path, output: Path, steps: int) -> list[str]:
    """Hydra overrides of the quick-start run (on top of the awpo_cpu config); checkpoints go to output/checkpoints."""
    return [
        f"hydra.run.dir={output / 'hydra'}",
        f"actor_rollout_ref.model.path={model}",
        f"data.train_files={data / 'train.parquet'}",
        f"data.val_files={data / 'val.parquet'}",
        "data.train_batch_size=4",
        "data.max_prompt_length=1024",
        "data.max_response_length=128",
        "data.filter_overlong_prompts=true",
        "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.rollout.prompt_length=1024",
        "actor_rollout_ref.rollout.response_length=128",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "actor_rollout_ref.actor.optim.lr=1e-4",
        "actor_rollout_ref.actor.use_kl_loss=false",
        "algorithm.use_kl_in_reward=false",
        f"trainer.total_training_steps={steps}",
        f"trainer.save_freq={steps}",
        f"trainer.test_freq={steps}",
        "trainer.val_before_train=true",
        f"trainer.default_local_dir={output / 'checkpoints'}",
        "trainer.project_name=awpo-quickstart",
        "trainer.experiment_name=tiny-qwen3-cpu",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=launch.REPO_ROOT / "outputs" / "quickstart",
        help="model, data, checkpoints and Hydra run directory (default <repo>/outputs/quickstart)",
    )
    parser.add_argument("--steps", type=int, default=4, help="training steps (default 4)")
    parser.add_argument(
        "--timeout-s", type=float, default=900.0, help="stop the training run after this many seconds (default 900)"
    )
    parser.add_argument(
        "--stall-s",
        type=float,
        default=launch.DEFAULT_STALL_S,
        help=f"stop the training run after this many seconds without output (default {launch.DEFAULT_STALL_S:.0f})",
    )
    args, overrides = parser.parse_known_args(argv)
    output = args.output_dir.resolve()
    data = output / "data"
    problem = missing_data(data)
    if problem is not None:
        print(f"[quickstart] {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    print(f"[quickstart] tiny Qwen3 model and tokenizer → {output / 'model'}", flush=True)
    model = prepare_model(output / "model")
    checkpoints = output / "checkpoints"
    shutil.rmtree(checkpoints, ignore_errors=True)
    print(f"[quickstart] training {args.steps} AWPO steps on the CPU (checkpoints → {checkpoints})", flush=True)
    status = launch.run(
        [*training_overrides(model, data, output, args.steps), *overrides],
        timeout_s=args.timeout_s,
        stall_s=args.stall_s,
    )
    elapsed = time.monotonic() - started
    if status == 0:
        saved = sorted(path.name for path in checkpoints.glob("global_step_*"))
        print(f"[quickstart] done in {elapsed:.0f} s; checkpoints: {', '.join(saved) or 'none'} in {checkpoints}")
    else:
        print(f"[quickstart] training failed (exit {status}) after {elapsed:.0f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
