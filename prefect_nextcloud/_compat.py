"""Workarounds for what Prefect has no public API for, each tied to the behaviour it relies on.

Both serve polling tasks (see :mod:`prefect_nextcloud.tasks.polling`), whose retries are
their polls, and both are checked by ``tests/test_compat.py``, which fails when Prefect
changes the behaviour they rely on.

* :class:`AttemptRetryDelays`: Prefect 3.9 takes a retry's delay from the task's
  ``retry_delay_seconds`` only (a number, a list, or a function of the number of retries),
  never from the failed attempt. The delay list reads it from the exception the attempt
  raised, which Prefect's task engine is handling when it indexes the list (3.9.1,
  ``SyncTaskRunEngine.handle_retry`` called from ``handle_exception``).
* :class:`QuietRetries`: Prefect 3.9 logs every retry at INFO ("Task run failed with
  exception: … - Retry n/N will start …") and offers no per-task switch; the filter turns the
  line into DEBUG for the exceptions that mean "look again later", not a failure.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import SupportsIndex, overload

__all__ = ["PREFECT_TASK_RUN_LOGGER", "AttemptRetryDelays", "QuietRetries", "quiet_retries"]

PREFECT_TASK_RUN_LOGGER = "prefect.task_runs"
"""The logger Prefect's task engine writes its retry lines to."""


class AttemptRetryDelays(list[float]):
    """A ``retry_delay_seconds`` whose every entry is the delay the failed attempt asked for.

    Args:
        delay_of: The delay an exception asks for, or ``None`` when it names none.
        fallback: The delay when no exception is being handled or it names none.
    """

    def __init__(self, delay_of: Callable[[BaseException], float | None], fallback: float) -> None:
        super().__init__([fallback])
        self.delay_of = delay_of
        self.fallback = fallback

    @overload
    def __getitem__(self, index: SupportsIndex) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> float | list[float]:
        if isinstance(index, slice):
            return super().__getitem__(index)
        handled = sys.exc_info()[1]
        wanted = None if handled is None else self.delay_of(handled)
        return self.fallback if wanted is None else wanted


class QuietRetries(logging.Filter):
    """Turn Prefect's retry line for one kind of exception into a DEBUG line.

    Other records, and the retry lines of other exceptions, pass unchanged.

    Args:
        quiet: The exception class whose retries are not worth an INFO line.
    """

    def __init__(self, quiet: type[BaseException]) -> None:
        super().__init__()
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the quiet retry line, which becomes DEBUG (or is dropped)."""
        args = record.args
        if not (
            record.levelno == logging.INFO
            and isinstance(args, tuple)
            and len(args) > 1
            and isinstance(args[1], self.quiet)
        ):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg, record.args = "Polling again: %s", (args[1],)
        return True


def quiet_retries(quiet: type[BaseException]) -> None:
    """Attach :class:`QuietRetries` for ``quiet`` to Prefect's task-run logger, once.

    Args:
        quiet: The exception class whose retries are not worth an INFO line.
    """
    logger = logging.getLogger(PREFECT_TASK_RUN_LOGGER)
    if not any(
        isinstance(existing, QuietRetries) and existing.quiet is quiet
        for existing in logger.filters
    ):
        logger.addFilter(QuietRetries(quiet))
