"""How long to wait before trying a failed call again: one policy for every call.

Which failures are worth another try is decided once, by :func:`is_transient`; this module
decides when. Waits grow exponentially with jitter and are bounded by time rather than by
count, so a flaky proxy that fails many requests slows a batch down without failing it.
Rate-limit answers (429) get waits that cover Nextcloud's sliding 120 s window.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prefect_nextcloud.client.errors import NextcloudError, RateLimitedError, is_transient

__all__ = ["Backoff", "RetryPolicy", "Sleep"]

RATE_LIMIT_DELAYS = (15.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class Sleep:
    """A plan step: wait ``seconds`` before going on."""

    seconds: float


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed call again.

    Attributes:
        max_elapsed_seconds: Stop retrying a call that keeps failing transiently after this long.
        initial_delay_seconds: The first wait; each further wait doubles, up to
            ``max_delay_seconds``.
        max_delay_seconds: The longest single wait.
        jitter: Each wait is scaled by a random factor in ``[1 - jitter, 1 + jitter]``.
        rate_limit_seconds: How long to keep waiting out 429 answers before giving up.
        seed: Seed of the jitter, for reproducible runs; random when ``None``.
    """

    max_elapsed_seconds: float = 120.0
    initial_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    jitter: float = 0.25
    rate_limit_seconds: float = 360.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_elapsed_seconds",
            "initial_delay_seconds",
            "max_delay_seconds",
            "jitter",
            "rate_limit_seconds",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}.")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}.")
        if min(self.max_elapsed_seconds, self.rate_limit_seconds) < 0:
            raise ValueError("Retry time budgets must not be negative.")
        if self.initial_delay_seconds <= 0 or self.max_delay_seconds <= 0:
            raise ValueError("Retry delays must be positive.")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be at least 0 and below 1, got {self.jitter!r}.")

    def backoff(self, *, clock: Callable[[], float] = time.monotonic) -> Backoff:
        """Start counting the retries of one call."""
        return Backoff(self, clock=clock)


@dataclass
class Backoff:
    """The retry state of one call under a :class:`RetryPolicy`."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    attempts: int = 0
    rate_limited: int = 0
    started: float = field(init=False)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._random = random.Random(self.policy.seed)  # noqa: S311 - jitter, not security

    def delay_after(self, error: NextcloudError, *, idempotent: bool) -> float | None:
        """How long to wait before the next try, or ``None`` to give up and raise ``error``."""
        if not is_transient(error, idempotent=idempotent):
            return None
        elapsed = self.clock() - self.started
        if isinstance(error, RateLimitedError):
            base = RATE_LIMIT_DELAYS[min(self.rate_limited, len(RATE_LIMIT_DELAYS) - 1)]
            base = min(base, self.policy.rate_limit_seconds)
            self.rate_limited += 1
            budget = self.policy.rate_limit_seconds
        else:
            base = min(
                self.policy.initial_delay_seconds * 2**self.attempts, self.policy.max_delay_seconds
            )
            self.attempts += 1
            budget = self.policy.max_elapsed_seconds
        remaining = budget - elapsed
        if remaining <= 0:
            return None
        jitter = self.policy.jitter
        return min(base * self._random.uniform(1 - jitter, 1 + jitter), remaining)
