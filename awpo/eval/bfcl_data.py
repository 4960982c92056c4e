"""Read BFCL v4 evaluation data shipped inside the installed ``bfcl-eval`` package (no import of its code).

Files: ``bfcl_eval/data/BFCL_v4_<category>.json`` (JSON lines: ``{"id", "question": [[messages]], "function":
[schemas]}``) and ``bfcl_eval/data/possible_answer/BFCL_v4_<category>.json`` (``{"id", "ground_truth": [{name:
{arg: [acceptable values]}}]}``).
"""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

DATA_PREFIX = "BFCL_v4_"
# Single-turn categories with possible answers whose calls are JSON-typed (python); java/javascript answers are
# strings the checker converts with language-specific parsers, which a JSON tool-call format does not exercise.
# These are what data conversion uses; the offline scorer checks java and javascript too (awpo.eval.bfcl).
AST_CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
IRRELEVANCE_CATEGORIES = ("irrelevance", "live_irrelevance")


def data_root() -> Traversable:
    """``bfcl_eval/data`` of the installed package.

    Raises:
        ModuleNotFoundError: bfcl-eval is not installed (``pip install --no-deps bfcl-eval==2026.3.23``).
    """
    return files("bfcl_eval") / "data"


def _read_jsonl(path: Traversable) -> list[dict[str, Any]]:
    with path.open("r", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_questions(category: str) -> list[dict[str, Any]]:
    """The entries of one category, in file order."""
    return _read_jsonl(data_root() / f"{DATA_PREFIX}{category}.json")


def load_possible_answers(category: str) -> dict[str, list[dict[str, Any]]]:
    """Entry id → ``ground_truth`` (a list of ``{function_name: {argument: [acceptable values]}}``)."""
    answers = _read_jsonl(data_root() / "possible_answer" / f"{DATA_PREFIX}{category}.json")
    return {answer["id"]: answer["ground_truth"] for answer in answers}
