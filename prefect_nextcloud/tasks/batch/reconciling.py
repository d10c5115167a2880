"""Reconciling: matching the batch's items with the tasks the server lists under its app id.

One ``GET /tasks/app/{appId}`` returns every task of the batch. What is ours is adopted
under each item's ``customId``; younger twins (runs that could not coordinate) are
cancelled and deleted; a task missing from the listing is asked for by id; and an
unreadable row of ours fails its own item only.
"""

from __future__ import annotations

from prefect_nextcloud.client.adoption import is_ours, twins_of
from prefect_nextcloud.client.errors import (
    NextcloudError,
    TaskNotFoundError,
    UnexpectedResponseError,
    is_transient,
)
from prefect_nextcloud.client.models import Task, TaskStatus, UnreadableTask
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.tasks.batch.cleanup import drop
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem
from prefect_nextcloud.tasks.batch.outputs import settle_finished
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.progress import run_logger

__all__ = ["must_look", "reconcile"]


def _gone(batch: Batch, task: Task) -> TaskNotFoundError:
    return TaskNotFoundError(
        f"Nextcloud task {task.id} ({batch.task_type}) is gone from the server: it was deleted "
        "or cleaned up before it finished.",
        endpoint=f"GET /task/{task.id}",
        status_code=404,
    )


def _unreadable(batch: Batch, row: UnreadableTask) -> UnexpectedResponseError:
    which = f"Nextcloud task {row.id}" if row.id is not None else "A Nextcloud task"
    return UnexpectedResponseError(
        f"{which} ({batch.task_type}, custom id {row.custom_id!r}) is listed in a form this "
        f"library cannot read ({row.problem}), so its answer cannot be used; it was cancelled. "
        "Check the provider app and the server's version, then run the item again.",
        endpoint=f"GET /tasks/app/{batch.app_id}",
    )


def _look_up(client: NextcloudClient, batch: Batch, item: BatchItem) -> Task | None:
    """Ask for a task the listing left out: settle it as gone only on a 404."""
    assert item.task is not None
    try:
        return client.get_task(item.task.id)
    except TaskNotFoundError:
        item.settle(item.task, _gone(batch, item.task))
    except NextcloudError as error:
        if not is_transient(error):
            item.settle(item.task, error)
    return None


def reconcile(client: NextcloudClient, batch: Batch, options: RunOptions, now: float) -> None:
    """Match every open item with its task on the server, and settle what has ended.

    Only tasks that are ours by :func:`~prefect_nextcloud.client.adoption.is_ours` count.
    Of twins under one custom id (runs that could not coordinate) the oldest is kept and the
    others are cancelled and deleted. A task missing from the listing is asked for by id,
    and an unreadable row of ours fails its own item only.
    """
    custom_id = batch.items[0].custom_id if len(batch.items) == 1 else None
    listing = client.task_listing(batch.app_id, custom_id=custom_id)
    items = {item.custom_id: item for item in batch.items}

    def ours(task: Task | UnreadableTask) -> bool:
        return is_ours(
            task,
            app_id=batch.app_id,
            user_id=client.user_id,
            custom_id_matches=items.__contains__,
            task_type=batch.task_type,
        )

    listed = [task for task in listing.tasks if ours(task)]
    kept = twins_of(listed)
    _drop_twins(client, kept)
    for row in listing.unreadable:
        if ours(row):  # rows of other apps or users are none of our business
            assert row.custom_id is not None
            _drop_unreadable(client, batch, items[row.custom_id], row, kept)
    by_id = {task.id: task for task in listed}
    for item in (item for item in batch.items if not item.settled):
        task = _match(client, batch, item, kept, by_id, now)
        if task is None:
            continue
        if task.status is TaskStatus.SCHEDULED and item.task and item.task.status is task.status:
            item.queued_polls += 1
        item.task = task
        if not task.status.is_pending:
            settle_finished(client, batch, item, task, options)


def _drop_twins(client: NextcloudClient, kept: dict[str, tuple[Task, list[Task]]]) -> None:
    """Cancel and delete the younger twins of every kept task."""
    for oldest, younger in kept.values():
        for twin in younger:
            run_logger().info(
                "Nextcloud task %s duplicates task %s (custom id %r, scheduled by a run that "
                "could not coordinate); cancelling and deleting it.",
                twin.id,
                oldest.id,
                oldest.custom_id,
            )
            drop(client, twin.id, delete=True)


def _drop_unreadable(
    client: NextcloudClient,
    batch: Batch,
    item: BatchItem,
    row: UnreadableTask,
    kept: dict[str, tuple[Task, list[Task]]],
) -> None:
    """An unreadable row of ours: a twin of a readable task, or its item's failure."""
    if item.custom_id in kept:  # a readable twin is kept: this one must not run
        if row.id is not None:
            drop(client, row.id, delete=True)
    elif not item.settled:
        if row.id is not None:
            drop(client, row.id, delete=False)
        item.settle(item.task, _unreadable(batch, row))


def _match(
    client: NextcloudClient,
    batch: Batch,
    item: BatchItem,
    kept: dict[str, tuple[Task, list[Task]]],
    by_id: dict[int, Task],
    now: float,
) -> Task | None:
    """The item's task as the server has it now, or ``None`` when there is none to follow."""
    found = kept.get(item.custom_id)
    if item.task is None:
        item.outcome_unknown = False  # this listing has answered for its custom id
        if found is not None:
            item.watched_since = now  # adopted: scheduled before, by this run or another
            return found[0]
        return None
    if found is not None and found[0].id != item.task.id:
        return found[0]  # an older twin of another run is the one every run keeps
    if item.task.id in by_id:
        return by_id[item.task.id]
    return _look_up(client, batch, item)


def must_look(batch: Batch) -> bool:
    """Whether a listing can find anything.

    It cannot before the first schedule of a fresh batch, nor while no task of the batch is
    pending and no schedule's outcome is unknown.
    """
    return batch.may_have_unseen or any(
        not item.settled and (item.task is not None or item.outcome_unknown) for item in batch.items
    )
