"""The one reader of BFCL v4's data files, shipped inside the installed ``bfcl-eval`` package (no import of its code).

Files: ``bfcl_eval/data/BFCL_v4_<category>.json`` (JSON lines: ``{"id", "question": [[messages]], "function":
[schemas]}``) and ``bfcl_eval/data/possible_answer/BFCL_v4_<category>.json`` (``{"id", "ground_truth": [{name:
{arg: [acceptable values]}}]}``). The offline scorer (:mod:`awpo.eval.bfcl`), the converter (``data_preprocess.bfcl``)
and the contamination check (``data_preprocess.check_overlap``) read them through this module; every function takes
an optional ``data_dir`` (default: the installed package's, :func:`data_dir`).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
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
NOT_QUESTION_FILES = ("format_sensitivity",)
INSTALL_HINT = "pip install --no-deps bfcl-eval==2026.3.23"


class BFCLDataError(RuntimeError):
    """bfcl-eval is not installed, or one of its data files is missing or malformed."""


def data_dir() -> Path:
    """``bfcl_eval/data`` of the installed ``bfcl-eval`` package, located without importing it.

    Raises:
        BFCLDataError: bfcl-eval is not installed.
    """
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BFCLDataError(f"the bfcl-eval package is not installed ({INSTALL_HINT})")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def category_file(category: str, answers: bool = False, root: Path | None = None) -> Path:
    """The file of a category's entries, or of its possible answers, in ``root`` (default: :func:`data_dir`)."""
    base = root or data_dir()
    return (base / "possible_answer" if answers else base) / f"{DATA_PREFIX}{category}.json"


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, one per non-empty line, read as they are needed.

    Raises:
        BFCLDataError: the file is missing, or a line is not a JSON object (naming the file and the line).
    """
    return (record for _, record in _numbered_records(path))


def _numbered_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise BFCLDataError(f"{path}: no such file")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise BFCLDataError(f"{path}:{number}: not a JSON line ({error})") from None
            if not isinstance(record, dict):
                raise BFCLDataError(f"{path}:{number}: not a JSON object but a {type(record).__name__}")
            yield number, record


def load_questions(category: str, root: Path | None = None) -> list[dict[str, Any]]:
    """The entries of one category, in file order.

    Raises:
        BFCLDataError: see :func:`read_jsonl`.
    """
    return list(read_jsonl(category_file(category, root=root)))


def load_possible_answers(category: str, root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Entry id → ``ground_truth`` (a list of ``{function_name: {argument: [acceptable values]}}``).

    Raises:
        BFCLDataError: see :func:`read_jsonl`; or an answer without ``id`` and ``ground_truth``.
    """
    path = category_file(category, answers=True, root=root)
    answers = {}
    for number, answer in _numbered_records(path):
        if "id" not in answer or "ground_truth" not in answer:
            raise BFCLDataError(f"{path}:{number}: an answer without 'id' and 'ground_truth'")
        answers[answer["id"]] = answer["ground_truth"]
    return answers


def question_categories(root: Path | None = None) -> list[str]:
    """Every BFCL category with a question file in ``root`` (format_sensitivity's list of ids is not one)."""
    base = root or data_dir()
    names = (path.name[len(DATA_PREFIX) : -len(".json")] for path in base.glob(f"{DATA_PREFIX}*.json"))
    return sorted(name for name in names if name not in NOT_QUESTION_FILES)
