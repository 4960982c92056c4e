"""The multi-turn task: a scenario over BFCL's backends, the user's turns, and the calls that fulfil each turn.

Task files are JSON lines, one task per line (``read_tasks`` / ``write_tasks``)::

    {"id": "gen_fs_17",
     "involved_classes": ["GorillaFileSystem", "TwitterAPI"],
     "initial_config": {"GorillaFileSystem": {"root": {...}}, "TwitterAPI": {...}},   # class → its scenario
     "long_context": false,                                                          # bfcl-eval's long-context mode
     "turns": [[{"role": "user", "content": "Make a folder named temp ..."}], [...], []],
     "ground_truth": [[{"name": "mkdir", "arguments": {"dir_name": "temp"}}], [...], [...]],
     "missed_function": {"2": ["sort"]},                                             # optional
     "source": "generated:file_system"}

``turns[i]`` are the user messages that open turn i; ``ground_truth[i]`` the calls that fulfil it, in order, with
keyword arguments (``[]``: no call is correct, e.g. a request that lacks a parameter or needs a missing function).
``missed_function`` follows BFCL's miss_func category: the named functions are hidden from the tools until turn i,
whose user turn is empty in the file and becomes the announcement bfcl-eval sends (the functions' docs and "I have
updated some more functions you can choose from. What about now?"). Hidden functions are still executable, as in
bfcl-eval. The ground truth is data (JSON), never code.

In the parquet row (``data_preprocess.multiturn``) the task is ``reward_model.ground_truth``: this JSON object with
``"kind": "multi_turn"`` added. The ``awpo_multiturn_agent`` loop reads the scenario and the user turns from it and
the ``awpo`` reward manager the ground truth; :func:`task_of_ground_truth` tells the row kinds apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from awpo.multiturn.backends import BackendError, check_class, function_docs, public_methods

KIND = "multi_turn"
# The agent loop multi-turn rows name in their agent_name column (awpo.multiturn.agent_loop registers it).
AGENT_NAME = "awpo_multiturn_agent"
USER_ROLES = ("user", "system")
Message = dict[str, Any]
Call = dict[str, Any]


class TaskError(ValueError):
    """A multi-turn task that does not follow the documented format."""


@dataclass(frozen=True)
class MultiTurnTask:
    """One multi-turn task (the fields of the module docstring's JSON form).

    Attributes:
        task_id: the task's id.
        involved_classes: the backend classes of the scenario.
        initial_config: class name → its scenario (BFCL's ``initial_config``).
        turns: per turn, the user messages that open it (empty for an announcement turn).
        ground_truth: per turn, the calls ``{"name", "arguments"}`` that fulfil it.
        missed_functions: turn → the functions hidden before it and announced in it.
        long_context: load the scenario in bfcl-eval's long-context mode.
        source: where the task comes from (``bfcl:<category>``, ``generated:<generator>``).
    """

    task_id: str
    involved_classes: tuple[str, ...]
    initial_config: dict[str, Any]
    turns: tuple[tuple[Message, ...], ...]
    ground_truth: tuple[tuple[Call, ...], ...]
    missed_functions: dict[int, tuple[str, ...]] = field(default_factory=dict)
    long_context: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        _check(self)

    @property
    def num_turns(self) -> int:
        """The number of user turns."""
        return len(self.turns)

    def functions(self) -> frozenset[str]:
        """Every function of the involved classes."""
        return frozenset().union(*(public_methods(name) for name in self.involved_classes))

    def hidden_functions(self) -> frozenset[str]:
        """The functions not shown in the tools at the start (announced later)."""
        return frozenset(name for names in self.missed_functions.values() for name in names)

    def shown_docs(self) -> list[dict[str, Any]]:
        """BFCL's docs of the functions shown at the start (every function but the hidden ones), class by class."""
        hidden = self.hidden_functions()
        return [doc for name in self.involved_classes for doc in function_docs(name) if doc["name"] not in hidden]

    def user_messages(self, turn: int) -> list[Message]:
        """The messages that open ``turn``: the file's, or bfcl-eval's announcement on a missed-function turn."""
        if turn in self.missed_functions:
            return [{"role": "user", "content": announcement(self.involved_classes, self.missed_functions[turn])}]
        return [dict(message) for message in self.turns[turn]]

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> MultiTurnTask:
        """A task from its JSON form (a ``"kind"`` key is accepted and ignored).

        Raises:
            TaskError: a missing or malformed field.
        """
        if not isinstance(record, Mapping):
            raise TaskError(f"a task must be a JSON object, got {type(record).__name__}")
        missing = [key for key in ("id", "involved_classes", "turns", "ground_truth") if key not in record]
        if missing:
            raise TaskError(f"task {record.get('id')!r}: missing {', '.join(missing)}")
        try:
            missed = {int(turn): tuple(names) for turn, names in (record.get("missed_function") or {}).items()}
            return cls(
                task_id=str(record["id"]),
                involved_classes=tuple(record["involved_classes"]),
                initial_config=dict(record.get("initial_config") or {}),
                turns=tuple(tuple(turn) for turn in record["turns"]),
                ground_truth=tuple(tuple(turn) for turn in record["ground_truth"]),
                missed_functions=missed,
                long_context=bool(record.get("long_context", False)),
                source=str(record.get("source", "")),
            )
        except TaskError:
            raise
        except (TypeError, ValueError) as error:
            raise TaskError(f"task {record.get('id')!r}: malformed field ({error})") from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (module docstring)."""
        record: dict[str, Any] = {
            "id": self.task_id,
            "involved_classes": list(self.involved_classes),
            "initial_config": self.initial_config,
            "long_context": self.long_context,
            "turns": [list(turn) for turn in self.turns],
            "ground_truth": [list(turn) for turn in self.ground_truth],
        }
        if self.missed_functions:
            record["missed_function"] = {
                str(turn): list(names) for turn, names in sorted(self.missed_functions.items())
            }
        record["source"] = self.source
        return record

    def ground_truth_json(self) -> str:
        """The row's ``reward_model.ground_truth``: the JSON form with ``"kind": "multi_turn"``."""
        return json.dumps({"kind": KIND, **self.to_dict()}, ensure_ascii=False)


def announcement(involved_classes: Iterable[str], names: Iterable[str]) -> str:
    """bfcl-eval's user turn for a missed-function turn (prompting handlers): the functions' docs as a Python list,
    then its fixed sentence."""
    from bfcl_eval.constants.default_prompts import DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING

    wanted = list(names)
    docs = {doc["name"]: doc for name in involved_classes for doc in function_docs(name)}
    return DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING.format(functions=[docs[name] for name in wanted])


@lru_cache(maxsize=256)
def task_of_ground_truth(ground_truth: str) -> MultiTurnTask | None:
    """The task in a row's ``reward_model.ground_truth``, or None when the row is not a multi-turn row. Cached (the
    n responses to one prompt share the string); do not mutate the result.

    Raises:
        TaskError: the ground truth says ``"kind": "multi_turn"`` but is not a valid task.
    """
    try:
        record = json.loads(ground_truth)
    except (TypeError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("kind") != KIND:
        return None
    return MultiTurnTask.from_dict(record)


def read_tasks(path: Path) -> Iterator[MultiTurnTask]:
    """The tasks of a JSON-lines task file, in order.

    Raises:
        TaskError: a line is not a task (naming the file and the line).
        FileNotFoundError: the file does not exist.
    """
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield MultiTurnTask.from_dict(json.loads(line))
            except (ValueError, TaskError) as error:
                raise TaskError(f"{path}:{number}: {error}") from None


def write_tasks(path: Path, tasks: Iterable[MultiTurnTask]) -> int:
    """Write tasks as JSON lines; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(json.dumps(task.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def _check(task: MultiTurnTask) -> None:
    """Raise :class:`TaskError` naming the first field of ``task`` that breaks the format."""
    where = f"task {task.task_id!r}"
    try:
        for name in task.involved_classes:
            check_class(name)
    except BackendError as error:
        raise TaskError(f"{where}: {error}") from None
    if not task.turns or len(task.turns) != len(task.ground_truth):
        raise TaskError(f"{where}: needs one ground-truth list per turn and at least one turn")
    for turn, names in task.missed_functions.items():
        if not 0 < turn < task.num_turns or task.turns[turn]:
            raise TaskError(f"{where}: missed_function turn {turn} must be an empty turn after the first")
        unknown = set(names) - task.functions()
        if unknown or not names:
            raise TaskError(f"{where}: missed_function turn {turn} names unknown functions {sorted(unknown)}")
    functions = task.functions()
    for index, (messages, calls) in enumerate(zip(task.turns, task.ground_truth, strict=True)):
        if not messages and index not in task.missed_functions:
            raise TaskError(f"{where}: turn {index} has no user message")
        for message in messages:
            if not isinstance(message, Mapping) or message.get("role") not in USER_ROLES:
                raise TaskError(f"{where}: turn {index}: a message must be {{'role': 'user', 'content': str}}")
            if not isinstance(message.get("content"), str):
                raise TaskError(f"{where}: turn {index}: message content must be a string")
        for call in calls:
            if not isinstance(call, Mapping) or not isinstance(call.get("arguments"), Mapping):
                raise TaskError(f"{where}: turn {index}: a call must be {{'name': str, 'arguments': {{...}}}}")
            if call.get("name") not in functions:
                raise TaskError(f"{where}: turn {index}: {call.get('name')!r} is not a function of the task's classes")
