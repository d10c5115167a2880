"""Seeded random failures for a flaky-network test: drops, proxy errors, lost responses, latency.

Each matching request takes one draw from ``random.Random(seed)`` (plus one to pick the status
of a proxy error), in the order the requests arrive, so the same seed and the same request order
give the same outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from http import HTTPStatus

from prefect_nextcloud.sandbox.faults.effects import FaultAction, FaultEffect

__all__ = ["Chaos", "ChaosSettings", "proxy_error"]

_DROP = FaultEffect(FaultAction.DROP)
_LOSE_RESPONSE = FaultEffect(FaultAction.LOSE_RESPONSE)
_MAINTENANCE = FaultEffect(FaultAction.MAINTENANCE)


def proxy_error(status: int) -> FaultEffect:
    """Return the answer of a reverse proxy (nginx style) that could not reach Nextcloud.

    The body is a small HTML page, or empty for statuses without a standard reason phrase;
    a 503 carries no maintenance header.
    """
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return FaultEffect(FaultAction.RESPOND, status)
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return FaultEffect(
        FaultAction.RESPOND, status, page.encode(), {"Content-Type": "text/html; charset=utf-8"}
    )


@dataclass(frozen=True)
class ChaosSettings:
    """Failure probabilities and latency for the requests that match.

    Attributes:
        drop_rate: Probability of closing the connection before processing.
        error_rate: Probability of a proxy error from ``error_statuses`` (see :func:`proxy_error`).
        error_statuses: The statuses of proxy errors, picked uniformly.
        lost_response_rate: Probability of processing the request, then closing the connection
            without the response.
        maintenance_rate: Probability of the maintenance-mode 503.
        latency_seconds: Delay before every matching request is handled.
        seed: Seed of the random sequence.
        path_regex: Only requests whose path matches (``re.search``); all by default.
        methods: Only requests with these HTTP methods; all when None.
    """

    drop_rate: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (502, 503, 504)
    lost_response_rate: float = 0.0
    maintenance_rate: float = 0.0
    latency_seconds: float = 0.0
    seed: int = 0
    path_regex: str = ""
    methods: Collection[str] | None = None

    def __post_init__(self) -> None:
        rates = self._rates()
        if not all(0.0 <= rate <= 1.0 for rate in rates) or sum(rates) > 1.0:
            raise ValueError("rates must be between 0 and 1 and add up to at most 1")
        if self.error_rate > 0 and not self.error_statuses:
            raise ValueError("error_statuses must not be empty when error_rate is set")
        if not all(400 <= status <= 599 for status in self.error_statuses):
            raise ValueError("error_statuses must be HTTP error statuses (400 to 599)")
        if self.latency_seconds < 0:
            raise ValueError("latency_seconds must not be negative")
        re.compile(self.path_regex)

    def _rates(self) -> tuple[float, float, float, float]:
        return self.drop_rate, self.error_rate, self.lost_response_rate, self.maintenance_rate


class Chaos:
    """Applies :class:`ChaosSettings`: draws outcomes and holds delayed requests.

    Args:
        settings: What to do.
    """

    def __init__(self, settings: ChaosSettings) -> None:
        self._settings = settings
        self._pattern = re.compile(settings.path_regex)
        self._methods = (
            None if settings.methods is None else {method.upper() for method in settings.methods}
        )
        self._random = random.Random(settings.seed)  # noqa: S311 - reproducible, not secret
        self._lock = threading.Condition()
        self._cancelled = False
        self._held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def matches(self, method: str, path: str) -> bool:
        """Whether the settings apply to a request."""
        return (self._methods is None or method in self._methods) and bool(
            self._pattern.search(path)
        )

    def draw(self) -> FaultEffect | None:
        """Draw the outcome of the next matching request; None lets it through."""
        settings = self._settings
        with self._lock:
            roll = self._random.random()
            if roll < settings.drop_rate:
                return _DROP
            roll -= settings.drop_rate
            if roll < settings.error_rate:
                return proxy_error(self._random.choice(settings.error_statuses))
            roll -= settings.error_rate
            if roll < settings.lost_response_rate:
                return _LOSE_RESPONSE
            roll -= settings.lost_response_rate
            return _MAINTENANCE if roll < settings.maintenance_rate else None

    async def delay(self) -> None:
        """Wait ``latency_seconds`` without blocking the event loop; :meth:`cancel` ends it."""
        if self._settings.latency_seconds <= 0:
            return
        wake = asyncio.Event()
        entry = (asyncio.get_running_loop(), wake)
        with self._lock:
            if self._cancelled:
                return
            self._held.append(entry)
            self._lock.notify_all()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._settings.latency_seconds)
        finally:
            with self._lock:
                self._held.remove(entry)

    def cancel(self) -> None:
        """End all current delays at once and skip future ones."""
        with self._lock:
            self._cancelled = True
            held = list(self._held)
        for loop, wake in held:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing waits
                loop.call_soon_threadsafe(wake.set)

    def wait_for_held(self, count: int, timeout: float) -> None:
        """Block until at least ``count`` requests are being delayed.

        Raises:
            TimeoutError: Fewer requests were delayed within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._held) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self._held)} of {count} requests delayed")
                self._lock.wait(remaining)
