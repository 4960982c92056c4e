"""The response parser: the format rules, and robustness on any string (fuzzed and adversarial)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awpo.rewards.parser import MAX_TOOL_CALLS, ParsedResponse, ToolCall, parse_response

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Sydney"}}\n</tool_call>'


def test_reasoning_and_calls() -> None:
    parsed = parse_response(f"<think>\nNeed weather.\n</think>\n\n{CALL}\n{CALL.replace('Sydney', 'Paris')}")
    assert parsed == ParsedResponse(
        reasoning="Need weather.",
        calls=(ToolCall("get_weather", {"city": "Sydney"}), ToolCall("get_weather", {"city": "Paris"})),
        answer="",
        format_ok=True,
        format_error=None,
    )


def test_plain_answer_without_calls() -> None:
    parsed = parse_response("<think>No tool fits.</think>\n\nI cannot book flights, sorry.")
    assert parsed.format_ok and parsed.calls == () and parsed.answer == "I cannot book flights, sorry."


def test_opening_think_supplied_by_the_chat_template() -> None:
    parsed = parse_response(f"The user wants weather.\n</think>\n\n{CALL}")
    assert parsed.format_ok and parsed.reasoning == "The user wants weather." and len(parsed.calls) == 1


def test_thinking_optional() -> None:
    assert not parse_response(CALL).format_ok
    assert parse_response(CALL).format_error == "missing <think> block"
    parsed = parse_response(CALL, require_thinking=False)
    assert parsed.format_ok and parsed.reasoning is None


def test_empty_think_block_is_well_formed_but_has_no_reasoning() -> None:
    parsed = parse_response(f"<think>\n\n</think>\n\n{CALL}")
    assert parsed.format_ok and parsed.reasoning == ""


def test_tool_call_inside_reasoning_is_reasoning() -> None:
    parsed = parse_response(f"<think>I could emit {CALL} but no.</think>\nNo call needed.")
    assert parsed.format_ok and parsed.calls == () and CALL in parsed.reasoning


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (f"<think>x{CALL}", "unterminated <think> block"),
        (f"hello <think>x</think>{CALL}", "text before <think>"),
        (f"<think>a<think>b</think>{CALL}", "nested <think>"),
        (f"<think>a</think><think>b</think>{CALL}", "more than one think block"),
        (f"<think>a</think>Sure! {CALL}", "text outside <tool_call> blocks"),
        (f"<think>a</think>{CALL} Done.", "text outside <tool_call> blocks"),
        ("<think>a</think><tool_call>{'name': 'f'}</tool_call>", "tool call 0: body is not valid JSON"),
        ("<think>a</think><tool_call>[1, 2]</tool_call>", "tool call 0: body is not a JSON object"),
        ('<think>a</think><tool_call>{"arguments": {}}</tool_call>', "tool call 0: 'name' is not a non-empty string"),
        ('<think>a</think><tool_call>{"name": "f", "arguments": "{}"}</tool_call>', "tool call 0: 'arguments' is not"),
        ('<think>a</think><tool_call>{"name": "f"}</tool_call>', "tool call 0: 'arguments' is not a JSON object"),
        ('<think>a</think><tool_call>{"name": "f", "arguments": {}}', "unterminated <tool_call>"),
        ("<think>a</think>answer </tool_call>", "stray </tool_call>"),
        ('<think>a</think><tool_call><tool_call>{"name": "f", "arguments": {}}</tool_call>', "tool call 0: nested"),
        ("<think>a</think>   ", "no tool call and no answer"),
        ("", "missing <think> block"),
    ],
)
def test_format_errors_give_the_reason(response: str, error: str) -> None:
    parsed = parse_response(response)
    assert not parsed.format_ok
    assert parsed.format_error.startswith(error)


def test_calls_parsed_before_an_error_are_kept() -> None:
    parsed = parse_response(f"<think>a</think>{CALL}<tool_call>oops</tool_call>")
    assert not parsed.format_ok and parsed.calls == (ToolCall("get_weather", {"city": "Sydney"}),)


def test_argument_nesting_is_bounded() -> None:
    arguments = "1"
    for _ in range(40):
        arguments = f'{{"k": {arguments}}}'
    parsed = parse_response(f'<think>a</think><tool_call>{{"name": "f", "arguments": {arguments}}}</tool_call>')
    assert parsed.format_error == "tool call 0: arguments nested deeper than 32 levels"


def test_non_string_input_is_a_format_error() -> None:
    assert parse_response(None).format_error == "response is NoneType, not str"  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------
# Robustness
# ----------------------------------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<tool_call>",
        "</tool_call>",
        '{"name": "f", "arguments": {"a": 1}}',
        '{"name": "g", "arguments": {"b": [1, {"c": null}]}}',
        '{"name": 3}',
        "{",
        "}",
        "[",
        '"',
        "\n",
        " ",
        "\ud800",
        "text",
        "\x00",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(text=st.one_of(st.text(), st.lists(FRAGMENTS, max_size=40).map("".join)), require=st.booleans())
def test_never_raises_and_is_consistent(text: str, require: bool) -> None:
    parsed = parse_response(text, require_thinking=require)
    assert parsed.format_ok == (parsed.format_error is None)
    assert len(parsed.calls) <= MAX_TOOL_CALLS
    if parsed.format_ok:
        assert parsed.calls or parsed.answer
        assert all(isinstance(call.name, str) and isinstance(call.arguments, dict) for call in parsed.calls)
        if require:
            assert parsed.reasoning is not None


# Like vLLM's and verl's hermes parsers, the format cannot carry its own markup tags inside JSON strings: generate
# text without "<" so no tag can appear.
plain_text = st.text(alphabet=st.characters(blacklist_characters="<"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | plain_text,
    lambda children: st.lists(children) | st.dictionaries(plain_text, children),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    reasoning=plain_text,
    calls=st.lists(
        st.fixed_dictionaries({"name": plain_text.filter(bool), "arguments": st.dictionaries(plain_text, json_values)}),
        min_size=1,
        max_size=5,
    ),
)
def test_round_trip_of_well_formed_responses(reasoning: str, calls: list[dict]) -> None:
    body = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)
    parsed = parse_response(f"<think>{reasoning}</think>\n\n{body}")
    assert parsed.format_ok, parsed.format_error
    assert [(c.name, c.arguments) for c in parsed.calls] == [(c["name"], c["arguments"]) for c in calls]
    assert parsed.reasoning == reasoning.strip()


ADVERSARIAL = {  # name: (response, format_ok, calls parsed, format error)
    "megabyte_of_brackets": ("<think>x</think>" + "[" * 1_000_000, True, 0, None),
    "megabyte_of_brackets_in_a_call": (
        '<think>x</think><tool_call>{"name": "f", "arguments": ' + "[" * 1_000_000 + "</tool_call>",
        False,
        0,
        "tool call 0: body is not valid JSON",
    ),
    "deeply_nested_json": (
        '<think>x</think><tool_call>{"name": "f", "arguments": '
        + '{"a": ' * 200_000
        + "1"
        + "}" * 200_000
        + "}</tool_call>",
        False,
        0,
        "tool call 0: body is not valid JSON",
    ),
    "ten_thousand_calls": (
        "<think>x</think>" + '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 10_000,
        False,
        64,
        "more than 64 tool calls",
    ),
    "ten_thousand_unclosed_calls": ("<think>x</think>" + "<tool_call>" * 10_000, False, 0, "unterminated <tool_call>"),
    "lone_surrogates": (
        "<think>\ud800\udfff\udc00</think><tool_call>"
        + json.dumps({"name": "\ud800", "arguments": {"\udc00": "\ud83d"}})
        + "</tool_call>",
        True,
        1,
        None,
    ),
    "megabyte_of_think_tags": ("<think>" * 150_000, False, 0, "unterminated <think> block"),
    "huge_string_argument": (
        '<think>x</think><tool_call>{"name": "f", "arguments": {"a": "' + "x" * 5_000_000 + '"}}</tool_call>',
        True,
        1,
        None,
    ),
    "null_bytes": (
        "<think>\x00</think>\x00<tool_call>\x00</tool_call>",
        False,
        0,
        "tool call 0: body is not valid JSON",
    ),
}


@pytest.mark.timeout(60)  # a hang guard only; parsing speed is scripts/bench_reward.py's business
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_input_is_parsed_or_rejected_with_a_reason(name: str) -> None:
    text, format_ok, calls, error = ADVERSARIAL[name]
    parsed = parse_response(text)
    assert (parsed.format_ok, len(parsed.calls), parsed.format_error) == (format_ok, calls, error)
