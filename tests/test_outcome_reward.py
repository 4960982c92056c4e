"""The outcome reward: one test per rule, the matching algorithms, options, bad ground truth, and fuzzing."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awpo.rewards.matching import has_perfect_matching, max_weight_assignment
from awpo.rewards.outcome import GroundTruthError
from awpo.rewards.score import compute_score
from awpo.rewards.values import acceptable_value, normalize_string, typed_equal
from awpo.tools import ToolsError

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "default": "celsius"},
                "precise": {"type": "boolean"},
                "lat": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "filters": {
                    "type": "object",
                    "properties": {"max_temp": {"type": "number"}, "alerts": {"type": "boolean"}},
                },
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
    },
}
TOOLS = json.dumps([WEATHER, TIME])


def response(*calls: dict, think: str = "reasoning") -> str:
    blocks = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)
    return f"<think>{think}</think>\n\n{blocks}"


def call(name: str, **arguments: object) -> dict:
    return {"name": name, "arguments": arguments}


def score(
    resp: str, gold_calls: list[dict], mode: str = "fine", acceptable: list | None = None, **options: object
) -> dict:
    ground_truth = {"calls": gold_calls}
    if acceptable is not None:
        ground_truth["acceptable"] = acceptable
    return compute_score("test", resp, json.dumps(ground_truth), {"tools": TOOLS}, outcome=mode, **options)


GOLD = [call("get_weather", city="Sydney", days=3)]


# ----------------------------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------------------------


def test_exact_answer_scores_one_in_both_modes() -> None:
    for mode in ("fine", "binary"):
        result = score(response(call("get_weather", city="Sydney", days=3)), GOLD, mode)
        assert result == {
            "score": 1.0,
            "outcome": 1.0,
            "format": 1.0,
            "exact_match": 1.0,
            "correct_name": 1.0,
            "n_pred_calls": 1.0,
            "n_gold_calls": 1.0,
        }


def test_integer_argument_must_be_an_integer() -> None:
    assert score(response(call("get_weather", city="Sydney", days="3")), GOLD, "binary")["score"] == 0.0
    assert score(response(call("get_weather", city="Sydney", days=3.0)), GOLD, "binary")["score"] == 0.0
    assert score(response(call("get_weather", city="Sydney", days=True)), GOLD, "binary")["score"] == 0.0
    # fine: name 1 + keys 2/2 + values 1/2 → (1 + 1 + 0.5) / 3
    assert score(response(call("get_weather", city="Sydney", days="3")), GOLD)["score"] == pytest.approx(2.5 / 3)


def test_int_is_accepted_where_a_number_is_expected_but_not_a_bool() -> None:
    gold = [call("get_weather", city="Sydney", lat=34.0)]
    assert score(response(call("get_weather", city="Sydney", lat=34)), gold, "binary")["score"] == 1.0
    gold = [call("get_weather", city="Sydney", lat=1)]
    assert score(response(call("get_weather", city="Sydney", lat=True)), gold, "binary")["score"] == 0.0


def test_boolean_must_be_a_boolean() -> None:
    gold = [call("get_weather", city="Sydney", precise=True)]
    assert score(response(call("get_weather", city="Sydney", precise=1)), gold, "binary")["score"] == 0.0
    assert score(response(call("get_weather", city="Sydney", precise="true")), gold, "binary")["score"] == 0.0


def test_string_normalisation_and_exact_mode() -> None:
    gold = [call("get_weather", city="New York, NY")]
    variant = response(call("get_weather", city="new-york ny"))
    assert score(variant, gold, "binary")["score"] == 1.0
    assert score(variant, gold, "binary", string_match="exact")["score"] == 0.0
    assert normalize_string("It's A-b_c.d/e*f^g, h") == 'it"sabcdefgh'


def test_arrays_compare_element_wise_in_order() -> None:
    gold = [call("get_weather", city="Sydney", tags=["rain", "Wind"])]
    assert score(response(call("get_weather", city="Sydney", tags=["Rain", "wind"])), gold, "binary")["score"] == 1.0
    assert score(response(call("get_weather", city="Sydney", tags=["wind", "rain"])), gold, "binary")["score"] == 0.0
    assert score(response(call("get_weather", city="Sydney", tags=["rain"])), gold, "binary")["score"] == 0.0


def test_objects_compare_recursively_with_their_property_schemas() -> None:
    gold = [call("get_weather", city="Sydney", filters={"max_temp": 30.5, "alerts": False})]
    good = call("get_weather", city="Sydney", filters={"alerts": False, "max_temp": 30.5})
    assert score(response(good), gold, "binary")["score"] == 1.0
    wrong_type = call("get_weather", city="Sydney", filters={"alerts": 0, "max_temp": 30.5})
    assert score(response(wrong_type), gold, "binary")["score"] == 0.0
    extra_key = call("get_weather", city="Sydney", filters={"alerts": False, "max_temp": 30.5, "x": 1})
    assert score(response(extra_key), gold, "binary")["score"] == 0.0


def test_calls_match_in_any_order() -> None:
    gold = [
        call("get_weather", city="Sydney"),
        call("get_time", tz="Australia/Sydney"),
        call("get_weather", city="Paris"),
    ]
    shuffled = response(
        call("get_weather", city="Paris"), call("get_time", tz="Australia/Sydney"), call("get_weather", city="Sydney")
    )
    assert score(shuffled, gold, "binary")["score"] == 1.0
    assert score(shuffled, gold, "fine")["score"] == 1.0


def test_optimal_assignment_not_greedy() -> None:
    """The first prediction fits both golds partially; a greedy pairing would lose the exact pair."""
    gold = [call("get_weather", city="Paris", days=1), call("get_weather", city="Sydney", days=2)]
    pred = response(call("get_weather", city="Paris", days=2), call("get_weather", city="Paris", days=1))
    # optimal: pred[1]↔gold[0] exact (1.0) and pred[0]↔gold[1] with one wrong value (2.5/3)
    assert score(pred, gold)["score"] == pytest.approx((1.0 + 2.5 / 3) / 2)


def test_extra_and_missing_calls_cost_in_fine_mode() -> None:
    one = call("get_weather", city="Sydney", days=3)
    extra = score(response(one, call("get_time", tz="UTC")), GOLD)
    assert extra["score"] == pytest.approx(0.5) and extra["exact_match"] == 0.0 and extra["correct_name"] == 0.0
    gold = [one, call("get_time", tz="UTC")]
    assert score(response(one), gold)["score"] == pytest.approx(0.5)
    assert score(response(one), gold, "binary")["score"] == 0.0


def test_wrong_name_scores_zero() -> None:
    result = score(response(call("get_time", city="Sydney", days=3)), GOLD)
    assert result["score"] == 0.0 and result["correct_name"] == 0.0


def test_unknown_and_missing_arguments() -> None:
    unknown = score(response(call("get_weather", city="Sydney", days=3, colour="red")), GOLD)
    assert unknown["score"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    missing = score(response(call("get_weather", city="Sydney")), GOLD)
    assert missing["score"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert score(response(call("get_weather", city="Sydney")), GOLD, "binary")["score"] == 0.0


def test_optional_argument_equal_to_its_default_counts_as_omitted() -> None:
    with_default = response(call("get_weather", city="Sydney", days=3, unit="celsius"))
    assert score(with_default, GOLD, "binary")["score"] == 1.0
    other_unit = response(call("get_weather", city="Sydney", days=3, unit="fahrenheit"))
    assert score(other_unit, GOLD, "binary")["score"] == 0.0


def test_no_call_ground_truth() -> None:
    assert score("<think>No tool can book a flight.</think>\nI can't do that.", [])["score"] == 1.0
    assert score(response(call("get_time", tz="UTC")), [])["score"] == 0.0
    assert score("I can't do that.", [])["score"] == 0.0  # thinking required by default
    assert score("I can't do that.", [], require_thinking=False)["score"] == 1.0


def test_invalid_format_scores_zero() -> None:
    text_before_call = response(call("get_weather", city="Sydney", days=3)).replace("</think>\n\n", "</think>Sure! ")
    result = score(text_before_call, GOLD)
    assert result["score"] == 0.0 and result["format"] == 0.0 and result["n_pred_calls"] == 1.0


def test_bfcl_acceptable_values_govern_matching() -> None:
    gold = [call("get_weather", city="Sydney")]
    acceptable = [{"name": "get_weather", "arguments": {"city": ["Sydney", "Sydney, NSW"], "unit": ["celsius", ""]}}]
    assert score(response(call("get_weather", city="sydney nsw")), gold, "binary", acceptable)["score"] == 1.0
    assert (
        score(response(call("get_weather", city="Sydney", unit="celsius")), gold, "binary", acceptable)["score"] == 1.0
    )
    assert (
        score(response(call("get_weather", city="Sydney", unit="kelvin")), gold, "binary", acceptable)["score"] == 0.0
    )
    assert score(response(call("get_weather", city="Sydney", days=3)), gold, "binary", acceptable)["score"] == 0.0


def test_acceptable_nested_dicts_follow_bfcl() -> None:
    schema = {"type": "object", "properties": {"max_temp": {"type": "number"}, "alerts": {"type": "boolean"}}}
    candidates = [{"max_temp": [30, 30.5], "alerts": [False, ""]}]
    assert acceptable_value({"max_temp": 30.5}, candidates, schema, exact=False)
    assert acceptable_value({"max_temp": 30, "alerts": False}, candidates, schema, exact=False)
    assert not acceptable_value({"max_temp": 31}, candidates, schema, exact=False)
    assert not acceptable_value({"alerts": False}, candidates, schema, exact=False)
    assert not acceptable_value({"max_temp": 30, "other": 1}, candidates, schema, exact=False)


def test_ground_truth_authoritative_when_it_contradicts_its_schema() -> None:
    """BFCL's "variable" answers (a string for an array argument) are matched as given."""
    schema = {"type": "array", "items": {"type": "number"}}
    assert typed_equal("data['x']", "data['x']", schema, exact=False)
    assert not typed_equal([1.0], "data['x']", schema, exact=False)
    assert acceptable_value("data['x']", ["data['x']"], schema, exact=False)


