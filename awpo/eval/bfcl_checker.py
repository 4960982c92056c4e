"""bfcl-eval's AST checker, importable beside verl without bfcl-eval's SDK dependencies.

bfcl-eval pins numpy 1.26 and ~30 API SDKs, so the training environment installs it with ``--no-deps``. The checker
itself only needs ``bfcl_eval.constants.model_config.MODEL_CONFIG_MAPPING[name].underscore_to_dot``, and that module
imports the SDKs; :func:`load_ast_checker` provides a stand-in module for it before importing the checker (unless
the real one is already loaded), whose entries all say "names are compared as they are" (``underscore_to_dot =
False``), which is right for a model that emits the functions' own names.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODEL_CONFIG_MODULE = "bfcl_eval.constants.model_config"
CHECKER_MODEL_NAME = "awpo-native-names"


@dataclass(frozen=True)
class _NameConfig:
    underscore_to_dot: bool = False


class _AnyModelConfig(dict):
    def __missing__(self, key: str) -> _NameConfig:
        return _NameConfig()


def load_ast_checker() -> Callable[..., dict[str, Any]]:
    """``bfcl_eval.eval_checker.ast_eval.ast_checker.ast_checker``; call it with ``model_name=CHECKER_MODEL_NAME``."""
    if MODEL_CONFIG_MODULE not in sys.modules:
        stand_in = types.ModuleType(MODEL_CONFIG_MODULE)
        stand_in.MODEL_CONFIG_MAPPING = _AnyModelConfig()
        sys.modules[MODEL_CONFIG_MODULE] = stand_in
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

    return ast_checker


def checker_language(category: str) -> Any:
    """The ``Language`` bfcl-eval checks a category's answers in: JAVA / JAVASCRIPT for simple_java /
    simple_javascript (argument values are Java / JavaScript source strings), PYTHON otherwise."""
    from bfcl_eval.constants.enums import Language

    if category == "simple_java":
        return Language.JAVA
    if category == "simple_javascript":
        return Language.JAVASCRIPT
    return Language.PYTHON
