"""Training curves of one or more verl runs, side by side: one PNG per metric group (the CLI is
``scripts/plot_metrics.py``).

Each figure is a grid with one subplot per metric of its group that at least one run logs, every run overlaid in
its own colour (the same in every figure), x = training step. A subplot notes the runs that lack its metric.
Figures are drawn on matplotlib's non-interactive Agg canvas, without pyplot's global state.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from awpo.metrics_io import MetricsReadError, RunMetrics, load_runs

DEFAULT_OUTPUT_DIR = Path("outputs/plots")
CUSTOM_FIGURE = "metrics"
_GRID_COLUMNS = 3
_SUBPLOT_SIZE_IN = (4.6, 3.2)
_DPI = 100
_MARKER_MAX_POINTS = 40


@dataclass(frozen=True)
class FigureGroup:
    """A figure: its file name (without ``.png``), title and metrics (names or ``fnmatch`` patterns, in order)."""

    name: str
    title: str
    patterns: tuple[str, ...]


GROUPS = (
    FigureGroup(
        "rewards",
        "Rewards",
        (
            "awpo/outcome_reward_mean",
            "awpo/reasoning_reward_mean",
            "critic/score/mean",
            "awpo_reward/format_mean",
            "awpo_reward/exact_match_mean",
        ),
    ),
    FigureGroup(
        "awpo",
        "AWPO mechanisms",
        (
            "awpo/gate_mean",
            "awpo/weight_mean",
            "awpo/clip_frac",
            "awpo/tied_group_frac",
            "awpo/reasoning_valid_frac",
            "awpo/reasoning_contrib_abs_mean",
            "awpo/outcome_adv_abs_mean",
            "awpo/reasoning_informative_group_frac",
        ),
    ),
    FigureGroup(
        "judge",
        "Judge",
        (
            "judge/valid_frac",
            "judge/latency_mean_s",
            "judge/latency_p95_s",
            "judge/cache_hit_frac",
            "judge/failure_frac",
        ),
    ),
    FigureGroup("response_length", "Response length", ("response_length/mean", "response_length/clip_ratio")),
    FigureGroup(
        "validation",
        "Validation accuracy",
        ("val-core/*", "val-aux/*/outcome/mean@*", "val-aux/*/exact_match/mean@*"),
    ),
    FigureGroup(
        "actor",
        "Actor health",
        ("actor/pg_loss", "actor/entropy", "actor/grad_norm", "actor/ppo_kl", "actor/pg_clipfrac"),
    ),
)
GROUP_NAMES = tuple(group.name for group in GROUPS)


def select_metrics(patterns: Sequence[str], runs: Sequence[RunMetrics]) -> list[str]:
    """The metrics of any run matching ``patterns``: in pattern order, the matches of one pattern sorted, each once."""
    available = sorted({name for run in runs for name in run.series})
    selected: dict[str, None] = {}
    for pattern in patterns:
        selected.update((name, None) for name in available if fnmatchcase(name, pattern))
    return list(selected)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points (fewer at the start); NaNs are skipped, and a window with
    only NaNs averages to NaN. ``window=1`` returns the values unchanged.

    Raises:
        ValueError: ``window`` < 1.
    """
    if window < 1:
        raise ValueError(f"moving_average: window must be >= 1, got {window}")
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, array, 0.0))))
    counts = np.concatenate(([0], np.cumsum(finite)))
    ends = np.arange(1, array.size + 1)
    starts = np.maximum(ends - window, 0)
    count = counts[ends] - counts[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (sums[ends] - sums[starts]) / count, math.nan)


