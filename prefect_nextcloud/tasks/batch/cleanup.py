"""Clean-up: cancelling tasks that must not run, abandoning a failed batch, tidying up.

A batch that succeeds deletes its finished tasks when asked and removes its staged uploads;
one that ends with an error cancels the tasks it scheduled unless other runs share them; one
whose flow run is cancelled cancels its pending tasks and records them as cancelled.
"""

from __future__ import annotations

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task, TaskStatus
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.staging import remove_staged
from prefect_nextcloud.tasks.batch.items import Batch
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.progress import run_logger
from prefect_nextcloud.tasks.waiting import unsuccessful_error

__all__ = ["abandon", "cancel_pending", "drop", "tidy_up"]


def drop(client: NextcloudClient, task_id: int, *, delete: bool) -> Task | None:
    """Cancel (and delete) a task that must not run, as far as the server lets us now.

    Returns:
        The task as the cancel call answered it; ``None`` when the call failed (logged).
    """
    try:
        task = client.cancel_task(task_id)
        if delete:
            client.delete_task(task_id)
    except NextcloudError as error:
        run_logger().warning("Could not cancel Nextcloud task %s: %s", task_id, error)
        return None
    return task


def abandon(credentials: NextcloudCredentials, batch: Batch) -> None:
    """Cancel the pending tasks of a batch that ends with an error and is not looked at again.

    Tasks that other runs share (an idempotency key) are left to them, or to a re-run.
    """
    pending = [item.task.id for item in batch.items if not item.settled and item.task]
    if batch.shared or not pending:
        return
    try:
        with credentials.get_client() as client:
            for task_id in pending:
                drop(client, task_id, delete=False)
    except NextcloudError as error:  # the server cannot be reached at all: nothing to do
        run_logger().warning("Could not cancel Nextcloud tasks %s: %s", pending, error)


def cancel_pending(client: NextcloudClient, batch: Batch) -> list[int]:
    """Cancel the batch's tasks that have not ended, and settle their items as cancelled.

    Returns:
        The ids of the tasks the server reports cancelled.
    """
    cancelled: list[int] = []
    for item in batch.items:
        if item.settled or item.task is None:
            continue
        task = drop(client, item.task.id, delete=False)
        if task is not None and task.status is TaskStatus.CANCELLED:
            item.settle(task, unsuccessful_error(task))
            cancelled.append(task.id)
    return cancelled


def tidy_up(client: NextcloudClient, batch: Batch, options: RunOptions) -> None:
    """Delete finished tasks when asked, and the staged uploads."""
    logger = run_logger()
    if options.delete_after:
        for item in batch.items:
            if item.task is not None:
                try:
                    client.delete_task(item.task.id)
                except NextcloudError as error:
                    logger.warning(
                        "Nextcloud task %s finished but could not be deleted: %s",
                        item.task.id,
                        error,
                    )
    if not options.keep_staged_files:
        remove_staged(client, batch.staged)
        batch.staged.clear()
