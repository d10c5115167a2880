"""A batch whose flow run was cancelled: keep what arrived, cancel the rest, say so.

Called in the flow run's process once the run is known to be cancelling (see
:mod:`~prefect_nextcloud.tasks.cancellation`), whether the cancellation came during an attempt
or during Prefect's wait between two: one last look settles the tasks that ended since the
previous one, whose answers go to ``on_results`` as usual; the tasks still pending are
cancelled, each with a ``nextcloud.task.cancelled`` event; the result table shows every item.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.tasks.batch.cleanup import cancel_pending, tidy_up
from prefect_nextcloud.tasks.batch.items import Batch, ItemResult, still_open
from prefect_nextcloud.tasks.batch.outputs import deliver
from prefect_nextcloud.tasks.batch.reconciling import reconcile
from prefect_nextcloud.tasks.batch.report import leave_result_table
from prefect_nextcloud.tasks.events import emit_task_events
from prefect_nextcloud.tasks.idempotency import has_idempotency_key
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.progress import run_logger

__all__ = ["end_cancelled"]


def end_cancelled(
    credentials: NextcloudCredentials,
    batch: Batch,
    options: RunOptions,
    on_results: Callable[[list[ItemResult]], None] | None,
    file_paths: Mapping[int, str] | None = None,
) -> None:
    """End a batch whose flow run was cancelled: keep the answers that arrived, cancel the rest.

    Tasks shared with other runs through an ``idempotency_key`` are left to the flow's
    cancellation hook, which knows whether another run still waits for them.

    Args:
        credentials: Where and as whom to connect.
        batch: The batch, as its last attempt left it.
        options: How the batch waits and tidies up.
        on_results: The batch's ``on_results``; it gets the answers that arrived.
        file_paths: The paths of files given by id, to name them in the result table.
    """
    logger = run_logger()
    cancelled: list[int] = []
    try:
        with credentials.get_client() as client:
            if still_open(batch):
                reconcile(client, batch, options, time.monotonic())
            deliver(batch, on_results)
            if not has_idempotency_key():
                cancelled = cancel_pending(client, batch)
            tidy_up(client, batch, options)
    except NextcloudError as error:
        logger.warning(
            "The flow run was cancelled, but the batch's Nextcloud tasks could not all be "
            "looked at or cancelled (%s); those still pending may run to their end.",
            error,
        )
    emit_task_events(credentials, batch.items)
    leave_result_table(batch, credentials.base_url, file_paths)
    kept = sum(item.settled and item.error is None for item in batch.items)
    logger.info(
        "The flow run was cancelled: %s pending %s task(s) cancelled in Nextcloud%s; %s "
        "answer(s) that had arrived kept.",
        len(cancelled),
        batch.task_type,
        f" ({', '.join(map(str, sorted(cancelled)))})" if cancelled else "",
        kept,
    )
