"""The building blocks of the converters: the bracket-call parser, type names, coercion, tool schemas, masking."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awpo.rows import Sample, call_message, messages_for_chat_template, text_message
from data_preprocess.augment import drop_gold_tools, keyed_rng, mask_names, unit_draw
from data_preprocess.calls import SampleError, typed_calls
from data_preprocess.coerce import CoercionError, coerce_value
from data_preprocess.dsl import DSLError, looks_like_call_list, parse_calls, parse_literal
from data_preprocess.tool_schema import ToolSchemaError, normalize_tool, normalize_tools, parse_type

# --- bracket DSL --------------------------------------------------------------------------------------------------


def test_parses_names_with_spaces_dots_dashes_and_nested_values() -> None:
    text = (
        "[Market Trends API(trend_type=\"MARKET_INDEXES\", country='us'), weather.get-v2(days=3, ratio=-1.5e2, "
        'ok=True, none=None, tags=["a", "b,c"], point=(1, 2), opts={"k": [1, {"x": null}], 2: false})]'
    )
    assert parse_calls(text) == [
        {"name": "Market Trends API", "arguments": {"trend_type": "MARKET_INDEXES", "country": "us"}},
        {
            "name": "weather.get-v2",
            "arguments": {
                "days": 3,
                "ratio": -150.0,
                "ok": True,
                "none": None,
                "tags": ["a", "b,c"],
                "point": [1, 2],
                "opts": {"k": [1, {"x": None}], "2": False},
            },
        },
    ]


def test_known_names_may_contain_parentheses() -> None:
    text = "[Get Stock Quote (Realtime)(symbol='AAPL'), f()]"
    assert parse_calls(text, ["Get Stock Quote (Realtime)", "f"]) == [
        {"name": "Get Stock Quote (Realtime)", "arguments": {"symbol": "AAPL"}},
        {"name": "f", "arguments": {}},
    ]


def test_strings_keep_brackets_quotes_and_escapes() -> None:
    text = '[f(q="a) b], c=(d", s=\'it\\\'s\', u="caf\\u00e9 \\"x\\"\\n", raw="C:\\\\path")]'
    assert text == r'[f(q="a) b], c=(d", s=' + "'it\\'s'" + r', u="caf\u00e9 \"x\"\n", raw="C:\\path")]'
    assert parse_calls(text) == [
        {"name": "f", "arguments": {"q": "a) b], c=(d", "s": "it's", "u": 'café "x"\n', "raw": "C:\\path"}}
    ]


def test_barewords_are_strings_at_top_level_only() -> None:
    assert parse_calls("[f(date=2023-01-01, n=5)]") == [{"name": "f", "arguments": {"date": "2023-01-01", "n": 5}}]
    with pytest.raises(DSLError):
        parse_calls("[f(items=[a, b])]")


@pytest.mark.parametrize(
    "text",
    [
        '[f(a="x", b=]',
        '[f(a="x")',
        '[f(a="x")] trailing text',
        '[f(a="x", a="y")]',
        "[f(=1)]",
        '[f(a="unterminated)]',
        "[(a=1)]",
        "f(a=1)",
    ],
)
def test_malformed_call_lists_raise(text: str) -> None:
    with pytest.raises(DSLError):
        parse_calls(text)


def test_empty_call_list_and_trailing_commas() -> None:
    assert parse_calls(" [ ] ") == []
    assert parse_calls("[f(a=1,), g(),]") == [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]


def test_call_list_detection() -> None:
    assert looks_like_call_list('[Market Trends API(trend_type="X")]')
    assert not looks_like_call_list("[1] First, check the weather (it may rain).")
    assert not looks_like_call_list("Sure, which city?")
    assert not looks_like_call_list('[{"name": "f", "arguments": {}}]')


_LITERALS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_LITERALS)
def test_python_and_json_literals_round_trip(value: object) -> None:
    assert parse_literal(repr(value)) == value
    assert parse_literal(json.dumps(value)) == value


# --- types, coercion, tool schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "optional"),
    [
        ("str", {"type": "string"}, False),
        ("int, optional", {"type": "integer"}, True),
        ("float, optional", {"type": "number"}, True),
        ("bool", {"type": "boolean"}, False),
        ("List[int]", {"type": "array", "items": {"type": "integer"}}, False),
        ("List[List[str]]", {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}, False),
        ("list", {"type": "array"}, False),
        ("Tuple[float, float]", {"type": "array", "items": {"type": "number"}}, False),
        ("Tuple[int, str]", {"type": "array"}, False),
        ("tuple", {"type": "array"}, False),
        ("Dict[str, Any]", {"type": "object"}, False),
        ("dict", {"type": "object"}, False),
        ("Optional[str]", {"type": "string"}, True),
        ("Union[int, float]", {"type": "number"}, False),
        ("Union[str, None]", {"type": "string"}, True),
        ("int | None", {"type": "integer"}, True),
        ("typing.List[str]", {"type": "array", "items": {"type": "string"}}, False),
        ("any", {}, False),
        ("Callable", {}, False),
        ("Literal['a', 'b']", {"type": "string", "enum": ["a", "b"]}, False),
    ],
)
def test_python_type_names_map_to_json_schema(text: str, fragment: dict, optional: bool) -> None:
    assert parse_type(text) == (fragment, optional, True)


def test_unknown_type_names_have_no_type_and_are_reported() -> None:
    assert parse_type("pd.DataFrame") == ({}, False, False)
    notes: list[str] = []
    tool = normalize_tool({"name": "f", "parameters": {"df": {"type": "pd.DataFrame"}}}, notes)
    assert tool["function"]["parameters"]["properties"]["df"] == {}
    assert notes == ["unknown_param_type"]


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("1", {"type": "integer"}, 1),
        ("3.0", {"type": "integer"}, 3),
        (4.0, {"type": "integer"}, 4),
        ("100.0", {"type": "number"}, 100.0),
        ("7", {"type": "number"}, 7),
        (7, {"type": "number"}, 7),
        ("TRUE", {"type": "boolean"}, True),
        ("false", {"type": "boolean"}, False),
        (10001, {"type": "string"}, "10001"),
        (True, {"type": "string"}, "True"),
        ("[1, 2]", {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        (["1", 2.0], {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        ("('a', 'b')", {"type": "array"}, ["a", "b"]),
        ('{"k": "2"}', {"type": "object", "properties": {"k": {"type": "integer"}}}, {"k": 2}),
        (
            {"a": "1", "b": "x"},
            {"type": "object", "additionalProperties": {"type": "integer"}, "properties": {"b": {}}},
            {"a": 1, "b": "x"},
        ),
        ("x", {}, "x"),
        (None, {"type": ["string", "null"]}, None),
        ("5", {"type": ["integer", "string"]}, "5"),
    ],
)
def test_values_are_coerced_to_their_schema_type(value: object, schema: dict, expected: object) -> None:
    result = coerce_value(value, schema)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "schema"),
    [
        ("abc", {"type": "integer"}),
        ("1.5", {"type": "integer"}),
        (True, {"type": "integer"}),
        ("nan", {"type": "number"}),
        ("yes", {"type": "boolean"}),
        (None, {"type": "string"}),
        (["a"], {"type": "string"}),
        ("a,b", {"type": "array"}),
        ("[broken", {"type": "array"}),
        ("{1: }", {"type": "object"}),
        (["x"], {"type": "array", "items": {"type": "integer"}}),
    ],
)
def test_uncoercible_values_raise(value: object, schema: dict) -> None:
    with pytest.raises(CoercionError):
        coerce_value(value, schema)


def test_flat_xlam_parameters_become_a_json_schema() -> None:
    raw = {
        "name": "f",
        "description": "Does f.",
        "parameters": {
            "type": {"description": "A parameter called type.", "type": "str", "default": "game"},
            "n": {"description": "Count.", "type": "int", "default": ""},
            "flag": {"description": "Flag.", "type": "bool, optional", "default": "false"},
        },
    }
    assert normalize_tool(raw, []) == {
        "type": "function",
        "function": {
            "name": "f",
            "description": "Does f.",
            "parameters": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "description": "A parameter called type.", "default": "game"},
                    "n": {"type": "integer", "description": "Count."},
                    "flag": {"type": "boolean", "description": "Flag.", "default": False},
                },
                "required": ["n"],
            },
        },
    }


def test_json_schema_types_are_mapped_at_every_level() -> None:
    raw = {
        "type": "function",
        "function": {
            "name": "g",
            "description": "Does g.",
            "parameters": {
                "type": "dict",
                "properties": {
                    "rows": {"type": "array", "items": {"type": "dict", "properties": {"w": {"type": "float"}}}},
                    "pair": {"type": "tuple", "items": {"type": "integer"}},
                    "anything": {"type": "any", "description": "Any value."},
                    "maybe": {"type": "string, optional"},
                },
                "required": ["rows", "maybe"],
            },
            "response": {"type": "dict"},
        },
    }
    assert normalize_tool(raw, [])["function"] == {
        "name": "g",
        "description": "Does g.",
        "parameters": {
            "type": "object",
            "properties": {
                "rows": {"type": "array", "items": {"type": "object", "properties": {"w": {"type": "number"}}}},
                "pair": {"type": "array", "items": {"type": "integer"}},
                "anything": {"description": "Any value."},
                "maybe": {"type": "string"},
            },
            "required": ["rows"],
        },
    }


def test_a_required_list_beside_the_parameters_is_used_when_they_have_none() -> None:
    """LLaMA-Factory's reason_tool_use demo writes ``required`` beside ``parameters`` (or ``null`` there, with the
    list inside)."""
    properties = {"is_id": {"description": "Case-sensitive user ID.", "type": "str", "default": "wing328hk"}}
    beside = {"name": "user_by_id", "parameters": {"type": "dict", "properties": properties}, "required": ["is_id"]}
    inside = {
        "name": "user_by_id",
        "parameters": {"type": "dict", "properties": properties, "required": []},
        "required": None,
    }
    for raw, required in ((beside, ["is_id"]), ({"type": "function", "function": beside}, ["is_id"]), (inside, [])):
        parameters = normalize_tool(raw, [])["function"]["parameters"]
        assert parameters["required"] == required
        assert parameters["properties"]["is_id"]["type"] == "string"


def test_tool_list_errors_and_duplicates() -> None:
    notes: list[str] = []
    tools = normalize_tools(
        [{"name": "f", "parameters": {}}, {"name": "f", "parameters": {"x": {"type": "int"}}}], notes
    )
    assert [tool["function"]["name"] for tool in tools] == ["f"] and notes == ["duplicate_tool_removed"]
    for bad in ({"name": "f"}, [{"description": "no name"}], [{"name": "f", "parameters": {"x": "int"}}], ["f"]):
        with pytest.raises(ToolSchemaError):
            normalize_tools(bad, [])


def test_ground_truth_calls_are_checked_against_the_tools() -> None:
    tools = normalize_tools([{"name": "f", "parameters": {"n": {"type": "int"}, "s": {"type": "str, optional"}}}], [])
    notes: list[str] = []
    assert typed_calls([{"name": "f", "arguments": '{"n": "2", "s": null}'}], tools, notes) == [
        {"name": "f", "arguments": {"n": 2}}
    ]
    assert notes == ["null_argument_dropped"]
    cases = {
        "unknown_function": [{"name": "g", "arguments": {}}],
        "unknown_argument": [{"name": "f", "arguments": {"n": 1, "z": 2}}],
        "missing_required_argument": [{"name": "f", "arguments": {"s": "x"}}],
        "uncoercible_value": [{"name": "f", "arguments": {"n": None}}],
        "invalid_call": [{"arguments": {}}],
    }
    for reason, calls in cases.items():
        with pytest.raises(SampleError) as error:
            typed_calls(calls, tools, [])
        assert error.value.reason == reason


# --- masking, irrelevance, seeded draws, messages -----------------------------------------------------------------


def _sample() -> Sample:
    tools = normalize_tools(
        [
            {
                "name": "get_weather",
                "description": "Weather.",
                "parameters": {"city": {"type": "str"}, "days": {"type": "int, optional"}},
            },
            {"name": "get_time", "description": "Time.", "parameters": {"tz": {"type": "str"}}},
        ],
        [],
    )
    calls = [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}]
    history = [text_message("user", "Weather?"), call_message([{"name": "get_time", "arguments": {"tz": "CET"}}])]
    return Sample("xlam", "7", 0, history, tools, calls)


def test_masking_renames_tools_required_lists_ground_truth_and_history_together() -> None:
    sample = _sample()
    masked = mask_names(sample, keyed_rng(0, "mask", "7"))
    old_names = [tool["function"]["name"] for tool in sample.tools]
    new_names = [tool["function"]["name"] for tool in masked.tools]
    assert len(set(new_names)) == 2 and not set(new_names) & set(old_names)
    assert all(5 <= len(name) <= 15 for name in new_names)
    for old, new in zip(sample.tools, masked.tools, strict=True):
        old_parameters, new_parameters = old["function"]["parameters"], new["function"]["parameters"]
        renamed = dict(zip(old_parameters["properties"], new_parameters["properties"], strict=True))
        assert all(4 <= len(name) <= 10 for name in renamed.values())
        assert list(new_parameters["properties"].values()) == list(old_parameters["properties"].values())
        assert new_parameters["required"] == [renamed[name] for name in old_parameters["required"]]
        assert new["function"]["description"] == old["function"]["description"]
    weather, time_tool = masked.tools[0]["function"], masked.tools[1]["function"]
    city, days = weather["parameters"]["properties"]
    assert masked.calls == [{"name": weather["name"], "arguments": {city: "Oslo", days: 2}}]
    (tz,) = time_tool["parameters"]["properties"]
    assert messages_for_chat_template(masked.prompt)[1]["tool_calls"][0]["function"] == {
        "name": time_tool["name"],
        "arguments": {tz: "CET"},
    }
    assert mask_names(sample, keyed_rng(0, "mask", "7")) == masked
    assert mask_names(sample, keyed_rng(1, "mask", "7")) != masked


def test_irrelevance_drops_the_called_tools() -> None:
    irrelevant = drop_gold_tools(_sample())
    assert irrelevant is not None
    assert irrelevant.calls == [] and [tool["function"]["name"] for tool in irrelevant.tools] == ["get_time"]
    only_gold = Sample("xlam", "8", 0, [], _sample().tools[:1], _sample().calls)
    assert drop_gold_tools(only_gold) is None
    assert drop_gold_tools(Sample("xlam", "9", 0, [], _sample().tools, [])) is None


def test_seeded_draws_are_uniform_and_stable() -> None:
    draws = [unit_draw(3, "split", "xlam", str(i)) for i in range(4000)]
    assert draws == [unit_draw(3, "split", "xlam", str(i)) for i in range(4000)]
    assert 0.47 < sum(draw < 0.5 for draw in draws) / len(draws) < 0.53
    assert draws != [unit_draw(4, "split", "xlam", str(i)) for i in range(4000)]
    assert isinstance(keyed_rng(0, "a"), random.Random)


def test_messages_for_chat_template_gives_dict_arguments() -> None:
    prompt = [text_message("user", "hi"), call_message([{"name": "f", "arguments": {"a": [1, {"b": "é"}]}}])]
    assert prompt[1]["tool_calls"][0]["function"]["arguments"] == '{"a": [1, {"b": "é"}]}'
    assert messages_for_chat_template(prompt) == [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, {"b": "é"}]}}}],
        },
    ]
