"""The one bounded cache of the package: what a long-lived process remembers stays small."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    expires: float | None


class BoundedCache(Generic[K, V]):
    """A thread-safe mapping of at most ``maxsize`` entries; the least recently used go first.

    An entry put with ``ttl_seconds`` is gone once that time has passed. Reading or putting an
    entry makes it the most recently used. Iterating gives the keys, least recently used first.

    Args:
        maxsize: The most entries kept.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize!r}.")
        self.maxsize = maxsize
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value of ``key``, or ``None`` when absent or expired."""
        with self._lock:
            entry = self._fresh(key)
            return None if entry is None else entry.value

    def put(self, key: K, value: V, *, ttl_seconds: float | None = None) -> None:
        """Remember ``value`` under ``key``, for ``ttl_seconds`` when given."""
        expires = None if ttl_seconds is None else time.monotonic() + ttl_seconds
        with self._lock:
            self._insert(key, _Entry(value, expires))

    def get_or_put(self, key: K, make: Callable[[], V]) -> V:
        """The value of ``key``; when absent, ``make()``'s, remembered without expiry."""
        with self._lock:
            entry = self._fresh(key)
            if entry is None:
                entry = _Entry(make(), None)
                self._insert(key, entry)
            return entry.value

    def add(self, key: K, value: V) -> bool:
        """Remember ``value`` under ``key`` unless ``key`` is there; whether it was added."""
        with self._lock:
            if self._fresh(key) is not None:
                return False
            self._insert(key, _Entry(value, None))
            return True

    def pop(self, key: K) -> V | None:
        """Forget ``key``; its value, or ``None`` when absent or expired."""
        with self._lock:
            entry = self._fresh(key)
            if entry is not None:
                del self._entries[key]
            return None if entry is None else entry.value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._entries))

    def _fresh(self, key: K) -> _Entry[V] | None:
        """The entry of ``key`` unless expired (then dropped); the most recently used now."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _insert(self, key: K, entry: _Entry[V]) -> None:
        """Put ``entry`` in as the most recently used; drop the expired, then the oldest."""
        now = time.monotonic()
        for stale in [
            old
            for old, kept in self._entries.items()
            if kept.expires is not None and kept.expires <= now
        ]:
            del self._entries[stale]
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
