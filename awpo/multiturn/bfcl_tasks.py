"""BFCL's multi-turn entries as :class:`~awpo.multiturn.task.MultiTurnTask` s, their Python call strings read with
:mod:`ast`.

BFCL's possible answers for the multi-turn categories are Python call strings, one list per turn
(``"mv(source='final_report.pdf', destination='temp')"``, ``"sort('final_report.pdf')"``). bfcl-eval runs them with
``eval()``; here :func:`parse_call_string` reads one with ``ast.parse`` and accepts only a call of a bare name whose
arguments are literals (``ast.literal_eval``), and :func:`keyword_call` binds positional arguments to the backend
method's parameter names, so the task holds keyword arguments only. Nothing is evaluated.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from awpo.eval.bfcl_data import load_possible_answers, load_questions
from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.backends import backend_class, public_methods
from awpo.multiturn.task import Call, MultiTurnTask, TaskError

MAX_CALL_CHARS = 100_000
LONG_CONTEXT_CATEGORY = "multi_turn_long_context"


def parse_call_string(text: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """(name, positional arguments, keyword arguments) of one Python call string with literal arguments.

    Raises:
        TaskError: not a single call of a bare name with literal arguments (``**`` and ``*`` are refused).
    """
    if not isinstance(text, str) or len(text) > MAX_CALL_CHARS:
        raise TaskError(f"not a call string of at most {MAX_CALL_CHARS} characters: {str(text)[:200]!r}")
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ValueError("not a call of a bare function name")
        if any(isinstance(argument, ast.Starred) for argument in node.args) or any(
            keyword.arg is None for keyword in node.keywords
        ):
            raise ValueError("starred arguments")
        positional = tuple(ast.literal_eval(argument) for argument in node.args)
        keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as error:
        raise TaskError(f"cannot read the call {text[:200]!r}: {error}") from None
    return node.func.id, positional, keywords


def keyword_call(involved_classes: Sequence[str], text: str) -> Call:
    """A call string as ``{"name", "arguments"}`` with every argument named (bound to the method's signature; the
    last class that has the method wins, as in bfcl-eval).

    Raises:
        TaskError: the string is not a literal call, names no method of the classes, or does not fit its signature.
    """
    name, positional, keywords = parse_call_string(text)
    owners = [cls for cls in involved_classes if name in public_methods(cls)]
    if not owners:
        raise TaskError(f"{name!r} is not a function of {', '.join(involved_classes)}")
    signature = inspect.signature(getattr(backend_class(owners[-1]), name))
    parameters = list(signature.parameters.values())[1:]  # without self
    try:
        bound = signature.replace(parameters=parameters).bind(*positional, **keywords)
    except TypeError as error:
        raise TaskError(f"{text[:200]!r} does not fit {name}{signature}: {error}") from None
    return {"name": name, "arguments": dict(bound.arguments)}


def task_from_entry(entry: Mapping[str, Any], ground_truth: Sequence[Sequence[str]]) -> MultiTurnTask:
    """The task of one BFCL multi-turn entry (``question``, ``initial_config``, ``involved_classes``,
    ``missed_function``) and its possible answer (call strings per turn).

    Raises:
        TaskError: the entry or its answer is malformed.
    """
    entry_id = str(entry.get("id"))
    classes = tuple(entry.get("involved_classes") or ())
    category = entry_id.rsplit("_", 1)[0]
    try:
        calls = tuple(tuple(keyword_call(classes, text) for text in turn) for turn in ground_truth)
    except TaskError as error:
        raise TaskError(f"{entry_id}: {error}") from None
    return MultiTurnTask(
        task_id=entry_id,
        involved_classes=classes,
        initial_config=dict(entry.get("initial_config") or {}),
        turns=tuple(tuple(turn) for turn in entry.get("question") or ()),
        ground_truth=calls,
        missed_functions={int(turn): tuple(names) for turn, names in (entry.get("missed_function") or {}).items()},
        long_context=category == LONG_CONTEXT_CATEGORY,
        source=f"bfcl:{category}",
    )


def load_bfcl_tasks(category: str, root: Path | None = None) -> list[MultiTurnTask]:
    """Every entry of one BFCL multi-turn category as a task, in file order.

    Raises:
        TaskError: an unknown category, or a malformed entry.
        awpo.eval.bfcl_data.BFCLDataError: bfcl-eval or its data files are missing.
    """
    if category not in MULTI_TURN:
        raise TaskError(f"{category!r} is not a BFCL multi-turn category ({', '.join(MULTI_TURN)})")
    answers = load_possible_answers(category, root)
    return [task_from_entry(entry, answers[entry["id"]]) for entry in load_questions(category, root)]
