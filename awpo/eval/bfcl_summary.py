"""BFCL scores per category → the BFCL v4 leaderboard summary and the BFCL v3 buckets that papers report.

    python -m awpo.eval.bfcl_summary SCORE_DIR [--model NAME] [--output summary.json]

``SCORE_DIR`` is ``$BFCL_PROJECT_ROOT/score`` after ``bfcl evaluate`` (one sub-directory per model) or one model's
directory in it. The per-category numbers are the first line of each ``BFCL_v4_<category>_score.json``
(``{"accuracy", "correct_count", "total_count"}``): the same numbers bfcl-eval's ``data_*.csv`` files are built from.

**BFCL v4** (bfcl-eval 2026.3.23, ``eval_checker/eval_runner_helper.py``, ``generate_leaderboard_csv``):

- Simple = mean(simple_python, simple_java, simple_javascript)
- Non-Live = mean(Simple, multiple, parallel, parallel_multiple)
- Live = the four live AST categories pooled, weighted by their sizes
- Irrelevance = mean(irrelevance, live_irrelevance); Relevance = live_relevance
- Multi-Turn = mean(multi_turn_base, multi_turn_miss_func, multi_turn_miss_param, multi_turn_long_context)
- Agentic = mean(mean(web_search_base, web_search_no_snippet), mean(memory_kv, memory_vector, memory_rec_sum))
- Overall = 10% Non-Live + 10% Live + 10% Irrelevance + 30% Multi-Turn + 40% Agentic

**BFCL v3** (the leaderboard the ToolRL / Tool-N1 / AWPO papers report; gorilla's
``berkeley-function-call-leaderboard/bfcl/eval_checker/eval_runner_helper.py`` before v4, after the executable
categories were retired in April 2025 (gorilla #943); NVIDIA NeMo-Skills' ``bfcl_v3/bfcl_score.py`` computes the
same). Columns as in v3's ``data_overall.csv``:

- Non-Live = mean(Simple, multiple, parallel, parallel_multiple)  (v3's "Non-Live AST Acc"; the same as v4)
- Live = all six live categories pooled, weighted by size: the four AST ones, live_irrelevance and live_relevance
  (v3's "Live Acc" — unlike v4, it includes live (ir)relevance)
- Multi-Turn, Relevance, Irrelevance: as in v4
- Overall = mean(Non-Live Overall, Live, Multi-Turn), where Non-Live Overall = mean(Simple, multiple, parallel,
  parallel_multiple, irrelevance). It is *not* the mean of the five columns.

The v3 numbers here are v3's formula applied to v4 data: BFCL fixed entries and answers since v3 (e.g.
live_relevance has 16 entries, not 18), so they are comparable with papers' v3 tables, not identical to a v3 run.

A bucket with a category that was not scored is reported as missing (``null``, with the missing categories named)
rather than counting that category as 0 the way bfcl-eval's CSV does; bfcl-eval's own ``data_overall.csv`` row is
printed beside the summary for reference when ``SCORE_DIR`` holds exactly one model.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

SIMPLE = ("simple_python", "simple_java", "simple_javascript")
NON_LIVE_AST = ("multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
IRRELEVANCE = ("irrelevance", "live_irrelevance")
RELEVANCE = "live_relevance"
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
WEB_SEARCH = ("web_search_base", "web_search_no_snippet")
MEMORY = ("memory_kv", "memory_vector", "memory_rec_sum")
SINGLE_TURN = (*SIMPLE, *NON_LIVE_AST, *LIVE_AST, *IRRELEVANCE, RELEVANCE)
SCORING_CATEGORIES = (*SINGLE_TURN, *MULTI_TURN, *WEB_SEARCH, *MEMORY)
V4_WEIGHTS = {"non_live": 10, "live": 10, "irrelevance": 10, "multi_turn": 30, "agentic": 40}
BUCKETS = ("overall", "non_live", "live", "multi_turn", "relevance", "irrelevance")
BUCKET_TITLES = {
    "overall": "Overall",
    "non_live": "Non-Live",
    "live": "Live",
    "multi_turn": "Multi-Turn",
    "relevance": "Relevance",
    "irrelevance": "Irrelevance",
    "agentic": "Agentic",
}
V4_FORMULA = "Overall = 10% Non-Live + 10% Live + 10% Irrelevance + 30% Multi-Turn + 40% Agentic"
V3_FORMULA = (
    "Overall = mean(Non-Live incl. irrelevance, Live, Multi-Turn); "
    "Live = size-weighted over the 4 live AST categories + live_irrelevance + live_relevance"
)
SCORE_FILE = re.compile(r"^BFCL_v4_(\w+?)_score\.json$")
GROUP_DIRS = frozenset({"non_live", "live", "multi_turn", "agentic", "format_sensitivity"})
CSV_COLUMNS = {
    "overall": "Overall Acc",
    "non_live": "Non-Live AST Acc",
    "live": "Live Acc",
    "multi_turn": "Multi Turn Acc",
    "relevance": "Relevance Detection",
    "irrelevance": "Irrelevance Detection",
}
CSV_TOLERANCE = 0.00006  # the CSV rounds percentages to two decimals


class SummaryError(RuntimeError):
    """The score directory cannot be summarised (no score files, unknown model, unreadable file)."""


class CategoryScore(NamedTuple):
    """One category's result: ``correct`` of ``total`` entries."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        """correct / total (0 for an empty category)."""
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class Aggregate:
    """A summary number, or None when categories it needs were not scored (named in ``missing``)."""

    value: float | None
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"value": self.value, "missing": list(self.missing)}


