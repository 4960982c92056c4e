"""Package layering: ``awpo`` is the installed library and ``data_preprocess`` (the converters) depends on it, never
the reverse. Every module of ``awpo`` is parsed with ``ast`` and each import it makes, at module level or inside a
function, is resolved to an absolute module name."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import awpo

AWPO_ROOT = Path(awpo.__file__).resolve().parent
FORBIDDEN = "data_preprocess"


def module_name(path: Path) -> str:
    """``awpo/eval/bfcl.py`` → ``awpo.eval.bfcl``; ``awpo/eval/__init__.py`` → ``awpo.eval``."""
    parts = path.relative_to(AWPO_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """The absolute names of the modules ``source`` imports: ``import x``, ``from x import y`` (also as ``x.y``,
    since ``y`` may be a submodule), relative imports resolved against ``module``, and
    ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.args[0].value


def awpo_imports() -> dict[str, set[str]]:
    """Every module of the ``awpo`` package → the modules it imports."""
    graph = {}
    for path in sorted(AWPO_ROOT.rglob("*.py")):
        name = module_name(path)
        graph[name] = set(imported_modules(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"))
    return graph


def forbidden(name: str) -> bool:
    return name == FORBIDDEN or name.startswith(f"{FORBIDDEN}.")


def test_no_awpo_module_imports_data_preprocess() -> None:
    graph = awpo_imports()
    offenders = {module: sorted(filter(forbidden, imports)) for module, imports in graph.items()}
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_walk_sees_every_module_and_its_imports() -> None:
    graph = awpo_imports()
    assert {"awpo", "awpo.agent_loop", "awpo.eval.bfcl", "awpo.rewards.judge.client", "awpo.cpu.quickstart"} <= set(
        graph
    )
    assert "awpo.rows" in graph["awpo.agent_loop"] and "awpo.tools.sample_tools" in graph["awpo.agent_loop"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import data_preprocess.xlam", "data_preprocess.xlam"),
        ("from data_preprocess import xlam", "data_preprocess.xlam"),
        ("def f():\n    from data_preprocess.schema import AGENT_NAME\n", "data_preprocess.schema"),
        ("import importlib\nimportlib.import_module('data_preprocess.bfcl')", "data_preprocess.bfcl"),
        ("__import__('data_preprocess')", "data_preprocess"),
    ],
)
def test_every_import_form_is_seen(source: str, expected: str) -> None:
    assert expected in set(imported_modules(source, "awpo.cpu.quickstart"))


def test_relative_imports_are_resolved() -> None:
    assert "awpo.rewards.values" in set(imported_modules("from ..rewards import values", "awpo.eval.bfcl"))
    assert "awpo.eval.bfcl_data" in set(imported_modules("from . import bfcl_data", "awpo.eval", is_package=True))
