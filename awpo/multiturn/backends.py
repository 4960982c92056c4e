"""The stateful backends bfcl-eval ships for its multi-turn categories, and what may be called on them.

bfcl-eval (installed ``--no-deps`` beside verl) carries eight pure-Python classes in
``bfcl_eval/eval_checker/multi_turn_eval/func_source_code/`` and one JSON-lines file of function docs per class in
``bfcl_eval/data/multi_turn_func_doc/``; both share the stem listed in :data:`BACKEND_STEMS`. A class's callable
surface is its public methods (:func:`public_methods`) — exactly the functions its docs describe (a test checks it).
The memory and web-search classes of BFCL's agentic categories are not multi-turn backends and are not listed.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from typing import Any

from awpo.eval.bfcl_data import INSTALL_HINT, data_dir, read_jsonl

BACKEND_PACKAGE = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
BACKEND_STEMS = {
    "GorillaFileSystem": "gorilla_file_system",
    "MathAPI": "math_api",
    "MessageAPI": "message_api",
    "TwitterAPI": "posting_api",
    "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}
# Classes without a scenario: bfcl-eval never calls their _load_scenario.
STATELESS_CLASSES = frozenset({"MathAPI"})
FUNC_DOC_DIR = "multi_turn_func_doc"


class BackendError(ValueError):
    """An unknown backend class, or bfcl-eval's backends are not installed."""


def check_class(name: Any) -> str:
    """``name`` when it is one of :data:`BACKEND_STEMS`.

    Raises:
        BackendError: any other value.
    """
    if not isinstance(name, str) or name not in BACKEND_STEMS:
        raise BackendError(f"unknown backend class {name!r}; expected one of {', '.join(BACKEND_STEMS)}")
    return name


@cache
def backend_class(name: str) -> type:
    """The backend class ``name`` (imported on first use).

    Raises:
        BackendError: ``name`` is not a backend, or bfcl-eval is not installed.
    """
    module_name = f"{BACKEND_PACKAGE}.{BACKEND_STEMS[check_class(name)]}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise BackendError(f"cannot import {module_name} ({error}); {INSTALL_HINT}") from None
    return getattr(module, name)


@cache
def public_methods(name: str) -> frozenset[str]:
    """The names of the public methods of backend ``name``: the allow-list of callable functions.

    Raises:
        BackendError: see :func:`backend_class`.
    """
    cls = backend_class(name)
    return frozenset(
        method for method, _ in inspect.getmembers(cls, predicate=inspect.isfunction) if not method.startswith("_")
    )


@cache
def function_docs(name: str) -> tuple[dict[str, Any], ...]:
    """BFCL's function docs of backend ``name`` as shipped (``{"name", "description", "parameters", "response"}``,
    BFCL's type names), in file order. Cached; do not mutate them.

    Raises:
        BackendError: ``name`` is not a backend.
        awpo.eval.bfcl_data.BFCLDataError: bfcl-eval or the docs file is missing.
    """
    path = data_dir() / FUNC_DOC_DIR / f"{BACKEND_STEMS[check_class(name)]}.json"
    return tuple(read_jsonl(path))
