"""Waiting for one Nextcloud task by its id, with Prefect task retries as the polling loop.

Each attempt of :data:`wait_for_task` makes one ``GET /task/{id}``. While the task is
scheduled or running the attempt raises :class:`TaskStillRunning` with the delay until the
task is worth another look: at its expected completion when that comes before the next
interval, and less and less often while it is still queued. The deadline counts on this
machine's monotonic clock from the first attempt, so neither the server's clock nor Prefect's
pace between attempts can move it.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol
from uuid import UUID

from prefect.context import TaskRunContext

from prefect_nextcloud._cache import BoundedCache
from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import (
    DeadlineExceededError,
    NextcloudError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownTaskStatusError,
    is_transient,
)
from prefect_nextcloud.client.models import Task as NextcloudTask
from prefect_nextcloud.client.models import TaskStatus
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.tasks.cancellation import on_cancel
from prefect_nextcloud.tasks.options import WaitOptions
from prefect_nextcloud.tasks.polling import TaskStillRunning, polling_task
from prefect_nextcloud.tasks.progress import run_logger

__all__ = [
    "DEADLINE_GRACE_SECONDS",
    "end_overdue",
    "expected_seconds",
    "look_again_after_failure",
    "next_look",
    "passing_failure",
    "raise_if_unsuccessful",
    "unreachable_timeout",
    "unsuccessful_error",
    "wait_for_task",
]

# A task still queued a poll interval past its estimate is looked at less often each time, up
# to this many poll intervals.
QUEUED_BACKOFF = 1.5
QUEUED_MAX_INTERVALS = 4.0
FIRST_LOOK_SLACK_SECONDS = 0.2
"""How long after a task's expected completion the first look comes (at most 1/10 interval)."""
OVERDUE_GROWTH = 0.5
"""Past its expected completion, a task is looked at again after this share of its lateness."""
DEADLINE_GRACE_SECONDS = 5.0
"""How long past a task's deadline the look that ends its wait (and cancels it) may take."""
# The waits of task runs that stopped polling without an ending (a crash) are forgotten past
# this many, least recently polled first.
_MAX_WAITS = 256


def unsuccessful_error(task: NextcloudTask) -> TaskError | None:
    """The error that matches a failed, cancelled or unknown task; ``None`` for the others."""
    error_type: type[TaskError]
    if task.status is TaskStatus.FAILED:
        reason = f": {task.user_facing_error_message}" if task.user_facing_error_message else ""
        error_type = TaskFailedError
        what = (
            f"failed on the server{reason}. Nextcloud logs the cause; check the provider app's "
            "settings and the input."
        )
    elif task.status is TaskStatus.CANCELLED:
        error_type, what = TaskCancelledError, "was cancelled before it finished."
    elif task.status is TaskStatus.UNKNOWN:
        error_type = UnknownTaskStatusError
        what = (
            "reports an unknown status; the server may be newer than this library, or the task "
            "record is damaged."
        )
    else:
        return None
    return error_type(f"Nextcloud task {task.id} ({task.type}) {what}", task_id=task.id, task=task)


def raise_if_unsuccessful(task: NextcloudTask) -> None:
    """Raise the error that matches a failed, cancelled or unknown task; return if not.

    Raises:
        TaskFailedError: ``STATUS_FAILED``.
        TaskCancelledError: ``STATUS_CANCELLED``.
        UnknownTaskStatusError: ``STATUS_UNKNOWN``.
    """
    error = unsuccessful_error(task)
    if error is not None:
        raise error


def expected_seconds(task: NextcloudTask) -> float:
    """How long after its scheduling the server expects the task to end; 0 without an estimate.

    The estimate is the server's, measured against the server's own ``scheduledAt``.
    """
    if task.completion_expected_at is None or task.scheduled_at is None:
        return 0.0
    return float(task.completion_expected_at - task.scheduled_at)


