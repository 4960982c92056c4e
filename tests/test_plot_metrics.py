"""``scripts/plot_metrics.py``: reading verl's console, file-logger and TensorBoard outputs, and the PNG figures.

The fixtures under ``tests/fixtures/logs/`` are verl 0.9.1 output: ``awpo_run.log`` an AWPO run's console output
(lines from ``verl.utils.logger.aggregate_logger.concat_dict_to_str`` with Ray's prefix and progress-bar noise),
``grpo_baseline.jsonl`` a GRPO run without AWPO or judge metrics written by ``verl.utils.tracking.FileLogger``.
TensorBoard event directories are written here, by torch's ``SummaryWriter`` as verl's tensorboard logger does.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from awpo.metrics_io import (
    CONSOLE,
    FILE_LOGGER,
    TENSORBOARD,
    MetricsReadError,
    detect_format,
    load_runs,
    read_console_log,
    read_file_logger,
    read_metrics,
    read_tensorboard,
)
from awpo.plots import GROUPS, group_figure, main, moving_average, select_metrics
from tests.conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "logs"
CONSOLE_LOG = FIXTURES / "awpo_run.log"
FILE_LOG = FIXTURES / "grpo_baseline.jsonl"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VAL_CORE = "val-core/bfcl_simple_python/reward/mean@1"
GROUP = {group.name: group for group in GROUPS}


def write_tensorboard(directory: Path, metrics: dict[int, dict[str, float]]) -> Path:
    """Log ``metrics`` (step → name → value) as verl's tensorboard logger does."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(directory))
    for step, data in metrics.items():
        for name, value in data.items():
            writer.add_scalar(name, value, step)
    writer.close()
    return directory


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, checking its signature and header chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def assert_series_equal(actual: dict[int, float], expected: dict[int, float]) -> None:
    assert sorted(actual) == sorted(expected)
    for step, value in expected.items():
        assert actual[step] == pytest.approx(value, nan_ok=True), step


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    metrics = {
        step: {
            "awpo/gate_mean": 0.25 * step,
            "critic/score/mean": 0.5,
            "actor/grad_norm": math.nan if step == 2 else 1.0,
        }
        for step in (1, 2, 3)
    }
    metrics[3][VAL_CORE] = 0.75
    return write_tensorboard(tmp_path_factory.mktemp("tensorboard_log") / "awpo_bfcl" / "awpo_tb", metrics)


# Reading.


def test_console_log_steps_and_values() -> None:
    series = read_console_log(CONSOLE_LOG)
    assert_series_equal(series["awpo/gate_mean"], {1: 0.25, 2: 0.5, 3: 0.75})
    assert_series_equal(series["response_length/clip_ratio"], {1: 0.0, 2: 0.125, 3: 0.25})
    assert_series_equal(series[VAL_CORE], {0: 0.25, 3: 0.625})  # step 3's validation line comes after its training one
    assert_series_equal(series["judge/latency_mean_s"], {1: 0.5, 2: 0.5, 3: math.nan})
    assert series["actor/lr"] == {1: 1e-06, 2: 1e-06, 3: 1e-06}
    assert len(series) == 36


def test_file_logger_steps_and_values() -> None:
    series = read_file_logger(FILE_LOG)
    assert_series_equal(series["critic/score/mean"], {1: 0.125, 2: 0.25, 3: 0.375, 4: 0.5})
    assert_series_equal(series["actor/grad_norm"], {1: 0.5, 2: math.nan, 3: 1.5, 4: 2.0})  # NaN is logged as null
    assert_series_equal(series[VAL_CORE], {0: 0.25, 4: 0.5})  # validation and training records of step 4 merged
    assert not any(name.startswith(("awpo", "judge/")) for name in series)


def test_tensorboard_steps_and_values(tensorboard_run: Path) -> None:
    event_file = next(tensorboard_run.glob("events.out.tfevents.*"))
    for path in (tensorboard_run, tensorboard_run.parent, event_file):  # run dir, verl's project dir, the file
        assert detect_format(path) == TENSORBOARD
        series = read_tensorboard(path)
        assert_series_equal(series["awpo/gate_mean"], {1: 0.25, 2: 0.5, 3: 0.75})
        assert_series_equal(series["actor/grad_norm"], {1: 1.0, 2: math.nan, 3: 1.0})
        assert_series_equal(series[VAL_CORE], {3: 0.75})


