"""Streaming input: a Hugging Face Hub dataset name, or a local json / jsonl / parquet file or a directory of them.

Local files are read here, without ``datasets``: parquet with pyarrow, in batches; JSON one entry at a time, so that
a bad entry costs only itself: a JSON-lines line that is not JSON, or an entry (line or array element) that is not an
object, comes out as a :class:`BadRecord` naming its line, and the entries after it are read as usual. A file that
is not JSON at all (neither a JSON array nor JSON lines), or a JSON array broken in the middle (after which no
element boundary can be trusted), stops with an :class:`InputError`. Hub datasets go through
``datasets.load_dataset(..., streaming=True)``. Memory stays flat whatever the size of the input.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_JSON_SUFFIXES = (".json", ".jsonl")
_SUFFIXES = (*_JSON_SUFFIXES, ".parquet")
MALFORMED_JSON = "malformed_json"
NOT_AN_OBJECT = "not_an_object"
# A value nested beyond Python's recursion limit (in a JSON line, or in a converter's own parsing); skipped, counted.
NESTED_TOO_DEEPLY = "nested_too_deeply"
_CHUNK_CHARS = 1 << 20
_PARQUET_BATCH_ROWS = 1024
# A JSON token cut by the end of a chunk ends at most this far before it (``tru``, ``-1.5e``, ``\\u00``); a decoding
# error further back (outside a string) is a real one.
_TOKEN_MARGIN = 64
_NON_SPACE = re.compile(r"\S")


class InputError(RuntimeError):
    """The input cannot be opened or read (missing file, unsupported extension, unreadable content)."""


@dataclass(frozen=True)
class BadRecord:
    """An entry of a JSON input that is not a record.

    Attributes:
        reason: ``malformed_json`` (a line that is not JSON), ``not_an_object`` (valid JSON, not an object) or
            ``nested_too_deeply``.
        line: the line (1-based) where the entry starts.
        detail: what is wrong, for the wrong-format error.
        preview: the start of the entry's text.
    """

    reason: str
    line: int
    detail: str
    preview: str


Entry = dict[str, Any] | BadRecord


def iter_records(source: str) -> Iterator[Entry]:
    """The records of ``source`` (its ``train`` split), one dict (or :class:`BadRecord`) at a time.

    An empty file yields nothing.

    Raises:
        InputError: the input cannot be found, opened or read; errors raised by ``datasets`` are re-raised as
            InputError naming the input and the number of records read.
    """
    path = Path(source)
    if path.is_file():
        if path.suffix.lower() not in _SUFFIXES:
            raise InputError(f"{source}: unsupported file type {path.suffix!r} (expected .json, .jsonl or .parquet)")
        yield from _file_records(path)
    elif path.is_dir():
        for file in _train_files(path):
            yield from _file_records(file)
    elif source.count("/") != 1 or source.startswith((".", "/", "~")) or path.suffix.lower() in _SUFFIXES:
        raise InputError(f"{source}: no such file or directory, and not a Hugging Face dataset name (owner/name)")
    else:
        yield from _hub_records(source)


def _file_records(path: Path) -> Iterator[Entry]:
    if path.suffix.lower() in _JSON_SUFFIXES:
        yield from json_records(path)
    else:
        yield from parquet_records(path)


def parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a local parquet file as dicts, read in batches of :data:`_PARQUET_BATCH_ROWS`.

    Raises:
        InputError: the file is not a readable parquet file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                yield row
                count += 1
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{path}: cannot read the parquet file after {count} row(s): {error}") from error


def _train_files(directory: Path) -> list[Path]:
    """The files of a directory's ``train`` split, as ``datasets.load_dataset(directory)`` would choose them."""
    from datasets.data_files import DataFilesDict, EmptyDatasetError, get_data_patterns

    try:
        patterns = get_data_patterns(str(directory))
        files = DataFilesDict.from_patterns(patterns, base_path=str(directory), allowed_extensions=list(_SUFFIXES))
    except (EmptyDatasetError, FileNotFoundError):
        files = DataFilesDict()
    if not files.get("train"):
        raise InputError(f"{directory}: no .json, .jsonl or .parquet files of a train split in this directory")
    return [Path(file) for file in files["train"]]


def _hub_records(source: str) -> Iterator[dict[str, Any]]:
    import datasets  # here, not at module level: only Hub datasets need it

    count = 0
    try:
        dataset = datasets.load_dataset(source, split="train", streaming=True)
        for record in dataset:
            yield record
            count += 1
    except StopIteration:
        # Only load_dataset can raise it here: its json builder reads a first batch to infer the features, and an
        # empty data file has none. The input has no records; the caller reports that.
        return
    except (OSError, ValueError, datasets.exceptions.DatasetsError) as error:
        raise InputError(
            f"{source}: cannot read the input after {count} record(s): {type(error).__name__}: {error}"
        ) from error


