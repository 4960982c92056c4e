"""The outcome reward r ∈ [0, 1]: do the response's tool calls match the ground truth?

Ground truth (``reward_model.ground_truth``, a JSON string)::

    {"calls": [{"name": str, "arguments": {...}}, ...],
     "acceptable": [{"name": str, "arguments": {arg: [value, ..., ""]}}, ...]}   # optional, parallel to calls

``calls: []`` means no call is correct (irrelevance, clarification). When ``acceptable`` is present it governs
matching, BFCL-style: each argument lists its acceptable values and ``""`` means it may be omitted. Tool schemas
(``extra_info["tools"]``, a JSON string of OpenAI function schemas) type the comparison (:mod:`awpo.rewards.values`).

Per (predicted, gold) pair with the same name: the *allowed* keys are the gold's keys (under ``acceptable``: those
the tool's schema also declares), the *required* ones the gold's keys that may not be omitted (plus the schema's
``required`` under ``acceptable``); a predicted optional argument that is not in a plain gold call but equals the
schema's ``default`` counts as omitted. Over ``U = predicted keys ∪
required keys``: ``key_overlap = |predicted ∩ allowed| / |U|`` and ``value_accuracy = |correct values| / |U|``
(1 when U is empty); the pair is *exact* when both are 1.

- ``binary``: 1 iff the format is valid, as many calls as gold, and an assignment pairs every call exactly.
- ``fine``: ``Σ (1 + key_overlap + value_accuracy)/3`` over the optimal assignment (pairs with different names
  score 0), divided by ``max(|predicted|, |gold|)`` so extra and missing calls cost; 0 when the format is invalid.
- No-call ground truth: 1 iff the response makes no call (and the format is valid), in both modes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from awpo.rewards.matching import has_perfect_matching, max_weight_assignment
from awpo.rewards.options import OutcomeOptions
from awpo.rewards.parser import ParsedResponse, ToolCall
from awpo.rewards.values import (
    OMITTABLE,
    Schema,
    acceptable_value,
    declared_properties,
    property_schema,
    required_properties,
    typed_equal,
)
from awpo.tools import parse_tools, tool_parameters


class GroundTruthError(ValueError):
    """The ground truth of a sample is not in the documented format."""


class GoldCall(NamedTuple):
    """One ground-truth call, prepared with its tool's schema for scoring.

    Attributes:
        name: the function name.
        arguments: the canonical argument values.
        acceptable: argument → acceptable values (BFCL form); when not None it governs matching.
        schemas: argument → its JSON schema from the tool's ``parameters`` (absent when undeclared).
        allowed: the argument names a prediction may use (under ``acceptable``: also declared by the schema).
        required: the argument names a prediction must give.
        defaults: for plain gold calls, undeclared-in-gold arguments whose schema has a ``default`` →
            (default, schema): a predicted value equal to it counts as omitted.
    """

    name: str
    arguments: Mapping[str, Any]
    acceptable: Mapping[str, list] | None
    schemas: Mapping[str, Schema]
    allowed: frozenset[str]
    required: frozenset[str]
    defaults: Mapping[str, tuple[Any, Schema]]


class OutcomeResult(NamedTuple):
    """Outcome reward and its components (all floats, the same keys for every sample)."""

    outcome: float
    format: float
    exact_match: float
    correct_name: float
    n_pred_calls: int
    n_gold_calls: int


def score_outcome(parsed: ParsedResponse, gold: tuple[GoldCall, ...], options: OutcomeOptions) -> OutcomeResult:
    """Score a parsed response against the ground truth (see the module docstring for the rules).

    Args:
        parsed: the parsed response.
        gold: the prepared ground-truth calls (:func:`parse_ground_truth`).
        options: mode, string matching, thinking requirement (already applied by the parser).
    """
    predicted = parsed.calls
    n_pred, n_gold = len(predicted), len(gold)
    if not parsed.format_ok:
        return OutcomeResult(0.0, 0.0, 0.0, 0.0, n_pred, n_gold)
    if not gold or not predicted:
        correct = float(not gold and not predicted)
        return OutcomeResult(correct, 1.0, correct, correct, n_pred, n_gold)
    names_match = float(sorted(call.name for call in predicted) == sorted(call.name for call in gold))
    exact_strings = options.string_match == "exact"
    pairs: list[list[tuple[float, bool] | None]] = [[None] * n_gold for _ in range(n_pred)]
    if n_pred == n_gold:
        for index in range(n_pred):
            pairs[index][index] = pair = _score_pair(predicted[index], gold[index], exact_strings)
            if not pair[1]:
                break
        else:
            return OutcomeResult(1.0, 1.0, 1.0, names_match, n_pred, n_gold)
    for row, call in zip(pairs, predicted, strict=True):
        for column, expected in enumerate(gold):
            if row[column] is None:
                row[column] = _score_pair(call, expected, exact_strings)
    exact = n_pred == n_gold and has_perfect_matching([[pair[1] for pair in row] for row in pairs])
    if options.outcome == "binary":
        outcome = float(exact)
    else:
        outcome = min(1.0, max_weight_assignment([[pair[0] for pair in row] for row in pairs]) / max(n_pred, n_gold))
    return OutcomeResult(outcome, 1.0, float(exact), names_match, n_pred, n_gold)


def _score_pair(call: ToolCall, gold: GoldCall, exact_strings: bool) -> tuple[float, bool]:
    """(pair score in [0, 1], exact) for one predicted call against one gold call."""
    if call.name != gold.name:
        return 0.0, False
    predicted = call.arguments
    schemas = gold.schemas
    present = correct = 0
    if gold.acceptable is not None:
        acceptable = gold.acceptable
        allowed = gold.allowed
        for key, value in predicted.items():
            if key in allowed:
                present += 1
                correct += acceptable_value(value, acceptable[key], schemas.get(key), exact_strings)
        union = len(gold.required.union(predicted))
    else:
        golds = gold.arguments
        defaults = gold.defaults
        extra = 0
        for key, value in predicted.items():
            if key in golds:
                present += 1
                correct += typed_equal(value, golds[key], schemas.get(key), exact_strings)
            else:
                default = defaults.get(key)
                if default is None or not typed_equal(value, default[0], default[1], exact_strings):
                    extra += 1
        union = len(golds) + extra
    if union == 0:
        return 1.0, True
    return (1.0 + present / union + correct / union) / 3.0, correct == union


@lru_cache(maxsize=1024)
def parse_ground_truth(ground_truth: str, tools: str | None = None) -> tuple[GoldCall, ...]:
    """Read a ground-truth JSON string and prepare its calls with the tools' schemas (cached: the n responses to a
    prompt share both).

    Args:
        ground_truth: the ``{"calls": [...], "acceptable"?: [...]}`` JSON string.
        tools: the JSON string of the sample's tool schemas (``extra_info["tools"]``), or None.

    Raises:
        GroundTruthError: the ground truth is not in the documented format.
        ToolsError: ``tools`` is not a JSON list of tool schemas.
    """
    schemas = tool_parameters(parse_tools(tools)) if tools is not None else {}
    try:
        payload = json.loads(ground_truth)
    except (TypeError, ValueError) as error:
        raise GroundTruthError(f"ground truth is not valid JSON ({error}): {str(ground_truth)[:200]!r}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("calls"), list):
        raise GroundTruthError(f"ground truth must be an object with a 'calls' list, got: {str(ground_truth)[:200]!r}")
    calls = payload["calls"]
    acceptable = payload.get("acceptable")
    if acceptable is not None and (not isinstance(acceptable, list) or len(acceptable) != len(calls)):
        raise GroundTruthError("ground truth 'acceptable' must be a list parallel to 'calls'")
    gold = []
    for index, call in enumerate(calls):
        if (
            not isinstance(call, dict)
            or not isinstance(call.get("name"), str)
            or not isinstance(call.get("arguments"), dict)
        ):
            raise GroundTruthError(f"ground truth call {index} must be {{'name': str, 'arguments': object}}: {call!r}")
        options = None
        if acceptable is not None:
            entry = acceptable[index]
            if (
                not isinstance(entry, dict)
                or entry.get("name") != call["name"]
                or not isinstance(entry.get("arguments"), dict)
                or not all(isinstance(values, list) for values in entry["arguments"].values())
            ):
                raise GroundTruthError(
                    f"ground truth acceptable[{index}] must be {{'name': {call['name']!r}, 'arguments': "
                    f"{{arg: [values]}}}}: {entry!r}"
                )
            options = entry["arguments"]
        gold.append(_prepare_call(call["name"], call["arguments"], options, schemas.get(call["name"])))
    return tuple(gold)


def _prepare_call(name: str, arguments: dict, acceptable: dict | None, schema: Schema) -> GoldCall:
    declared = declared_properties(schema)
    schemas = {key: child for key in declared if (child := property_schema(schema, key)) is not None}
    if acceptable is not None:
        allowed = frozenset(key for key in acceptable if not declared or key in declared)
        required = frozenset(key for key, options in acceptable.items() if OMITTABLE not in options)
        return GoldCall(name, arguments, acceptable, schemas, allowed, required | set(required_properties(schema)), {})
    defaults = {
        key: (child["default"], child) for key, child in schemas.items() if key not in arguments and "default" in child
    }
    keys = frozenset(arguments)
    return GoldCall(name, arguments, None, schemas, keys, keys, defaults)