def next_look(
    task: NextcloudTask,
    watched_seconds: float,
    queued_polls: int,
    interval: float,
    *,
    grace: float = 0.0,
) -> float:
    """Seconds until a pending task is worth another look (due-time polling).

    The first look is at the server's expected completion, with a little slack so that it
    does not race the finish. Past it the looks come after a share of how late the task is
    (:data:`OVERDUE_GROWTH`): short at first, growing, at most one interval, so that the end
    of a task is noticed within a small part of its lateness. A task still queued an interval
    past its estimate is looked at less and less often. Without an estimate, the lateness is
    counted from the start of the wait.

    Args:
        task: The task as last seen.
        watched_seconds: How long this run has been waiting for it.
        queued_polls: How many looks in a row found it still queued.
        interval: The poll interval.
        grace: Seconds past the expected completion left to a pushed notice of the task's
            end before the looks start.
    """
    slack = min(FIRST_LOOK_SLACK_SECONDS, interval / 10)
    late = watched_seconds - grace - expected_seconds(task)
    if late < 0:
        return min(slack - late, interval)
    if task.status is TaskStatus.SCHEDULED and late >= interval:
        return min(interval * QUEUED_BACKOFF**queued_polls, interval * QUEUED_MAX_INTERVALS)
    return min(max(slack, late * OVERDUE_GROWTH), interval)


def unreachable_timeout(
    task_id: int,
    task: NextcloudTask | None,
    failure: NextcloudError,
    *,
    waited_seconds: float,
    timeout_seconds: float,
) -> TaskTimeoutError:
    """The timeout of a task whose deadline passed while the server could not be reached."""
    kind = f" ({task.type})" if task is not None else ""
    started = task is not None and task.started_at is not None
    return TaskTimeoutError(
        f"Nextcloud task {task_id}{kind} did not finish within {timeout_seconds:g} s "
        f"(waited {waited_seconds:.0f} s), and the server could not be reached to check or "
        f"cancel it ({failure}). It was left on the server and may still finish; check the "
        "server and the network, then look at the task or run again.",
        task_id=task_id,
        task=task,
        queued_seconds=0.0 if started else waited_seconds,
        running_seconds=waited_seconds if started else 0.0,
        cancelled=False,
    )


