"""Tool definitions of every source, normalised to OpenAI function schemas.

Output: ``{"type": "function", "function": {"name", "description", "parameters": {"type": "object",
"properties": {...}, "required": [...]}}}``. Two input shapes are understood:

- JSON-schema-like parameters (ToolACE, BFCL): ``{"type": "dict", "properties": {...}, "required": [...]}``;
  type names are mapped at every level (``properties``, ``items``, ``additionalProperties``);
- xLAM's flat map ``{pname: {"type": "List[int]", "description", "default"}}``.

Type names, JSON-schema or python-ish: ``str``/``string`` → string, ``int``/``integer`` → integer,
``float``/``number`` → number, ``bool``/``boolean`` → boolean, ``list``/``List[int]``/``tuple``/``set`` → array
(with ``items`` when the element type is known), ``dict``/``Dict[...]``/``object`` → object, ``Optional[X]`` and
``"X, optional"`` → X and not required, ``Union[int, float]`` → number, ``any``/``Any``/``Callable`` → no ``type``
key (any value). Unknown names also get no ``type`` key, and are reported as the note ``unknown_param_type``.

In the flat map, a parameter is required unless its type says optional or it has a non-empty ``default``; an empty
``default`` (``""`` or ``null``, xLAM's way of saying "none") is dropped, others are coerced to the parameter's type
when they can be (``"false"`` → ``false``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from awpo.rows import Tool
from data_preprocess.coerce import CoercionError, coerce_value
from data_preprocess.dsl import DSLError, parse_literal

_SCALARS = {
    "str": "string",
    "string": "string",
    "text": "string",
    "char": "string",
    "date": "string",
    "datetime": "string",
    "int": "integer",
    "integer": "integer",
    "long": "integer",
    "float": "number",
    "number": "number",
    "double": "number",
    "decimal": "number",
    "bool": "boolean",
    "boolean": "boolean",
    "null": "null",
    "none": "null",
    "nonetype": "null",
}
_ARRAYS = {"list", "array", "tuple", "set", "frozenset", "sequence", "iterable"}
_OBJECTS = {"dict", "object", "mapping", "json"}
_ANY = {"any", "callable", "function"}
_OPTIONAL_SUFFIX = re.compile(r"\s*,?\s*\(?\boptional\)?\s*$", re.IGNORECASE)
_GENERIC = re.compile(r"([A-Za-z_][\w.]*)\s*(?:\[(.*)\])?", re.DOTALL)
UNKNOWN_TYPE_NOTE = "unknown_param_type"


class ToolSchemaError(ValueError):
    """A tool definition that cannot be normalised (no name, parameters of an unknown shape)."""


def parse_type(text: str) -> tuple[dict[str, Any], bool, bool]:
    """A python-ish or JSON-schema type name as ``(schema fragment, optional, known)``.

    >>> parse_type("List[int], optional")
    ({'type': 'array', 'items': {'type': 'integer'}}, True, True)
    """
    fragment, optional, known = _parse_type_cached(text)
    return _copy(fragment), optional, known


def _copy(fragment: Any) -> Any:
    """A deep copy of a cached fragment (its containers copied, its scalars shared)."""
    if isinstance(fragment, dict):
        return {key: _copy(value) if isinstance(value, dict | list) else value for key, value in fragment.items()}
    if isinstance(fragment, list):
        return [_copy(value) if isinstance(value, dict | list) else value for value in fragment]
    return fragment


@functools.lru_cache(maxsize=4096)
def _parse_type_cached(text: str) -> tuple[dict[str, Any], bool, bool]:
    text = text.strip()
    optional = False
    suffix = _OPTIONAL_SUFFIX.search(text)
    if suffix and suffix.start() > 0:
        optional, text = True, text[: suffix.start()].strip()
    alternatives = _split_top_level(text, "|")
    if len(alternatives) > 1:
        fragment, none_included, known = _union(alternatives)
        return fragment, optional or none_included, known
    match = _GENERIC.fullmatch(text)
    if not match:
        return {}, optional, False
    base = match.group(1).rsplit(".", 1)[-1].lower()
    arguments = _split_top_level(match.group(2), ",") if match.group(2) is not None else []
    if base == "optional" and len(arguments) == 1:
        fragment, _, known = parse_type(arguments[0])
        return fragment, True, known
    if base == "union" and arguments:
        fragment, none_included, known = _union(arguments)
        return fragment, optional or none_included, known
    if base == "literal" and arguments:
        return _literal(arguments), optional, True
    if base in _ARRAYS:
        return _array(base, arguments), optional, True
    if base in _OBJECTS:
        return {"type": "object"}, optional, True
    if base in _SCALARS:
        return {"type": _SCALARS[base]}, optional, True
    return {}, optional, base in _ANY


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _union(members: list[str]) -> tuple[dict[str, Any], bool, bool]:
    none_included = any(member.lower() in ("none", "nonetype", "null") for member in members)
    parsed = [parse_type(member) for member in members if member.lower() not in ("none", "nonetype", "null")]
    fragments = [fragment for fragment, _, _ in parsed]
    known = all(known for _, _, known in parsed)
    if fragments and all(fragment == fragments[0] for fragment in fragments):
        return fragments[0], none_included, known
    if fragments and {fragment.get("type") for fragment in fragments} <= {"integer", "number"}:
        return {"type": "number"}, none_included, known
    return {}, none_included, known


def _array(base: str, arguments: list[str]) -> dict[str, Any]:
    element_types = [argument for argument in arguments if argument != "..."]
    items = [parse_type(argument)[0] for argument in element_types]
    if items and items[0] and all(item == items[0] for item in items) and (base == "tuple" or len(items) == 1):
        return {"type": "array", "items": items[0]}
    return {"type": "array"}


def _literal(arguments: list[str]) -> dict[str, Any]:
    try:
        values = [parse_literal(argument) for argument in arguments]
    except DSLError:
        return {}
    kinds = {type(value) for value in values}
    if kinds == {str}:
        return {"type": "string", "enum": values}
    if kinds == {int}:
        return {"type": "integer", "enum": values}
    return {"enum": values}


def normalize_property(schema: Mapping[str, Any], notes: list[str]) -> tuple[dict[str, Any], bool]:
    """One JSON-schema-like property with every type name mapped, as ``(schema, optional)``.

    Keys other than ``type`` / ``items`` / ``properties`` / ``additionalProperties`` are kept as they are
    (``description``, ``enum``, ``default``, ...).
    """
    result: dict[str, Any] = {}
    optional = False
    declared = schema.get("type")
    if isinstance(declared, str):
        fragment, optional, known = parse_type(declared)
        if not known:
            notes.append(UNKNOWN_TYPE_NOTE)
        result.update(fragment)
    elif isinstance(declared, list):
        mapped = []
        for name in declared:
            fragment, _, known = parse_type(str(name))
            if not known or "type" not in fragment:
                notes.append(UNKNOWN_TYPE_NOTE)
                mapped = []
                break
            mapped.append(fragment["type"])
        if mapped:
            result["type"] = mapped
    for key, value in schema.items():
        if key == "type":
            continue
        if key in ("items", "additionalProperties") and isinstance(value, dict):
            result[key] = normalize_property(value, notes)[0]
        elif key == "properties" and isinstance(value, dict):
            result[key] = {
                name: normalize_property(item, notes)[0] if isinstance(item, dict) else item
                for name, item in value.items()
            }
        else:
            result[key] = value
    return result, optional


def _json_schema_parameters(parameters: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    optional_names = set()
    raw_properties = parameters.get("properties") or {}
    if not isinstance(raw_properties, dict):
        raise ToolSchemaError("'properties' is not an object")
    for name, schema in raw_properties.items():
        if not isinstance(schema, dict):
            raise ToolSchemaError(f"parameter {name!r} is not an object")
        properties[name], optional = normalize_property(schema, notes)
        if optional:
            optional_names.add(name)
    required = parameters.get("required") or []
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise ToolSchemaError("'required' is not a list of names")
    extra = {key: value for key, value in parameters.items() if key not in ("type", "properties", "required")}
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in required if name not in optional_names],
        **extra,
    }


def _flat_parameters(parameters: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for name, spec in parameters.items():
        if not isinstance(spec, dict):
            raise ToolSchemaError(f"parameter {name!r} is not an object")
        declared = spec.get("type")
        fragment, optional, known = parse_type(declared) if isinstance(declared, str) else ({}, False, False)
        if not known:
            notes.append(UNKNOWN_TYPE_NOTE)
        has_default = spec.get("default") not in (None, "")
        properties[name] = {**fragment, **{key: value for key, value in spec.items() if key not in ("type", "default")}}
        if has_default:
            properties[name]["default"] = _typed_default(spec["default"], fragment)
        if not optional and not has_default:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _typed_default(default: Any, schema: Mapping[str, Any]) -> Any:
    try:
        return coerce_value(default, schema)
    except CoercionError:
        return default


def _is_json_schema(parameters: Mapping[str, Any]) -> bool:
    return isinstance(parameters.get("type"), str) and (
        isinstance(parameters.get("properties"), dict) or parameters.get("type") in ("object", "dict")
    )


def normalize_tool(raw: Any, notes: list[str]) -> Tool:
    """One tool definition (bare or already wrapped in ``{"type": "function", "function": ...}``) as an OpenAI
    function schema. Keys other than name / description / parameters are dropped, except a ``required`` list written
    beside ``parameters`` (as some copies of xLAM-derived data do) when ``parameters`` has none of its own.

    Raises:
        ToolSchemaError: the definition has no name or its parameters have an unknown shape.
    """
    if isinstance(raw, dict) and raw.get("type") == "function" and isinstance(raw.get("function"), dict):
        raw = raw["function"]
    if not isinstance(raw, dict):
        raise ToolSchemaError(f"tool definition is a {type(raw).__name__}, not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolSchemaError("tool definition has no name")
    description = raw.get("description") or ""
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ToolSchemaError(f"parameters of {name!r} are not an object")
    if _is_json_schema(parameters) and "required" not in parameters and isinstance(raw.get("required"), list):
        parameters = {**parameters, "required": raw["required"]}  # written beside "parameters" instead of inside
    if _is_json_schema(parameters) or not parameters:
        normalized = _json_schema_parameters(parameters, notes)
    else:
        normalized = _flat_parameters(parameters, notes)
    return {"type": "function", "function": {"name": name, "description": str(description), "parameters": normalized}}


def normalize_tools(raw_tools: Any, notes: list[str]) -> list[Tool]:
    """A list of tool definitions, normalised; a repeated name keeps its first definition (note
    ``duplicate_tool_removed``).

    Raises:
        ToolSchemaError: the value is not a list, or one definition cannot be normalised.
    """
    if not isinstance(raw_tools, list):
        raise ToolSchemaError(f"tools are a {type(raw_tools).__name__}, not a list")
    tools: dict[str, Tool] = {}
    for raw in raw_tools:
        tool = normalize_tool(raw, notes)
        name = tool["function"]["name"]
        if name in tools:
            notes.append("duplicate_tool_removed")
        else:
            tools[name] = tool
    return list(tools.values())
