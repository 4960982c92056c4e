"""The conversion driver shared by every converter: stream records, convert, split, write atomically, count.

A converter is a function ``(record, position) -> list[Sample | Skipped]``. It raises :class:`RecordError` for a
record that cannot be used at all; ``structural=True`` marks a record that does not even have the source's shape
(missing top-level fields). When none of the first :data:`FORMAT_PROBE_RECORDS` records (or of all records, for a
shorter input) has the expected shape, the input is the wrong format altogether: :class:`DataFormatError`, nothing
written. Otherwise every unusable record and sample is skipped and counted by reason in ``stats.json``.

Entries of a JSON input that are not records (:class:`~data_preprocess.reader.BadRecord`: a line that is not JSON, an
entry that is not an object) are skipped and counted by reason like unusable records, with the first
:data:`LINES_KEPT` line numbers of each reason in ``stats.json``; they count as records without the source's shape for
the format probe.

``max_samples`` stops the conversion after the record in which the cap is reached. The rest of that record's
results are still counted: its samples as skipped with the reason :data:`MAX_SAMPLES_REACHED`, its skips by their
own reason, so every candidate sample of every record read is either written or counted as skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from awpo.rows import Sample, Tool
from data_preprocess.augment import unit_draw
from data_preprocess.reader import NESTED_TOO_DEEPLY, BadRecord, Entry, InputError, iter_records
from data_preprocess.tool_schema import ToolSchemaError, normalize_tools
from data_preprocess.writer import DEFAULT_BATCH_ROWS, ParquetOutputs, write_json_atomic

FORMAT_PROBE_RECORDS = 10
LINES_KEPT = 10
MAX_SAMPLES_REACHED = "max_samples_reached"
TRAIN_SPLITS = ("train", "val")


class DataFormatError(ValueError):
    """The input is not in the format the converter reads (e.g. xLAM rows given to the ToolACE converter)."""


class RecordError(ValueError):
    """A record that cannot be converted at all; ``reason`` is its counter in ``stats.json``."""

    def __init__(self, reason: str, detail: str, structural: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.structural = structural


def record_tools(raw_tools: Any, notes: list[str], empty: str) -> list[Tool]:
    """A record's tool definitions (a list, or a JSON string holding one) as OpenAI function schemas.

    Args:
        raw_tools: the definitions as the source gives them.
        notes: receives the normalisation notes.
        empty: the detail of the ``no_tools`` error.

    Raises:
        RecordError: ``invalid_tools`` (not JSON, not a list, a definition that cannot be normalised) or ``no_tools``.
    """
    if isinstance(raw_tools, str):
        try:
            raw_tools = json.loads(raw_tools)
        except ValueError:
            raise RecordError("invalid_tools", "the tools are not valid JSON") from None
    try:
        tools = normalize_tools(raw_tools, notes)
    except ToolSchemaError as error:
        raise RecordError("invalid_tools", str(error)) from None
    if not tools:
        raise RecordError("no_tools", empty)
    return tools


@dataclass(frozen=True)
class Skipped:
    """A candidate sample that was not written, and why."""

    reason: str
    turn_index: int = 0


Converter = Callable[[Mapping[str, Any], int], list[Sample | Skipped]]
Options = TypeVar("Options")


@dataclass
class ConversionStats:
    """What a conversion read, wrote and skipped; written to ``stats.json``.

    ``elapsed_s`` is the whole conversion, opening the input included; ``records_per_s`` is measured from the first
    record read to the last row written (the streaming loop).
    """

    source: str
    input: str
    options: dict[str, Any]
    records_read: int = 0
    samples_written: Counter = field(default_factory=Counter)
    skipped_records: Counter = field(default_factory=Counter)
    skipped_samples: Counter = field(default_factory=Counter)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)
    notes: Counter = field(default_factory=Counter)
    data_sources: Counter = field(default_factory=Counter)
    calls_per_sample: Counter = field(default_factory=Counter)
    turn_index: Counter = field(default_factory=Counter)
    stopped_at_max_samples: bool = False
    elapsed_s: float = 0.0
    loop_s: float = 0.0

    def count_written(self, sample: Sample, split: str) -> None:
        """Count one written sample."""
        self.samples_written[split] += 1
        self.data_sources[sample.data_source] += 1
        self.calls_per_sample[str(len(sample.calls))] += 1
        self.turn_index[str(sample.turn_index)] += 1
        self.notes.update(set(sample.notes))

    def count_skipped_record(self, reason: str, record: Entry) -> None:
        """Count a skipped record; for an input entry that is not a record, keep its line too (the first
        :data:`LINES_KEPT` of each reason)."""
        self.skipped_records[reason] += 1
        if isinstance(record, BadRecord):
            lines = self.skipped_lines.setdefault(reason, [])
            if len(lines) < LINES_KEPT:
                lines.append(record.line)

    @property
    def written(self) -> int:
        """Samples written, all splits together."""
        return sum(self.samples_written.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (counters as plain dicts, histograms in numeric order)."""
        return {
            "source": self.source,
            "input": self.input,
            "options": self.options,
            "records_read": self.records_read,
            "samples_written": {"total": self.written, **dict(sorted(self.samples_written.items()))},
            "skipped_records": dict(self.skipped_records.most_common()),
            "skipped_samples": dict(self.skipped_samples.most_common()),
            "skipped_lines": self.skipped_lines,
            "notes": dict(self.notes.most_common()),
            "data_sources": dict(sorted(self.data_sources.items())),
            "calls_per_sample": dict(sorted(self.calls_per_sample.items(), key=lambda item: int(item[0]))),
            "turn_index": dict(sorted(self.turn_index.items(), key=lambda item: int(item[0]))),
            "stopped_at_max_samples": self.stopped_at_max_samples,
            "elapsed_s": round(self.elapsed_s, 3),
            "records_per_s": round(self.records_read / self.loop_s, 1) if self.loop_s else None,
        }


