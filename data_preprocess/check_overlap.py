"""Contamination check: training prompts whose user turns (or multi-turn scenarios) also occur in BFCL's evaluation
data.

    python -m data_preprocess.check_overlap data/awpo_train/train.parquet [more.parquet ...]
        [--bfcl-categories simple_python multi_turn_base ...] [--report overlap.json] [--fail-on-overlap]
        [--min-chars 16] [--max-examples 20] [--bfcl-data-dir DIR]

Collects every user message of the chosen BFCL categories (default: every question file of the installed
bfcl-eval, multi-turn, memory and web-search ones included; all turns of multi-turn entries), then streams the
parquet files and reports each row one of whose user messages equals a BFCL user message, exactly or after
normalisation (whitespace collapsed, case folded). BFCL messages shorter than ``--min-chars`` normalised characters
("Yes", "Thanks") are ignored. Multi-turn rows (a ``reward_model.ground_truth`` of kind ``multi_turn``,
:mod:`awpo.multiturn.task`) are checked on every user turn of their task, and their scenario too: a row one of whose
classes starts from the same initial configuration as a BFCL multi-turn entry (``scenario``) overlaps. Prints the
counts and examples; exit code 0, or 1 with ``--fail-on-overlap`` when any row overlaps; 2 when an input cannot be
read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import pyarrow.parquet as pq

from awpo.eval.bfcl_data import BFCLDataError, category_file, data_dir, question_categories, read_jsonl
from awpo.multiturn.task import MultiTurnTask, TaskError, task_of_ground_truth
from data_preprocess.merge import normalize_text
from data_preprocess.reader import InputError
from data_preprocess.writer import write_json_atomic

DEFAULT_MIN_CHARS = 16
DEFAULT_MAX_EXAMPLES = 20


@dataclass
class BFCLIndex:
    """BFCL user messages: exact text → entry ids, and normalised text → entry ids; multi-turn scenarios: a class's
    initial configuration (:func:`scenario_key`) → entry ids."""

    exact: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    normalized: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    scenarios: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, text: str, entry_id: str, min_chars: int) -> None:
        """Index one user message (ignored when shorter than ``min_chars`` once normalised)."""
        normalized = normalize_text(text)
        if len(normalized) >= min_chars:
            self.exact[text].add(entry_id)
            self.normalized[normalized].add(entry_id)


def scenario_key(class_name: str, config: Any) -> str:
    """A class's initial configuration as canonical JSON text (keys sorted)."""
    return json.dumps([class_name, config], sort_keys=True, default=str)


def build_index(root: Path, categories: Iterable[str], min_chars: int = DEFAULT_MIN_CHARS) -> BFCLIndex:
    """Index the user messages of every turn of every entry of ``categories`` in the BFCL data directory ``root``.

    Raises:
        BFCLDataError: a category file is missing or not JSON lines.
    """
    index = BFCLIndex()
    for category in categories:
        for entry in read_jsonl(category_file(category, root=root)):
            for turn in entry.get("question") or []:
                for message in turn if isinstance(turn, list) else []:
                    if message.get("role") == "user" and isinstance(message.get("content"), str):
                        index.add(message["content"], str(entry.get("id")), min_chars)
            for class_name, config in (entry.get("initial_config") or {}).items():
                if config:
                    index.scenarios[scenario_key(class_name, config)].add(str(entry.get("id")))
    return index


