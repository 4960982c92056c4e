"""Read the step metrics of a verl run from any of three logger outputs, detected from the path.

- ``console`` (``trainer.logger=console``): the captured text output, ``step:N - name:value - ...`` lines, parsed
  with :func:`awpo.console_metrics.parse_console_metrics`.
- ``file`` (``trainer.logger=file``): verl's ``FileLogger`` writes one JSON object per ``log`` call,
  ``{"step": N, "data": {name: value, ...}}``, to ``$VERL_FILE_LOGGER_PATH`` or
  ``$VERL_FILE_LOGGER_ROOT/<project>/<experiment>.jsonl``; NaN and infinities are written as ``null``.
- ``tensorboard`` (``trainer.logger=tensorboard``): the scalar summaries of the event files in
  ``$TENSORBOARD_DIR`` or ``tensorboard_log/<project>/<experiment>``.

A path is read as TensorBoard when it is a directory or an ``events.out.tfevents.*`` file, as file-logger JSON lines
when it ends in ``.jsonl`` / ``.json`` or its first non-blank line starts with ``{``, and as a console log otherwise.
When a step is logged more than once (validation and training metrics of one step, a resumed run), the metrics are
merged and the last value of a metric wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from awpo.console_metrics import parse_console_metrics

CONSOLE = "console"
FILE_LOGGER = "file"
TENSORBOARD = "tensorboard"
_FORMAT_NAMES = {CONSOLE: "console log", FILE_LOGGER: "file-logger JSON lines", TENSORBOARD: "TensorBoard events"}
_EVENT_FILE_MARK = "tfevents"
_JSON_SUFFIXES = (".jsonl", ".json")

Series = dict[int, float]
"""Step → value of one metric."""


class MetricsReadError(ValueError):
    """A run's metrics cannot be read; the message names the path."""


@dataclass(frozen=True)
class RunMetrics:
    """The metrics of one run.

    Attributes:
        label: the run's name in legends and listings.
        path: where the metrics were read from.
        fmt: ``console``, ``file`` or ``tensorboard``.
        series: metric name → step → value (NaN where verl logged a non-finite value as ``null``).
    """

    label: str
    path: Path
    fmt: str
    series: Mapping[str, Series]

    @property
    def format_name(self) -> str:
        """The format in words, e.g. ``console log``."""
        return _FORMAT_NAMES[self.fmt]

    def points(self, name: str) -> tuple[list[int], list[float]]:
        """The steps (ascending) and values of metric ``name``; empty lists when the run does not log it."""
        series = self.series.get(name, {})
        steps = sorted(series)
        return steps, [series[step] for step in steps]


def detect_format(path: Path) -> str:
    """``console``, ``file`` or ``tensorboard`` for ``path`` (see the module docstring).

    Raises:
        MetricsReadError: the path does not exist or cannot be read.
    """
    if path.is_dir() or (path.is_file() and _EVENT_FILE_MARK in path.name):
        return TENSORBOARD
    if not path.is_file():
        raise MetricsReadError(f"{path}: no such file or directory")
    if path.suffix in _JSON_SUFFIXES:
        return FILE_LOGGER
    first = next((line.strip() for line in _read_text(path).splitlines() if line.strip()), "")
    return FILE_LOGGER if first.startswith("{") else CONSOLE


def read_metrics(path: Path, fmt: str | None = None) -> dict[str, Series]:
    """Metric name → step → value from ``path``, in format ``fmt`` (detected when None).

    Raises:
        MetricsReadError: the path does not exist, cannot be read, or holds no metric in that format.
    """
    fmt = fmt or detect_format(path)
    readers = {CONSOLE: read_console_log, FILE_LOGGER: read_file_logger, TENSORBOARD: read_tensorboard}
    if fmt not in readers:
        raise ValueError(f"unknown metrics format {fmt!r}; known: {sorted(readers)}")
    return readers[fmt](path)


def read_console_log(path: Path) -> dict[str, Series]:
    """The metrics of verl's console output saved in ``path``.

    Raises:
        MetricsReadError: unreadable, or no ``step:N - name:value`` line.
    """
    steps = parse_console_metrics(_read_text(path).splitlines())
    series: dict[str, Series] = {}
    for step, metrics in steps.items():
        for name, value in metrics.items():
            series.setdefault(name, {})[step] = value
    if not series:
        raise MetricsReadError(f"{path}: no verl console metrics in it (lines 'step:N - name:value - ...')")
    return series


