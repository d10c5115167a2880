"""The batch's state: its items, what each ended with, and the bounded memory of batches.

What an attempt learns (resolved inputs, task ids, when each task was first seen) is kept
for the next attempt of the same task run, and released when the batch ends. A new process
rebuilds it from the server: the custom ids and staged upload names are deterministic.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud._cache import BoundedCache
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task, TaskStatus, TaskType
from prefect_nextcloud.client.nextcloud_client import DEFAULT_APP_ID
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.tasks.idempotency import (
    app_id_for,
    current_scope,
    derive_custom_id,
    has_idempotency_key,
    scheduled_before,
)
from prefect_nextcloud.tasks.progress import BatchProgress

__all__ = [
    "Batch",
    "BatchItem",
    "ItemResult",
    "forget",
    "recall",
    "remember",
    "start_batch",
    "still_open",
    "to_schedule",
]

# A batch is forgotten when its attempts end; those of task runs that stopped polling without
# an ending (a crash) are forgotten past this many, least recently polled first.
_MAX_BATCHES = 256


class ItemResult(BaseModel):
    """The outcome of one item of a batch."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="The item's position in the inputs, from 0.")
    ok: bool = Field(description="Whether the task succeeded and its outputs were read.")
    task: Task | None = Field(description="The finished task, with output files; or None.")
    error: str | None = Field(description="What went wrong, naming the task id; or None.")
    text: str | None = Field(
        default=None, description="The text answer (the `output` slot), when there is one."
    )


@dataclass
class BatchItem:
    """One item of a batch while it runs: its input, its task, and how it ended."""

    index: int
    input: Mapping[str, Any]
    custom_id: str
    resolved: dict[str, Any] | None = None
    task: Task | None = None
    watched_since: float | None = None
    queued_polls: int = 0
    failing_since: float | None = None
    error: NextcloudError | ValueError | None = None
    settled: bool = False
    reported_status: str | None = None  # the last status emitted as a Prefect event
    # A schedule call failed in a way that may have created the task: the item is scheduled
    # again only after a listing has shown that its custom id has no task.
    outcome_unknown: bool = False
    delivered: bool = False  # handed to the batch's on_result

    def settle(self, task: Task | None, error: NextcloudError | ValueError | None) -> None:
        """Record how the item ended: its task, and its error if it did not succeed."""
        self.task, self.error, self.settled = task, error, True

    @property
    def text(self) -> str | None:
        """The task's text answer (its ``output`` slot), when it succeeded with one."""
        output = (self.task.output or {}) if self.task is not None and not self.error else {}
        value = output.get("output")
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(part, str) for part in value):
            return "\n".join(value)
        return None

    def result(self) -> ItemResult:
        """The item as the result a caller gets."""
        return ItemResult(
            index=self.index,
            ok=self.settled and self.error is None,
            task=self.task,
            error=None if self.error is None else str(self.error),
            text=self.text,
        )

    @property
    def status(self) -> str:
        """Where the item stands, in words: succeeded, failed, running, queued, waiting."""
        if self.settled:
            return "failed" if self.error else "succeeded"
        if self.task is None:
            return "waiting for a schedule slot"
        return "running" if self.task.status is TaskStatus.RUNNING else "queued"


@dataclass
class Batch:
    """A batch while it runs: its items, what it learnt from the server, and how it is shared."""

    task_type: str
    app_id: str
    items: list[BatchItem]
    progress: BatchProgress
    declared: TaskType | None = None
    staged: list[NextcloudPath] = field(default_factory=list)
    refused_since: float | None = None
    failing_since: float | None = None
    # Whether the server may hold tasks of this batch that this process has not seen: not on
    # the first attempt of a fresh run's own batch (nothing scheduled it before).
    may_have_unseen: bool = True
    # Whether other runs may schedule the same tasks at the same time (an idempotency key,
    # or custom ids or an app id the caller chose): then scheduling takes the lock.
    shared: bool = False
    # Whether its tasks are scheduled with a webhook to the relay (see push.py).
    push: bool = False


_batches: BoundedCache[uuid.UUID, Batch] = BoundedCache(_MAX_BATCHES)


def recall(key: uuid.UUID | None) -> Batch | None:
    """The batch an earlier attempt of the task run ``key`` left, if this process has it."""
    return None if key is None else _batches.get(key)


def remember(key: uuid.UUID | None, batch: Batch) -> None:
    """Keep the batch for the next attempt of the task run ``key``."""
    if key is not None:
        _batches.put(key, batch)


def forget(key: uuid.UUID | None) -> None:
    """Release the batch of the task run ``key``: its attempts have ended."""
    if key is not None:
        _batches.pop(key)


def start_batch(
    task_type: str,
    inputs: list[Mapping[str, Any]],
    custom_ids: Sequence[str | None] | None,
    app_id: str | None,
    artifact_key: str | None,
) -> Batch:
    """Name the batch and its items the same way on every attempt and in every process."""
    scope = current_scope()
    derived = custom_ids is None
    if custom_ids is None:
        base = derive_custom_id(task_type, inputs) or f"pfnc:adhoc-{uuid.uuid4().hex}:"
        custom_ids = [base if len(inputs) == 1 else f"{base}:{i}" for i in range(len(inputs))]
    elif len(custom_ids) != len(inputs):
        raise ValueError(
            f"custom_ids has {len(custom_ids)} entries for {len(inputs)} inputs; give one each."
        )
    elif len({cid for cid in custom_ids if cid}) != len([cid for cid in custom_ids if cid]):
        raise ValueError("custom_ids must be distinct: each names one Nextcloud task.")
    ids = [cid or f"pfnc:adhoc-{uuid.uuid4().hex}" for cid in custom_ids]
    chosen_app_id = app_id is not None
    if app_id is None:
        app_id = app_id_for(scope) if scope is not None else DEFAULT_APP_ID
    items = [BatchItem(i, item, ids[i]) for i, item in enumerate(inputs)]
    batch = Batch(task_type, app_id, items, BatchProgress(task_type, len(items), artifact_key))
    batch.may_have_unseen = not derived or scheduled_before()
    batch.shared = not derived or chosen_app_id or has_idempotency_key()
    return batch


def to_schedule(item: BatchItem) -> bool:
    """Whether the item has no task yet and is known to have none on the server."""
    return not item.settled and item.task is None and not item.outcome_unknown


def still_open(batch: Batch) -> bool:
    """Whether any item of the batch has not settled yet."""
    return any(not item.settled for item in batch.items)
