"""Pacing of schedule calls, so that this process never sends one the server would refuse.

Nextcloud allows ``limit`` schedule calls per user in any ``window`` seconds (by default 20 in
120 s; reference: ``#[UserRateLimit]`` on ``POST /schedule``) and counts only the calls it
accepted, in a sliding window. :class:`SchedulePacer` keeps the same window on the client's
side, shared by every client of the same server and user in this process, so that a batch,
single tasks and ``.map`` calls together stay within it. A 429 still happens when other
clients use the same account; the pacer then holds back with growing waits.

The server stamps a call when it arrives: after the client sent it, before the client has its
answer. So the pacer stamps each call when its answer arrives (the latest the server's stamp
can be) and holds its slot while it is in flight; a call sent a whole window after that stamp
reaches the server after the old call has left the server's window. No margin is needed
beyond one for clocks that run at slightly different rates.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from prefect_nextcloud._cache import BoundedCache

__all__ = ["DEFAULT_SCHEDULE_LIMIT", "DEFAULT_SCHEDULE_WINDOW_SECONDS", "SchedulePacer"]

DEFAULT_SCHEDULE_LIMIT = 20
DEFAULT_SCHEDULE_WINDOW_SECONDS = 120.0
# The window is lengthened by this share of itself: the server's clock and this machine's may
# run at slightly different rates (NTP slews a clock by at most 0.05 %).
_CLOCK_RATE_ALLOWANCE = 0.001
# Pacers of servers and users not used for a while are dropped past this many.
_MAX_PACERS = 64


class SchedulePacer:
    """A sliding window of accepted schedule calls for one server and user.

    Args:
        limit: Schedule calls allowed in any window.
        window_seconds: The window's length.
        clock: Monotonic seconds; injectable for tests.
    """

    _shared: ClassVar[BoundedCache[tuple[str, str], SchedulePacer]] = BoundedCache(_MAX_PACERS)

    def __init__(
        self,
        limit: int = DEFAULT_SCHEDULE_LIMIT,
        window_seconds: float = DEFAULT_SCHEDULE_WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_schedule_limit(limit, window_seconds)
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._sent: deque[float] = deque()  # when each answered call's answer arrived
        self._in_flight = 0  # calls sent whose answer has not arrived yet
        self._blocked_until = 0.0
        self._refusals = 0
        self._lock = threading.Lock()

    @classmethod
    def for_user(
        cls, base_url: str, user_id: str, limit: int, window_seconds: float
    ) -> SchedulePacer:
        """The pacer shared by every client of this server and user in this process.

        The newest ``limit`` and ``window_seconds`` given for a user apply.
        """
        check_schedule_limit(limit, window_seconds)
        pacer = cls._shared.get_or_put((base_url, user_id), lambda: cls(limit, window_seconds))
        pacer.limit, pacer.window_seconds = limit, window_seconds
        return pacer

    @classmethod
    def forget_all(cls) -> None:
        """Drop every shared pacer (e.g. between tests)."""
        cls._shared.clear()

    @property
    def _horizon(self) -> float:
        return self.window_seconds * (1 + _CLOCK_RATE_ALLOWANCE)

    def _expire(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self._horizon:
            self._sent.popleft()

    def _wait(self, now: float, count: int = 1) -> float:
        waits = [self._blocked_until - now]
        leaving = len(self._sent) + self._in_flight + min(count, self.limit) - self.limit
        if leaving > 0:  # that many of the oldest calls must leave the window first
            # A call still in flight leaves a whole window after its answer, at the soonest now.
            stamps = [*self._sent, *[now] * self._in_flight]
            waits.append(stamps[leaving - 1] + self._horizon - now)
        return max(0.0, *waits)

    def reserve(self) -> float:
        """Take a slot for one schedule call now, or tell how long until one is free.

        A slot taken must be given its outcome: :meth:`accepted`, :meth:`refused` or
        :meth:`unanswered`.

        Returns:
            0 when the call may be sent now (the slot is taken); otherwise the seconds to wait,
            and nothing is taken.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            wait = self._wait(now)
            if wait == 0:
                self._in_flight += 1
            return wait

    def available(self) -> int:
        """How many schedule calls could be sent right now."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if self._blocked_until > now:
                return 0
            return max(0, self.limit - len(self._sent) - self._in_flight)

    def wait_seconds(self, count: int = 1) -> float:
        """Seconds until ``count`` slots are free (at most ``limit``; 0 when they are now)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            return self._wait(now, count)

    def accepted(self) -> None:
        """The server accepted a call: it counts from now; other clients no longer crowd it."""
        with self._lock:
            self._land()
            self._refusals = 0

    def unanswered(self) -> None:
        """A call ended without an answer: the server may have counted it, by now at the latest."""
        with self._lock:
            self._land()

    def _land(self) -> None:
        """Move a call in flight into the window, stamped now (under the lock)."""
        self._in_flight = max(self._in_flight - 1, 0)
        self._sent.append(self._clock())

    def refused(self) -> float:
        """The server answered 429 although this process kept its window.

        The call was not counted, so its slot is free again. Other clients of the same user
        fill the window. Holds back ``window / limit`` seconds, doubling
        with each refusal in a row up to a whole window.

        Returns:
            The seconds until the next try.
        """
        with self._lock:
            now = self._clock()
            self._in_flight = max(self._in_flight - 1, 0)
            hold = min(self.window_seconds, self.window_seconds / self.limit * 2**self._refusals)
            self._refusals += 1
            self._blocked_until = max(self._blocked_until, now + hold)
            return self._blocked_until - now


def check_schedule_limit(limit: object, window_seconds: object) -> None:
    """Refuse a schedule limit below 1 or a window that is not a positive number of seconds.

    Raises:
        ValueError: Either is invalid.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(
            f"schedule_limit must be a whole number of at least 1, got {limit!r}; it is the "
            "server's limit of schedule calls per user (Nextcloud's default is 20)."
        )
    if (
        isinstance(window_seconds, bool)
        or not isinstance(window_seconds, int | float)
        or not 0 < window_seconds < float("inf")
    ):
        raise ValueError(
            f"schedule_window_seconds must be a positive number of seconds, got "
            f"{window_seconds!r}; Nextcloud's default window is 120 s."
        )
