"""One attempt over a batch: look, settle, schedule, then return or ask to look again.

An attempt makes one ``GET /tasks/app/{appId}`` that returns every task of the batch (the app
id is unique to the run), adopts what already exists under each item's ``customId``, settles
what has finished (downloading output files, handing each result to ``on_results``), cancels
what ran past its deadline, schedules what is missing as far as the schedule window allows
right now, and then either returns the results or raises
:class:`~prefect_nextcloud.tasks.polling.TaskStillRunning` with the delay until the next
due look. Prefect's retries are the loop.

With a relay (see :mod:`~prefect_nextcloud.tasks.batch.push`), the attempt does not end at
once: it waits on Prefect's event stream until the next due look, and each time Nextcloud
pushes the end of some of its tasks it looks again right away, in one listing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from functools import partial
from typing import Any

from prefect.context import TaskRunContext

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.tasks.batch.cancelled import end_cancelled
from prefect_nextcloud.tasks.batch.cleanup import abandon, tidy_up
from prefect_nextcloud.tasks.batch.inputs import check_inputs, validate
from prefect_nextcloud.tasks.batch.items import (
    Batch,
    BatchItem,
    ItemResult,
    forget,
    recall,
    remember,
    start_batch,
    still_open,
)
from prefect_nextcloud.tasks.batch.outputs import deliver
from prefect_nextcloud.tasks.batch.push import PushListener
from prefect_nextcloud.tasks.batch.reconciling import must_look, reconcile
from prefect_nextcloud.tasks.batch.report import leave_result_table
from prefect_nextcloud.tasks.batch.scheduling import schedule
from prefect_nextcloud.tasks.batch.timing import (
    bounded,
    end_overdue_items,
    expected_ends,
    next_delay,
    time_out_unreachable,
    to_next_deadline,
)
from prefect_nextcloud.tasks.cancellation import on_cancel
from prefect_nextcloud.tasks.events import emit_task_events
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import TaskStillRunning
from prefect_nextcloud.tasks.run_lock import run_lock
from prefect_nextcloud.tasks.waiting import look_again_after_failure, passing_failure

__all__ = ["reconcile_batch"]


def reconcile_batch(
    credentials: NextcloudCredentials,
    task_type: str,
    inputs: Sequence[Mapping[str, Any]],
    options: RunOptions,
    *,
    custom_ids: Sequence[str | None] | None = None,
    app_id: str | None = None,
    artifact_key: str | None = None,
    on_results: Callable[[list[ItemResult]], None] | None = None,
    file_paths: Mapping[int, str] | None = None,
) -> list[BatchItem]:
    """One attempt over a batch: look, settle, schedule, then return or ask to look again.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type of every item.
        inputs: One task input per item.
        options: How to wait and tidy up.
        custom_ids: One custom id per item; derived from the run and the inputs when omitted.
        app_id: The app id of the batch's tasks; unique to the run when omitted.
        artifact_key: Keep a progress artifact and a result table under this key.
        on_results: Called with the results that became known together, as soon as they are;
            each item once.
        file_paths: The paths of files given by id, to name them in the result table.

    Returns:
        Every item, settled, in input order.

    Raises:
        ValueError: An argument or an item is invalid; nothing was sent.
        TaskStillRunning: Some items are not settled yet; look again after ``retry_after``.
        NextcloudError: The server could not be asked (a passing failure is retried by the
            polling task's retry rule).
    """
    items = check_inputs(inputs)
    if not items:
        return []
    context = TaskRunContext.get()
    key = context.task_run.id if context is not None else None
    batch = recall(key)
    if batch is None:
        batch = start_batch(task_type, items, custom_ids, app_id, artifact_key)
        remember(key, batch)
    on_cancel(key, partial(end_cancelled, credentials, batch, options, on_results, file_paths))
    failure: NextcloudError | None = None
    try:
        with credentials.get_client() as client, bounded(client, batch, options):
            _attempt(client, credentials, batch, options, on_results)
    except TaskStillRunning:
        batch.failing_since = None
        raise
    except NextcloudError as error:
        failure = error
    except BaseException:
        forget(key)
        raise
    if failure is not None:
        # Raised outside the except block: no httpx request may hang on __context__.
        if passing_failure(failure):
            time_out_unreachable(batch, failure, options)
        if key is not None and passing_failure(failure) and still_open(batch):
            look_again_after_failure(
                batch,
                failure,
                credentials.retry_seconds,
                min(options.poll_interval_seconds, to_next_deadline(batch, options)),
            )
        forget(key)
        deliver(batch, on_results)
        if still_open(batch):
            abandon(credentials, batch)
            raise failure
    forget(key)
    leave_result_table(batch, credentials.base_url, file_paths)
    return batch.items


def _attempt(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: Batch,
    options: RunOptions,
    on_results: Callable[[list[ItemResult]], None] | None,
) -> None:
    if batch.declared is None:
        declared = client.get_task_type(batch.task_type)
        validate(declared, batch.items)
        batch.declared = declared
    batch.push = (
        credentials.relay_url is not None
        and credentials.relay_secret is not None
        and client.has_task_processing()
    )
    # Subscribed before anything is scheduled, so that no push can come before it.
    with PushListener(batch.app_id) if batch.push else nullcontext() as push:
        slot_wait = _look_and_schedule(client, credentials, batch, options)
        slots_at = None if slot_wait is None else time.monotonic() + slot_wait
        while True:
            deliver(batch, on_results)  # first: the caller waits for nothing else
            summary = batch.progress.update(batch.items)
            emit_task_events(credentials, batch.items)
            if not still_open(batch):
                break
            now = time.monotonic()
            slot_wait = None if slots_at is None else max(slots_at - now, 0.0)
            grace = options.poll_interval_seconds if push is not None else 0.0
            delay = next_delay(batch, options, now, slot_wait, grace=grace)
            pending = expected_ends(batch)
            batch.progress.announce_wait(batch.items, options.timeout_seconds)
            if push is None or not pending or not push.wait(pending, delay):
                raise TaskStillRunning(summary, retry_after=max(now + delay - time.monotonic(), 0))
            # Pushed: one listing reads every task that has ended meanwhile.
            now = time.monotonic()
            reconcile(client, batch, options, now)
            end_overdue_items(client, batch, options, now)
    tidy_up(client, batch, options)


def _look_and_schedule(
    client: NextcloudClient, credentials: NextcloudCredentials, batch: Batch, options: RunOptions
) -> float | None:
    """Look, end overdue waits and schedule; return the wait for more schedule slots."""
    now = time.monotonic()
    # Runs sharing the batch schedule one at a time, each after a fresh look.
    coordinate = batch.shared and any(
        not item.settled and item.task is None for item in batch.items
    )
    with run_lock(batch.app_id) if coordinate else nullcontext(True) as locked:
        if coordinate or must_look(batch):
            reconcile(client, batch, options, now)
            batch.may_have_unseen = False
        end_overdue_items(client, batch, options, now)
        slot_wait = schedule(client, credentials, batch, options, now)
    if not locked:
        # Scheduled without the lock: look again at once, so that twins another run may have
        # scheduled meanwhile are cancelled before a provider picks them up.
        reconcile(client, batch, options, time.monotonic())
    return slot_wait