def _category(scores: Mapping[str, CategoryScore], name: str) -> Aggregate:
    score = scores.get(name)
    return Aggregate(None, (name,)) if score is None else Aggregate(score.accuracy)


def _missing(parts: Sequence[Aggregate]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for part in parts for name in part.missing))


def _weighted_mean(parts: Sequence[Aggregate], weights: Sequence[float]) -> Aggregate:
    missing = _missing(parts)
    if missing:
        return Aggregate(None, missing)
    return Aggregate(math.fsum(p.value * w for p, w in zip(parts, weights, strict=True)) / math.fsum(weights))


def _mean(parts: Sequence[Aggregate]) -> Aggregate:
    return _weighted_mean(parts, [1.0] * len(parts))


def _mean_of(scores: Mapping[str, CategoryScore], names: Sequence[str]) -> Aggregate:
    return _mean([_category(scores, name) for name in names])


def _pooled(scores: Mapping[str, CategoryScore], names: Sequence[str]) -> Aggregate:
    """Size-weighted accuracy over categories (bfcl's ``calculate_weighted_accuracy``)."""
    missing = tuple(name for name in names if name not in scores)
    if missing:
        return Aggregate(None, missing)
    total = sum(scores[name].total for name in names)
    return Aggregate(sum(scores[name].correct for name in names) / total if total else 0.0)


def v4_summary(scores: Mapping[str, CategoryScore]) -> dict[str, Aggregate]:
    """BFCL v4 leaderboard buckets (see the module docstring)."""
    simple = _mean_of(scores, SIMPLE)
    buckets = {
        "non_live": _mean([simple, *(_category(scores, name) for name in NON_LIVE_AST)]),
        "live": _pooled(scores, LIVE_AST),
        "irrelevance": _mean_of(scores, IRRELEVANCE),
        "multi_turn": _mean_of(scores, MULTI_TURN),
        "agentic": _mean([_mean_of(scores, WEB_SEARCH), _mean_of(scores, MEMORY)]),
        "relevance": _category(scores, RELEVANCE),
    }
    overall = _weighted_mean([buckets[name] for name in V4_WEIGHTS], list(V4_WEIGHTS.values()))
    return {"overall": overall, **buckets}


def v3_summary(scores: Mapping[str, CategoryScore]) -> dict[str, Aggregate]:
    """BFCL v3 leaderboard columns re-aggregated from v4 category scores (see the module docstring)."""
    simple = _mean_of(scores, SIMPLE)
    non_live_ast = [simple, *(_category(scores, name) for name in NON_LIVE_AST)]
    non_live_overall = _mean([*non_live_ast, _category(scores, "irrelevance")])
    live = _pooled(scores, (*LIVE_AST, "live_irrelevance", RELEVANCE))
    multi_turn = _mean_of(scores, MULTI_TURN)
    return {
        "overall": _mean([non_live_overall, live, multi_turn]),
        "non_live": _mean(non_live_ast),
        "live": live,
        "multi_turn": multi_turn,
        "relevance": _category(scores, RELEVANCE),
        "irrelevance": _mean_of(scores, IRRELEVANCE),
    }


def read_score_file(path: Path) -> CategoryScore:
    """The header line of a ``BFCL_v4_<category>_score.json`` file.

    Raises:
        SummaryError: the file does not start with a ``{"correct_count", "total_count"}`` JSON line.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            header = json.loads(handle.readline())
        return CategoryScore(int(header["correct_count"]), int(header["total_count"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SummaryError(f"{path}: not a bfcl score file ({type(error).__name__}: {error})") from None


def find_model_scores(score_dir: Path) -> dict[str, dict[str, CategoryScore]]:
    """Model directory name → category → score, from the ``BFCL_v4_<category>_score.json`` files of the scoring
    categories under ``score_dir`` (format_sensitivity, which bfcl-eval does not score, is left out).

    Raises:
        SummaryError: no score file at all.
    """
    models: dict[str, dict[str, CategoryScore]] = {}
    for path in sorted(score_dir.rglob("BFCL_v4_*_score.json")):
        match = SCORE_FILE.match(path.name)
        if match is None or match.group(1) not in SCORING_CATEGORIES:  # e.g. format_sensitivity: not scored
            continue
        parts = path.relative_to(score_dir).parts
        model = score_dir.name if len(parts) == 1 or parts[0] in GROUP_DIRS else parts[0]
        models.setdefault(model, {})[match.group(1)] = read_score_file(path)
    if not models:
        raise SummaryError(f"{score_dir}: no BFCL_v4_<category>_score.json files (run `bfcl evaluate` first)")
    return models


def read_overall_csv(score_dir: Path) -> dict[str, str] | None:
    """bfcl-eval's ``data_overall.csv`` row when the file holds exactly one model, else None."""
    path = score_dir / "data_overall.csv"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows[0] if len(rows) == 1 else None


