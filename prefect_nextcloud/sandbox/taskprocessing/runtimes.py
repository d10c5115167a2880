"""How long each sandbox task stays running: a fixed time, or one drawn from a seeded range."""

from __future__ import annotations

import math
import random

__all__ = ["RunSeconds", "RunTimes", "parse_run_seconds"]

RunSeconds = float | tuple[float, float]
"""Seconds a task runs: one number, or a ``(min, max)`` range to draw each task's time from."""


class RunTimes:
    """Each task's run time, fixed or drawn uniformly from a range.

    A drawn time depends only on the seed and the task's table and id, never on which worker
    takes the task or when, so a run with the same seed and schedule repeats exactly.

    Args:
        run_seconds: A number, or a ``(min, max)`` range with ``0 <= min <= max``.
        seed: Seeds the draws.

    Raises:
        ValueError: Negative, non-finite or reversed bounds.
    """

    def __init__(self, run_seconds: RunSeconds, *, seed: int) -> None:
        low, high = run_seconds if isinstance(run_seconds, tuple) else (run_seconds, run_seconds)
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or low > high:
            raise ValueError(
                f"run_seconds must be a number >= 0 or a (min, max) range with "
                f"0 <= min <= max, got {run_seconds!r}"
            )
        self._low = low
        self._high = high
        self._seed = seed

    def estimate(self) -> int | None:
        """What a provider would estimate: the range's middle in whole seconds (at least 1).

        Returns:
            Seconds, or None when tasks take no time (providers keep their own estimate).
        """
        if self._high == 0:
            return None
        return max(1, math.ceil((self._low + self._high) / 2))

    def for_task(self, task_id: int, *, legacy: bool = False) -> float:
        """Return the run time of a task.

        Args:
            task_id: The task's id.
            legacy: Whether it is a TextProcessing task (whose ids are a sequence of their own).

        Returns:
            Seconds, between the range's bounds.
        """
        if self._low == self._high:
            return self._low
        table = "textprocessing" if legacy else "taskprocessing"
        # Simulated timing, not security: a reproducible generator is the point.
        draw = random.Random(f"{self._seed}:{table}:{task_id}")  # noqa: S311
        return draw.uniform(self._low, self._high)


def parse_run_seconds(text: str) -> RunSeconds:
    """Parse a command-line run time: ``"2.5"`` or a range ``"2-30"``.

    Args:
        text: One number, or two joined by a hyphen.

    Returns:
        The number, or the ``(min, max)`` pair.

    Raises:
        ValueError: Not a number or a range of valid bounds.
    """
    low, sep, high = text.strip().partition("-")
    try:
        value: RunSeconds = (float(low), float(high)) if sep else float(low)
    except ValueError:
        raise ValueError(
            f"run_seconds must be seconds (2.5) or a range (2-30), got {text!r}"
        ) from None
    RunTimes(value, seed=0)  # validates the bounds
    return value
