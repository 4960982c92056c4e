"""Coercion of ground-truth values to the JSON-schema types of their parameters.

Public data stores many values with the wrong type (``"1"`` for an integer, ``"100.0"`` for a number, ``"true"``
for a boolean, ``"[1, 2]"`` for an array); the reward compares typed values, so they are fixed here, once:

=========  ==========================================================================================
integer    int; a float with no fraction; a string holding an integer (``"3"``, ``"3.0"``)
number     int or float (an int stays an int); a string holding a finite number
boolean    bool; the strings ``"true"`` / ``"false"`` (any case)
string     str; an int, float or bool becomes its text (``7`` → ``"7"``, ``True`` → ``"True"``)
array      list (items coerced with ``items``); a string holding a JSON or python list/tuple literal
object     dict (values coerced with ``properties`` / ``additionalProperties``); a string holding a dict literal
null       None
(no type)  anything, unchanged
=========  ==========================================================================================

Anything else (``"abc"`` for an integer, ``None`` for a string, ``True`` for an integer) raises
:class:`CoercionError`. Strings are never parsed as anything but the literal their type asks for.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from data_preprocess.dsl import DSLError, parse_literal

_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+(?:\.0*)?\s*")
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


class CoercionError(ValueError):
    """A value cannot be converted to the type its schema asks for."""


def coerce_value(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` converted to the type of ``schema`` (recursively for arrays and objects).

    Raises:
        CoercionError: no conversion applies.
    """
    declared = schema.get("type")
    if declared is None:
        return value
    types = [declared] if isinstance(declared, str) else list(declared)
    for kind in types:
        if _has_type(value, kind):
            return _coerce_children(value, kind, schema)
    for kind in types:
        try:
            return _coerce_children(_convert(value, kind), kind, schema)
        except CoercionError:
            continue
    raise CoercionError(f"{_preview(value)} is not a valid {' or '.join(map(str, types))}")


def _has_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return True


def _convert(value: Any, kind: str) -> Any:
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
            return int(value.strip().split(".")[0])
    elif kind == "number":
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            text = value.strip()
            number = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
            if math.isfinite(number):
                return number
    elif kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif kind == "string":
        if isinstance(value, bool | int | float):
            return str(value)
    elif kind in ("array", "object") and isinstance(value, str):
        opening = ("[", "(") if kind == "array" else ("{",)
        parsed = _parse_container(value) if value.strip()[:1] in opening else None
        if _has_type(parsed, kind):
            return parsed
    raise CoercionError(f"{_preview(value)} is not a valid {kind}")


def _parse_container(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return parse_literal(text)
    except DSLError:
        return None


def _coerce_children(value: Any, kind: str, schema: Mapping[str, Any]) -> Any:
    if kind == "array" and isinstance(schema.get("items"), dict):
        return [coerce_value(item, schema["items"]) for item in value]
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        extra = schema.get("additionalProperties") if isinstance(schema.get("additionalProperties"), dict) else None
        if properties or extra is not None:
            result = {}
            for key, item in value.items():
                item_schema = properties.get(key, extra)
                result[key] = item if item_schema is None else coerce_value(item, item_schema)
            return result
    return value


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
