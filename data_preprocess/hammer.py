"""Hammer (``MadeAgents/xlam-irrelevance-7.5k``) → verl RL parquet, with Hammer-style function masking.

    python -m data_preprocess.hammer --output-dir data/hammer [--input MadeAgents/xlam-irrelevance-7.5k]
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--mask-names [--mask-ratio 1.0]] [--irrelevance-ratio 0.0]

The records have the xLAM format. Hammer's irrelevance rows are xLAM rows whose gold tool was removed and whose
answers are ``"[]"``: they become no-call samples (``calls: []``). The answers are converted exactly as in xLAM, so a
record with non-empty answers becomes a sample with those calls. Conversion, options, augmentations and skip reasons
are those of :mod:`data_preprocess.xlam`, with ``data_source = "hammer"``; ``--mask-names`` gives random function
names (5-15 characters) and parameter names (4-10 characters), the same in the tools, their ``required`` lists and
the ground truth.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.rows import Sample
from data_preprocess import xlam
from data_preprocess.xlam import XLAMOptions

DATA_SOURCE = "hammer"
DEFAULT_INPUT = "MadeAgents/xlam-irrelevance-7.5k"
DEFAULT_OPTIONS = XLAMOptions(data_source=DATA_SOURCE)


def convert_record(
    record: Mapping[str, Any], position: int = 0, options: XLAMOptions = DEFAULT_OPTIONS
) -> list[Sample]:
    """One Hammer record as its single sample: :func:`data_preprocess.xlam.convert_record` with
    ``data_source = "hammer"`` by default.

    Raises:
        RecordError: the record cannot be used.
    """
    return xlam.convert_record(record, position, options)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    return xlam.main(argv, data_source=DATA_SOURCE, default_input=DEFAULT_INPUT)


if __name__ == "__main__":
    sys.exit(main())
