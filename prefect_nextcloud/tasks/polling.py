"""Prefect task retries as the polling loop, and a wait that reads as a wait.

A polling task's function makes one attempt: it looks at the server once and either returns
the result or raises :class:`TaskStillRunning` with the delay it wants before the next look.
:func:`polling_task` builds the Prefect task: :func:`retry_while_pending` tells Prefect to
retry on that signal, and each retry waits the delay the attempt named (read from the
exception by :class:`~prefect_nextcloud._compat.AttemptRetryDelays`), so each wait is as long
as the server's state suggests instead of one fixed interval.

While it waits, the task run is in a *Scheduled* state named :data:`AWAITING_NEXTCLOUD`
(Prefect would name it *AwaitingRetry*; see :func:`~prefect_nextcloud._compat.name_retry_waits`),
and the next attempt runs as *Running*, not *Retrying*. Prefect logs every retry at INFO as
"Task run failed with exception: … - Retry n/N"; for the still-running signal that line is a
poll, not a failure, so :func:`polling_task` attaches
:class:`~prefect_nextcloud._compat.QuietRetries`, which turns it into a DEBUG line (or drops
it when DEBUG is off). A successful wait therefore shows only this package's own INFO lines:
what it awaits, status changes and progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun

from prefect_nextcloud._compat import AttemptRetryDelays, name_retry_waits, quiet_retries
from prefect_nextcloud.tasks.options import DEFAULT_POLL_INTERVAL_SECONDS

__all__ = [
    "AWAITING_NEXTCLOUD",
    "MAX_POLLS",
    "MIN_DELAY_SECONDS",
    "TaskStillRunning",
    "polling_task",
    "retry_while_pending",
]

P = ParamSpec("P")
R = TypeVar("R")

AWAITING_NEXTCLOUD = "AwaitingNextcloud"
"""The name of a polling task run's state while it waits for Nextcloud."""

MAX_POLLS = 100_000
"""Prefect's retry cap for polling tasks: a backstop only, the attempts end the wait."""

MIN_DELAY_SECONDS = 0.05
"""The shortest wait between two attempts."""


class TaskStillRunning(Exception):
    """Raised by an attempt while Nextcloud work is still pending: "look again later".

    It is the only "poll again" signal; the retry rule of polling tasks retries on it.

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


def _raised(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except BaseException as error:
        return error
    return None


def retry_while_pending(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Poll again while work is pending; anything else ends the task run.

    An attempt turns a passing failure of its look into :class:`TaskStillRunning` itself,
    for as long as the block's retry budget lasts.
    """
    return isinstance(_raised(state), TaskStillRunning)


def _delay_of(error: BaseException) -> float | None:
    return error.retry_after if isinstance(error, TaskStillRunning) else None


def polling_task(*, name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Decorator: make a function whose attempts raise :class:`TaskStillRunning` a task.

    The task retries while an attempt raises :class:`TaskStillRunning`, after the delay the
    attempt named, waiting in the state :data:`AWAITING_NEXTCLOUD`; the function's own
    deadlines end the wait, so the retry count (:data:`MAX_POLLS`) is only a backstop.

    Args:
        name: The task's name in Prefect.
    """

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        quiet_retries(TaskStillRunning)
        name_retry_waits(retry_while_pending, AWAITING_NEXTCLOUD)
        return Task(
            fn,
            name=name,
            retries=MAX_POLLS,
            retry_delay_seconds=AttemptRetryDelays(
                _delay_of, fallback=DEFAULT_POLL_INTERVAL_SECONDS
            ),
            retry_condition_fn=retry_while_pending,
            persist_result=False,
        )

    return decorate