# ----------------------------------------------------------------------------------------------------------------
# Options and bad input
# ----------------------------------------------------------------------------------------------------------------


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="outcome: unknown value 'strict'"):
        score(response(), GOLD, mode="strict")
    with pytest.raises(ValueError, match="string_match: unknown value 'fuzzy'"):
        score(response(), GOLD, string_match="fuzzy")
    with pytest.raises(ValueError, match="require_thinking: expected true or false"):
        score(response(), GOLD, require_thinking="yes")
    with pytest.raises(ValueError, match=r"^reward\.custom_reward_function\.reward_kwargs\.binary: unknown key"):
        compute_score("x", response(), json.dumps({"calls": []}), binary=True)
    with pytest.raises(ValueError, match=r"reward_kwargs\.outcome: expected a string, got \['fine'\]"):
        compute_score("x", response(), json.dumps({"calls": []}), outcome=["fine"])


def test_verl_reward_kwargs_are_accepted() -> None:
    result = compute_score(
        "x", response(), json.dumps({"calls": []}), reward_router_address="127.0.0.1:1", reward_model_tokenizer=None
    )
    assert result["format"] == 0.0


@pytest.mark.parametrize(
    ("ground_truth", "message"),
    [
        ("not json", "ground truth is not valid JSON"),
        ('[{"name": "f"}]', "must be an object with a 'calls' list"),
        ('{"calls": [{"name": "f"}]}', "ground truth call 0 must be"),
        ('{"calls": [], "acceptable": [{}]}', "'acceptable' must be a list parallel to 'calls'"),
        (
            '{"calls": [{"name": "f", "arguments": {}}], "acceptable": [{"name": "g", "arguments": {}}]}',
            "acceptable[0]",
        ),
    ],
)
def test_malformed_ground_truth_is_a_clear_error(ground_truth: str, message: str) -> None:
    with pytest.raises(GroundTruthError, match=message.replace("[", r"\[").replace("]", r"\]")):
        compute_score("x", response(), ground_truth)


