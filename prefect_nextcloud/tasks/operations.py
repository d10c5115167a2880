"""Prefect tasks for single Task Processing calls: list types, schedule, cancel, delete, files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect import task
from prefect.concurrency.sync import rate_limit
from prefect.logging import get_run_logger

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.models import Task, TaskType
from prefect_nextcloud.client.nextcloud_client import DEFAULT_APP_ID
from prefect_nextcloud.tasks.global_limit import SCHEDULE_RATE_LIMIT, schedule_limit_exists
from prefect_nextcloud.tasks.idempotency import derive_custom_id, remember_scheduled

__all__ = [
    "SCHEDULE_RATE_LIMIT",
    "cancel_task",
    "delete_task",
    "download_task_file",
    "list_task_types",
    "schedule_task",
]


@task
def list_task_types(credentials: NextcloudCredentials) -> dict[str, TaskType]:
    """List the task types the server offers to this user.

    Args:
        credentials: Where and as whom to connect.

    Returns:
        Task types keyed by id, e.g. ``core:analyze-images``.
    """
    with credentials.get_client() as client:
        return client.get_task_types()


@task
def schedule_task(
    credentials: NextcloudCredentials,
    task_type: str,
    input: Mapping[str, Any],
    custom_id: str | None = None,
    app_id: str = DEFAULT_APP_ID,
) -> Task:
    """Schedule a Nextcloud task; it then waits for a provider app to run it.

    The client waits out rate limits and maintenance, and after a failure that may have created
    the task (lost connection, 5xx) it adopts the task found under ``custom_id`` instead of
    creating a second one.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id, e.g. ``core:text2text``.
        input: Slot name to value, as the task type's input shape asks; files by file id.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        app_id: The app id the task is filed under.

    Returns:
        The scheduled task (or the one already scheduled under ``custom_id``).
    """
    if custom_id is None:
        custom_id = derive_custom_id(task_type, input)
    remember_scheduled(credentials, app_id)
    # Across processes, schedules are paced by the global limit when it exists (see the
    # README); within this process the client's schedule window paces them.
    if schedule_limit_exists():
        rate_limit(SCHEDULE_RATE_LIMIT, strict=True)
    with credentials.get_client() as client:
        scheduled = client.schedule_task(task_type, input, app_id=app_id, custom_id=custom_id)
    get_run_logger().info("Scheduled Nextcloud task %s (%s).", scheduled.id, scheduled.type)
    return scheduled


@task
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


@task
def delete_task(credentials: NextcloudCredentials, task_id: int) -> None:
    """Delete a task and its record on the server (not a running provider's work).

    Args:
        credentials: Where and as whom to connect.
        task_id: The Nextcloud task id.
    """
    with credentials.get_client() as client:
        client.delete_task(task_id)


@task
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
