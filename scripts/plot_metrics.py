"""Plot the logged metrics of one or more verl runs side by side, one PNG per metric group.

    python scripts/plot_metrics.py [LABEL=]PATH [[LABEL=]PATH ...] [--output-dir outputs/plots] [--smooth K]
                                   [--metrics A,B,...] [--groups G,H,...|none] [--list]

PATH is verl's console output saved to a file, its ``file`` logger output (JSON lines) or a TensorBoard event
directory; the format is detected from the path. Prints the PNG files written; exit status 1 when a run cannot be
read or no run has any requested metric. See :mod:`awpo.plots` and :mod:`awpo.metrics_io`.
"""

from __future__ import annotations

from awpo.plots import main

if __name__ == "__main__":
    raise SystemExit(main())