def json_records(path: Path) -> Iterator[Entry]:
    """The entries of a local JSON file: a JSON array of objects, or JSON lines (one object per line).

    Raises:
        InputError: the file is not UTF-8 text, not JSON at all, or a JSON array with a syntax error.
    """
    try:
        with open(path, encoding="utf-8-sig") as handle:
            start = handle.read(_CHUNK_CHARS)
            first = _NON_SPACE.search(start)
            if first is None:
                return
            if start[first.start()] == "[":
                yield from _array_entries(path, handle, start, first.start() + 1)
            elif start[first.start()] == "{":
                yield from _line_entries(start, handle)
            else:
                snippet = start[first.start() : first.start() + 60]
                raise InputError(f"{path}: not JSON (expected a JSON array or JSON lines); it starts with {snippet!r}")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error})") from None


def _line_entries(start: str, handle: TextIO) -> Iterator[Entry]:
    pending = ""
    number = 0
    for chunk in itertools.chain([start], iter(lambda: handle.read(_CHUNK_CHARS), "")):
        lines = (pending + chunk).split("\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            if line.strip():
                yield _line_entry(line, number)
    if pending.strip():
        yield _line_entry(pending, number + 1)


def _line_entry(line: str, number: int) -> Entry:
    try:
        value = json.loads(line)
    except ValueError as error:
        return BadRecord(MALFORMED_JSON, number, f"line {number} is not valid JSON ({error})", _snippet(line))
    except RecursionError:
        return BadRecord(NESTED_TOO_DEEPLY, number, f"line {number} is nested too deeply", _snippet(line))
    return value if isinstance(value, dict) else _not_an_object(value, number, line)


def _not_an_object(value: Any, number: int, text: str) -> BadRecord:
    detail = f"the entry at line {number} is a JSON {type(value).__name__}, not an object"
    return BadRecord(NOT_AN_OBJECT, number, detail, _snippet(text))


def _snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 300 else text[:297] + "..."


class _ArrayScanner:
    """A JSON array read in chunks: the text not yet consumed, and the line number of its position."""

    def __init__(self, path: Path, handle: TextIO, text: str, position: int) -> None:
        self.path = path
        self.handle = handle
        self.text = text
        self.position = position
        self.line = 1
        self.counted_to = 0  # newlines before this offset of ``text`` are in ``line``
        self.at_eof = False

    def current_line(self) -> int:
        self.line += self.text.count("\n", self.counted_to, self.position)
        self.counted_to = self.position
        return self.line

    def fill(self) -> bool:
        """Append the next chunk (dropping the consumed text); False at the end of the file."""
        chunk = self.handle.read(_CHUNK_CHARS)
        if not chunk:
            self.at_eof = True
            return False
        self.current_line()
        self.text = self.text[self.position :] + chunk
        self.position = self.counted_to = 0
        return True

    def next_char(self) -> str:
        """Skip whitespace; the next character ("" at the end of the file), not consumed."""
        while True:
            found = _NON_SPACE.search(self.text, self.position)
            if found is not None:
                self.position = found.start()
                return self.text[self.position]
            self.position = len(self.text)
            if not self.fill():
                return ""

    def value(self, decoder: json.JSONDecoder) -> tuple[Any, int]:
        """Decode the value at the position, reading more of the file while it is cut by the end of a chunk: the
        value, and the offset in ``text`` where it starts (it ends at the new position)."""
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.position)
            except json.JSONDecodeError as error:
                cut = error.pos >= len(self.text) - _TOKEN_MARGIN or error.msg.startswith("Unterminated string")
                if cut and not self.at_eof and self.fill():
                    continue
                raise self.error(error.msg, error.pos) from None
            except RecursionError:
                raise self.error("nested too deeply", self.position) from None
            if end == len(self.text) and not self.at_eof and self.fill():
                continue  # a number may go on in the next chunk
            start, self.position = self.position, end
            return value, start

    def error(self, problem: str, offset: int) -> InputError:
        self.position = min(offset, len(self.text))
        line = self.current_line()
        column = self.position - self.text.rfind("\n", 0, self.position)
        return InputError(f"{self.path}: not valid JSON at line {line} column {column}: {problem}")


def _array_entries(path: Path, handle: TextIO, start: str, position: int) -> Iterator[Entry]:
    scanner = _ArrayScanner(path, handle, start, position)
    decoder = json.JSONDecoder()
    if scanner.next_char() == "]":
        scanner.position += 1
    else:
        while True:
            line = scanner.current_line()
            value, start = scanner.value(decoder)
            if isinstance(value, dict):
                yield value
            else:
                yield _not_an_object(value, line, scanner.text[start : scanner.position])
            separator = scanner.next_char()
            scanner.position += 1
            if separator == "]":
                break
            if separator != ",":
                raise scanner.error("expected ',' or ']' after an array element", scanner.position - 1)
            scanner.next_char()
    if scanner.next_char():
        raise scanner.error("extra data after the JSON array", scanner.position)
