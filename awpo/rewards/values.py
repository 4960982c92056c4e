"""Schema-typed comparison of argument values (predicted vs ground truth).

Types come from the tool's JSON schema (``integer``, ``number``, ``boolean``, ``string``, ``array``, ``object``,
``null``; BFCL's ``dict``/``float``/``tuple``/``any`` and python-ish spellings are accepted as aliases). A predicted
value must have the schema's type wherever the ground truth has it — an ``int`` is accepted where a ``number`` is
expected, a ``bool`` is never a number — and then equal the ground truth structurally: numbers numerically, strings
after normalisation (BFCL's: drop spaces and ``,./-_*^``, lowercase, ``'`` → ``"``) or exactly, arrays element by
element, objects key by key with their property schemas. Where the ground truth itself contradicts its schema
(BFCL's "variable" answers such as ``"data['sales']"`` for an array, or uncoercible public data) the ground truth is
authoritative, as in bfcl-eval's checker. Without a schema the comparison is typed by the ground-truth value.

Ground truth in BFCL's "acceptable values" form (a list of alternatives per argument; dict-valued arguments as
dicts of acceptable-value lists, one level deep; lists of dicts element-wise) is matched by
:func:`acceptable_value`. Schemas are the decoded JSON dicts; the functions allocate nothing, so scoring adds no
garbage-collector pressure.
"""

from __future__ import annotations

from typing import Any

OMITTABLE = ""

_TYPE_ALIASES = {
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "str": "string",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "object": "object",
    "dict": "object",
    "null": "null",
}
_JSON_TYPE_OF = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}
_STRING_DELETIONS = str.maketrans("", "", " ,./-_*^")
_SCALARS = frozenset({str, int, float, bool, type(None)})


Schema = dict[str, Any] | None
_NO_TYPES: frozenset[str] = frozenset()
_TYPES_BY_NAME = {name: frozenset({canonical}) for name, canonical in _TYPE_ALIASES.items()}


def schema_types(schema: Schema) -> frozenset[str]:
    """The canonical JSON types a schema allows (empty: untyped, e.g. BFCL's ``any`` or no ``type`` key)."""
    if type(schema) is not dict:
        return _NO_TYPES
    declared = schema.get("type")
    if type(declared) is str:
        return _TYPES_BY_NAME.get(declared, _NO_TYPES)
    if type(declared) is list:
        return frozenset(_TYPE_ALIASES[name] for name in declared if type(name) is str and name in _TYPE_ALIASES)
    return _NO_TYPES


def property_schema(schema: Schema, key: str) -> Schema:
    """The schema of property ``key`` of an object schema (None when not declared)."""
    if type(schema) is not dict:
        return None
    properties = schema.get("properties")
    child = properties.get(key) if type(properties) is dict else None
    return child if type(child) is dict else None


def declared_properties(schema: Schema) -> dict[str, Any]:
    """The ``properties`` map of an object schema (empty when absent)."""
    properties = schema.get("properties") if type(schema) is dict else None
    return properties if type(properties) is dict else {}


def required_properties(schema: Schema) -> list[str]:
    """The ``required`` property names of an object schema."""
    required = schema.get("required") if type(schema) is dict else None
    return [key for key in required if type(key) is str] if type(required) is list else []


def _items(schema: Schema) -> Schema:
    items = schema.get("items") if type(schema) is dict else None
    return items if type(items) is dict else None


def normalize_string(value: str) -> str:
    """BFCL's string normalisation: remove spaces and ``,./-_*^``, lowercase, single → double quotes."""
    return value.translate(_STRING_DELETIONS).lower().replace("'", '"')


def typed_equal(predicted: Any, gold: Any, schema: Schema, exact: bool) -> bool:
    """Typed equality of a predicted argument value with the ground-truth value (see the module docstring);
    ``exact`` selects exact string matching instead of BFCL's normalisation."""
    gold_type = type(gold)
    predicted_type = type(predicted)
    if gold_type is predicted_type and gold_type in _SCALARS and predicted == gold:
        return True
    if schema is not None:
        declared = schema.get("type")
        types = _TYPES_BY_NAME.get(declared, _NO_TYPES) if type(declared) is str else schema_types(schema)
        if types:
            gold_json = _JSON_TYPE_OF.get(gold_type)
            if gold_json in types or (gold_json == "integer" and "number" in types):
                predicted_json = _JSON_TYPE_OF.get(predicted_type)
                if predicted_json not in types and not (predicted_json == "integer" and "number" in types):
                    return False
    if gold_type is str:
        if predicted_type is not str:
            return False
        return predicted == gold if exact else normalize_string(predicted) == normalize_string(gold)
    if gold_type is int or gold_type is float:
        return (predicted_type is int or predicted_type is float) and predicted == gold
    if gold_type is bool or gold is None:
        return predicted_type is gold_type and predicted == gold
    if gold_type is list:
        if predicted_type is not list or len(predicted) != len(gold):
            return False
        items = _items(schema)
        for index, value in enumerate(gold):  # noqa: SIM110  (a loop: no generator allocation on the hot path)
            if not typed_equal(predicted[index], value, items, exact):
                return False
        return True
    if gold_type is dict:
        if predicted_type is not dict or predicted.keys() != gold.keys():
            return False
        for key, value in gold.items():
            if not typed_equal(predicted[key], value, property_schema(schema, key), exact):
                return False
        return True
    return False


def acceptable_value(predicted: Any, acceptable: list, schema: Schema, exact: bool) -> bool:
    """True when ``predicted`` matches one of the BFCL-style acceptable values (``""`` = may omit, never a match);
    ``exact`` selects exact string matching."""
    predicted_type = type(predicted)
    for candidate in acceptable:
        candidate_type = type(candidate)
        if candidate_type is str and candidate == OMITTABLE:
            continue
        if candidate_type is dict and predicted_type is dict:
            if _dict_acceptable(predicted, candidate, schema, exact):
                return True
        elif (
            candidate_type is list
            and predicted_type is list
            and candidate
            and all(type(element) is dict for element in candidate)
        ):
            items = _items(schema)
            if len(predicted) == len(candidate) and all(
                type(p) is dict and _dict_acceptable(p, c, items, exact)
                for p, c in zip(predicted, candidate, strict=True)
            ):
                return True
        elif typed_equal(predicted, candidate, schema, exact):
            return True
    return False


def _dict_acceptable(predicted: dict, candidate: dict, schema: Schema, exact: bool) -> bool:
    """BFCL's nested form, one level deep as in bfcl-eval's checker: every predicted key is in the candidate and
    equals one of its acceptable values, and every candidate key the prediction omits lists ``""``."""
    for key, value in predicted.items():
        options = candidate.get(key)
        if type(options) is not list:
            return False
        child = property_schema(schema, key)
        if not any(
            not (type(option) is str and option == OMITTABLE) and typed_equal(value, option, child, exact)
            for option in options
        ):
            return False
    return all(
        key in predicted or (type(options) is list and OMITTABLE in options) for key, options in candidate.items()
    )