def group_figure(title: str, metrics: Sequence[str], runs: Sequence[RunMetrics], smooth: int = 1) -> Figure:
    """A figure with one subplot per metric in ``metrics``, every run overlaid, and a legend of the runs drawn.

    With ``smooth`` > 1 each run is drawn faintly as logged and solid as a trailing moving average of ``smooth``
    points. A subplot whose metric some runs lack says which.

    Raises:
        ValueError: no run logs any of ``metrics``, or ``smooth`` < 1.
    """
    if not any(name in run.series for run in runs for name in metrics):
        raise ValueError(f"group_figure: no run logs any of {list(metrics)}")
    if smooth < 1:
        raise ValueError(f"group_figure: smooth must be >= 1, got {smooth}")
    columns = min(_GRID_COLUMNS, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    width, height = _SUBPLOT_SIZE_IN
    figure = Figure(figsize=(width * columns, height * rows + 0.8), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    colors = _run_colors(len(runs))
    for ax, name in zip(axes, metrics, strict=False):
        _draw_metric(ax, name, runs, colors, smooth)
    for ax in axes[len(metrics) :]:
        ax.remove()
    suffix = f" (moving average of {smooth} points)" if smooth > 1 else ""
    figure.suptitle(title + suffix)
    handles = [
        Line2D([], [], color=color, label=run.label)
        for run, color in zip(runs, colors, strict=True)
        if any(name in run.series for name in metrics)
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    return figure


def write_figures(
    runs: Sequence[RunMetrics],
    output_dir: Path,
    groups: Sequence[FigureGroup] = GROUPS,
    smooth: int = 1,
) -> list[Path]:
    """Draw every group that has a metric in some run to ``output_dir/<group name>.png``; returns the files written
    (groups without any metric are skipped)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group in groups:
        metrics = select_metrics(group.patterns, runs)
        if metrics:
            path = output_dir / f"{group.name}.png"
            group_figure(group.title, metrics, runs, smooth).savefig(path)
            written.append(path)
    return written


def format_listing(runs: Sequence[RunMetrics]) -> str:
    """The metrics found per run, for ``--list``."""
    lines = []
    for run in runs:
        steps = sorted({step for series in run.series.values() for step in series})
        lines.append(
            f"{run.label} ({run.format_name}: {run.path}): {len(run.series)} metrics, "
            f"{len(steps)} steps ({steps[0]}..{steps[-1]})"
        )
        lines.extend(f"  {name}  [{len(run.series[name])} steps]" for name in sorted(run.series))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI of ``scripts/plot_metrics.py``; returns the exit status (1: a run cannot be read, no run has a
    requested metric, or the figures cannot be written)."""
    args = _parser().parse_args(argv)
    try:
        runs = load_runs(args.runs)
        if args.list:
            print(format_listing(runs))
            return 0
        groups = _requested_groups(runs, args.groups, args.metrics)
        written = write_figures(runs, args.output_dir, groups, args.smooth)
    except (MetricsReadError, _NothingToPlot) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot write the figures to {args.output_dir}: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


class _NothingToPlot(ValueError):
    """No run has any metric the command line asks for."""


def _requested_groups(
    runs: Sequence[RunMetrics], group_names: Sequence[str], metrics: Sequence[str]
) -> list[FigureGroup]:
    """The figures to draw: the groups named and, with ``metrics``, the custom figure. Warns on stderr about
    groups and ``metrics`` entries that no run has.

    Raises:
        _NothingToPlot: no figure requested, every ``metrics`` entry is missing, or every group is empty.
    """
    groups = [group for group in GROUPS if group.name in group_names]
    if metrics:
        missing = [pattern for pattern in metrics if not select_metrics([pattern], runs)]
        if len(missing) == len(metrics):
            raise _NothingToPlot(f"no run has any of --metrics {','.join(missing)} (see --list)")
        if missing:
            print(f"warning: no run has {', '.join(missing)}", file=sys.stderr)
        groups.append(FigureGroup(CUSTOM_FIGURE, "Selected metrics", tuple(metrics)))
    if not groups:
        raise _NothingToPlot("nothing to plot: --groups none without --metrics")
    skipped = [group.name for group in groups if not select_metrics(group.patterns, runs)]
    if len(skipped) == len(groups):
        labels = ", ".join(run.label for run in runs)
        raise _NothingToPlot(f"no run ({labels}) has any metric of the figures {', '.join(skipped)} (see --list)")
    if skipped:
        print(f"skipped (no run has any of their metrics): {', '.join(skipped)}", file=sys.stderr)
    return groups


def _draw_metric(ax: Axes, name: str, runs: Sequence[RunMetrics], colors: Sequence[str], smooth: int) -> None:
    """One subplot: metric ``name`` of every run that logs it, and a note naming the runs that do not."""
    missing = []
    for run, color in zip(runs, colors, strict=True):
        steps, values = run.points(name)
        if not steps:
            missing.append(run.label)
            continue
        marker = "o" if len(steps) <= _MARKER_MAX_POINTS else None
        if smooth > 1:
            ax.plot(steps, values, color=color, alpha=0.3, linewidth=0.8, marker=marker, markersize=2)
            ax.plot(steps, moving_average(values, smooth), color=color, linewidth=1.5, label=run.label)
        else:
            ax.plot(steps, values, color=color, linewidth=1.5, marker=marker, markersize=3, label=run.label)
    ax.set_title(name + (f"\n(missing in: {', '.join(missing)})" if missing else ""), fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def _run_colors(count: int) -> list[str]:
    """``count`` colours from matplotlib's default cycle (repeated beyond its length)."""
    cycle = rcParams["axes.prop_cycle"].by_key()["color"]
    return [cycle[index % len(cycle)] for index in range(count)]


def _comma_list(value: str) -> list[str]:
    """The non-empty items of a comma-separated argument."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _groups_argument(value: str) -> list[str]:
    """``--groups``: comma-separated group names, or ``none``."""
    names = [] if value.strip() == "none" else _comma_list(value)
    unknown = [name for name in names if name not in GROUP_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUP_NAMES)}")
    return names


def _positive_int(value: str) -> int:
    """``--smooth``: an integer >= 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value!r}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plot_metrics.py",
        description="Plot the logged metrics of one or more verl runs side by side, one PNG per metric group.",
        epilog=(
            "Formats (detected from the path): a directory or events.out.tfevents.* file is read as TensorBoard "
            "events; a *.jsonl/*.json file, or one whose first line starts with '{', as verl's file logger output; "
            f"anything else as verl's console output. Groups: {', '.join(GROUP_NAMES)}."
        ),
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN", help="LABEL=PATH or PATH (the label is then the file or directory name)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        default=DEFAULT_OUTPUT_DIR,
        help=f"where to write the PNGs (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--smooth",
        type=_positive_int,
        default=1,
        metavar="K",
        help="trailing moving average of K points (default: 1, off)",
    )
    parser.add_argument(
        "--metrics",
        type=_comma_list,
        default=[],
        metavar="A,B,...",
        help=f"also plot these metrics (names or fnmatch patterns) in {CUSTOM_FIGURE}.png",
    )
    parser.add_argument(
        "--groups",
        type=_groups_argument,
        default=list(GROUP_NAMES),
        metavar="G,H,...",
        help="the group figures to draw (default: all), or 'none' for only --metrics",
    )
    parser.add_argument("--list", action="store_true", help="print the metrics found in each run and exit")
    return parser
