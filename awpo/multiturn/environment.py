"""One episode's backend instances, and the only way a call reaches them.

bfcl-eval's own executor (``multi_turn_eval/multi_turn_utils.py``) turns every call into a Python string and runs it
with ``eval()``, guarded by a deny-list of eight names, and keeps the backend instances in its module's
``globals()`` keyed by model name and test id. Here nothing is evaluated and nothing is shared:

- an :class:`Environment` owns fresh instances of its task's classes, each loaded from a private deep copy of the
  task's initial configuration (backends keep and change the scenario objects they are given); in long-context
  mode, which merges module-level data into the state by reference, the loaded state is deep-copied again;
- :meth:`Environment.call` dispatches by name to a public method of those instances (the allow-list of
  :func:`awpo.multiturn.backends.public_methods`; private and dunder names are unknown functions), binds the
  JSON-decoded arguments to the method's signature before calling it and hands the method private copies of every
  argument and default value (backends keep argument objects in their state and mutate them later: neither the
  caller's data nor a mutable default shared by all calls may change), and turns every failure (unknown function,
  arguments that are not a JSON object or do not fit the signature, values over the cost limits, an exception inside
  the backend) into an error result — it never raises;
- the backends set two process-wide numeric contexts (``math_api`` sets the decimal precision and mpmath's
  precision from its arguments); each call runs under a process-wide lock inside a local decimal context with
  mpmath's precision restored afterwards, so concurrent episodes (agent-loop coroutines, reward threads) can
  neither see nor leave such settings.

Results are rendered as bfcl-eval renders them (a string as is, a dict as JSON, anything else with ``str``), and a
failed call reads ``Error during execution: <reason>`` as in bfcl-eval, so a model sees the same tool messages
here and under ``bfcl generate``.
"""

from __future__ import annotations

import copy
import decimal
import inspect
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from awpo.multiturn.backends import STATELESS_CLASSES, backend_class, public_methods

