"""API-Bank level-1 / level-2 (Li et al., EMNLP 2023): exact-match scoring of generations on the converted data.

    python -m awpo.eval.apibank --data data/apibank/level1/val.parquet [--data .../level2/val.parquet]
        --generations generations.jsonl [--report report.json] [--string-match exact] [--require-thinking]

The data are API-Bank's official test files converted by ``python -m data_preprocess.apibank`` (data_source
``apibank_level1`` / ``apibank_level2``, source id ``level-N/<file>#<id>``). Generations are
``{"id": "<source id>", "response": "<raw model text>"}`` lines; the report gives, per level, the share of requests
whose response is exactly the expected call: the binary outcome reward of :mod:`awpo.rewards` (one call, same name,
same argument keys, typed value equality; strings compared after BFCL's normalisation — case, spaces and
``,./-_*^`` ignored — or exactly with ``--string-match exact``). Level 2 is also split into its ToolSearcher steps
("retrieve") and the API steps ("call"). The same number is the ``exact_match`` reward component, so a verl
validation run on the converted parquet reports it too.

**How this differs from the official scoring** (``api-bank/evaluator_by_json.py``), which cannot run offline: the
official evaluator takes the first ``[Name(args)]`` in the output, checks the name, *executes* the API (the
repository's ``apis/*.py`` on its databases) and accepts the call when each API's ``check_api_call_correctness``
accepts the result against the recorded one. Consequences:

- ToolSearcher steps: the official check compares the *retrieved* API (a sentence-transformers search); here the
  keywords must match the annotated ones, which is far stricter;
- free-text arguments: some APIs accept near matches (e.g. AddAgenda's content by word overlap > 0.5); here they
  must be equal up to the normalisation;
- extra calls: the official evaluator ignores everything after the first call; here a response must make exactly
  the one expected call (the parsed-but-malformed calls of a response the parser rejects count as no call);
- values the API would reject or normalise (bad date formats, unknown tokens) fail here as well, by inequality.

It is the scoring of ToolRL's API-Bank evaluation (exact name and parameter equality, no execution), with typed
comparison and string normalisation added.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awpo.eval.generations import json_objects
from awpo.rewards.options import OutcomeOptions
from awpo.rewards.outcome import GroundTruthError
from awpo.rewards.parser import parse_response
from awpo.rewards.score import score_response
from awpo.tools import ToolsError

LEVELS = (1, 2)
RETRIEVER = "ToolSearcher"


def data_source(level: int) -> str:
    """The converted rows' ``data_source``: ``apibank_level1`` / ``apibank_level2``."""
    return f"apibank_level{level}"


@dataclass
class LevelTally:
    """Counts for one data source (or one step kind of it)."""

    total: int = 0
    correct: int = 0
    malformed: int = 0
    missing: int = 0

    def add(self, correct: bool, malformed: bool, missing: bool) -> None:
        """Count one request."""
        self.total += 1
        self.correct += correct
        self.malformed += malformed
        self.missing += missing

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the accuracy."""
        return {
            "accuracy": self.correct / self.total if self.total else None,
            "correct": self.correct,
            "total": self.total,
            "malformed": self.malformed,
            "missing_generations": self.missing,
        }


def read_rows(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The converted rows (data_source, ground truth, source id, tools) of ``val.parquet`` files."""
    import pyarrow.parquet as pq

    rows = []
    for path in paths:
        table = pq.read_table(path, columns=["data_source", "reward_model", "extra_info"])
        for row in table.to_pylist():
            rows.append(
                {
                    "data_source": row["data_source"],
                    "ground_truth": row["reward_model"]["ground_truth"],
                    "id": row["extra_info"]["source_id"],
                    "tools": row["extra_info"]["tools"],
                }
            )
    return rows


def read_generations(path: Path) -> tuple[dict[str, Any], int]:
    """``id → response`` from a JSON-lines file, and the number of unusable lines (first response of an id wins)."""
    generations: dict[str, Any] = {}
    unusable = 0
    for record in json_objects(path):
        if record is not None and isinstance(record.get("id"), str) and "response" in record:
            generations.setdefault(record["id"], record["response"])
        else:
            unusable += 1
    return generations, unusable


def score(
    rows: Sequence[Mapping[str, Any]], generations: Mapping[str, Any], options: OutcomeOptions
) -> dict[str, LevelTally]:
    """Tallies per data source, and per ``<data source>/retrieve|call`` for level 2.

    Raises:
        GroundTruthError, ToolsError: a row's ground truth or tools are malformed (not a converted API-Bank row).
    """
    tallies: dict[str, LevelTally] = {}
    for row in rows:
        response = generations.get(row["id"])
        missing = response is None
        parsed = parse_response(response if isinstance(response, str) else "", options.require_thinking)
        outcome = score_response(parsed, row["ground_truth"], {"tools": row["tools"]}, options)
        correct = not missing and bool(outcome.exact_match)
        malformed = not missing and not parsed.format_ok
        keys = [row["data_source"]]
        if row["data_source"] == data_source(2):
            gold_name = json.loads(row["ground_truth"])["calls"][0]["name"]
            keys.append(f"{row['data_source']}/{'retrieve' if gold_name == RETRIEVER else 'call'}")
        for key in keys:
            tallies.setdefault(key, LevelTally()).add(correct, malformed, missing)
    return dict(sorted(tallies.items()))


def format_tallies(tallies: Mapping[str, LevelTally]) -> str:
    """A plain-text table."""
    lines = [f"  {'data source':<28}{'accuracy':>10}{'correct':>9}{'total':>7}{'malformed':>11}{'missing':>9}"]
    for name, tally in tallies.items():
        accuracy = "n/a" if not tally.total else f"{tally.correct / tally.total:.2%}"
        lines.append(
            f"  {name:<28}{accuracy:>10}{tally.correct:>9}{tally.total:>7}{tally.malformed:>11}{tally.missing:>9}"
        )
    lines.append("Exact (name, arguments) match, no API execution: see `python -m awpo.eval.apibank --help`.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="API-Bank level-1/2: score generations by exact call match against the converted data.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, action="append", required=True, help="a converted val.parquet (repeat)")
    parser.add_argument("--generations", type=Path, required=True, help='JSONL of {"id": source id, "response"}')
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--string-match", choices=("normalized", "exact"), default="normalized")
    parser.add_argument("--require-thinking", action="store_true", help="a response without <think> is malformed")
    args = parser.parse_args(argv)
    try:
        rows = read_rows(args.data)
        generations, unusable = read_generations(args.generations)
        options = OutcomeOptions(
            outcome="binary", string_match=args.string_match, require_thinking=args.require_thinking
        )
        tallies = score(rows, generations, options)
    except (OSError, GroundTruthError, ToolsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_tallies(tallies))
    unknown = len(set(generations) - {row["id"] for row in rows})
    if unusable or unknown:
        print(f"  ignored: {unusable} unusable generation line(s), {unknown} generation(s) with an unknown id")
    if args.report is not None:
        report = {
            "levels": {name: tally.as_dict() for name, tally in tallies.items()},
            "string_match": args.string_match,
            "unusable_generation_lines": unusable,
            "unknown_generation_ids": unknown,
        }
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
