"""When ``wait_for_task`` polls again: the retry rule that makes Prefect retries a poll loop.

Other calls are retried inside the client (see :mod:`prefect_nextcloud.client.retrying`).
"""

from __future__ import annotations

from typing import Any

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun

from prefect_nextcloud.client.errors import NextcloudError, is_transient

__all__ = ["TaskStillRunning", "retry_while_pending"]


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
