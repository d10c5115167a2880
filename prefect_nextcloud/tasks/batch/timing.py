"""Timing: when to look next, and the deadlines that end an item's wait.

Each item's wait starts when this run scheduled or first saw its task and lasts
``timeout_seconds``; an attempt is bounded by the first of those deadlines.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem
from prefect_nextcloud.tasks.batch.outputs import settle_finished
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.waiting import (
    DEADLINE_GRACE_SECONDS,
    end_overdue,
    expected_seconds,
    next_look,
    unreachable_timeout,
)

__all__ = [
    "bounded",
    "end_overdue_items",
    "expected_ends",
    "next_delay",
    "time_out_unreachable",
    "to_next_deadline",
]

GATHER_SHARE = 0.2
"""A look waits for the tasks due within this share of the poll interval after the first."""


def next_delay(
    batch: Batch, options: RunOptions, now: float, slot_wait: float | None, *, grace: float = 0.0
) -> float:
    """The delay before the next look: when a task is due, a slot frees or a deadline hits.

    Args:
        batch: The batch.
        options: Its poll interval and timeout.
        now: The monotonic time of the last look.
        slot_wait: Seconds until the schedule window frees a slot; ``None`` when nothing waits.
        grace: Seconds past each task's expected completion left to a pushed notice.
    """
    pending = [item for item in batch.items if not item.settled and item.task is not None]
    delays = []
    interval = options.poll_interval_seconds
    if pending:
        dues = [
            next_look(
                item.task,
                now - (item.watched_since or now),
                item.queued_polls,
                interval,
                grace=grace,
            )
            for item in pending
            if item.task is not None
        ]
        # One look serves every task due shortly after the first, so that a hundred tasks
        # ending within a moment of each other cost one look, not a hundred.
        first = min(dues)
        delays.append(max(due for due in dues if due <= first + interval * GATHER_SHARE))
        deadlines = [
            item.watched_since + options.timeout_seconds - now
            for item in pending
            if item.watched_since is not None
        ]
        delays.append(max(min(deadlines), 0.0))
    if slot_wait is not None:
        delays.append(slot_wait)
    return min(delays) if delays else interval


def expected_ends(batch: Batch) -> dict[int, float]:
    """Each pending task's id, with the monotonic time the server expects it to end.

    The server's estimate is counted from when this run scheduled or first saw the task;
    a task without one is taken to be due since then.
    """
    ends = {}
    for item in batch.items:
        if item.settled or item.task is None or item.watched_since is None:
            continue
        ends[item.task.id] = item.watched_since + expected_seconds(item.task)
    return ends


def _deadlines(batch: Batch, options: RunOptions) -> list[tuple[BatchItem, float]]:
    """Each open item on the server, with the monotonic time its wait ends."""
    return [
        (item, item.watched_since + options.timeout_seconds)
        for item in batch.items
        if not item.settled and item.task is not None and item.watched_since is not None
    ]


def to_next_deadline(batch: Batch, options: RunOptions) -> float:
    """The seconds until the first open item's wait ends; the poll interval when none waits."""
    ends = [end for _, end in _deadlines(batch, options)]
    return max(min(ends) - time.monotonic(), 0.0) if ends else options.poll_interval_seconds


def bounded(client: NextcloudClient, batch: Batch, options: RunOptions) -> Any:
    """Bound the attempt by the first wait's end (and the grace to cancel it), if any."""
    ends = [end for _, end in _deadlines(batch, options)]
    if not ends:
        return nullcontext()
    return client.deadline(min(ends) - time.monotonic() + DEADLINE_GRACE_SECONDS)


def time_out_unreachable(batch: Batch, failure: NextcloudError, options: RunOptions) -> None:
    """End the waits that ran out while the server could not be asked."""
    now = time.monotonic()
    for item, end in _deadlines(batch, options):
        if end <= now:
            assert item.task is not None
            item.settle(
                item.task,
                unreachable_timeout(
                    item.task.id,
                    item.task,
                    failure,
                    waited_seconds=options.timeout_seconds + (now - end),
                    timeout_seconds=options.timeout_seconds,
                ),
            )


def end_overdue_items(
    client: NextcloudClient, batch: Batch, options: RunOptions, now: float
) -> None:
    """End the waits of the items whose time is up."""
    for item in batch.items:
        if (
            not item.settled
            and item.task is not None
            and item.watched_since is not None
            and now - item.watched_since >= options.timeout_seconds
        ):
            _timed_out(client, batch, item, options, now)


def _timed_out(
    client: NextcloudClient, batch: Batch, item: BatchItem, options: RunOptions, now: float
) -> None:
    """End the wait for an item whose time is up: a late result, or cancel and fail it."""
    assert item.task is not None
    assert item.watched_since is not None
    task, error = end_overdue(
        client,
        item.task,
        waited_seconds=now - item.watched_since,
        timeout_seconds=options.timeout_seconds,
        cancel=options.cancel_on_timeout,
    )
    if error is None:
        settle_finished(client, batch, item, task, options)
    else:
        item.settle(task, error)
