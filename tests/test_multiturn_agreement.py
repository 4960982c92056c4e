"""The offline multi-turn scorer (and the multi-turn outcome reward, which runs the same checks) agrees with
bfcl-eval's own multi-turn checker on BFCL's 800 multi-turn entries.

Trajectories come from the shipped ground truth and systematic perturbations of it (tests/multiturn_cases.py: the
calls in one generation or one per generation, a dropped / changed / duplicated / reordered call, a turn without
calls, a call moved into the previous turn, acting in a turn that needs no call, an unknown function, a stop before
the last turn). Ours: each generation rendered as Hermes text, decoded and replayed by
:func:`awpo.eval.bfcl_multiturn.judge_record` (``python -m awpo.eval.bfcl``'s multi-turn path). Theirs: bfcl-eval's
``multi_turn_checker`` on the same calls as Python call strings (built as its ``convert_to_function_call`` builds
them), with its runner's forced-stop rule (fewer turns than the ground truth fail).

Measured: 8,247 of 8,247 verdicts agree (100%); 4,118 trajectories pass both checkers, 4,129 fail both.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from awpo.eval import bfcl
from awpo.eval.bfcl_data import load_possible_answers, load_questions
from awpo.eval.bfcl_multiturn import judge_record
from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from tests.bfcl_cases import calls_response
from tests.multiturn_cases import cases

MUST_FAIL = ("drop_last_call", "no_call_in_a_turn", "stops_early")
MUST_PASS = ("correct", "one_call_per_step", "unknown_function")
UNPLAYED = "turn 4: turn not played"


@pytest.fixture
def bfcl_checker() -> Iterator:
    """bfcl-eval's multi-turn checker; the instances it keeps in its executor's globals are removed after each use."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    before = set(vars(multi_turn_utils))

    def check(*arguments: object) -> bool:
        try:
            return bool(multi_turn_checker(*arguments)["valid"])
        finally:
            for name in set(vars(multi_turn_utils)) - before:
                del vars(multi_turn_utils)[name]

    return check


def call_string(call: dict) -> str:
    """bfcl-eval's ``convert_to_function_call`` for one decoded call (its module needs parsers not installed here)."""
    return f"{call['name']}({','.join(f'{key}={value!r}' for key, value in call['arguments'].items())})"


def test_offline_scorer_agrees_with_bfcl_evals_multi_turn_checker(bfcl_checker) -> None:
    entries, answers = {}, {}
    for category in MULTI_TURN:
        entries.update({entry["id"]: entry for entry in load_questions(category)})
        answers.update(load_possible_answers(category))
    verdicts: Counter = Counter()
    disagreements = []
    for number, case in enumerate(cases()):
        task_id = case.task.task_id
        record = {"id": task_id, "response": [[calls_response(step) for step in turn] for turn in case.trajectory]}
        ours = judge_record(case.task, record, require_thinking=True)
        assert ours.well_formed
        decoded = [[[call_string(call) for call in step] for step in turn] for turn in case.trajectory]
        truth = answers[task_id]
        theirs = len(decoded) == len(truth) and bfcl_checker(
            decoded, truth, entries[task_id], case.category, f"awpo_agreement_{number}"
        )
        verdicts[(case.kind, ours.valid, theirs)] += 1
        if ours.valid != theirs:
            disagreements.append((task_id, case.kind, ours.valid, theirs))
    total = sum(verdicts.values())
    agreement = 1 - len(disagreements) / total
    print(f"multi-turn agreement with bfcl-eval: {total - len(disagreements)} of {total} ({agreement:.4%})")
    assert total > 8_000
    assert agreement >= 0.99, disagreements[:20]
    assert not disagreements, disagreements[:20]
    for kind in MUST_FAIL:
        assert not any(verdicts[(kind, True, theirs)] for theirs in (True, False)), kind
    for kind in MUST_PASS:
        assert verdicts[(kind, True, True)] == 800, kind


def test_offline_scorer_command_scores_multi_turn_records(tmp_path, capsys) -> None:
    """``python -m awpo.eval.bfcl`` on both record shapes: the project's text steps, and bfcl-eval's result files whose
    steps are ``{function: JSON arguments}`` lists (API FC handlers)."""
    base, miss_func = load_bfcl_tasks("multi_turn_base")[0], load_bfcl_tasks("multi_turn_miss_func")[0]
    texts = {
        "id": base.task_id,
        "response": [[calls_response(list(calls)), "<think>\nDone.\n</think>\n\nDone."] for calls in base.ground_truth],
    }
    result_dir = tmp_path / "result" / "model" / "multi_turn"
    result_dir.mkdir(parents=True)
    decoded = [[[{call["name"]: json.dumps(call["arguments"])} for call in calls]] for calls in miss_func.ground_truth]
    (result_dir / "BFCL_v4_multi_turn_miss_func_result.json").write_text(
        json.dumps({"id": miss_func.task_id, "result": decoded[:-1]}) + "\n"  # stopped before the last turn
    )
    (tmp_path / "ours.jsonl").write_text(json.dumps(texts) + "\n")
    report_path = tmp_path / "report.json"
    assert bfcl.main([str(tmp_path / "ours.jsonl"), str(tmp_path / "result"), "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    rows = report["categories"]
    assert (rows["multi_turn_base"]["correct"], rows["multi_turn_base"]["strict_correct"]) == (1, 1)
    assert (rows["multi_turn_miss_func"]["scored"], rows["multi_turn_miss_func"]["correct"]) == (1, 0)
    assert report["failures"] == [
        {"id": miss_func.task_id, "category": "multi_turn_miss_func", "error": UNPLAYED},
    ]
    assert report["v3"]["multi_turn"]["missing"] == ["multi_turn_miss_param", "multi_turn_long_context"]
    assert "multi_turn_base" in capsys.readouterr().out
