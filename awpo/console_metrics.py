"""Read the step metrics verl's console logger prints (``trainer.logger=console``).

verl prints one line per step, ``step:N - name:value - name:value ...``, with numpy scalars shown as
``np.float64(0.5)``; the V1 trainer may print a step's metrics in more than one line. :func:`parse_console_metrics`
collects them per step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_STEP_LINE = re.compile(r"step:(\d+) - (.*)")
_METRIC = re.compile(r"([\w@/\-.]+):(?:np\.\w+\()?(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|-?inf)\)?")


def parse_console_metrics(lines: Iterable[str]) -> dict[int, dict[str, float]]:
    """Step → {metric name: value} from console output (other lines are ignored).

    Args:
        lines: the output, line by line (e.g. ``text.splitlines()`` or an open log file).
    """
    steps: dict[int, dict[str, float]] = {}
    for line in lines:
        match = _STEP_LINE.search(line)
        if match:
            metrics = steps.setdefault(int(match.group(1)), {})
            metrics.update((name, float(value)) for name, value in _METRIC.findall(match.group(2)))
    return steps