def _parse_percent(text: str) -> float | None:
    try:
        return float(text.rstrip("%")) / 100
    except (AttributeError, ValueError):
        return None


def csv_mismatches(v4: Mapping[str, Aggregate], row: Mapping[str, str]) -> list[str]:
    """v4 buckets whose value disagrees with bfcl-eval's own CSV (complete buckets only)."""
    mismatches = []
    for bucket, column in CSV_COLUMNS.items():
        ours, theirs = v4[bucket].value, _parse_percent(row.get(column, ""))
        if ours is not None and theirs is not None and abs(ours - theirs) > CSV_TOLERANCE:
            mismatches.append(f"{column}: ours {ours:.4%}, bfcl {theirs:.2%}")
    return mismatches


def summarize(scores: Mapping[str, CategoryScore], csv_row: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON summary of one model's category scores."""
    v4 = v4_summary(scores)
    summary: dict[str, Any] = {
        "categories": {
            name: {"accuracy": score.accuracy, "correct": score.correct, "total": score.total}
            for name, score in sorted(scores.items())
        },
        "v4": {name: value.as_dict() for name, value in v4.items()},
        "v4_formula": V4_FORMULA,
        "v3": {name: value.as_dict() for name, value in v3_summary(scores).items()},
        "v3_formula": V3_FORMULA,
    }
    if csv_row is not None:
        summary["bfcl_csv"] = {column: csv_row.get(column) for column in CSV_COLUMNS.values()}
        summary["bfcl_csv_mismatches"] = csv_mismatches(v4, csv_row)
    return summary


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals; ``n/a`` for None."""
    return "n/a" if value is None else f"{value:.2%}"


def bucket_cell(aggregate: Mapping[str, Any]) -> str:
    """One bucket's value, or ``n/a`` naming the categories it lacks (:meth:`Aggregate.as_dict` form)."""
    if aggregate["value"] is not None:
        return percent(aggregate["value"])
    missing = aggregate["missing"]
    shown = ", ".join(missing[:3]) + (f" +{len(missing) - 3} more" if len(missing) > 3 else "")
    return f"n/a (not scored: {shown})"


def format_buckets(aggregates: Mapping[str, Any]) -> list[str]:
    """The BFCL v4 and v3 bucket tables, from anything with ``"v4"`` and ``"v3"`` maps of bucket → aggregate: a
    :func:`summarize` summary or the offline scorer's report."""
    lines = []
    for key, title, formula, buckets in (
        ("v4", "BFCL v4 (bfcl-eval 2026.3.23 leaderboard)", V4_FORMULA, (*BUCKETS, "agentic")),
        ("v3", "BFCL v3 buckets re-aggregated from v4 data (as papers report)", V3_FORMULA, BUCKETS),
    ):
        lines += ["", f"{title}: {formula}"]
        lines += [f"  {BUCKET_TITLES[name]:<14}{bucket_cell(aggregates[key][name])}" for name in buckets]
    return lines


def format_summary(model: str, summary: Mapping[str, Any]) -> str:
    """A plain-text table of the summary."""
    lines = [f"BFCL results: {model}", "", f"  {'category':<28}{'accuracy':>10}  correct/total"]
    for name, score in summary["categories"].items():
        lines.append(f"  {name:<28}{percent(score['accuracy']):>10}  {score['correct']}/{score['total']}")
    lines += format_buckets(summary)
    if "bfcl_csv" in summary:
        cells = ", ".join(f"{column} {value}" for column, value in summary["bfcl_csv"].items())
        lines += ["", f"bfcl-eval data_overall.csv (v4; unscored categories count as 0): {cells}"]
        lines += [f"  WARNING: differs from the recomputation: {item}" for item in summary["bfcl_csv_mismatches"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Summarise bfcl-eval score files: BFCL v4 leaderboard buckets and the v3 buckets papers report."
    )
    parser.add_argument("score_dir", type=Path, help="$BFCL_PROJECT_ROOT/score, or one model's directory in it")
    parser.add_argument("--model", help="model to summarise (registry name or its directory name; default: all)")
    parser.add_argument(
        "--output", type=Path, help="write the JSON summary here (default: SCORE_DIR/awpo_summary.json)"
    )
    args = parser.parse_args(argv)
    try:
        models = find_model_scores(args.score_dir)
        if args.model is not None:
            wanted = args.model.replace("/", "_")
            if wanted not in models:
                raise SummaryError(
                    f"no scores for model {args.model!r} in {args.score_dir}; found: {', '.join(models)}"
                )
            models = {wanted: models[wanted]}
    except SummaryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    csv_row = read_overall_csv(args.score_dir) if len(models) == 1 else None
    summaries = {model: summarize(scores, csv_row) for model, scores in models.items()}
    print("\n\n".join(format_summary(model, summary) for model, summary in summaries.items()))
    output = args.output or args.score_dir / "awpo_summary.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summaries, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