def test_verl_loggers_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The same metrics through verl's own console, file and tensorboard backends read back identically."""
    from verl.utils.tracking import Tracking

    monkeypatch.setenv("TENSORBOARD_DIR", str(tmp_path / "tb"))
    monkeypatch.setenv("VERL_FILE_LOGGER_PATH", str(tmp_path / "metrics"))  # no suffix: detected from the content
    tracking = Tracking("awpo_bfcl", "roundtrip", default_backend=["console", "file", "tensorboard"])
    tracking.log({VAL_CORE: np.float64(0.25)}, step=0)
    for step in (1, 2):
        metrics = {"training/global_step": step, "awpo/gate_mean": np.float64(step / 4), "timing_s/gen": 1.5}
        tracking.log({**metrics, "judge/latency_p95_s": np.float64(math.nan if step == 2 else 2.0)}, step=step)
    tracking.log({VAL_CORE: np.float64(0.5)}, step=2)
    tracking.finish()
    (tmp_path / "console.log").write_text(capsys.readouterr().out)

    expected = {
        VAL_CORE: {0: 0.25, 2: 0.5},
        "training/global_step": {1: 1.0, 2: 2.0},
        "awpo/gate_mean": {1: 0.25, 2: 0.5},
        "timing_s/gen": {1: 1.5, 2: 1.5},
        "judge/latency_p95_s": {1: 2.0, 2: math.nan},
    }
    for name, fmt in (("console.log", CONSOLE), ("metrics", FILE_LOGGER), ("tb", TENSORBOARD)):
        assert detect_format(tmp_path / name) == fmt
        series = read_metrics(tmp_path / name)
        assert sorted(series) == sorted(expected), name
        for metric, values in expected.items():
            assert_series_equal(series[metric], values)


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(CONSOLE_LOG) == CONSOLE
    assert detect_format(FILE_LOG) == FILE_LOGGER
    no_suffix = tmp_path / "grpo_metrics"
    no_suffix.write_text("\n" + FILE_LOG.read_text())
    assert detect_format(no_suffix) == FILE_LOGGER
    assert detect_format(tmp_path) == TENSORBOARD


def test_file_logger_tolerates_a_truncated_last_line_only(tmp_path: Path) -> None:
    lines = FILE_LOG.read_text().splitlines()
    truncated = tmp_path / "killed.jsonl"
    truncated.write_text("\n".join([*lines[:3], lines[3][:40]]))
    assert sorted(read_file_logger(truncated)["critic/score/mean"]) == [1, 2]
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text("\n".join([lines[1], '{"step": 2}', lines[3]]))
    with pytest.raises(MetricsReadError, match=r"corrupt\.jsonl:2: not a verl file-logger record"):
        read_file_logger(corrupt)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.log", None, "no such file or directory"),
        ("empty_dir", "", "a directory without TensorBoard event files"),
        ("stdout.log", "Started a local Ray instance.\nstep 1 done\n", "no verl console metrics in it"),
        ("binary.bin", b"\x00\xff\xfe" * 100, "no verl console metrics in it"),
        ("wrong.jsonl", '{"step": 1, "data": {"note": "text only"}}\n', "no metrics in it"),
        ("list.json", "[1, 2]\n", "not a verl file-logger record"),
    ],
)
def test_unreadable_paths_are_named(tmp_path: Path, name: str, content: str | bytes | None, message: str) -> None:
    path = tmp_path / name
    if content == "":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(MetricsReadError, match=message) as error:
        load_runs([str(path)])
    assert str(path) in str(error.value)


def test_event_files_in_several_directories_are_ambiguous(tmp_path: Path) -> None:
    for experiment in ("a", "b"):
        write_tensorboard(tmp_path / experiment, {1: {"awpo/gate_mean": 0.5}})
    with pytest.raises(MetricsReadError, match="event files in several directories"):
        read_tensorboard(tmp_path)


def test_run_labels(tmp_path: Path) -> None:
    for directory in ("a", "b"):
        (tmp_path / directory).mkdir()
        shutil.copy(CONSOLE_LOG, tmp_path / directory / "train.log")
    runs = load_runs(
        [str(FILE_LOG), f"awpo v2={CONSOLE_LOG}", str(tmp_path / "a/train.log"), str(tmp_path / "b/train.log")]
    )
    assert [run.label for run in runs] == ["grpo_baseline", "awpo v2", "a/train", "b/train"]
    assert [run.fmt for run in runs] == [FILE_LOGGER, CONSOLE, CONSOLE, CONSOLE]
    with pytest.raises(MetricsReadError, match="two runs are labelled 'x'"):
        load_runs([f"x={CONSOLE_LOG}", f"x={FILE_LOG}"])
    with pytest.raises(MetricsReadError, match="empty label"):
        load_runs([f"={CONSOLE_LOG}"])


# Plotting.