def test_malformed_tools_are_a_clear_error() -> None:
    with pytest.raises(ToolsError, match=r"extra_info\['tools'\] is not valid JSON"):
        compute_score("x", response(), json.dumps({"calls": []}), {"tools": "{oops"})
    with pytest.raises(ToolsError, match=r"extra_info\['tools'\] must be a JSON string"):
        compute_score("x", response(), json.dumps({"calls": []}), {"tools": [WEATHER]})


# ----------------------------------------------------------------------------------------------------------------
# Matching algorithms and fuzzing
# ----------------------------------------------------------------------------------------------------------------


def brute_force_assignment(weights: list[list[float]]) -> float:
    rows, columns = len(weights), len(weights[0]) if weights else 0
    best = 0.0
    for size in range(min(rows, columns) + 1):
        for chosen_rows in itertools.combinations(range(rows), size):
            for chosen_columns in itertools.permutations(range(columns), size):
                best = max(best, sum(weights[r][c] for r, c in zip(chosen_rows, chosen_columns, strict=True)))
    return best


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda rows: st.integers(1, 5).flatmap(
            lambda columns: st.lists(
                st.lists(st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.9, 1.0]), min_size=columns, max_size=columns),
                min_size=rows,
                max_size=rows,
            )
        )
    )
)
def test_assignment_is_optimal(weights: list[list[float]]) -> None:
    assert max_weight_assignment(weights) == pytest.approx(brute_force_assignment(weights))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=n, max_size=n)
    )
)
def test_perfect_matching(compatible: list[list[bool]]) -> None:
    n = len(compatible)
    expected = any(all(compatible[r][c] for r, c in enumerate(perm)) for perm in itertools.permutations(range(n)))
    assert has_perfect_matching(compatible) == expected


