"""BFCL v4 single-turn categories → verl RL parquet, for validation and evaluation only (never training).

    python -m data_preprocess.bfcl --output-dir data/bfcl [--categories simple_python live_multiple ...]
        [--max-per-category N] [--max-samples N] [--bfcl-data-dir DIR]

Reads the data files shipped in the installed ``bfcl-eval`` package (``bfcl_eval/data/BFCL_v4_<category>.json``,
JSON lines, answers in ``possible_answer/``) through :mod:`awpo.eval.bfcl_data`; no ``bfcl_eval`` module is
imported. Writes only ``val.parquet`` (every row has ``extra_info.split = "val"``) and ``stats.json``;
``data_source`` is ``bfcl_<category>`` so verl reports validation metrics per category.

Categories:

- with possible answers: simple_python, multiple, parallel, parallel_multiple, live_simple, live_multiple,
  live_parallel, live_parallel_multiple. Ground truth ``calls``: one canonical call per BFCL answer (the first
  acceptable value of each argument that coerces to the parameter's type, or the first one at all; arguments whose
  acceptable values include ``""`` and that are not required are omitted), plus ``acceptable``: BFCL's acceptable
  values per argument (coerced, ``""`` kept; dict arguments in BFCL's nested form ``{key: [values]}``);
- irrelevance, live_irrelevance: ``calls: []``.

Not converted: simple_java / simple_javascript (answers are Java/JavaScript source strings checked by BFCL's
language converters, not typed JSON values), live_relevance (its truth is "any call", which a ground truth cannot
state), multi-turn (executed episodes: ``data_preprocess.bfcl_multiturn``), memory, web_search and
format_sensitivity (scored by other harnesses).

Every BFCL entry is kept, so counts match the official ones; defects of BFCL's own answers are counted as notes
(``uncoercible_value``, ``answer_argument_not_in_schema``, ``answer_missing_required_argument``, ...).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.eval.bfcl_data import (
    AST_CATEGORIES,
    IRRELEVANCE_CATEGORIES,
    BFCLDataError,
    category_file,
    data_dir,
    load_possible_answers,
    read_jsonl,
)
from awpo.rows import Call, Sample, text_message
from awpo.tools import tool_parameters
from data_preprocess.coerce import CoercionError, coerce_value
from data_preprocess.pipeline import ConversionStats, RecordError, convert_records, positive_int, run
from data_preprocess.reader import InputError
from data_preprocess.tool_schema import ToolSchemaError, normalize_tools

DEFAULT_CATEGORIES = AST_CATEGORIES + IRRELEVANCE_CATEGORIES
MULTI_TURN_REASON = "multi-turn episodes are executed, not single-turn rows: use data_preprocess.bfcl_multiturn"
NOT_CONVERTED = {
    "simple_java": "its answers are Java source strings checked by BFCL's Java type converter",
    "simple_javascript": "its answers are JavaScript source strings checked by BFCL's JavaScript type converter",
    "live_relevance": "its ground truth is 'any call', which the outcome reward cannot state",
    "multi_turn_base": MULTI_TURN_REASON,
    "multi_turn_miss_func": MULTI_TURN_REASON,
    "multi_turn_miss_param": MULTI_TURN_REASON,
    "multi_turn_long_context": MULTI_TURN_REASON,
    "memory": "agentic categories are scored by BFCL's own harness",
    "web_search": "agentic categories are scored by BFCL's own harness",
    "format_sensitivity": "it is a list of test ids, not test entries",
}
EXPECTED_FORMAT = '{"id", "question": [[messages]], "function": [schemas]} (BFCL v4 JSON lines)'


def _nested_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object"


def _nested_object_list(schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    return schema.get("type") == "array" and isinstance(items, Mapping) and items.get("type") == "object"


def _coerce_nested(option: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    properties = schema.get("properties") or {}
    result, ok = {}, True
    for key, values in option.items():
        coerced = [_coerce_option(value, properties.get(key, {})) for value in values]
        result[key] = [value for value, _ in coerced]
        ok = ok and all(value_ok for _, value_ok in coerced)
    return result, ok


def _coerce_option(value: Any, schema: Mapping[str, Any]) -> tuple[Any, bool]:
    """One acceptable value coerced to its schema (nested forms coerced key by key), and whether it coerced."""
    if value == "":
        return value, True
    if _nested_object(schema) and isinstance(value, Mapping) and all(isinstance(v, list) for v in value.values()):
        return _coerce_nested(value, schema)
    if _nested_object_list(schema) and isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        pairs = [_coerce_nested(item, schema["items"]) for item in value]
        return [item for item, _ in pairs], all(ok for _, ok in pairs)
    try:
        return coerce_value(value, schema), True
    except CoercionError:
        return value, False


def _canonical_nested(option: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: next(value for value in values if value != "")
        for key, values in option.items()
        if "" not in values and any(value != "" for value in values)
    }


def _canonical(option: Any, schema: Mapping[str, Any]) -> Any:
    if _nested_object(schema) and isinstance(option, Mapping) and all(isinstance(v, list) for v in option.values()):
        return _canonical_nested(option)
    if _nested_object_list(schema) and isinstance(option, list) and all(isinstance(v, Mapping) for v in option):
        return [_canonical_nested(item) for item in option]
    return option


def canonical_call(
    name: str, answer: Mapping[str, list[Any]], parameters: Mapping[str, Any], notes: list[str]
) -> tuple[Call, Call]:
    """A BFCL answer ``{arg: [acceptable values]}`` as ``(canonical call, acceptable entry)``; see the module
    docstring for the rules. Defects of the answer are appended to ``notes``."""
    properties = parameters.get("properties", {})
    required = set(parameters.get("required", []))
    arguments: dict[str, Any] = {}
    acceptable: dict[str, list[Any]] = {}
    for argument, options in answer.items():
        schema = properties.get(argument)
        if schema is None:
            notes.append("answer_argument_not_in_schema")
            schema = {}
        coerced = [_coerce_option(option, schema) for option in options]
        acceptable[argument] = [value for value, _ in coerced]
        if not all(ok for _, ok in coerced):
            notes.append("uncoercible_acceptable_value")
        if "" in options and argument not in required:
            continue
        candidates = [(value, ok) for (value, ok), option in zip(coerced, options, strict=True) if option != ""]
        if not candidates:
            notes.append("no_usable_acceptable_value")
            continue
        chosen = next((value for value, ok in candidates if ok), candidates[0][0])
        if not any(ok for _, ok in candidates):
            notes.append("uncoercible_value")
        arguments[argument] = _canonical(chosen, schema)
    if required - set(answer):
        notes.append("answer_missing_required_argument")
    return {"name": name, "arguments": arguments}, {"name": name, "arguments": acceptable}


def convert_entry(entry: Mapping[str, Any], category: str, truth: Any = None) -> Sample:
    """One BFCL entry (and its possible answer's ``ground_truth``, for categories that have one) as a validation
    sample.

    Raises:
        RecordError: the entry or its answer does not have BFCL's shape.
    """
    question, functions = entry.get("question"), entry.get("function")
    if not (isinstance(question, list) and question and isinstance(question[0], list) and isinstance(functions, list)):
        raise RecordError("malformed_record", "no 'question' [[messages]] and 'function' list", structural=True)
    notes: list[str] = []
    try:
        tools = normalize_tools(functions, notes)
        prompt = [text_message(message["role"], message["content"]) for message in question[0]]
    except (ToolSchemaError, KeyError, TypeError) as error:
        raise RecordError("malformed_record", f"{type(error).__name__}: {error}") from None
    calls: list[Call] = []
    acceptable: list[Call] | None = None
    if category in AST_CATEGORIES:
        if not isinstance(truth, list) or not all(isinstance(item, Mapping) and len(item) == 1 for item in truth):
            raise RecordError("missing_answer", f"no possible answer for {entry.get('id')!r}")
        parameters_by_name = tool_parameters(tools)
        acceptable = []
        for item in truth:
            ((name, arguments),) = item.items()
            if name not in parameters_by_name:
                notes.append("answer_function_not_in_tools")
            call, accepted = canonical_call(name, arguments, parameters_by_name.get(name, {}), notes)
            calls.append(call)
            acceptable.append(accepted)
    return Sample(
        data_source=f"bfcl_{category}",
        source_id=str(entry.get("id")),
        turn_index=0,
        prompt=prompt,
        tools=tools,
        calls=calls,
        acceptable=acceptable,
        notes=tuple(notes),
    )


def check_categories(categories: Sequence[str]) -> None:
    """Reject categories this converter does not produce, saying why.

    Raises:
        ValueError: an unknown or unsupported category.
    """
    for category in categories:
        if category in NOT_CONVERTED:
            raise ValueError(f"BFCL category {category!r} is not converted: {NOT_CONVERTED[category]}")
        if category not in DEFAULT_CATEGORIES:
            raise ValueError(f"unknown BFCL category {category!r}; choose from {', '.join(DEFAULT_CATEGORIES)}")


def iter_entries(
    root: Path, categories: Sequence[str], max_per_category: int | None = None
) -> Iterator[dict[str, Any]]:
    """``{"category", "entry", "truth"}`` for the entries of each category in ``root``, in file order (``truth``: the
    entry's possible answer, None when it has none).

    Raises:
        BFCLDataError: a category file is missing or malformed.
    """
    for category in categories:
        answers = load_possible_answers(category, root) if category in AST_CATEGORIES else {}
        for count, entry in enumerate(read_jsonl(category_file(category, root=root))):
            if max_per_category is not None and count >= max_per_category:
                break
            yield {"category": category, "entry": entry, "truth": answers.get(entry.get("id"))}


def convert_categories(
    root: Path | None,
    categories: Sequence[str],
    output_dir: Path,
    max_per_category: int | None = None,
    max_samples: int | None = None,
) -> ConversionStats:
    """Convert ``categories`` of the BFCL data in ``root`` (default: the installed bfcl-eval's) into
    ``output_dir/val.parquet`` and ``stats.json``.

    Raises:
        InputError: bfcl-eval is not installed, or a data file is missing or malformed; nothing is written.
    """
    try:
        root = root or data_dir()
        stats = ConversionStats(
            source="bfcl",
            input=str(root),
            options={"categories": list(categories), "max_per_category": max_per_category, "max_samples": max_samples},
        )
        return convert_records(
            iter_entries(root, categories, max_per_category),
            lambda record, _: [convert_entry(record["entry"], record["category"], record["truth"])],
            output_dir,
            stats,
            split_of=lambda _: "val",
            splits=("val",),
            expected_format=EXPECTED_FORMAT,
            max_samples=max_samples,
        )
    except BFCLDataError as error:
        raise InputError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Convert BFCL v4 single-turn categories into a verl validation parquet (val.parquet only)."
    )
    parser.add_argument("--output-dir", type=Path, required=True, help="writes val.parquet and stats.json")
    parser.add_argument(
        "--categories",
        nargs="+",
        default=list(DEFAULT_CATEGORIES),
        metavar="CATEGORY",
        help=f"BFCL categories (default: {' '.join(DEFAULT_CATEGORIES)})",
    )
    parser.add_argument("--max-per-category", type=positive_int, help="first N entries of each category (all)")
    parser.add_argument("--max-samples", type=positive_int, help="stop after this many samples in total (all)")
    parser.add_argument("--bfcl-data-dir", type=Path, help="BFCL data directory (default: the installed bfcl-eval)")
    args = parser.parse_args(argv)
    try:
        check_categories(args.categories)
    except ValueError as error:
        parser.error(str(error))
    return run(
        lambda: convert_categories(
            args.bfcl_data_dir, args.categories, args.output_dir, args.max_per_category, args.max_samples
        )
    )


if __name__ == "__main__":
    sys.exit(main())
