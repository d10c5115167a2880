"""Prefect tasks for single Task Processing calls: list types, schedule, cancel, delete, files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect import task
from prefect.logging import get_run_logger

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.client import DEFAULT_APP_ID
from prefect_nextcloud.client.models import Task, TaskType
from prefect_nextcloud.tasks.retry_rules import retry_if_not_created, retry_if_transient

__all__ = ["cancel_task", "delete_task", "download_task_file", "list_task_types", "schedule_task"]

# Nextcloud counts schedule calls in a sliding 120 s window, so the last wait covers a window.
SCHEDULE_RETRY_DELAYS = [10.0, 30.0, 60.0, 120.0]
TRANSIENT_RETRY_DELAYS = [1.0, 5.0, 15.0]


@task(retries=3, retry_delay_seconds=TRANSIENT_RETRY_DELAYS, retry_condition_fn=retry_if_transient)
def list_task_types(credentials: NextcloudCredentials) -> dict[str, TaskType]:
    """List the task types the server offers to this user.

    Args:
        credentials: Where and as whom to connect.

    Returns:
        Task types keyed by id, e.g. ``core:analyze-images``.
    """
    with credentials.get_client() as client:
        return client.get_task_types()


@task(
    retries=len(SCHEDULE_RETRY_DELAYS),
    retry_delay_seconds=SCHEDULE_RETRY_DELAYS,
    retry_condition_fn=retry_if_not_created,
)
def schedule_task(
    credentials: NextcloudCredentials,
    task_type: str,
    input: Mapping[str, Any],
    custom_id: str | None = None,
    app_id: str = DEFAULT_APP_ID,
) -> Task:
    """Schedule a Nextcloud task; it then waits for a provider app to run it.

    Retried only when the server certainly created nothing (rate limit, maintenance).

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id, e.g. ``core:text2text``.
        input: Slot name to value, as the task type's input shape asks; files by file id.
        custom_id: Your own identifier for the task (at most 255 characters).
        app_id: The app id the task is filed under.

    Returns:
        The scheduled task.
    """
    with credentials.get_client() as client:
        scheduled = client.schedule_task(task_type, input, app_id=app_id, custom_id=custom_id)
    get_run_logger().info("Scheduled Nextcloud task %s (%s).", scheduled.id, scheduled.type)
    return scheduled


@task(retries=3, retry_delay_seconds=TRANSIENT_RETRY_DELAYS, retry_condition_fn=retry_if_transient)
def cancel_task(credentials: NextcloudCredentials, task_id: int) -> Task:
    """Cancel a scheduled or running task; a finished task is returned unchanged.

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.

    Returns:
        The task after the cancel.
    """
    with credentials.get_client() as client:
        return client.cancel_task(task_id)


@task(retries=3, retry_delay_seconds=TRANSIENT_RETRY_DELAYS, retry_condition_fn=retry_if_transient)
def delete_task(credentials: NextcloudCredentials, task_id: int) -> None:
    """Delete a task and its record on the server (not a running provider's work).

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.
    """
    with credentials.get_client() as client:
        client.delete_task(task_id)


@task(retries=3, retry_delay_seconds=TRANSIENT_RETRY_DELAYS, retry_condition_fn=retry_if_transient)
def download_task_file(credentials: NextcloudCredentials, task_id: int, file_id: int) -> bytes:
    """Download a file of a task's input or output (e.g. a generated image).

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.
        file_id: A file id from the task's input or output.

    Returns:
        The file's bytes.
    """
    with credentials.get_client() as client:
        return client.get_task_file(task_id, file_id).content
