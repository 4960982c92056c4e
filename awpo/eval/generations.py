"""Generation files: JSON lines of model outputs, read without ever raising on a bad line (the scorers count them),
and the thinking that bfcl-eval's result files keep apart put back in front of the response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def json_objects(path: Path) -> Iterator[dict[str, Any] | None]:
    """Each non-empty line of ``path`` as a JSON object, or None where the line is not one (not JSON, or JSON that is
    not an object); undecodable bytes are replaced.

    Raises:
        OSError: the file cannot be read.
    """
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        yield record if isinstance(record, dict) else None


def with_thinking(response: str, reasoning: str) -> str:
    """A response whose thinking was split off (bfcl-eval's ``reasoning_content``) as the model wrote it."""
    return f"<think>\n{reasoning}\n</think>\n\n{response}"
