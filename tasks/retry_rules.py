"""When a Prefect task of this package may run again after a failed attempt."""

from __future__ import annotations

from typing import Any

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun

from prefect_nextcloud.client.errors import (
    MaintenanceModeError,
    NextcloudError,
    RateLimitedError,
    is_transient,
)

__all__ = ["TaskStillRunning", "retry_if_not_created", "retry_if_transient", "retry_while_pending"]


class TaskStillRunning(Exception):
    """Raised by an attempt of ``wait_for_task`` while the Nextcloud task is not done.

    It is the only "poll again" signal: the retry rule of ``wait_for_task`` retries on it.
    """


def _raised(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except BaseException as error:
        return error
    return None


def retry_while_pending(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Poll again while the task is pending, or when the poll itself failed transiently."""
    error = _raised(state)
    return isinstance(error, TaskStillRunning) or (
        isinstance(error, NextcloudError) and is_transient(error)
    )


def retry_if_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry calls that are safe to repeat when they failed for a passing reason."""
    error = _raised(state)
    return isinstance(error, NextcloudError) and is_transient(error)


def retry_if_not_created(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a schedule only when the server certainly did not create the task.

    A rate-limited or maintenance answer means nothing was created; after a lost connection
    or a 5xx the task may exist, and repeating the call could create a second one.
    """
    return isinstance(_raised(state), RateLimitedError | MaintenanceModeError)
