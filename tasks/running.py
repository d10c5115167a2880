"""Run a Nextcloud task from start to finish: schedule it, wait for it, tidy up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect import task
from prefect.logging import get_run_logger

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.client import DEFAULT_APP_ID
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.tasks.operations import schedule_task
from prefect_nextcloud.tasks.waiting import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    check_wait_arguments,
    wait_for_task,
)

__all__ = ["run_task"]


@task
def run_task(
    credentials: NextcloudCredentials,
    task_type: str,
    input: Mapping[str, Any],
    custom_id: str | None = None,
    app_id: str = DEFAULT_APP_ID,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    cancel_on_timeout: bool = True,
    delete_after: bool = False,
) -> Task:
    """Schedule a Nextcloud task, wait until it has finished, and return it.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id, e.g. ``core:text2text:summary``.
        input: Slot name to value, as the task type's input shape asks; files by file id.
        custom_id: Your own identifier for the task (at most 255 characters).
        app_id: The app id the task is filed under.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        cancel_on_timeout: Cancel the Nextcloud task when the timeout is reached.
        delete_after: Delete the task on the server once its result has been read.

    Returns:
        The successful task, with its output.

    Raises:
        ValueError: An argument is invalid; nothing was sent.
        NextcloudError: Scheduling or waiting failed; see ``wait_for_task`` for the cases.
    """
    check_wait_arguments(timeout_seconds, poll_interval_seconds)
    scheduled = schedule_task(credentials, task_type, input, custom_id=custom_id, app_id=app_id)
    finished: Task = wait_for_task(
        credentials,
        scheduled.id,
        timeout_seconds=timeout_seconds,
        poll_interval_seconds=poll_interval_seconds,
        cancel_on_timeout=cancel_on_timeout,
    )
    if delete_after:
        try:
            with credentials.get_client() as client:
                client.delete_task(finished.id)
        except NextcloudError as error:
            get_run_logger().warning(
                "Nextcloud task %s finished but could not be deleted: %s", finished.id, error
            )
    return finished