def test_moving_average() -> None:
    assert moving_average([1, 2, 3, 4], 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert moving_average([1, 2, 3, 4], 3).tolist() == [1.0, 1.5, 2.0, 3.0]
    assert moving_average([1, math.nan, 3], 2).tolist() == [1.0, 1.0, 3.0]
    assert math.isnan(moving_average([math.nan, 1.0], 1)[0])
    assert moving_average([0.5, 0.25], 1).tolist() == [0.5, 0.25]
    with pytest.raises(ValueError, match="window must be >= 1"):
        moving_average([1.0], 0)


def test_group_metrics_are_selected_in_order() -> None:
    runs = load_runs([str(CONSOLE_LOG), str(FILE_LOG)])
    assert select_metrics(GROUP["validation"].patterns, runs) == [
        VAL_CORE,
        "val-aux/bfcl_simple_python/outcome/mean@1",
        "val-aux/bfcl_simple_python/exact_match/mean@1",
    ]
    assert select_metrics(GROUP["response_length"].patterns, runs) == [
        "response_length/mean",
        "response_length/clip_ratio",
    ]
    assert select_metrics(GROUP["judge"].patterns, load_runs([str(FILE_LOG)])) == []


def test_two_runs_overlay_with_missing_notes() -> None:
    runs = load_runs([str(CONSOLE_LOG), str(FILE_LOG)])
    metrics = select_metrics(GROUP["rewards"].patterns, runs)
    figure = group_figure("Rewards", metrics, runs)
    axes = figure.get_axes()
    assert len(axes) == len(metrics) == 5
    by_title = {ax.get_title().split("\n")[0]: ax for ax in axes}
    score = by_title["critic/score/mean"]
    assert [line.get_label() for line in score.get_lines()] == ["awpo_run", "grpo_baseline"]
    assert score.get_lines()[1].get_xdata().tolist() == [1, 2, 3, 4]
    assert score.get_lines()[1].get_ydata().tolist() == [0.125, 0.25, 0.375, 0.5]
    assert "missing" not in score.get_title()
    assert by_title["awpo/outcome_reward_mean"].get_title().endswith("(missing in: grpo_baseline)")
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["awpo_run", "grpo_baseline"]


def test_smoothing_draws_raw_and_averaged_curves() -> None:
    runs = load_runs([str(FILE_LOG)])
    figure = group_figure("Actor health", ["actor/pg_loss"], runs, smooth=2)
    raw, smoothed = figure.get_axes()[0].get_lines()
    assert raw.get_ydata().tolist() == [-0.25, -0.5, -0.75, -1.0]
    assert smoothed.get_ydata().tolist() == [-0.25, -0.375, -0.625, -0.875]
    assert raw.get_alpha() < 1 and smoothed.get_label() == "grpo_baseline"
    assert "moving average of 2 points" in figure.get_suptitle()


# The CLI.


def test_cli_writes_one_png_per_group(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "plots"
    status = main(
        [
            *(str(CONSOLE_LOG), f"baseline={FILE_LOG}"),
            *("--output-dir", str(output), "--smooth", "2", "--metrics", "timing_s/gen,perf/*,not/logged"),
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    names = ("rewards", "awpo", "judge", "response_length", "validation", "actor", "metrics")
    written = [output / f"{name}.png" for name in names]
    assert captured.out.split() == [str(path) for path in written]
    assert sorted(output.iterdir()) == sorted(written)
    for path in written:
        width, height = png_size(path)
        assert 400 <= width <= 3000 and 300 <= height <= 3000, (path, width, height)
        assert path.stat().st_size > 5000
    assert png_size(output / "response_length.png")[0] < png_size(output / "rewards.png")[0]  # 2 vs 3 columns
    assert "no run has not/logged" in captured.err


def test_cli_skips_groups_without_metrics(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status = main([str(FILE_LOG), "--output-dir", str(tmp_path), "--groups", "judge,actor"])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.split() == [str(tmp_path / "actor.png")]
    assert "skipped (no run has any of their metrics): judge" in captured.err


def test_cli_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "plots"
    assert main([f"awpo={CONSOLE_LOG}", str(FILE_LOG), "--list", "--output-dir", str(output)]) == 0
    out = capsys.readouterr().out
    assert f"awpo (console log: {CONSOLE_LOG}): 36 metrics, 4 steps (0..3)" in out
    assert f"grpo_baseline (file-logger JSON lines: {FILE_LOG}): 17 metrics, 5 steps (0..4)" in out
    assert f"  {VAL_CORE}  [2 steps]" in out
    assert "  awpo/gate_mean  [3 steps]" in out
    assert not output.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--metrics", "nope/a,nope/b"], "no run has any of --metrics nope/a,nope/b"),
        (["--groups", "judge,awpo"], "no run (grpo_baseline) has any metric of the figures awpo, judge"),
        (["--groups", "none"], "nothing to plot: --groups none without --metrics"),
    ],
)
def test_cli_fails_without_requested_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture, arguments: list[str], message: str
) -> None:
    assert main([str(FILE_LOG), "--output-dir", str(tmp_path / "plots"), *arguments]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()


def test_cli_fails_on_an_unreadable_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nowhere" / "train.log"
    assert main([str(FILE_LOG), str(missing)]) == 1
    assert f"error: {missing}: no such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize("arguments", [["--smooth", "0"], ["--smooth", "x"], ["--groups", "rewards,bogus"], []])
def test_cli_rejects_bad_arguments(arguments: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(FILE_LOG), *arguments] if arguments else [])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_script_exit_status(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "scripts/plot_metrics.py", str(FILE_LOG), "--groups=judge", f"--output-dir={tmp_path}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert "error: no run (grpo_baseline) has any metric of the figures judge" in completed.stderr
