"""What the fault middleware consults: a log of every request, one-off failures and chaos.

:class:`~prefect_nextcloud.sandbox.faults.middleware.ControlMiddleware` applies what
:class:`HttpControl` decides before any authentication or routing, so injected failures stand in
for what sits in front of Nextcloud (a proxy answering 502, maintenance mode, a dropped
connection, a response lost after the server did the work).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from prefect_nextcloud.sandbox.faults.chaos import Chaos
from prefect_nextcloud.sandbox.faults.effects import FaultAction, FaultEffect

__all__ = ["HttpControl", "RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received.

    Attributes:
        method: The HTTP method.
        path: The URL path, percent-decoded.
        query_string: The raw query string.
        headers: Lower-cased header names; the Authorization value is ``"REDACTED"``.
        body: The raw request body (empty for WebDAV uploads, which are not kept).
        status: The status of the response the sandbox produced, or None when the connection
            was dropped before processing. After :attr:`FaultAction.LOSE_RESPONSE` it is the
            status of the response the client never received.
        fault: The injected failure that hit the request (one-off or chaos), if any.
        answered_at: When the sandbox answered (or dropped) it, in unix seconds.
    """

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    status: int | None
    fault: FaultAction | None = None
    answered_at: float = field(default_factory=time.time)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value wins for repeated names)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def delivered(self) -> bool:
        """Whether the client received a response (dropped and lost responses were not)."""
        return self.status is not None and self.fault is not FaultAction.LOSE_RESPONSE

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def matches(self, method: str | None, path_regex: str) -> bool:
        """Whether the method is ``method`` (any if None) and ``path_regex`` occurs in the path."""
        return (method is None or self.method == method.upper()) and bool(
            re.search(path_regex, self.path)
        )


@dataclass
class _QueuedFault:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int
    effect: FaultEffect
    passes: int = 0  # matching requests still let through before the failure starts

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


class HttpControl:
    """Thread-safe request log, queue of one-off failures and current chaos settings."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._faults: list[_QueuedFault] = []
        self._chaos: Chaos | None = None
        self._requests: list[RecordedRequest] = []
        self._clears = 0  # how often the log was emptied, so waiters can start over

    def add_fault(
        self,
        path_regex: str,
        effect: FaultEffect,
        *,
        times: int,
        method: str | None,
        after: int = 0,
    ) -> None:
        """Queue a failure for ``times`` requests whose path matches (``re.search``).

        The first ``after`` matching requests pass untouched; the failure hits the next ones.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if after < 0:
            raise ValueError("after must not be negative")
        pattern = re.compile(path_regex)
        fault = _QueuedFault(pattern, method.upper() if method else None, times, effect, after)
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Forget all pending one-off failures."""
        with self._lock:
            self._faults.clear()

    def set_chaos(self, chaos: Chaos | None) -> None:
        """Replace the chaos settings (None: no chaos); delays of the old ones end at once."""
        with self._lock:
            previous, self._chaos = self._chaos, chaos
        if previous is not None:
            previous.cancel()

    @property
    def chaos(self) -> Chaos | None:
        """The current chaos settings."""
        with self._lock:
            return self._chaos

    def decide(self, method: str, path: str) -> tuple[FaultEffect | None, Chaos | None]:
        """Choose the failure for a request, using up a one-off failure or drawing from chaos.

        A queued one-off failure takes precedence and makes chaos skip the request.

        Returns:
            The failure (None: process normally) and the chaos settings that matched, whose
            latency applies to the request.
        """
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.passes:  # counted per fault: it lets its own first requests through
                    fault.passes -= 1
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.effect, None
            chaos = self._chaos
        if chaos is None or not chaos.matches(method, path):
            return None, None
        return chaos.draw(), chaos

    def record(self, request: RecordedRequest) -> None:
        """Append a request to the log."""
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def wait_for_requests(
        self, method: str | None, path_regex: str, *, count: int, timeout: float
    ) -> list[RecordedRequest]:
        """Wait until ``count`` matching requests are logged; return all matching ones.

        Each wake-up only looks at the requests logged since the previous one.

        Raises:
            TimeoutError: Fewer requests arrived in time.
        """
        deadline = time.monotonic() + timeout
        found: list[RecordedRequest] = []
        scanned = 0
        with self._lock:
            clears = self._clears
            while True:
                if clears != self._clears:
                    found, scanned, clears = [], 0, self._clears
                new = self._requests[scanned:]
                scanned += len(new)
                found += [request for request in new if request.matches(method, path_regex)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(found)} of {count} requests to {path_regex!r} within {timeout} s"
                    )
                self._lock.wait(remaining)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()
            self._clears += 1
