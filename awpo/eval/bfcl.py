"""Score saved BFCL generations offline, on CPU: the project's parser reads them, bfcl-eval's checker judges them.

    python -m awpo.eval.bfcl GENERATIONS [GENERATIONS ...] [--categories CATEGORY ...] [--report report.json]
        [--require-thinking]

``GENERATIONS`` are files or directories of JSON lines (a directory is searched recursively for bfcl-eval result
files ``BFCL_v4_*_result.json`` and for ``*.jsonl`` files). Two line shapes are read:

- bfcl-eval's result files (``$BFCL_PROJECT_ROOT/result/<model>/<group>/BFCL_v4_<category>_result.json``):
  ``{"id", "result", "reasoning_content"?, "input_token_count", ...}``. For the Qwen3 FC handler ``result`` is the
  completion after ``</think>`` and ``reasoning_content`` the thinking (the key is dropped when it is empty); the
  response is rebuilt as ``<think>\\n{reasoning_content}\\n</think>\\n\\n{result}``.
- ``{"id": "<BFCL entry id>", "response": "<raw model text>"}``.

The category comes from the entry id, as in bfcl-eval (``live_simple_3-1-0`` → ``live_simple``).

Verdicts follow bfcl-eval's evaluator, applied to the calls :func:`awpo.rewards.parser.parse_response` reads:

- AST categories (simple_python, simple_java, simple_javascript, multiple, parallel, parallel_multiple,
  live_simple, live_multiple, live_parallel, live_parallel_multiple): bfcl-eval's ``ast_checker`` accepts the calls
  (Java / JavaScript categories are checked in their language, as bfcl-eval does);
- irrelevance, live_irrelevance: the response makes no call; live_relevance: it makes at least one;
- multi-turn categories (multi_turn_base, multi_turn_miss_func, multi_turn_miss_param, multi_turn_long_context):
  ``result`` / ``response`` list each turn's generations (``[[step, ...], ...]``); every step is decoded into calls
  and the calls are replayed with bfcl-eval's per-turn state and execution checks on the project's executor, never
  with ``eval`` (:mod:`awpo.eval.bfcl_multiturn`, which gives the record shapes).

``accuracy`` is that verdict. A response the parser rejects (``malformed``: e.g. text around the tool calls, an
unterminated block) is judged on the calls it parsed before the error, which is close to bfcl-eval's Qwen FC decoder
(it keeps every ``<tool_call>`` whose body is JSON and ignores everything else); ``strict_accuracy`` also requires
the response (for multi-turn: every text step) to be well formed. Inference errors that bfcl-eval recorded as text
are counted (``errors``) and judged like any text, as bfcl-eval does. Nothing here raises on a malformed
generation: unreadable lines, records without an id or a response, non-string responses and checker exceptions are
counted and the entry is wrong.

Not scored offline: the agentic categories and format_sensitivity; they are counted as skipped. So BFCL v4 Overall
is reported as not computable; the other buckets (v3 Overall and the Multi-Turn bucket when the four multi-turn
categories are scored) are computed with :mod:`awpo.eval.bfcl_summary`. Accuracy covers the entries present; a
category with fewer generations than BFCL entries is marked partial.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awpo.eval.bfcl_checker import CHECKER_MODEL_NAME, checker_language, load_ast_checker
from awpo.eval.bfcl_data import BFCLDataError, load_possible_answers, load_questions
from awpo.eval.bfcl_multiturn import judge_record
from awpo.eval.bfcl_summary import (
    IRRELEVANCE,
    LIVE_AST,
    MULTI_TURN,
    NON_LIVE_AST,
    RELEVANCE,
    SIMPLE,
    SINGLE_TURN,
    CategoryScore,
    format_buckets,
    percent,
    v3_summary,
    v4_summary,
)
from awpo.eval.generations import json_objects, with_thinking
from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from awpo.rewards.parser import parse_response

# Every category the offline scorer checks against possible answers, java and javascript included (their answers
# go through the language-specific checkers); data conversion uses the narrower bfcl_data.AST_CATEGORIES.
CHECKED_CATEGORIES = (*SIMPLE, *NON_LIVE_AST, *LIVE_AST)
SCORED_CATEGORIES = (*SINGLE_TURN, *MULTI_TURN)
INFERENCE_ERROR_PREFIX = "Error during inference"
RESULT_FILE_GLOB = "BFCL_v4_*_result.json"
MAX_ERROR_CHARS = 300


def category_of(entry_id: str) -> str:
    """bfcl-eval's ``extract_test_category_from_id``: the id without its last ``_<index>`` part."""
    return entry_id.split(":")[0].rsplit("_", 1)[0]


def skip_reason(category: str) -> str:
    """Why a category is not scored offline."""
    if category.startswith(("memory", "web_search")):
        return "agentic: needs bfcl-eval's own harness (bfcl generate + bfcl evaluate)"
    if category.startswith("format_sensitivity"):
        return "format_sensitivity: not a scoring category"
    return "not a BFCL v4 category"


