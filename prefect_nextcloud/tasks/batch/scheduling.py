"""Scheduling: the items that have no task yet, as far as the schedule window allows now.

Each item is scheduled under its own ``customId`` in the batch's app id, with a webhook to the
relay when the batch uses push. Up to :data:`SCHEDULE_CONCURRENCY` schedule calls are in
flight at once, within the slots the window grants; a schedule that the window refuses holds
back the calls not yet sent; one whose answer was lost leaves the item to the next listing,
which shows whether the task was created.
"""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import (
    MaintenanceModeError,
    NextcloudError,
    RateLimitedError,
    ScheduleDeferredError,
    is_transient,
)
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.pacing import SchedulePacer
from prefect_nextcloud.tasks.batch.inputs import resolve_waiting
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem, to_schedule
from prefect_nextcloud.tasks.batch.outputs import settle_finished
from prefect_nextcloud.tasks.global_limit import take_schedule_slots
from prefect_nextcloud.tasks.idempotency import remember_scheduled
from prefect_nextcloud.tasks.options import RunOptions

__all__ = ["SCHEDULE_CONCURRENCY", "schedule"]

SCHEDULE_CONCURRENCY = 4
"""The most schedule calls a batch has in flight at once."""
SLOT_LEAD_SECONDS = 0.5
"""How early the attempt that waits for schedule slots starts; it waits out the rest itself, so
that Prefect's retry between the attempts does not hold back the next window's schedules."""


def _schedule_one(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: Batch,
    item: BatchItem,
    options: RunOptions,
    now: float,
) -> bool:
    """Schedule one item; return False when the window is full and scheduling must stop."""
    assert item.resolved is not None
    webhook = (
        credentials.task_webhook_uri(credentials.user_id, batch.app_id, item.custom_id)
        if batch.push
        else None
    )
    try:
        task = client.schedule_task(
            batch.task_type,
            item.resolved,
            app_id=batch.app_id,
            custom_id=item.custom_id,
            webhook_uri=webhook,
            webhook_method="HTTP:POST" if webhook else None,
            validate=False,
            adopt_existing=False,
            wait_for_slot=False,
        )
    except ScheduleDeferredError as deferred:
        if deferred.refused:
            batch.refused_since = batch.refused_since or now
            if now - batch.refused_since > credentials.rate_limit_wait_seconds:
                for late in batch.items:
                    if late.task is None and not late.settled:
                        late.settle(None, deferred)
        return False
    except NextcloudError as error:
        item.failing_since = item.failing_since or now
        if not is_transient(error) or now - item.failing_since > options.timeout_seconds:
            item.settle(None, error)
        else:
            # The server may have created the task before the answer was lost.
            item.outcome_unknown = not isinstance(error, MaintenanceModeError | RateLimitedError)
        return True
    batch.refused_since = None
    # The clock of the task's deadline and expected completion starts at its schedule.
    item.task, item.watched_since, item.failing_since = task, time.monotonic(), None
    if not task.status.is_pending:  # the TextProcessing API may answer finished
        settle_finished(client, batch, item, task, options)
    return True


def schedule(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: Batch,
    options: RunOptions,
    now: float,
) -> float | None:
    """Resolve and schedule the open items that have no task, as far as the window allows.

    Returns:
        The seconds until more may be scheduled, or ``None`` when nothing waits for a slot.
    """
    resolve_waiting(client, batch, options)
    ready = [item for item in batch.items if to_schedule(item) and item.resolved is not None]
    if not ready:
        return None
    pacer = client.schedule_pacer
    wait = _until_slots(pacer, len(ready), options)
    if wait > SLOT_LEAD_SECONDS:
        return wait - SLOT_LEAD_SECONDS
    if wait > 0:
        time.sleep(wait)  # the end of a wait this attempt started early for
    wanted = min(len(ready), pacer.available())
    granted, global_wait = take_schedule_slots(wanted) if wanted else (0, 0.0)
    remember_scheduled(credentials, batch.app_id)
    held_back = threading.Event()

    def send(item: BatchItem) -> None:
        if not held_back.is_set() and not _schedule_one(
            client, credentials, batch, item, options, now
        ):
            held_back.set()

    if granted == 1:
        send(ready[0])
    elif granted > 1:
        with ThreadPoolExecutor(min(granted, SCHEDULE_CONCURRENCY)) as pool:
            # Each call runs in a copy of this context: the attempt's deadline and run logger.
            sent = [
                pool.submit(contextvars.copy_context().run, send, item) for item in ready[:granted]
            ]
        for call in sent:
            call.result()
    left = sum(1 for item in ready if to_schedule(item))
    if not left:
        return None
    # Held back by the window (this process's or the Prefect limit's), or a passing failure.
    wait = _until_slots(pacer, left, options)
    if global_wait > wait:
        return global_wait
    if wait > SLOT_LEAD_SECONDS:
        return wait - SLOT_LEAD_SECONDS
    return wait if wait > 0 else options.poll_interval_seconds


def _until_slots(pacer: SchedulePacer, count: int, options: RunOptions) -> float:
    """Seconds until ``count`` more calls should be sent (0 when some may go now).

    Slots free up one by one as the last window's calls leave it; when the rest follow
    within a poll interval, one attempt then schedules them all instead of one per slot.
    """
    whole = pacer.wait_seconds(count)
    return whole if whole <= options.poll_interval_seconds else pacer.wait_seconds()
