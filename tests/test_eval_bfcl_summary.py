"""BFCL v4 summary and v3 re-aggregation (awpo.eval.bfcl_summary) on a fixed score table, by hand-computed numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awpo.eval import bfcl_summary
from awpo.eval.bfcl_summary import CategoryScore, summarize, v3_summary, v4_summary

# (correct, total) per category; the accuracies are round numbers so the expected values can be worked by hand.
TABLE = {
    "simple_python": (300, 400),  # 0.75
    "simple_java": (60, 100),  # 0.60
    "simple_javascript": (30, 50),  # 0.60
    "multiple": (180, 200),  # 0.90
    "parallel": (160, 200),  # 0.80
    "parallel_multiple": (140, 200),  # 0.70
    "live_simple": (200, 250),
    "live_multiple": (600, 1000),
    "live_parallel": (10, 16),
    "live_parallel_multiple": (12, 24),
    "irrelevance": (216, 240),  # 0.90
    "live_irrelevance": (700, 875),  # 0.80
    "live_relevance": (12, 16),  # 0.75
    "multi_turn_base": (100, 200),  # 0.5
    "multi_turn_miss_func": (60, 200),  # 0.3
    "multi_turn_miss_param": (80, 200),  # 0.4
    "multi_turn_long_context": (40, 200),  # 0.2
    "web_search_base": (30, 100),  # 0.3
    "web_search_no_snippet": (20, 100),  # 0.2
    "memory_kv": (40, 100),  # 0.4
    "memory_vector": (30, 100),  # 0.3
    "memory_rec_sum": (20, 100),  # 0.2
}
SCORES = {name: CategoryScore(*counts) for name, counts in TABLE.items()}

SIMPLE = (0.75 + 0.60 + 0.60) / 3  # 0.65
NON_LIVE = (SIMPLE + 0.90 + 0.80 + 0.70) / 4  # 0.7625
LIVE_V4 = (200 + 600 + 10 + 12) / (250 + 1000 + 16 + 24)  # 822 / 1290, size-weighted
IRRELEVANCE = (0.90 + 0.80) / 2  # 0.85
MULTI_TURN = (0.5 + 0.3 + 0.4 + 0.2) / 4  # 0.35
AGENTIC = ((0.3 + 0.2) / 2 + (0.4 + 0.3 + 0.2) / 3) / 2  # mean(0.25, 0.30) = 0.275
OVERALL_V4 = 0.1 * NON_LIVE + 0.1 * LIVE_V4 + 0.1 * IRRELEVANCE + 0.3 * MULTI_TURN + 0.4 * AGENTIC  # ≈ 0.43997
LIVE_V3 = (822 + 700 + 12) / (1290 + 875 + 16)  # live AST + live_irrelevance + live_relevance, size-weighted
NON_LIVE_OVERALL_V3 = (SIMPLE + 0.90 + 0.80 + 0.70 + 0.90) / 5  # 0.79: the AST buckets and irrelevance
OVERALL_V3 = (NON_LIVE_OVERALL_V3 + LIVE_V3 + MULTI_TURN) / 3  # ≈ 0.614449


def values(summary: dict) -> dict:
    return {name: aggregate.value for name, aggregate in summary.items()}


def test_v4_buckets_and_overall_on_the_fixed_table() -> None:
    assert pytest.approx(0.4399709, abs=1e-7) == OVERALL_V4  # the hand computation itself
    assert values(v4_summary(SCORES)) == pytest.approx(
        {
            "overall": OVERALL_V4,
            "non_live": 0.7625,
            "live": 822 / 1290,
            "irrelevance": 0.85,
            "multi_turn": 0.35,
            "agentic": 0.275,
            "relevance": 0.75,
        }
    )


def test_v3_buckets_and_overall_on_the_fixed_table() -> None:
    assert pytest.approx(0.6144490, abs=1e-7) == OVERALL_V3
    expected = {
        "overall": OVERALL_V3,
        "non_live": 0.7625,
        "live": 1534 / 2181,
        "multi_turn": 0.35,
        "relevance": 0.75,
        "irrelevance": 0.85,
    }
    assert values(v3_summary(SCORES)) == pytest.approx(expected)
    # v3's Overall is not the mean of the five columns (a common misreading)
    assert pytest.approx((0.7625 + 1534 / 2181 + 0.35 + 0.75 + 0.85) / 5) != OVERALL_V3


def test_buckets_with_unscored_categories_are_missing_not_zero() -> None:
    single_turn = {
        name: score for name, score in SCORES.items() if not name.startswith(("multi_turn", "web", "memory"))
    }
    v4, v3 = v4_summary(single_turn), v3_summary(single_turn)
    assert v4["non_live"].value == pytest.approx(0.7625) and v3["live"].value == pytest.approx(1534 / 2181)
    assert v4["overall"].value is None and v3["overall"].value is None
    assert v4["agentic"].missing == (
        "web_search_base",
        "web_search_no_snippet",
        "memory_kv",
        "memory_vector",
        "memory_rec_sum",
    )
    assert set(v4["overall"].missing) == {*bfcl_summary.MULTI_TURN, *bfcl_summary.WEB_SEARCH, *bfcl_summary.MEMORY}
    assert v3["overall"].missing == bfcl_summary.MULTI_TURN
    no_java = {name: score for name, score in single_turn.items() if name != "simple_java"}
    assert v4_summary(no_java)["non_live"].missing == ("simple_java",)


def write_score_dir(root: Path, model_dir: str = "Qwen_Qwen3-8B-FC", table: dict = TABLE) -> Path:
    """A bfcl-eval score directory: score/<model>/<group>/BFCL_v4_<category>_score.json (header + a failure)."""
    score = root / "score"
    for name, (correct, total) in table.items():
        group = (
            "agentic"
            if name.startswith(("web", "memory"))
            else "multi_turn"
            if "multi_turn" in name
            else ("live" if name.startswith("live") else "non_live")
        )
        path = score / model_dir / group / f"BFCL_v4_{name}_score.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"accuracy": correct / total, "correct_count": correct, "total_count": total}
        path.write_text(json.dumps(header) + "\n" + json.dumps({"id": f"{name}_0", "valid": False}) + "\n")
    return score


def write_overall_csv(score: Path, overall: str = "44.00%", live: str = "63.72%") -> None:
    columns = ["Rank", "Overall Acc", "Model", "Non-Live AST Acc", "Live Acc", "Multi Turn Acc"]
    columns += ["Relevance Detection", "Irrelevance Detection"]
    row = ["1", overall, "Qwen3-8B (FC)", "76.25%", live, "35.00%", "75.00%", "85.00%"]
    (score / "data_overall.csv").write_text(",".join(columns) + "\n" + ",".join(row))


def test_cli_reads_bfcl_score_files_and_checks_against_bfcls_csv(tmp_path: Path, capsys) -> None:
    score = write_score_dir(tmp_path)
    write_overall_csv(score)
    assert bfcl_summary.main([str(score), "--model", "Qwen/Qwen3-8B-FC", "--output", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "BFCL v4 (bfcl-eval 2026.3.23 leaderboard): Overall = 10% Non-Live" in out
    assert "BFCL v3 buckets re-aggregated from v4 data (as papers report)" in out
    assert f"Overall       {OVERALL_V3:.2%}" in out and f"Overall       {OVERALL_V4:.2%}" in out
    assert "bfcl-eval data_overall.csv" in out and "WARNING" not in out
    summary = json.loads((tmp_path / "s.json").read_text())["Qwen_Qwen3-8B-FC"]
    assert summary["v3"]["overall"]["value"] == pytest.approx(OVERALL_V3)
    assert summary["categories"]["live_relevance"] == {"accuracy": 0.75, "correct": 12, "total": 16}
    assert summary["bfcl_csv_mismatches"] == []

    write_overall_csv(score, live="50.00%")
    assert bfcl_summary.main([str(score), "--output", str(tmp_path / "s2.json")]) == 0
    assert "WARNING: differs from the recomputation: Live Acc" in capsys.readouterr().out


def test_cli_on_one_models_directory_and_errors(tmp_path: Path, capsys) -> None:
    score = write_score_dir(tmp_path, table={"simple_python": (1, 2)})
    unscored = score / "Qwen_Qwen3-8B-FC" / "format_sensitivity" / "BFCL_v4_format_sensitivity_score.json"
    unscored.parent.mkdir()
    unscored.write_text(json.dumps({"accuracy_max_delta": 0.1}) + "\n")  # not a scoring category: left out
    assert bfcl_summary.main([str(score / "Qwen_Qwen3-8B-FC")]) == 0
    out = capsys.readouterr().out
    assert "simple_python                   50.00%  1/2" in out and "n/a (not scored: simple_java" in out
    assert (score / "Qwen_Qwen3-8B-FC" / "awpo_summary.json").is_file()
    assert bfcl_summary.main([str(score), "--model", "other-model"]) == 2
    assert "no scores for model 'other-model'" in capsys.readouterr().err
    assert bfcl_summary.main([str(tmp_path / "empty")]) == 2
    assert "run `bfcl evaluate` first" in capsys.readouterr().err
    (score / "Qwen_Qwen3-8B-FC" / "non_live" / "BFCL_v4_multiple_score.json").write_text("not json\n")
    assert bfcl_summary.main([str(score)]) == 2
    assert "not a bfcl score file" in capsys.readouterr().err


def test_summarize_without_a_csv_has_no_csv_fields() -> None:
    summary = summarize(SCORES)
    assert "bfcl_csv" not in summary and summary["v4"]["overall"]["value"] == pytest.approx(OVERALL_V4)