def hash_split(seed: int, val_ratio: float) -> Callable[[Sample], str]:
    """``"val"`` for a ``val_ratio`` fraction of source records, chosen by hashing the seed, the data source and the
    source id (all turns of one dialogue land in the same split), ``"train"`` otherwise."""

    def split_of(sample: Sample) -> str:
        return "val" if unit_draw(seed, "split", sample.data_source, sample.source_id) < val_ratio else "train"

    return split_of


def _preview(record: Mapping[str, Any] | BadRecord) -> str:
    if isinstance(record, BadRecord):
        return record.preview
    text = json.dumps(record, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def convert_records(
    records: Iterable[Mapping[str, Any] | BadRecord],
    converter: Converter,
    output_dir: Path,
    stats: ConversionStats,
    split_of: Callable[[Sample], str],
    splits: Sequence[str] = TRAIN_SPLITS,
    expected_format: str = "",
    max_samples: int | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ConversionStats:
    """Convert a record stream into ``output_dir/<split>.parquet`` for every split, plus ``stats.json``.

    Raises:
        DataFormatError: the input is not in the expected format (see the module docstring); nothing is written.
        InputError: the input cannot be read; nothing is written.
    """
    started = time.perf_counter()
    first_record_at: float | None = None
    first_malformed: tuple[int, RecordError, Entry] | None = None
    well_formed = False

    def check_format() -> None:
        if well_formed:
            return
        if first_malformed is None:
            raise DataFormatError(f"{stats.input}: the input has no records")
        position, error, record = first_malformed
        raise DataFormatError(
            f"{stats.input} is not {stats.source} data: record {position}: {error.detail}. "
            f"Expected {expected_format}. Record {position}: {_preview(record)}"
        )

    paths = {split: output_dir / f"{split}.parquet" for split in splits}
    stats.samples_written.update(dict.fromkeys(splits, 0))
    with ParquetOutputs(paths, batch_rows=batch_rows) as outputs:
        progress = tqdm(records, desc=stats.source, unit=" records", disable=None, mininterval=1.0)
        for position, record in enumerate(progress):
            if first_record_at is None:
                first_record_at = time.perf_counter()
            stats.records_read += 1
            try:
                if isinstance(record, BadRecord):
                    raise RecordError(record.reason, record.detail, structural=True)
                results = converter(record, position)
                well_formed = True
            except RecordError as error:
                stats.count_skipped_record(error.reason, record)
                if error.structural and first_malformed is None:
                    first_malformed = (position, error, record)
                well_formed = well_formed or not error.structural
                results = []
            except RecursionError:  # a value nested beyond the interpreter's recursion limit (JSON or call syntax)
                stats.skipped_records[NESTED_TOO_DEEPLY] += 1
                results = []
            for result in results:
                if isinstance(result, Skipped):
                    stats.skipped_samples[result.reason] += 1
                elif stats.stopped_at_max_samples:
                    stats.skipped_samples[MAX_SAMPLES_REACHED] += 1
                else:
                    split = split_of(result)
                    outputs.write(split, result.to_row(split, stats.samples_written[split]))
                    stats.count_written(result, split)
                    stats.stopped_at_max_samples = max_samples is not None and stats.written >= max_samples
            if stats.stopped_at_max_samples:
                break
            if stats.records_read == FORMAT_PROBE_RECORDS:
                check_format()
        check_format()
        finished = time.perf_counter()
        stats.elapsed_s = finished - started
        stats.loop_s = finished - (first_record_at or finished)
    write_json_atomic(output_dir / "stats.json", stats.as_dict())
    return stats


def ratio(text: str) -> float:
    """argparse type: a float in [0, 1]."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1]")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not ≥ 1")
    return value


def training_parser(description: str, default_input: str | None) -> argparse.ArgumentParser:
    """The options every training-data converter shares (``--input`` is required when there is no default)."""
    parser = argparse.ArgumentParser(description=description)
    where = "Hugging Face dataset name or local .json/.jsonl/.parquet file or directory"
    parser.add_argument(
        "--input",
        default=default_input,
        required=default_input is None,
        help=f"{where} (default: {default_input})" if default_input else where,
    )
    parser.add_argument("--output-dir", type=Path, required=True, help="writes train.parquet, val.parquet, stats.json")
    parser.add_argument("--val-ratio", type=ratio, default=0.02, help="fraction of source records in val (0.02)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of every augmentation (0)")
    parser.add_argument("--max-samples", type=positive_int, help="stop after writing this many samples (all)")
    return parser


def run(main: Callable[[], ConversionStats]) -> int:
    """Run a conversion, print its stats as JSON; on bad input print ``error: ...`` and return 2."""
    try:
        stats = main()
    except (DataFormatError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(stats.as_dict(), indent=2, ensure_ascii=False))
    return 0


def run_training_conversion(
    args: argparse.Namespace,
    data_source: str,
    options: Options,
    convert_record: Callable[[Mapping[str, Any], int, Options], list[Sample | Skipped]],
    expected_format: str,
) -> int:
    """Run a training converter's command line (parsed by :func:`training_parser`): read ``--input``, split by
    ``--seed`` / ``--val-ratio``, stop at ``--max-samples``, write ``--output-dir``; returns the exit status.

    Args:
        args: the parsed command line.
        data_source: the rows' ``data_source``, recorded in ``stats.json``.
        options: the converter's own options (a dataclass), recorded in ``stats.json`` beside the split settings.
        convert_record: ``(record, position, options) -> samples or skips``.
        expected_format: a one-line description of the input format for the wrong-format error.
    """

    def convert() -> ConversionStats:
        stats = ConversionStats(
            source=data_source,
            input=args.input,
            options={
                **dataclasses.asdict(options),
                "val_ratio": args.val_ratio,
                "seed": args.seed,
                "max_samples": args.max_samples,
            },
        )
        return convert_records(
            iter_records(args.input),
            lambda record, position: convert_record(record, position, options),
            args.output_dir,
            stats,
            split_of=hash_split(args.seed, args.val_ratio),
            expected_format=expected_format,
            max_samples=args.max_samples,
        )

    return run(convert)