def check_files(paths: Sequence[Path], index: BFCLIndex, max_examples: int = DEFAULT_MAX_EXAMPLES) -> dict[str, Any]:
    """Stream the parquet files and report their rows whose user messages occur in ``index``.

    Raises:
        InputError: a file is missing, has no ``prompt`` column, or holds a malformed multi-turn task.
    """
    rows_checked = 0
    matches: Counter = Counter()
    by_data_source: Counter = Counter()
    by_bfcl_category: Counter = Counter()
    examples = []
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        parquet = pq.ParquetFile(path)
        if "prompt" not in parquet.schema_arrow.names:
            raise InputError(f"{path}: no 'prompt' column")
        wanted = ("prompt", "data_source", "extra_info", "reward_model")
        columns = [name for name in wanted if name in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(columns=columns):
            for row in batch.to_pylist():
                rows_checked += 1
                match = _match(row, index)
                if match is None:
                    continue
                kind, text, ids = match
                matches[kind] += 1
                by_data_source[row.get("data_source")] += 1
                by_bfcl_category.update({entry_id.rsplit("_", 1)[0] for entry_id in ids})
                if len(examples) < max_examples:
                    extra = row.get("extra_info") or {}
                    examples.append(
                        {
                            "file": str(path),
                            "row": rows_checked - 1,
                            "data_source": row.get("data_source"),
                            "source_id": extra.get("source_id"),
                            "match": kind,
                            "bfcl_ids": sorted(ids)[:5],
                            "text": text if len(text) <= 300 else text[:297] + "...",
                        }
                    )
    return {
        "files": [str(path) for path in paths],
        "bfcl_user_messages": len(index.exact),
        "rows_checked": rows_checked,
        "rows_overlapping": sum(matches.values()),
        "rows_exact": matches["exact"],
        "rows_normalized_only": matches["normalized"],
        "rows_same_scenario_only": matches["scenario"],
        "by_data_source": dict(by_data_source.most_common()),
        "by_bfcl_category": dict(by_bfcl_category.most_common()),
        "examples": examples,
    }


def _match(row: dict[str, Any], index: BFCLIndex) -> tuple[str, str, set[str]] | None:
    task = _multi_turn_task(row)
    messages = list(row["prompt"]) + ([message for turn in task.turns for message in turn] if task else [])
    normalized_match = None
    for message in messages:
        if message.get("role") != "user" or not message.get("content"):
            continue
        text = message["content"]
        if text in index.exact:
            return "exact", text, index.exact[text]
        if normalized_match is None and normalize_text(text) in index.normalized:
            normalized_match = ("normalized", text, index.normalized[normalize_text(text)])
    if normalized_match is None and task is not None:
        for class_name, config in task.initial_config.items():
            key = scenario_key(class_name, config)
            if key in index.scenarios:
                return "scenario", key, index.scenarios[key]
    return normalized_match


def _multi_turn_task(row: dict[str, Any]) -> MultiTurnTask | None:
    """The multi-turn task of a row, or None for a single-turn row.

    Raises:
        InputError: the row's ground truth says multi_turn but is not a valid task.
    """
    ground_truth = (row.get("reward_model") or {}).get("ground_truth")
    try:
        return task_of_ground_truth(ground_truth) if isinstance(ground_truth, str) else None
    except TaskError as error:
        raise InputError(f"malformed multi-turn task: {error}") from None


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Report training prompts whose user turns occur in BFCL.")
    parser.add_argument("files", nargs="+", type=Path, help="parquet files written by the converters")
    parser.add_argument("--bfcl-categories", nargs="+", metavar="CATEGORY", help="BFCL categories (default: all)")
    parser.add_argument("--bfcl-data-dir", type=Path, help="BFCL data directory (default: the installed bfcl-eval)")
    parser.add_argument("--report", type=Path, help="also write the report as JSON to this path")
    parser.add_argument("--fail-on-overlap", action="store_true", help="exit 1 when any row overlaps (for CI)")
    parser.add_argument("--min-chars", type=int, default=DEFAULT_MIN_CHARS, help="ignore shorter BFCL messages (16)")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, help="examples reported (20)")
    args = parser.parse_args(argv)
    try:
        root = args.bfcl_data_dir or data_dir()
        categories = args.bfcl_categories or question_categories(root)
        index = build_index(root, categories, args.min_chars)
        report = {
            "bfcl_data_dir": str(root),
            "bfcl_categories": categories,
            "min_chars": args.min_chars,
            **check_files(args.files, index, args.max_examples),
        }
    except (InputError, BFCLDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.report:
        write_json_atomic(args.report, report)
    print(
        f"[check_overlap] {report['rows_overlapping']} of {report['rows_checked']} rows have a user message found in "
        f"BFCL ({report['rows_exact']} exact, {report['rows_normalized_only']} after whitespace/case normalisation, "
        f"{report['rows_same_scenario_only']} with a BFCL multi-turn scenario; "
        f"{report['bfcl_user_messages']} BFCL messages from {len(categories)} categories)"
    )
    for example in report["examples"]:
        print(
            f"  [{example['match']}] {example['data_source']} {example['source_id']} ~ {example['bfcl_ids']}: "
            f"{example['text'][:120]!r}"
        )
    return 1 if args.fail_on_overlap and report["rows_overlapping"] else 0


if __name__ == "__main__":
    sys.exit(main())