def response_text(record: Mapping[str, Any]) -> Any:
    """The raw response of a generation record (see the module docstring); None when it has none."""
    if "response" in record:
        return record["response"]
    result = record.get("result")
    reasoning = record.get("reasoning_content")
    if isinstance(result, str) and isinstance(reasoning, str) and reasoning:
        return with_thinking(result, reasoning)
    return result


@dataclass
class CategoryTally:
    """Counts for one category."""

    scored: int = 0
    correct: int = 0
    strict_correct: int = 0
    malformed: int = 0
    errors: int = 0
    checker_errors: int = 0
    dataset_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the accuracies."""
        return {
            "accuracy": self.correct / self.scored if self.scored else None,
            "strict_accuracy": self.strict_correct / self.scored if self.scored else None,
            "scored": self.scored,
            "correct": self.correct,
            "strict_correct": self.strict_correct,
            "malformed": self.malformed,
            "errors": self.errors,
            "checker_errors": self.checker_errors,
            "dataset_size": self.dataset_size,
            "partial": self.scored < self.dataset_size,
        }


@dataclass
class Report:
    """Everything one scoring run counted."""

    categories: dict[str, CategoryTally] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    unreadable_lines: int = 0
    records_without_id: int = 0
    unknown_ids: int = 0
    duplicate_ids: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def scores(self) -> dict[str, CategoryScore]:
        """Category → (correct, scored), for the aggregates."""
        return {name: CategoryScore(t.correct, t.scored) for name, t in self.categories.items() if t.scored}

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the BFCL v4 / v3 aggregates that can be computed offline."""
        scores = self.scores()
        return {
            "categories": {name: tally.as_dict() for name, tally in sorted(self.categories.items())},
            "v4": {name: value.as_dict() for name, value in v4_summary(scores).items()},
            "v3": {name: value.as_dict() for name, value in v3_summary(scores).items()},
            "skipped": {name: {"count": count, "reason": skip_reason(name)} for name, count in self.skipped.items()},
            "unreadable_lines": self.unreadable_lines,
            "records_without_id": self.records_without_id,
            "unknown_ids": self.unknown_ids,
            "duplicate_ids": self.duplicate_ids,
            "failures": self.failures,
        }


class _Category:
    """One category's entries and possible answers, loaded from the installed bfcl-eval on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.functions = {entry["id"]: entry.get("function") for entry in load_questions(name)}
        self.answers = load_possible_answers(name) if name in CHECKED_CATEGORIES else {}
        self.tasks = {task.task_id: task for task in load_bfcl_tasks(name)} if name in MULTI_TURN else {}
        self.language = checker_language(name)


def generation_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to read: explicit files as given, directories searched for result files and ``*.jsonl``.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    for path in paths:
        if path.is_dir():
            yield from sorted({*path.rglob(RESULT_FILE_GLOB), *path.rglob("*.jsonl")})
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")


def read_records(path: Path, report: Report) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file; other non-empty lines are counted as unreadable."""
    for record in json_objects(path):
        if record is None:
            report.unreadable_lines += 1
        else:
            yield record


