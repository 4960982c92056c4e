"""Streaming input: a Hugging Face Hub dataset name, or a local json / jsonl / parquet file or a directory of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}


class InputError(RuntimeError):
    """The input cannot be opened or read (missing file, unsupported extension, unreadable content)."""


def iter_records(source: str) -> Iterator[dict[str, Any]]:
    """The records of ``source`` (its ``train`` split), one dict at a time, through
    ``datasets.load_dataset(..., streaming=True)``.

    Memory stays flat whatever the size of the input. An empty file yields no records. Errors raised by
    ``datasets`` while opening or reading are re-raised as :class:`InputError` naming the input and the number of
    records read.
    """
    import datasets  # here, not at module level: merge and check_overlap import this module and never need it

    path = Path(source)
    if path.is_file():
        builder = _BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise InputError(f"{source}: unsupported file type {path.suffix!r} (expected .json, .jsonl or .parquet)")
        arguments: dict[str, Any] = {"path": builder, "data_files": str(path)}
    elif path.is_dir():
        arguments = {"path": str(path)}
    elif source.count("/") != 1 or source.startswith((".", "/", "~")) or path.suffix.lower() in _BUILDERS:
        raise InputError(f"{source}: no such file or directory, and not a Hugging Face dataset name (owner/name)")
    else:
        arguments = {"path": source}
    count = 0
    try:
        dataset = datasets.load_dataset(**arguments, split="train", streaming=True)
        for record in dataset:
            yield record
            count += 1
    except StopIteration:
        # Only load_dataset can raise it here: its json builder reads a first batch to infer the features, and an
        # empty file has none. The input has no records; the caller reports that.
        return
    except (OSError, ValueError, datasets.exceptions.DatasetsError) as error:
        raise InputError(
            f"{source}: cannot read the input after {count} record(s): {type(error).__name__}: {error}"
        ) from error
