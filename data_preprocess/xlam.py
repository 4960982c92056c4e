"""xLAM (``Salesforce/xlam-function-calling-60k``) → verl RL parquet.

    python -m data_preprocess.xlam --output-dir data/xlam [--input Salesforce/xlam-function-calling-60k]
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--irrelevance-ratio 0.0] [--mask-names [--mask-ratio 1.0]]

Source record: ``{"id", "query", "tools": JSON string, "answers": JSON string}`` (already-parsed lists are accepted
too). One single-turn sample per record: prompt ``[user: query]``, the tools normalised from xLAM's flat parameter
map, the answers as typed ground-truth calls (``[]`` answers = a no-call sample). Records that offer no tool
(``no_tools``), or whose answers call an unknown function, pass an unknown argument, omit a required one or hold a
value that cannot be coerced to its type are skipped and counted by reason.

Augmentations (seeded per record, keyed like the split by the record's ``id``, or by its position when it has
none; see :mod:`data_preprocess.augment`):

- ``--irrelevance-ratio R``: for a fraction R of the records that make calls (drawn per record among those only;
  no-call records are never drawn), the called tools are removed and the ground truth becomes ``calls: []``
  (Tool-N1's irrelevance augmentation; the record is replaced, not duplicated; a drawn record where no tool would
  remain is left as it is and counted as the note ``irrelevance_ineligible``).
- ``--mask-names``: Hammer-style masking of function and parameter names on a ``--mask-ratio`` fraction of records.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.rows import Sample, text_message
from data_preprocess.augment import drop_gold_tools, keyed_rng, mask_names, unit_draw
from data_preprocess.calls import SampleError, typed_calls
from data_preprocess.pipeline import RecordError, ratio, record_tools, run_training_conversion, training_parser

DEFAULT_INPUT = "Salesforce/xlam-function-calling-60k"
REQUIRED_FIELDS = ("query", "tools", "answers")
EXPECTED_FORMAT = '{"id", "query": str, "tools": JSON list, "answers": JSON list} (xLAM function-calling rows)'


@dataclass(frozen=True)
class XLAMOptions:
    """Options of the xLAM-format converters.

    Attributes:
        data_source: the rows' ``data_source`` ("xlam"; the Hammer converter uses "hammer").
        seed: seed of the augmentations.
        irrelevance_ratio: fraction of call records turned into no-call samples by dropping their gold tools.
        mask_names: apply Hammer-style name masking.
        mask_ratio: fraction of records masked when ``mask_names`` is set.
    """

    data_source: str = "xlam"
    seed: int = 0
    irrelevance_ratio: float = 0.0
    mask_names: bool = False
    mask_ratio: float = 1.0


def _json_list(value: Any, field: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RecordError(f"invalid_{field}", f"'{field}' is not valid JSON") from None
    if not isinstance(value, list):
        raise RecordError(f"invalid_{field}", f"'{field}' is a {type(value).__name__}, not a list")
    return value


def augment(sample: Sample, options: XLAMOptions) -> Sample:
    """Apply the irrelevance augmentation (drawn only for a sample that makes calls) and the name masking that
    ``options`` select for this sample."""
    keys = (sample.data_source, sample.source_id)
    if sample.calls and unit_draw(options.seed, "irrelevance", *keys) < options.irrelevance_ratio:
        irrelevant = drop_gold_tools(sample)
        if irrelevant is None:
            sample = replace(sample, notes=(*sample.notes, "irrelevance_ineligible"))
        else:
            sample = replace(irrelevant, notes=(*irrelevant.notes, "irrelevance_augmented"))
    if options.mask_names and unit_draw(options.seed, "mask", *keys) < options.mask_ratio:
        masked = mask_names(sample, keyed_rng(options.seed, "mask-names", *keys))
        sample = replace(masked, notes=(*masked.notes, "names_masked"))
    return sample


def convert_record(record: Mapping[str, Any], position: int = 0, options: XLAMOptions = XLAMOptions()) -> list[Sample]:
    """One xLAM record as its single sample (augmented per ``options``).

    Args:
        record: the source record.
        position: the record's position in the input (its id when it has no ``id`` field).
        options: converter options.

    Raises:
        RecordError: the record cannot be used (``reason`` says why; ``structural`` when fields are missing).
    """
    missing = [name for name in REQUIRED_FIELDS if record.get(name) is None]
    if missing:
        raise RecordError("malformed_record", f"missing field(s) {missing}", structural=True)
    query = record["query"]
    if not isinstance(query, str) or not query.strip():
        raise RecordError("empty_query", "'query' is empty or not a string")
    notes: list[str] = []
    tools = record_tools(record["tools"], notes, "'tools' is an empty list")
    try:
        calls = typed_calls(_json_list(record["answers"], "answers"), tools, notes)
    except SampleError as error:
        raise RecordError(error.reason, error.detail) from None
    source_id = str(record["id"]) if record.get("id") is not None else str(position)
    sample = Sample(
        data_source=options.data_source,
        source_id=source_id,
        turn_index=0,
        prompt=[text_message("user", query)],
        tools=tools,
        calls=calls,
        notes=tuple(notes),
    )
    return [augment(sample, options)]


def main(argv: list[str] | None = None, data_source: str = "xlam", default_input: str = DEFAULT_INPUT) -> int:
    """Command line entry point (also used by the Hammer converter)."""
    parser = training_parser(f"Convert {data_source} function-calling data into verl RL parquet.", default_input)
    parser.add_argument(
        "--irrelevance-ratio",
        type=ratio,
        default=0.0,
        help="fraction of call records whose gold tools are dropped, making them no-call samples (0.0)",
    )
    parser.add_argument("--mask-names", action="store_true", help="Hammer-style function/parameter name masking")
    parser.add_argument("--mask-ratio", type=ratio, default=1.0, help="fraction of records masked (1.0)")
    args = parser.parse_args(argv)
    options = XLAMOptions(
        data_source=data_source,
        seed=args.seed,
        irrelevance_ratio=args.irrelevance_ratio,
        mask_names=args.mask_names,
        mask_ratio=args.mask_ratio,
    )

    return run_training_conversion(args, data_source, options, convert_record, EXPECTED_FORMAT)


if __name__ == "__main__":
    sys.exit(main())