def end_overdue(
    client: NextcloudClient,
    task: NextcloudTask,
    *,
    waited_seconds: float,
    timeout_seconds: float,
    cancel: bool,
) -> tuple[NextcloudTask, TaskTimeoutError | None]:
    """End the wait for a task whose time is up: cancel it (if asked) and explain.

    Returns:
        The task as it is now, and the timeout error; no error when it finished meanwhile.
    """
    cancelled = False
    if cancel:
        try:
            task = client.cancel_task(task.id)
        except NextcloudError as error:
            run_logger().warning("Could not cancel Nextcloud task %s: %s", task.id, error)
        else:
            # Cancelling a task that finished meanwhile returns it unchanged.
            if task.status.is_terminal and task.status is not TaskStatus.CANCELLED:
                return task, None
            cancelled = task.status is TaskStatus.CANCELLED
    queued = waited_seconds
    if task.started_at is not None and task.scheduled_at is not None:
        queued = min(max(task.started_at - task.scheduled_at, 0.0), waited_seconds)
    running = waited_seconds - queued
    return task, TaskTimeoutError(
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


class FailureClock(Protocol):
    """Anything that remembers since when its looks have been failing."""

    failing_since: float | None


def passing_failure(failure: NextcloudError) -> bool:
    """A failure worth looking again after: a passing one, or a look cut short by its deadline."""
    return is_transient(failure) or isinstance(failure, DeadlineExceededError)


def look_again_after_failure(
    watch: FailureClock, failure: NextcloudError, retry_seconds: float, poll_interval: float
) -> None:
    """After a passing failure, look again later while the block's retry budget lasts.

    Every call already retries passing failures on its own; this carries a wait across an
    outage that outlasts one attempt, for up to ``retry_seconds`` from the first failure.

    Raises:
        TaskStillRunning: The budget lasts: look again after at most one poll interval.
    """
    now = time.monotonic()
    watch.failing_since = watch.failing_since or now
    remaining = watch.failing_since + retry_seconds - now
    if remaining > 0:
        delay = min(poll_interval, remaining)
        run_logger().warning(
            "Could not reach Nextcloud for now (%s); looking again in %.1f s.", failure, delay
        )
        raise TaskStillRunning(f"Nextcloud could not be reached: {failure}", retry_after=delay)


class _Watch:
    def __init__(self) -> None:
        self.since = time.monotonic()
        self.queued_polls = 0
        self.last: TaskStatus | None = None
        self.failing_since: float | None = None
        self.seen: NextcloudTask | None = None


_watches: BoundedCache[UUID, _Watch] = BoundedCache(_MAX_WAITS)


def _watch(run_id: UUID | None) -> _Watch:
    return _Watch() if run_id is None else _watches.get_or_put(run_id, _Watch)


def _done(run_id: UUID | None) -> None:
    if run_id is not None:
        _watches.pop(run_id)


def _stop_waiting(task_id: int) -> None:
    """On the flow run's cancellation: a wait leaves the task it awaits to whoever scheduled it."""
    run_logger().info(
        "The flow run was cancelled: stopped waiting for Nextcloud task %s, which is left as it "
        "is (the flow's cancel_outstanding_tasks hook cancels the tasks the run scheduled).",
        task_id,
    )


@polling_task(name="wait_for_task")
def wait_for_task(
    credentials: NextcloudCredentials,
    task_id: int,
    options: WaitOptions = WaitOptions(),
) -> NextcloudTask:
    """Wait until a Nextcloud task has finished, and return it.

    Each attempt fetches the task once; Prefect's retries repeat the attempt while the task is
    scheduled or running, at most every ``options.poll_interval_seconds`` (sooner when the
    server expects the task to end sooner; less often while it waits in the queue). A failure
    of a single poll that may pass (connection reset, 502, 503, 504) is one more retry.

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.
        options: How long to wait, how often to look, and whether to cancel the task when its
            time is up (``WaitOptions``; a ``RunOptions`` is one too).

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
    timeout_seconds = options.timeout_seconds
    poll_interval_seconds = options.poll_interval_seconds
    context = TaskRunContext.get()
    run_id = context.task_run.id if context else None
    on_cancel(run_id, lambda: _stop_waiting(task_id))
    watch = _watch(run_id)
    failure: NextcloudError | None = None
    try:
        budget = timeout_seconds - (time.monotonic() - watch.since) + DEADLINE_GRACE_SECONDS
        with credentials.get_client() as client, client.deadline(budget):
            task = client.get_task(task_id)
            watch.seen = task
            changed = task.status is not watch.last
            progress = "" if task.progress is None else f", {task.progress:.0%} done"
            run_logger().log(
                logging.INFO if changed else logging.DEBUG,
                "Nextcloud task %s (%s) is %s%s.",
                task.id,
                task.type,
                task.status.name.lower(),
                progress,
            )
            if task.status is TaskStatus.SCHEDULED and not changed:
                watch.queued_polls += 1
            watch.last, watch.failing_since = task.status, None
            error: TaskError | None = None
            waited = time.monotonic() - watch.since
            pending = task.status.is_pending and waited < timeout_seconds
            if task.status.is_pending and not pending:
                task, error = end_overdue(
                    client,
                    task,
                    waited_seconds=waited,
                    timeout_seconds=timeout_seconds,
                    cancel=options.cancel_on_timeout,
                )
    except NextcloudError as raised:
        failure = raised
    except BaseException:
        _done(run_id)
        raise
    if failure is not None:  # raised outside the except block: no request on __context__
        waited = time.monotonic() - watch.since
        overdue = waited >= timeout_seconds
        if run_id is not None and not overdue and passing_failure(failure):
            look_again_after_failure(
                watch,
                failure,
                credentials.retry_seconds,
                min(poll_interval_seconds, timeout_seconds - waited),
            )
        _done(run_id)
        if overdue and passing_failure(failure):
            raise unreachable_timeout(
                task_id,
                watch.seen,
                failure,
                waited_seconds=waited,
                timeout_seconds=timeout_seconds,
            )
        raise failure
    if pending:
        delay = next_look(task, waited, watch.queued_polls, poll_interval_seconds)
        raise TaskStillRunning(
            f"Nextcloud task {task.id} is {task.status.name.lower()}",
            retry_after=min(delay, timeout_seconds - waited),
        )
    _done(run_id)
    if error is not None:
        raise error
    raise_if_unsuccessful(task)
    return task
