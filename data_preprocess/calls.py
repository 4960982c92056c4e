"""Ground-truth calls of the training sources, checked against the tools and typed per their schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from awpo.rows import Call, Tool
from awpo.tools import tool_parameters
from data_preprocess.coerce import CoercionError, coerce_value


class SampleError(ValueError):
    """A sample that cannot be used; ``reason`` is the counter it is reported under in ``stats.json``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_raw_call(raw: Any) -> tuple[str, dict[str, Any]]:
    """``{"name": str, "arguments": dict or JSON-object string}`` as ``(name, arguments)``.

    Raises:
        SampleError: ``invalid_call`` when the call has another shape.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise SampleError("invalid_call", f"call {raw!r:.200} has no string 'name'")
    arguments = raw.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            raise SampleError("invalid_call", f"arguments of {raw['name']!r} are not valid JSON") from None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise SampleError("invalid_call", f"arguments of {raw['name']!r} are not an object")
    return raw["name"], dict(arguments)


def typed_call(name: str, arguments: Mapping[str, Any], parameters: Mapping[str, Any] | None, notes: list[str]) -> Call:
    """A ground-truth call checked against its function's ``parameters`` schema, values coerced to their types.

    A ``null`` given for an optional parameter whose schema does not allow null means "not given": the argument is
    dropped (note ``null_argument_dropped``).

    Raises:
        SampleError: ``unknown_function`` (no such tool), ``unknown_argument`` (an argument the schema does not
            have), ``missing_required_argument`` or ``uncoercible_value``.
    """
    if parameters is None:
        raise SampleError("unknown_function", f"{name!r} is not among the tools")
    properties = parameters.get("properties", {})
    unknown = [key for key in arguments if key not in properties]
    if unknown:
        raise SampleError("unknown_argument", f"{name!r} has no parameter(s) {unknown}")
    missing = [key for key in parameters.get("required", []) if key not in arguments]
    if missing:
        raise SampleError("missing_required_argument", f"{name!r} call lacks required {missing}")
    typed = {}
    for key, value in arguments.items():
        try:
            typed[key] = coerce_value(value, properties[key])
        except CoercionError as error:
            if value is None and key not in parameters.get("required", []):
                notes.append("null_argument_dropped")
                continue
            raise SampleError("uncoercible_value", f"{name}.{key}: {error}") from None
    return {"name": name, "arguments": typed}


def typed_calls(raw_calls: Any, tools: Sequence[Tool], notes: list[str]) -> list[Call]:
    """A list of raw ground-truth calls, each checked and typed by :func:`typed_call` (notes appended to ``notes``).

    Raises:
        SampleError: see :func:`parse_raw_call` and :func:`typed_call`.
    """
    if not isinstance(raw_calls, list):
        raise SampleError("invalid_call", f"calls are a {type(raw_calls).__name__}, not a list")
    index = tool_parameters(tools)
    calls = []
    for raw in raw_calls:
        name, arguments = parse_raw_call(raw)
        calls.append(typed_call(name, arguments, index.get(name), notes))
    return calls


def best_effort_calls(raw_calls: Sequence[Mapping[str, Any]], tools: Sequence[Tool]) -> list[Call]:
    """Calls for the prompt history: typed where :func:`typed_call` accepts them, as written otherwise."""
    index = tool_parameters(tools)
    result = []
    for raw in raw_calls:
        try:
            result.append(typed_call(raw["name"], raw["arguments"], index.get(raw["name"]), []))
        except SampleError:
            result.append({"name": raw["name"], "arguments": dict(raw["arguments"])})
    return result
