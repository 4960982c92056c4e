"""Merge converted datasets into one training set, dropping duplicate samples.

    python -m data_preprocess.merge --output-dir data/awpo_train data/sources/toolace data/sources/xlam ...

Each input directory holds a converter's ``train.parquet`` and ``val.parquet``. Rows are streamed in batches, all
``val`` files first, then all ``train`` files, in the order given; a row is dropped when an earlier row has the same
normalised prompt (roles, whitespace-collapsed case-folded contents, history calls) and the same ground truth. So
duplicates within a split are dropped, and a training row that duplicates a validation row is dropped from train
(no validation sample is trained on). ``extra_info.index`` is renumbered per output split. Memory holds one 16-byte
digest per distinct sample. Writes ``train.parquet``, ``val.parquet`` and ``stats.json`` atomically.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import pyarrow.parquet as pq

from awpo.rows import ROW_SCHEMA
from data_preprocess.pipeline import TRAIN_SPLITS
from data_preprocess.reader import InputError
from data_preprocess.writer import DEFAULT_BATCH_ROWS, ParquetOutputs, write_json_atomic


def normalize_text(text: str | None) -> str:
    """Whitespace collapsed to single spaces, case folded."""
    return " ".join((text or "").split()).casefold()


def sample_key(row: Mapping[str, Any]) -> bytes:
    """Digest of a row's normalised prompt and its ground truth (the deduplication key)."""
    prompt = [
        [
            message["role"],
            normalize_text(message["content"]),
            [
                [call["function"]["name"], json.loads(call["function"]["arguments"])]
                for call in message.get("tool_calls") or []
            ],
        ]
        for message in row["prompt"]
    ]
    truth = json.loads(row["reward_model"]["ground_truth"])
    text = json.dumps([prompt, truth], sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _open(path: Path) -> pq.ParquetFile:
    if not path.is_file():
        raise InputError(f"{path}: no such file (each input directory needs train.parquet and val.parquet)")
    parquet = pq.ParquetFile(path)
    if not parquet.schema_arrow.equals(ROW_SCHEMA):
        raise InputError(f"{path}: not a converter output (its schema differs from awpo.rows.ROW_SCHEMA)")
    return parquet


def merge(inputs: Sequence[Path], output_dir: Path, batch_rows: int = DEFAULT_BATCH_ROWS) -> dict[str, Any]:
    """Merge and deduplicate the ``train``/``val`` files of ``inputs`` into ``output_dir``; returns the stats.

    Raises:
        InputError: an input file is missing or is not a converter output; nothing is written.
    """
    files = {
        (split, directory): _open(directory / f"{split}.parquet") for split in TRAIN_SPLITS for directory in inputs
    }
    first_split: dict[bytes, str] = {}
    read: Counter = Counter({f"{directory}/{split}": 0 for split in ("val", "train") for directory in inputs})
    written: Counter = Counter({split: 0 for split in TRAIN_SPLITS})
    duplicates: Counter = Counter()
    data_sources: Counter = Counter()
    paths = {split: output_dir / f"{split}.parquet" for split in TRAIN_SPLITS}
    with ParquetOutputs(paths, batch_rows=batch_rows) as outputs:
        for split in ("val", "train"):
            for directory in inputs:
                for batch in files[(split, directory)].iter_batches(batch_size=batch_rows):
                    for row in batch.to_pylist():
                        read[f"{directory}/{split}"] += 1
                        key = sample_key(row)
                        if key in first_split:
                            duplicates[f"{split}_duplicate_of_{first_split[key]}"] += 1
                            continue
                        first_split[key] = split
                        row["extra_info"] = {**row["extra_info"], "split": split, "index": written[split]}
                        outputs.write(split, row)
                        written[split] += 1
                        data_sources[row["data_source"]] += 1
    stats = {
        "inputs": [str(directory) for directory in inputs],
        "rows_read": dict(read),
        "duplicates_dropped": dict(duplicates),
        "samples_written": {"total": sum(written.values()), **dict(written)},
        "data_sources": dict(sorted(data_sources.items())),
    }
    write_json_atomic(output_dir / "stats.json", stats)
    return stats


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Merge converter outputs into one deduplicated training set.")
    parser.add_argument("inputs", nargs="+", type=Path, help="directories holding train.parquet and val.parquet")
    parser.add_argument("--output-dir", type=Path, required=True, help="writes train.parquet, val.parquet, stats.json")
    args = parser.parse_args(argv)
    try:
        stats = merge(args.inputs, args.output_dir)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(stats, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
