"""The sliding-window limiter behind ``#[UserRateLimit]`` (reference §2)."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Hashable

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    """Allow ``limit`` attempts per key within any ``period`` seconds.

    Only accepted attempts are counted, so a rejected request does not extend the wait.

    Args:
        limit: Attempts allowed per window.
        period: Window length in seconds.
        clock: Monotonic seconds; injectable so tests can move time forward.
    """

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._attempts: defaultdict[Hashable, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def attempt(self, key: Hashable) -> bool:
        """Register an attempt and return True, or return False when the limit is reached."""
        with self._lock:
            now = self._clock()
            attempts = self._attempts[key]
            while attempts and now - attempts[0] >= self.period:
                attempts.popleft()
            if len(attempts) >= self.limit:
                return False
            attempts.append(now)
            return True