FRAGMENTS = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<tool_call>",
        "</tool_call>",
        json.dumps(call("get_weather", city="Sydney", days=3)),
        json.dumps(call("get_weather", city="sydney", days="3")),
        json.dumps(call("get_time", tz="UTC")),
        json.dumps(call("get_weather", city=["x"], filters={"max_temp": "hot"})),
        "{",
        "\n",
        "reason",
        "\ud800",
    ]
)
gold_strategy = st.lists(
    st.sampled_from(
        [call("get_weather", city="Sydney", days=3), call("get_time", tz="UTC"), call("get_weather", city="Paris")]
    ),
    max_size=3,
)


@settings(max_examples=2000, deadline=None)
@given(
    text=st.one_of(st.text(), st.lists(FRAGMENTS, max_size=12).map("".join)),
    gold=gold_strategy,
    mode=st.sampled_from(["fine", "binary"]),
    string_match=st.sampled_from(["normalized", "exact"]),
    require=st.booleans(),
)
def test_reward_never_raises_is_finite_and_in_range(
    text: str, gold: list, mode: str, string_match: str, require: bool
) -> None:
    result = score(text, gold, mode, string_match=string_match, require_thinking=require)
    assert set(result) == {"score", "outcome", "format", "exact_match", "correct_name", "n_pred_calls", "n_gold_calls"}
    assert all(math.isfinite(value) for value in result.values())
    for key in ("score", "outcome", "format", "exact_match", "correct_name"):
        assert 0.0 <= result[key] <= 1.0
    if mode == "binary":
        assert result["score"] in (0.0, 1.0)
    assert result["exact_match"] <= result["score"] or mode == "fine"
