"""The judge's result cache: an LRU map from the SHA-256 of the exact request body to the parsed result."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class RequestKeys:
    """SHA-256 keys of the requests of one judge, which differ only in the content of their last message.

    Args:
        fixed: the request body with its last message's ``content`` left out (model, sampling settings, extra
            fields, the system message and ``{"role": "user"}``).

    The key of a request is the SHA-256 of ``fixed`` as canonical JSON (sorted keys), a NUL byte, and the last
    message's content: a digest of the exact request, computed without re-encoding the fixed part each time.
    Lone surrogates are hashed as their UTF-8-like bytes (``surrogatepass``) rather than raising.
    """

    def __init__(self, fixed: Mapping[str, Any]) -> None:
        canonical = json.dumps(fixed, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        self._base = hashlib.sha256(canonical.encode("utf-8", "surrogatepass"))

    def key(self, content: str) -> str:
        """The hex key of the request whose last message has ``content``."""
        digest = self._base.copy()
        digest.update(b"\x00")
        digest.update(content.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


class LRUCache(Generic[V]):
    """A bounded least-recently-used map; ``max_entries=0`` stores nothing. Not thread-safe (one event loop)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        """The value for ``key`` (marking it most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        if self._max_entries <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
