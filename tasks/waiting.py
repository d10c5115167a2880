"""Waiting for a Nextcloud task, with Prefect task retries as the polling loop.

Each attempt of :data:`wait_for_task` makes one ``GET /task/{id}``. While the task is
scheduled or running the attempt raises :class:`TaskStillRunning`, and the task's retry rule
runs it again after ``poll_interval_seconds``. The retry budget is derived from each call's
``timeout_seconds`` and ``poll_interval_seconds``; the deadline itself is enforced from the
Nextcloud task's own timestamps, so it holds however long Prefect takes between attempts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from prefect import Task
from prefect.context import TaskRunContext
from prefect.logging import get_run_logger
from prefect.utilities.annotations import BaseAnnotation
from prefect.utilities.callables import get_call_parameters

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.client import NextcloudClient
from prefect_nextcloud.client.errors import (
    NextcloudError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownTaskStatusError,
)
from prefect_nextcloud.client.models import Task as NextcloudTask
from prefect_nextcloud.client.models import TaskStatus
from prefect_nextcloud.tasks.retry_rules import TaskStillRunning, retry_while_pending

__all__ = ["DEFAULT_POLL_INTERVAL_SECONDS", "DEFAULT_TIMEOUT_SECONDS", "wait_for_task"]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_POLL_INTERVAL_SECONDS = 5.0

# The status each waiting task run saw last, so that only changes are logged at INFO.
_last_seen: dict[UUID, TaskStatus] = {}
_last_seen_lock = threading.Lock()


def check_wait_arguments(timeout_seconds: float, poll_interval_seconds: float) -> None:
    """Refuse a non-positive timeout or poll interval.

    Raises:
        ValueError: Either is not a positive number.
    """
    for name, value in (
        ("timeout_seconds", timeout_seconds),
        ("poll_interval_seconds", poll_interval_seconds),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}.")


def polls_for(timeout_seconds: float, poll_interval_seconds: float) -> int:
    """The number of retries that lets a wait poll until its deadline, and once more."""
    return math.ceil(timeout_seconds / poll_interval_seconds) + 1


def _describe(task: NextcloudTask) -> str:
    progress = "" if task.progress is None else f", {task.progress:.0%} done"
    return f"Nextcloud task {task.id} ({task.type}) is {task.status.name.lower()}{progress}"


def _log_status(task: NextcloudTask, run_id: UUID | None) -> None:
    logger = get_run_logger()
    with _last_seen_lock:
        before = _last_seen.get(run_id) if run_id else None
        if run_id is not None:
            if task.status.is_pending:
                _last_seen[run_id] = task.status
            else:
                _last_seen.pop(run_id, None)
    if before is task.status:
        logger.debug("%s.", _describe(task))
    else:
        logger.info("%s.", _describe(task))


def raise_if_unsuccessful(task: NextcloudTask) -> None:
    """Raise the error that matches a failed, cancelled or unknown task; return if not.

    Raises:
        TaskFailedError: ``STATUS_FAILED``.
        TaskCancelledError: ``STATUS_CANCELLED``.
        UnknownTaskStatusError: ``STATUS_UNKNOWN``.
    """
    reason = f": {task.user_facing_error_message}" if task.user_facing_error_message else ""
    if task.status is TaskStatus.FAILED:
        raise TaskFailedError(
            f"Nextcloud task {task.id} ({task.type}) failed on the server{reason}. Nextcloud "
            "logs the cause; check the provider app's settings and the input.",
            task_id=task.id,
            task=task,
        )
    if task.status is TaskStatus.CANCELLED:
        raise TaskCancelledError(
            f"Nextcloud task {task.id} ({task.type}) was cancelled before it finished.",
            task_id=task.id,
            task=task,
        )
    if task.status is TaskStatus.UNKNOWN:
        raise UnknownTaskStatusError(
            f"Nextcloud task {task.id} ({task.type}) reports an unknown status; the server may "
            "be newer than this library, or the task record is damaged.",
            task_id=task.id,
            task=task,
        )


def _timeout(
    client: NextcloudClient, task: NextcloudTask, timeout_seconds: float, cancel: bool
) -> NextcloudTask:
    """Handle a wait that reached its deadline: return a late result, or cancel and raise."""
    task = client.get_task(task.id)
    if not task.status.is_pending:
        return task
    cancelled = False
    if cancel:
        try:
            task = client.cancel_task(task.id)
        except NextcloudError as error:
            get_run_logger().warning("Could not cancel Nextcloud task %s: %s", task.id, error)
        else:
            # Cancelling a task that finished meanwhile is a no-op that returns it unchanged.
            if not task.status.is_pending and task.status is not TaskStatus.CANCELLED:
                return task
            cancelled = task.status is TaskStatus.CANCELLED
    now = task.server_time or time.time()
    scheduled = task.scheduled_at or now
    started = task.started_at
    queued = (started or now) - scheduled
    running = now - started if started else 0.0
    raise TaskTimeoutError(
        f"Nextcloud task {task.id} ({task.type}) did not finish within {timeout_seconds:g} s: "
        f"it waited {queued:.0f} s in the queue and ran for {running:.0f} s. "
        + (
            "It was cancelled on the server. "
            if cancelled
            else "It was left on the server and may still finish. "
        )
        + "Raise timeout_seconds, or ask the admin to run dedicated background-job workers "
        "so that tasks start sooner.",
        task_id=task.id,
        task=task,
        queued_seconds=queued,
        running_seconds=running,
        cancelled=cancelled,
    )


def _wait_for_task(
    credentials: NextcloudCredentials,
    task_id: int,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    cancel_on_timeout: bool = True,
) -> NextcloudTask:
    """Wait until a Nextcloud task has finished, and return it.

    Each attempt fetches the task once; Prefect's retries repeat the attempt every
    ``poll_interval_seconds`` while the task is scheduled or running. A failure of a single
    poll that may pass (connection reset, 429, 502, 503, 504) is one more retry.

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        cancel_on_timeout: Cancel the Nextcloud task when the timeout is reached.

    Returns:
        The successful task, with its output.

    Raises:
        TaskFailedError: The task failed on the server.
        TaskCancelledError: The task was cancelled.
        UnknownTaskStatusError: The task reports an unknown status.
        TaskTimeoutError: The task did not finish in time.
        TaskNotFoundError: The task does not exist, or was deleted or cleaned up.
        AuthenticationError: The credentials were refused.
    """
    check_wait_arguments(timeout_seconds, poll_interval_seconds)
    context = TaskRunContext.get()
    run_id = context.task_run.id if context else None
    with credentials.get_client() as client:
        task = client.get_task(task_id)
        _log_status(task, run_id)
        if task.status.is_pending:
            now = task.server_time or time.time()
            deadline_passed = (task.scheduled_at or now) + timeout_seconds <= now
            last_attempt = context is not None and context.task_run.run_count > context.task.retries
            if not (deadline_passed or last_attempt):
                raise TaskStillRunning(f"{_describe(task)}; polling again.")
            task = _timeout(client, task, timeout_seconds, cancel_on_timeout)
    raise_if_unsuccessful(task)
    return task


def _scalar(value: Any, pick: Any) -> Any:
    if isinstance(value, BaseAnnotation):
        value = value.unwrap()
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        values = list(value)
        return pick(values) if values else None
    return value


# Arguments that Task.__call__, submit and map take for the engine, not for the function.
_ENGINE_KWARGS = frozenset({"return_state", "wait_for", "deferred"})


class PollingTask(Task[P, R]):
    """A Prefect task whose retries are its polls, sized by each call's own arguments.

    Calling, submitting or mapping it derives ``retries`` from the call's
    ``timeout_seconds`` and ``poll_interval_seconds`` and sets the retry delay to the poll
    interval. An explicit ``with_options(retries=...)`` is left as given.
    """

    def _for_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Task[P, R]:
        call_kwargs = {key: value for key, value in kwargs.items() if key not in _ENGINE_KWARGS}
        parameters = get_call_parameters(self.fn, args, call_kwargs)
        timeout = _scalar(parameters.get("timeout_seconds"), max)
        interval = _scalar(parameters.get("poll_interval_seconds"), min)
        try:
            check_wait_arguments(timeout, interval)
        except ValueError:
            return Task.with_options(self, retries=0)  # the attempt raises the ValueError
        return Task.with_options(
            self, retries=polls_for(timeout, interval), retry_delay_seconds=interval
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._for_call(args, kwargs)(*args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        return self._for_call(args, kwargs).submit(*args, **kwargs)

    def map(self, *args: Any, **kwargs: Any) -> Any:
        return self._for_call(args, kwargs).map(*args, **kwargs)

    def with_options(self, **options: Any) -> Task[P, R]:
        configured = super().with_options(**options)
        if "retries" not in options and "retry_delay_seconds" not in options:
            configured.__class__ = PollingTask
        return configured


wait_for_task: PollingTask[..., NextcloudTask] = PollingTask(
    _wait_for_task,
    name="wait_for_task",
    retry_condition_fn=retry_while_pending,
    persist_result=False,
)
