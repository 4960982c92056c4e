"""Benchmark: CPU training step time of multi-turn episodes against single-turn samples, through verl's real
trainer on the CPU backend.

    .venv/bin/python scripts/bench_multiturn_cpu.py [--steps 4] [--output-dir outputs/bench_multiturn_cpu]

Both runs train the tiny random Qwen3 with AWPO (rule judge, V1 trainer) on 4 prompts × 4 responses per step, without
validation or checkpoints, one after the other:

- ``single_turn``: the quick start's data and lengths (the bundled xLAM sample converted by ``data_preprocess.xlam``;
  prompt ≤ 1024, response ≤ 128 tokens);
- ``multi_turn``: generated messaging tasks (``data_preprocess.multiturn_generate --classes MessageAPI``, 2–3 user
  turns; the backend's tools make the prompt ≈ 2,400 tokens: prompt ≤ 3072) played by the ``awpo_multiturn_agent``
  loop (response ≤ 384 tokens in total, ≤ 48 per generation, ≤ 2 tool-calling generations per turn).

Prints, for each, the median steady-state step time (``timing_s/step`` of steps 2..STEPS; step 1 includes warm-up)
with the median generation and actor-update times and the mean prompt and response lengths, then the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from awpo.console_metrics import parse_console_metrics  # noqa: E402
from awpo.cpu.quickstart import prepare_model, training_overrides  # noqa: E402
from data_preprocess import multiturn_generate, xlam  # noqa: E402

BATCH = ("data.train_batch_size=4", "actor_rollout_ref.rollout.n=4", "actor_rollout_ref.actor.ppo_mini_batch_size=4")
MULTI_TURN = (
    "data.max_prompt_length=3072",
    "data.max_response_length=384",
    "actor_rollout_ref.rollout.prompt_length=3072",
    "actor_rollout_ref.rollout.response_length=384",
    "multiturn.max_tokens_per_step=48",
    "multiturn.max_steps_per_turn=2",
    "multiturn.max_result_chars=512",
)
NO_EVALUATION = ("trainer.val_before_train=false", "trainer.test_freq=-1", "trainer.save_freq=-1")
REPORTED = ("timing_s/step", "timing_s/gen", "timing_s/update_actor", "prompt_length/mean", "response_length/mean")


def train(name: str, overrides: list[str], output: Path) -> dict[int, dict[str, float]]:
    """One CPU training run; its step metrics (exits with the log's tail when it fails)."""
    log = output / f"{name}.log"
    command = [sys.executable, "-m", "awpo.cpu.launch", "--timeout-s=1500", *overrides]
    print(f"[bench_multiturn_cpu] training {name}: log {log}", flush=True)
    with open(log, "w") as handle:
        status = subprocess.run(command, cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT).returncode
    if status != 0:
        sys.exit(f"{name} failed with status {status}:\n{log.read_text()[-4000:]}")
    with open(log) as handle:
        return parse_console_metrics(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="training steps per run, at least 3 (4)")
    parser.add_argument("--output-dir", type=Path, default=REPO_ROOT / "outputs" / "bench_multiturn_cpu")
    args = parser.parse_args(argv)
    if args.steps < 3:
        parser.error("--steps must be at least 3")
    output = args.output_dir
    model = prepare_model(output / "model")
    sample = REPO_ROOT / "examples" / "data" / "xlam_sample.json"
    assert xlam.main(["--input", str(sample), "--output-dir", str(output / "single"), "--val-ratio", "0.2"]) == 0
    generate = ["--output-dir", str(output / "multi"), "--tasks", "32", "--classes", "MessageAPI", "--max-turns", "3"]
    assert multiturn_generate.main(generate) == 0
    runs = {
        "single_turn": training_overrides(model, output / "single", output / "single_run", args.steps),
        "multi_turn": [*training_overrides(model, output / "multi", output / "multi_run", args.steps), *MULTI_TURN],
    }
    medians = {}
    for name, overrides in runs.items():
        metrics = train(name, [*overrides, *BATCH, *NO_EVALUATION], output)
        steady = [metrics[step] for step in range(2, args.steps + 1) if "timing_s/step" in metrics.get(step, {})]
        if len(steady) < args.steps - 1:
            sys.exit(f"{name}: step times of {len(steady)} of steps 2..{args.steps}; see {output / name}.log")
        medians[name] = {key: statistics.median(step[key] for step in steady) for key in REPORTED}
        print(f"  {name:<12}" + "  ".join(f"{key} {value:.2f}" for key, value in medians[name].items()))
    ratio = medians["multi_turn"]["timing_s/step"] / medians["single_turn"]["timing_s/step"]
    print(f"multi-turn / single-turn step time = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