ERROR_PREFIX = "Error during execution: "
MAX_ARGUMENT_CHARS = 100_000
# Arguments whose size sets the cost of a call (digits of precision, the exponent of an integer power): a call
# above the bound is refused instead of running for minutes. BFCL's tasks stay far below (precision ≤ 10).
COST_LIMITS: Mapping[str, Mapping[str, int]] = {
    "logarithm": {"precision": 1_000},
    "square_root": {"precision": 1_000},
    "power": {"exponent": 1_000},
}
_EXECUTION_LOCK = threading.Lock()


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call.

    Attributes:
        text: what the tool message shows (bfcl-eval's rendering; ``Error during execution: ...`` on failure).
        error: True when the call was refused or raised.
    """

    text: str
    error: bool


class Environment:
    """Fresh instances of a task's backend classes for one episode (see the module docstring).

    Args:
        involved_classes: backend class names (:data:`awpo.multiturn.backends.BACKEND_STEMS`).
        initial_config: class name → its scenario (BFCL's ``initial_config``); absent classes start from the
            backend's defaults. Never mutated.
        long_context: load the scenarios in bfcl-eval's long-context mode.

    Raises:
        awpo.multiturn.backends.BackendError: an unknown class, or bfcl-eval is not installed.
    """

    def __init__(
        self,
        involved_classes: Sequence[str],
        initial_config: Mapping[str, Any] | None = None,
        long_context: bool = False,
    ) -> None:
        config = initial_config or {}
        instances: dict[str, Any] = {}
        methods: dict[str, Callable[..., Any]] = {}
        for name in involved_classes:
            instance = backend_class(name)()
            if name not in STATELESS_CLASSES:
                instance._load_scenario(copy.deepcopy(config.get(name, {})), long_context=long_context)
                if long_context:  # the module's long-context data was merged into the state by reference
                    vars(instance).update(copy.deepcopy(vars(instance)))
            instances[name] = instance
            methods.update((method, getattr(instance, method)) for method in sorted(public_methods(name)))
        self._instances = instances
        self._methods = methods

    @property
    def instances(self) -> Mapping[str, Any]:
        """Class name → this episode's instance (read-only view)."""
        return MappingProxyType(self._instances)

    @property
    def functions(self) -> frozenset[str]:
        """The names that can be called."""
        return frozenset(self._methods)

    def call(self, name: Any, arguments: Any) -> CallResult:
        """Execute one call; never raises.

        Args:
            name: the function name (anything: only a public method of an involved class is executed).
            arguments: the decoded JSON arguments (only a mapping of names to values is accepted).
        """
        method = self._methods.get(name) if isinstance(name, str) else None
        if method is None:
            return _error(f"unknown function {str(name)[:100]!r}")
        if not isinstance(arguments, Mapping) or not all(isinstance(key, str) for key in arguments):
            return _error(f"the arguments of {name} must be a JSON object")
        refusal = _refusal(name, arguments)
        if refusal is not None:
            return _error(refusal)
        try:
            bound = _signature(type(method.__self__), name).bind(**arguments)
        except TypeError as error:
            return _error(f"{name}: {error}")
        bound.apply_defaults()
        try:
            with _EXECUTION_LOCK, _isolated_numeric_contexts():
                return CallResult(render_result(method(**copy.deepcopy(bound.arguments))), error=False)
        except Exception as error:  # backend code fed model output: any failure is an error result
            return _error(str(error))

    def state(self) -> dict[str, dict[str, Any]]:
        """A deep copy of every stateful instance's public attributes (what bfcl-eval's state check compares)."""
        return {
            name: copy.deepcopy(public_attributes(instance))
            for name, instance in self._instances.items()
            if name not in STATELESS_CLASSES
        }


def public_attributes(instance: Any) -> dict[str, Any]:
    """The attributes bfcl-eval compares: every instance attribute whose name does not start with ``_``."""
    return {key: value for key, value in vars(instance).items() if not key.startswith("_")}


def render_result(value: Any) -> str:
    """A call's return value as bfcl-eval shows it: a string as is, a dict as JSON (``str`` when it is not
    serialisable), anything else with ``str``."""
    if type(value) is str:
        return value
    if type(value) is dict:
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


@cache
def _signature(cls: type, name: str) -> inspect.Signature:
    """The signature of method ``name`` without ``self``, with private copies of its default values: backends store
    argument values in their state (``post_tweet(mentions=[])`` keeps the list, ``mention`` extends it later), so a
    mutable default shared by every call would carry state from one episode into the next."""
    signature = inspect.signature(getattr(cls, name))
    parameters = [
        parameter.replace(default=copy.deepcopy(parameter.default))
        for parameter in list(signature.parameters.values())[1:]
    ]
    return signature.replace(parameters=parameters)


def _error(reason: str) -> CallResult:
    return CallResult(f"{ERROR_PREFIX}{reason}", error=True)


def _refusal(name: str, arguments: Mapping[str, Any]) -> str | None:
    """Why a call is refused before it runs (too large, too costly), or None."""
    try:
        size = len(json.dumps(arguments, default=str))
    except (TypeError, ValueError, RecursionError):
        return f"the arguments of {name} cannot be encoded as JSON"
    if size > MAX_ARGUMENT_CHARS:
        return f"the arguments of {name} are {size} characters long (at most {MAX_ARGUMENT_CHARS})"
    for argument, bound in COST_LIMITS.get(name, {}).items():
        value = arguments.get(argument)
        if isinstance(value, int | float) and not isinstance(value, bool) and not abs(value) <= bound:
            return f"{name}: {argument}={value!r} is out of range (|{argument}| ≤ {bound})"
    return None


@contextmanager
def _isolated_numeric_contexts() -> Iterator[None]:
    """Run inside a local decimal context and restore mpmath's precision (when mpmath is loaded) afterwards."""
    mpmath = sys.modules.get("mpmath")
    precision = mpmath.mp.prec if mpmath is not None else None
    try:
        with decimal.localcontext():
            yield
    finally:
        if mpmath is not None:
            mpmath.mp.prec = precision