class Scorer:
    """Scores generation records one by one into a :class:`Report`."""

    def __init__(self, categories: Sequence[str] | None = None, require_thinking: bool = False) -> None:
        self.wanted = set(categories) if categories else None
        self.require_thinking = require_thinking
        self.report = Report()
        self._checker = load_ast_checker()
        self._loaded: dict[str, _Category] = {}
        self._seen: set[str] = set()

    def _category(self, name: str) -> _Category:
        if name not in self._loaded:
            self._loaded[name] = _Category(name)
            self.report.categories[name] = CategoryTally(dataset_size=len(self._loaded[name].functions))
        return self._loaded[name]

    def add(self, record: Mapping[str, Any]) -> None:
        """Score one generation record (never raises for a malformed record)."""
        report = self.report
        entry_id = record.get("id")
        if not isinstance(entry_id, str):
            report.records_without_id += 1
            return
        name = category_of(entry_id)
        if self.wanted is not None and name not in self.wanted:
            return
        if name not in SCORED_CATEGORIES:
            report.skipped[name] += 1
            return
        category = self._category(name)
        if entry_id not in category.functions:
            report.unknown_ids += 1
            return
        if entry_id in self._seen:
            report.duplicate_ids += 1
            return
        self._seen.add(entry_id)
        tally = report.categories[name]
        tally.scored += 1
        if name in MULTI_TURN:
            valid, well_formed, error = self._judge_multi_turn(category, entry_id, record, tally)
        else:
            valid, well_formed, error = self._judge(category, entry_id, response_text(record), tally)
        tally.correct += valid
        tally.strict_correct += valid and well_formed
        if not valid:
            report.failures.append({"id": entry_id, "category": name, "error": error[:MAX_ERROR_CHARS]})

    def _judge_multi_turn(
        self, category: _Category, entry_id: str, record: Mapping[str, Any], tally: CategoryTally
    ) -> tuple[bool, bool, str]:
        """(valid, well formed, why not valid) of a multi-turn record."""
        verdict = judge_record(category.tasks[entry_id], record, self.require_thinking)
        tally.malformed += not verdict.well_formed
        tally.errors += verdict.inference_error
        return verdict.valid, verdict.well_formed, verdict.reason

    def _judge(self, category: _Category, entry_id: str, text: Any, tally: CategoryTally) -> tuple[bool, bool, str]:
        """(valid, well formed, why not valid)."""
        if not isinstance(text, str):
            tally.malformed += 1
            tally.errors += 1
            return False, False, f"no response text (got {type(text).__name__})"
        if text.startswith(INFERENCE_ERROR_PREFIX):
            tally.errors += 1
        parsed = parse_response(text, require_thinking=self.require_thinking)
        tally.malformed += not parsed.format_ok
        format_note = "" if parsed.format_ok else f" [malformed: {parsed.format_error}]"
        calls = [{call.name: call.arguments} for call in parsed.calls]
        if category.name in IRRELEVANCE:
            return not calls, parsed.format_ok, f"made {len(calls)} call(s) where none is correct{format_note}"
        if category.name == RELEVANCE:
            return bool(calls), parsed.format_ok, f"made no call{format_note}"
        try:
            verdict = self._checker(
                category.functions[entry_id],
                calls,
                category.answers[entry_id],
                category.language,
                category.name,
                CHECKER_MODEL_NAME,
            )
        except Exception as error:  # the checker is third-party code fed model output: any failure means "wrong"
            tally.checker_errors += 1
            return False, parsed.format_ok, f"checker raised {type(error).__name__}: {error}{format_note}"
        return (
            bool(verdict.get("valid")),
            parsed.format_ok,
            f"{'; '.join(map(str, verdict.get('error', [])))}{format_note}",
        )


def score_files(
    paths: Sequence[Path], categories: Sequence[str] | None = None, require_thinking: bool = False
) -> Report:
    """Score every generation record in ``paths``.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    scorer = Scorer(categories, require_thinking)
    for path in generation_files(paths):
        for record in read_records(path, scorer.report):
            scorer.add(record)
    return scorer.report


def format_report(report: Mapping[str, Any]) -> str:
    """A plain-text table of a report's :meth:`Report.as_dict`."""
    lines = [
        f"  {'category':<24}{'accuracy':>10}{'strict':>10}{'scored':>8}{'malformed':>11}{'errors':>8}  of BFCL",
    ]
    for name, row in report["categories"].items():
        lines.append(
            f"  {name:<24}{percent(row['accuracy']):>10}{percent(row['strict_accuracy']):>10}{row['scored']:>8}"
            f"{row['malformed']:>11}{row['errors']:>8}  {row['dataset_size']}{' (partial)' if row['partial'] else ''}"
        )
    lines += format_buckets(report)
    lines += ["", "Agentic categories need bfcl-eval's own harness (scripts/eval_bfcl.sh): not scored here."]
    for name, skipped in report["skipped"].items():
        lines.append(f"  skipped {skipped['count']} {name} record(s): {skipped['reason']}")
    counters = ("unreadable_lines", "records_without_id", "unknown_ids", "duplicate_ids")
    if any(report[counter] for counter in counters):
        lines.append("  " + ", ".join(f"{counter}: {report[counter]}" for counter in counters))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Score saved BFCL single- and multi-turn generations offline (the project's parser; bfcl-eval's "
        "AST checker, multi-turn checks replayed on the project's executor)."
    )
    parser.add_argument("generations", nargs="+", type=Path, help="bfcl result files/dirs or {id, response} JSONL")
    parser.add_argument("--categories", nargs="+", metavar="CATEGORY", help="only these categories (default: all)")
    parser.add_argument("--report", type=Path, help="write the full JSON report (with every failure) here")
    parser.add_argument(
        "--require-thinking", action="store_true", help="a response without a <think> block counts as malformed"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.categories or ()) - set(SCORED_CATEGORIES))
    if unknown:
        choices = ", ".join(SCORED_CATEGORIES)
        parser.error(f"not offline-scorable categories: {', '.join(unknown)} (choose from {choices})")
    try:
        report = score_files(args.generations, args.categories, args.require_thinking).as_dict()
    except (FileNotFoundError, ModuleNotFoundError, BFCLDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not report["categories"]:
        print("error: no scorable BFCL generation found", file=sys.stderr)
        print(format_report(report), file=sys.stderr)
        return 1
    print(format_report(report))
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
