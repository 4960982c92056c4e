"""Atomic output: parquet files written in batches to temporary files, renamed into place only on success."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from awpo.rows import ROW_SCHEMA

DEFAULT_BATCH_ROWS = 2048


def _temporary_path(final: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(handle)
    return Path(name)


def _publish(temporary: Path, final: Path) -> None:
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, final)


def write_json_atomic(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_path(path)
    try:
        temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _publish(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class ParquetOutputs:
    """A set of parquet files (e.g. ``train.parquet`` and ``val.parquet``) written together, atomically.

    Use as a context manager. Rows are buffered and written in batches of ``batch_rows``; every file is written to
    a temporary file in the output directory and renamed into place when the ``with`` block ends without an
    exception. On an exception every temporary file is removed and no output file is created or replaced.
    Files that received no rows are still written (empty, with the schema).

    Nothing is created before there is something to write: the output directory and a file's temporary file are
    created when its first batch is written, or when the ``with`` block ends without an exception. A block that
    fails before its first batch (an unreadable or wrong-format input) leaves no trace, not even the directory.
    """

    def __init__(
        self,
        paths: Mapping[str, Path],
        schema: pa.Schema = ROW_SCHEMA,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        self.paths = dict(paths)
        self.schema = schema
        self.batch_rows = batch_rows
        self._temporary: dict[str, Path] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._buffers: dict[str, list[dict[str, Any]]] = {key: [] for key in self.paths}

    def __enter__(self) -> ParquetOutputs:
        return self

    def _writer(self, key: str) -> pq.ParquetWriter:
        """The writer of the file ``key``, opened (output directory and temporary file created) on first use."""
        if key not in self._writers:
            path = self.paths[key]
            path.parent.mkdir(parents=True, exist_ok=True)
            self._temporary[key] = _temporary_path(path)
            self._writers[key] = pq.ParquetWriter(self._temporary[key], self.schema)
        return self._writers[key]

    def write(self, key: str, row: dict[str, Any]) -> None:
        """Queue one row for the file ``key``; a full batch is written out."""
        buffer = self._buffers[key]
        buffer.append(row)
        if len(buffer) >= self.batch_rows:
            self._flush(key)

    def _flush(self, key: str) -> None:
        buffer = self._buffers[key]
        if buffer:
            self._writer(key).write_table(pa.Table.from_pylist(buffer, schema=self.schema))
            buffer.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                for key in self.paths:
                    self._flush(key)
                    self._writer(key)  # opens the file of a key that received no rows: it is written empty
                    self._writers.pop(key).close()
                for key, path in self.paths.items():
                    _publish(self._temporary[key], path)
        finally:
            for writer in self._writers.values():
                with contextlib.suppress(Exception):
                    writer.close()
            for temporary in self._temporary.values():
                temporary.unlink(missing_ok=True)
