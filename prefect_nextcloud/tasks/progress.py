"""What a batch tells the people watching: status lines in the log, and artifacts in the UI.

A status line goes to the run's log at INFO only when something changed (a task started or
ended); unchanged polls log at DEBUG. The first wait of a batch says at INFO what it waits for
and until when at the latest, once. With an artifact key, a progress artifact shows the share
of tasks done, with the counts, updated at most once per look and only when they changed; a
table of every item (see :mod:`prefect_nextcloud.tasks.batch.report`) appears when it ends.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.context import FlowRunContext, TaskRunContext
from prefect.exceptions import PrefectException
from prefect.logging import get_logger, get_run_logger

if TYPE_CHECKING:
    from prefect_nextcloud.tasks.batch.items import BatchItem

__all__ = ["BatchProgress", "run_logger"]

_ORDER = ("succeeded", "failed", "running", "queued", "waiting for a schedule slot")


def run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    """The run's logger inside a flow or task run; this package's logger outside one."""
    if TaskRunContext.get() is not None or FlowRunContext.get() is not None:
        return get_run_logger()
    return get_logger("prefect_nextcloud")


class BatchProgress:
    """The log lines and artifacts of one batch.

    Args:
        task_type: The batch's task type.
        total: How many items it has.
        artifact_key: The key of its artifacts (lowercase letters, digits and dashes), or
            ``None`` for log lines only.
    """

    def __init__(self, task_type: str, total: int, artifact_key: str | None) -> None:
        self.task_type = task_type
        self.total = total
        self.artifact_key = artifact_key
        self._last: tuple[Any, ...] | None = None
        self._artifact: UUID | None = None
        self._shown: tuple[int, ...] | None = None  # the counts the progress artifact shows
        self._announced = False

    def update(self, items: Sequence[BatchItem]) -> str:
        """Log the batch's state (INFO when it changed) and return it as one line."""
        if len(items) == 1:
            state, line = _single(items[0], self.task_type)
        else:
            counts = Counter(item.status for item in items)
            state = tuple(counts.get(name, 0) for name in _ORDER)
            done = counts["succeeded"] + counts["failed"]
            parts = [f"{counts[name]} {name}" for name in _ORDER[2:] if counts[name]]
            line = (
                f"Batch of {self.total} {self.task_type} tasks: {done}/{self.total} done "
                f"({counts['succeeded']} succeeded, {counts['failed']} failed)"
                + (f"; {', '.join(parts)}" if parts else "")
                + "."
            )
            self._progress(state, done, line)
        run_logger().log(logging.INFO if state != self._last else logging.DEBUG, line)
        self._last = state
        return line

    def announce_wait(self, items: Sequence[BatchItem], timeout_seconds: float) -> None:
        """Say at INFO what the batch waits for and until when at the latest; once per batch.

        Args:
            items: The batch's items.
            timeout_seconds: How long each task may take from when it was scheduled.
        """
        if self._announced:
            return
        self._announced = True
        pending = sum(not item.settled for item in items)
        ends = [
            item.watched_since + timeout_seconds
            for item in items
            if not item.settled and item.watched_since is not None
        ]
        until = (
            f"until {_wall_clock(max(ends))} at the latest"
            if ends and len(ends) == pending
            else f"each for up to {timeout_seconds:g} s from its schedule"
        )
        run_logger().info(
            "Awaiting Nextcloud: %s %s task(s), %s; looking again as each is due.",
            pending,
            self.task_type,
            until,
        )

    def _progress(self, state: tuple[int, ...], done: int, line: str) -> None:
        """Show the share done and the counts, when they changed since the artifact last did."""
        if self.artifact_key is None or state == self._shown:
            return
        percent = 100.0 * done / self.total
        try:
            if self._artifact is None:
                artifact = create_progress_artifact(
                    percent, key=f"{self.artifact_key}-progress", description=line
                )
                self._artifact = artifact if isinstance(artifact, UUID) else None
            else:
                update_progress_artifact(self._artifact, percent, description=line)
        except (PrefectException, RuntimeError, OSError) as error:
            run_logger().debug("Could not update the progress artifact: %s", error)
        self._shown = state

    def finish(self, markdown: str) -> None:
        """Leave the table of every item (``markdown``), when the batch has an artifact key."""
        if self.artifact_key is None:
            return
        try:
            create_markdown_artifact(
                markdown, key=self.artifact_key, description=f"{self.total} {self.task_type} tasks"
            )
        except (PrefectException, RuntimeError, OSError) as error:
            run_logger().warning("Could not create the result table artifact: %s", error)


def _wall_clock(monotonic: float) -> str:
    """A ``time.monotonic()`` value as the UTC date and time it stands for."""
    moment = time.time() + (monotonic - time.monotonic())
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _single(item: BatchItem, task_type: str) -> tuple[tuple[Any, ...], str]:
    task = item.task
    if task is None:
        return ("slot",), f"A {task_type} task is waiting for a schedule slot."
    if item.settled and item.error is not None:
        return ("failed", task.id), f"Nextcloud task {task.id} ({task.type}) did not succeed."
    progress = "" if task.progress is None else f", {task.progress:.0%} done"
    status = task.status.name.lower()
    return (status, task.id), f"Nextcloud task {task.id} ({task.type}) is {status}{progress}."
