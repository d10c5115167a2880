"""A wait for Nextcloud that reads as a wait: the polling loop of every task of this package.

A polling task's function makes one attempt: it looks at the server once and either returns
the result or raises :class:`TaskStillRunning` with the delay it wants before the next look.
:func:`polling_task` builds the Prefect task: on that signal its function returns a
*Scheduled* state named :data:`AWAITING_NEXTCLOUD` (see
:func:`~prefect_nextcloud._compat.awaiting`), and Prefect runs it again at the time the
attempt named, so each wait is as long as the server's state suggests. While it waits, the
task run reads as *AwaitingNextcloud* in the UI, with what is pending as the state's message;
no retry is spent and no "Retry n/N" line is logged. Any other exception ends the task run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from prefect import Task
from prefect.client.schemas.objects import State

from prefect_nextcloud._compat import awaiting

__all__ = [
    "AWAITING_NEXTCLOUD",
    "MIN_DELAY_SECONDS",
    "TaskStillRunning",
    "polling_task",
]

P = ParamSpec("P")
R = TypeVar("R")

AWAITING_NEXTCLOUD = "AwaitingNextcloud"
"""The name of a polling task run's state while it waits for Nextcloud."""

MIN_DELAY_SECONDS = 0.05
"""The shortest wait between two attempts."""


class TaskStillRunning(Exception):
    """Raised by an attempt while Nextcloud work is still pending: "look again later".

    It is the only "poll again" signal: a polling task then waits in the state
    :data:`AWAITING_NEXTCLOUD` until the next attempt.

    Args:
        message: What is still pending.
        retry_after: Seconds to wait before the next attempt (at least
            :data:`MIN_DELAY_SECONDS`).
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(MIN_DELAY_SECONDS, retry_after)

    def __reduce__(self) -> tuple[object, ...]:
        return (_still_running, (str(self), self.retry_after))


def _still_running(message: str, retry_after: float) -> TaskStillRunning:
    return TaskStillRunning(message, retry_after=retry_after)


def polling_task(*, name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Decorator: make a function whose attempts raise :class:`TaskStillRunning` a task.

    While an attempt raises :class:`TaskStillRunning`, the task run waits in the state
    :data:`AWAITING_NEXTCLOUD` for the delay the attempt named, then makes the next attempt;
    the function's own deadlines end the wait.

    Args:
        name: The task's name in Prefect.
    """

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        @functools.wraps(fn)
        def attempt(*args: P.args, **kwargs: P.kwargs) -> R | State[None]:
            try:
                return fn(*args, **kwargs)
            except TaskStillRunning as pending:
                return awaiting(AWAITING_NEXTCLOUD, str(pending), pending.retry_after)

        # The returned state never ends the task run (Prefect runs it again), so the task's
        # result is always the function's own.
        return cast(Task[P, R], Task(attempt, name=name, persist_result=False))

    return decorate
