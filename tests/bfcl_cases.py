"""Hermes-format responses built from BFCL's shipped possible answers: correct ones and systematic perturbations.

Used by the agreement test between the outcome reward (binary) and bfcl-eval's AST checker.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from awpo.eval.bfcl_data import AST_CATEGORIES, load_possible_answers, load_questions

UNKNOWN_ARGUMENT = "zz_unknown_argument"


def calls_response(calls: list[dict]) -> str:
    """A Hermes-format response (a think block, then one ``<tool_call>`` block per call)."""
    blocks = "\n".join(
        f"<tool_call>\n{json.dumps({'name': c['name'], 'arguments': c['arguments']})}\n</tool_call>" for c in calls
    )
    return f"<think>\nI will call the functions.\n</think>\n\n{blocks}"


@dataclass(frozen=True)
class Case:
    category: str
    entry_id: str
    kind: str
    functions: list[dict]
    possible_answer: list[dict]
    calls: list[dict]  # [{"name": str, "arguments": dict}]

    def response(self) -> str:
        return calls_response(self.calls)

    def checker_output(self) -> list[dict]:
        return [{call["name"]: call["arguments"]} for call in self.calls]

    def ground_truth(self) -> str:
        calls, acceptable = [], []
        for answer in self.possible_answer:
            ((name, arguments),) = answer.items()
            calls.append({"name": name, "arguments": canonical_arguments(arguments)})
            acceptable.append({"name": name, "arguments": arguments})
        return json.dumps({"calls": calls, "acceptable": acceptable})

    def tools(self) -> str:
        return json.dumps([{"type": "function", "function": function} for function in self.functions])


def canonical_value(options: list) -> Any:
    """The first acceptable value, with BFCL's nested dict/list-of-dict forms resolved recursively.

    A few BFCL entries list no acceptable value at all for a required argument (e.g. live_simple_106-63-0, where
    ``[[]]`` was meant); those entries are unsatisfiable for the checker too, and the empty list stands in.
    """
    value = next((option for option in options if option != ""), [])
    if isinstance(value, dict):
        return _first_options(value)
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [_first_options(item) for item in value]
    return copy.deepcopy(value)


def _first_options(nested: dict) -> dict:
    """A BFCL nested-form dict ({key: [acceptable values]}, one level deep) resolved to a plain dict."""
    return {
        key: copy.deepcopy(next((option for option in options if option != ""), []))
        for key, options in nested.items()
        if "" not in options
    }


def canonical_arguments(arguments: dict) -> dict:
    """Arguments that must be given (no "" among their options) set to their first acceptable value."""
    return {key: canonical_value(options) for key, options in arguments.items() if "" not in options}


def wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7919
    if isinstance(value, float):
        return value + 1234.5
    if isinstance(value, str):
        return value + " zzwrong"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["zzwrong"]
    if isinstance(value, dict):
        return {**value, "zz_extra_key": "zzwrong"}
    return "zzwrong"


def wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 12345
    if isinstance(value, list | dict):
        return json.dumps(value)
    return 0


def cases() -> Iterator[Case]:
    """Every AST category entry: the correct answer and each applicable perturbation."""
    for category in AST_CATEGORIES:
        answers = load_possible_answers(category)
        for entry in load_questions(category):
            possible = answers[entry["id"]]
            correct = [
                {"name": name, "arguments": canonical_arguments(arguments)}
                for answer in possible
                for name, arguments in answer.items()
            ]
            base = {
                "category": category,
                "entry_id": entry["id"],
                "functions": entry["function"],
                "possible_answer": possible,
            }
            yield Case(kind="correct", calls=correct, **base)
            first = correct[0]
            schema = next(f for f in entry["function"] if f["name"] == first["name"])
            if first["arguments"]:
                key = sorted(first["arguments"])[0]
                for kind, change in (("wrong_value", wrong_value), ("wrong_type", wrong_type)):
                    calls = copy.deepcopy(correct)
                    calls[0]["arguments"][key] = change(calls[0]["arguments"][key])
                    yield Case(kind=kind, calls=calls, **base)
            required = [k for k in schema["parameters"].get("required", []) if k in first["arguments"]]
            if required:
                calls = copy.deepcopy(correct)
                del calls[0]["arguments"][required[0]]
                yield Case(kind="missing_required", calls=calls, **base)
            calls = copy.deepcopy(correct)
            calls[0]["arguments"][UNKNOWN_ARGUMENT] = 1
            yield Case(kind="unknown_argument", calls=calls, **base)
            yield Case(kind="extra_call", calls=[*copy.deepcopy(correct), copy.deepcopy(first)], **base)
            calls = copy.deepcopy(correct)
            calls[0]["name"] = first["name"] + "_x"
            yield Case(kind="wrong_name", calls=calls, **base)
            if len(correct) > 1:
                yield Case(kind="swapped_order", calls=list(reversed(copy.deepcopy(correct))), **base)
                yield Case(kind="missing_call", calls=copy.deepcopy(correct[:-1]), **base)