def read_file_logger(path: Path) -> dict[str, Series]:
    """The metrics of verl's ``file`` logger output ``path`` (JSON lines ``{"step": N, "data": {...}}``).

    Values that are not numbers (strings, lists, booleans) are skipped, ``null`` is read as NaN. A malformed last
    line (a run killed while writing) is ignored.

    Raises:
        MetricsReadError: unreadable, a malformed line other than the last, or no metric in it.
    """
    lines = [(number, line) for number, line in enumerate(_read_text(path).splitlines(), 1) if line.strip()]
    series: dict[str, Series] = {}
    for index, (number, line) in enumerate(lines):
        try:
            record = json.loads(line)
            step, data = int(record["step"]), record["data"]
            if not isinstance(data, dict):
                raise TypeError("'data' is not an object")
        except (ValueError, KeyError, TypeError) as error:
            if index == len(lines) - 1 and index > 0:
                break
            raise MetricsReadError(
                f'{path}:{number}: not a verl file-logger record {{"step": N, "data": {{...}}}} ({error})'
            ) from error
        for name, value in data.items():
            if value is None:
                series.setdefault(name, {})[step] = math.nan
            elif isinstance(value, int | float) and not isinstance(value, bool):
                series.setdefault(name, {})[step] = float(value)
    if not series:
        raise MetricsReadError(f'{path}: no metrics in it (expected verl file-logger lines {{"step": N, "data": ...}})')
    return series


def read_tensorboard(path: Path) -> dict[str, Series]:
    """The scalar metrics of the TensorBoard event file ``path``, or of the event files in directory ``path`` or,
    when it holds none itself, in the one subdirectory below it that does.

    Raises:
        MetricsReadError: no event file, event files in several directories, or no scalar in them (also what
            corrupt event files give).
    """
    # Imported here: tensorboard is only needed for this format.
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    source = _event_source(path)
    accumulator = EventAccumulator(str(source), size_guidance={SCALARS: 0})  # 0: keep every step
    accumulator.Reload()  # skips corrupt records rather than raising
    series = {
        name: {event.step: float(event.value) for event in accumulator.Scalars(name)}
        for name in accumulator.Tags()[SCALARS]
    }
    if not series:
        raise MetricsReadError(f"{source}: no scalar metrics in its TensorBoard events")
    return series


def load_runs(specs: Sequence[str]) -> list[RunMetrics]:
    """Read the runs ``specs``, each ``LABEL=PATH`` or a ``PATH`` (an existing path is never split at ``=``).

    A run without a label is named after its path: the file name without suffix, or the directory name (the
    experiment name for verl's file and TensorBoard loggers); when two such names clash, the parent directory
    is prefixed (``run_a/train``).

    Raises:
        MetricsReadError: a run cannot be read, a label is empty, or two runs end up with the same label.
    """
    parsed = [_split_spec(spec) for spec in specs]
    labels = [label or _path_label(path, parents=0) for label, path in parsed]
    clashing = {label for label in labels if labels.count(label) > 1}
    labels = [
        _path_label(path, parents=1) if label in clashing and explicit is None else label
        for label, (explicit, path) in zip(labels, parsed, strict=True)
    ]
    for label in labels:
        if labels.count(label) > 1:
            raise MetricsReadError(f"two runs are labelled {label!r}; name them with LABEL=PATH")
    runs = []
    for label, (_, path) in zip(labels, parsed, strict=True):
        fmt = detect_format(path)
        runs.append(RunMetrics(label=label, path=path, fmt=fmt, series=read_metrics(path, fmt)))
    return runs


def _split_spec(spec: str) -> tuple[str | None, Path]:
    """(label or None, path) of a ``LABEL=PATH`` or ``PATH`` run argument."""
    if "=" not in spec or Path(spec).exists():
        return None, Path(spec)
    label, _, path = spec.partition("=")
    if not label.strip():
        raise MetricsReadError(f"{spec}: empty label before '='")
    return label.strip(), Path(path)


def _path_label(path: Path, parents: int) -> str:
    """The run name derived from ``path``, with ``parents`` parent directory names in front."""
    resolved = path.resolve()
    if _EVENT_FILE_MARK in resolved.name:
        resolved = resolved.parent
    name = resolved.name if resolved.is_dir() else resolved.stem
    return "/".join([*(parent.name for parent in reversed(resolved.parents[:parents])), name])


def _event_source(path: Path) -> Path:
    """The event file or the directory of event files to read for ``path``."""
    if path.is_file():
        return path
    directories = sorted({event.parent for event in path.rglob(f"events.out.{_EVENT_FILE_MARK}.*") if event.is_file()})
    if not directories:
        raise MetricsReadError(f"{path}: a directory without TensorBoard event files (events.out.tfevents.*)")
    if path in directories:
        return path
    if len(directories) > 1:
        listed = ", ".join(str(directory) for directory in directories)
        raise MetricsReadError(f"{path}: event files in several directories ({listed}); pass one of them as a run")
    return directories[0]


def _read_text(path: Path) -> str:
    """The text of ``path`` (undecodable bytes replaced)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise MetricsReadError(f"{path}: cannot read it ({error.strerror or error})") from error
