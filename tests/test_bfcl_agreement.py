"""The binary outcome reward agrees with bfcl-eval's own AST checker on BFCL's single-turn categories.

Responses are built from BFCL's shipped possible answers (tests/bfcl_cases.py): the correct answer and systematic
perturbations (wrong value, wrong type, missing required argument, unknown argument, extra call, wrong name,
missing call, swapped order of parallel calls). bfcl-eval is installed with --no-deps; its checker is loaded without
its SDK dependencies (awpo.eval.bfcl_checker).

Measured: 17,036 of 17,037 verdicts agree (99.994%). The one disagreement, and why:
- parallel_178 / swapped_order — the response is a permutation of the correct calls, so it is right; bfcl-eval pairs
  parallel calls greedily (each gold takes the first prediction that validates) and the greedy choice strands a
  later gold, while the reward pairs calls by an optimal assignment.
18 entries are rejected by both even with the "correct" answer: BFCL data defects (e.g. live_simple_106-63-0 lists
no acceptable value for a required argument; live_multiple_862-181-3 requires an argument its schema lacks).
"""

from __future__ import annotations

from collections import Counter

from awpo.eval.bfcl_checker import CHECKER_MODEL_NAME, checker_language, load_ast_checker
from awpo.rewards.score import compute_score
from tests.bfcl_cases import cases

EXPLAINED_DISAGREEMENTS = {("parallel_178", "swapped_order"): "bfcl-eval's greedy parallel matching"}


def test_binary_reward_agrees_with_bfcl_ast_checker() -> None:
    checker = load_ast_checker()
    verdicts: Counter = Counter()
    disagreements = {}
    for case in cases():
        ours = (
            compute_score("bfcl", case.response(), case.ground_truth(), {"tools": case.tools()}, outcome="binary")[
                "score"
            ]
            == 1.0
        )
        theirs = checker(
            case.functions,
            case.checker_output(),
            case.possible_answer,
            checker_language(case.category),
            case.category,
            CHECKER_MODEL_NAME,
        )["valid"]
        verdicts[(case.kind, ours, theirs)] += 1
        if ours != theirs:
            disagreements[(case.entry_id, case.kind)] = (ours, theirs)
    total = sum(verdicts.values())
    agreement = 1 - len(disagreements) / total
    assert total > 15_000
    assert agreement >= 0.99, f"agreement {agreement:.4%}; disagreements: {sorted(disagreements)[:20]}"
    assert set(disagreements) <= set(EXPLAINED_DISAGREEMENTS), sorted(set(disagreements) - set(EXPLAINED_DISAGREEMENTS))
    for kind in ("wrong_value", "wrong_type", "missing_required", "unknown_argument", "extra_call", "wrong_name"):
        assert verdicts[(kind, True, True)] == 0, f"a {kind} perturbation passed both checkers"
    assert verdicts[("correct", True, True)] > 2_300
