"""Many Nextcloud tasks, one Prefect task: every attempt reconciles the batch with the server.

An attempt makes one ``GET /tasks/app/{appId}`` that returns every task of the batch (the app
id is unique to the run), adopts what already exists under each item's ``customId``, settles
what has finished (downloading output files), cancels what ran past its deadline, schedules
what is missing as far as the schedule window allows right now, and then either returns the
results or raises :class:`~prefect_nextcloud.tasks.polling.TaskStillRunning` with the delay
until the next look. Prefect's retries are the loop; nothing sleeps inside an attempt.

What an attempt learns (resolved inputs, task ids, when each task was first seen) is kept
for the next attempt of the same task run, and released when the batch ends. A new process
rebuilds it from the server: the custom ids and staged upload names are deterministic.
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext
from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud._cache import BoundedCache
from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.adoption import is_ours, twins_of
from prefect_nextcloud.client.errors import (
    MaintenanceModeError,
    NextcloudError,
    RateLimitedError,
    ScheduleDeferredError,
    TaskInputError,
    TaskNotFoundError,
    UnexpectedResponseError,
    is_transient,
)
from prefect_nextcloud.client.localfiles import save_in_allowed_folder
from prefect_nextcloud.client.models import Task, TaskFile, TaskStatus, TaskType, UnreadableTask
from prefect_nextcloud.client.nextcloud_client import DEFAULT_APP_ID, NextcloudClient
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.client.staging import (
    check_references,
    remove_staged,
    resolve_staged,
)
from prefect_nextcloud.client.validation import validate_input
from prefect_nextcloud.tasks.events import emit_task_events
from prefect_nextcloud.tasks.global_limit import take_schedule_slots
from prefect_nextcloud.tasks.idempotency import (
    app_id_for,
    current_scope,
    derive_custom_id,
    has_idempotency_key,
    remember_scheduled,
    scheduled_before,
)
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import TaskStillRunning
from prefect_nextcloud.tasks.progress import BatchProgress, run_logger
from prefect_nextcloud.tasks.run_lock import run_lock
from prefect_nextcloud.tasks.waiting import (
    DEADLINE_GRACE_SECONDS,
    end_overdue,
    look_again_after_failure,
    next_look,
    passing_failure,
    unreachable_timeout,
    unsuccessful_error,
)

__all__ = ["BatchItem", "ItemResult", "is_file_reference", "reconcile_batch"]

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
class _Batch:
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


_batches: BoundedCache[uuid.UUID, _Batch] = BoundedCache(_MAX_BATCHES)


def _recall(key: uuid.UUID | None) -> _Batch | None:
    return None if key is None else _batches.get(key)


def _remember(key: uuid.UUID | None, batch: _Batch) -> None:
    if key is not None:
        _batches.put(key, batch)


def _forget(key: uuid.UUID | None) -> None:
    if key is not None:
        _batches.pop(key)


def _check_inputs(inputs: object) -> list[Mapping[str, Any]]:
    if isinstance(inputs, str | bytes | Mapping) or not isinstance(inputs, Sequence):
        raise ValueError(
            f"inputs must be a list of task inputs (one mapping per task), got "
            f"{type(inputs).__name__}."
        )
    for index, item in enumerate(inputs):
        if not isinstance(item, Mapping):
            raise ValueError(
                f"Item {index} of inputs is a {type(item).__name__}, not a mapping of slot "
                "names to values."
            )
    return list(inputs)


def _start(
    task_type: str,
    inputs: list[Mapping[str, Any]],
    custom_ids: Sequence[str | None] | None,
    app_id: str | None,
    artifact_key: str | None,
) -> _Batch:
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
    batch = _Batch(task_type, app_id, items, BatchProgress(task_type, len(items), artifact_key))
    batch.may_have_unseen = not derived or scheduled_before()
    batch.shared = not derived or chosen_app_id or has_idempotency_key()
    return batch


def _validate(declared: TaskType, items: list[BatchItem]) -> None:
    """Check every item before anything is sent; a batch's errors name the item."""
    for item in items:
        failure: ValueError | None = None
        try:
            validate_input(declared, item.input, file_check=is_file_reference)
            check_references(_references(declared, item.input))
        except TaskInputError as error:
            failure = error
            if len(items) > 1:
                failure = TaskInputError(
                    f"Item {item.index} of inputs: {error}",
                    task_type=error.task_type,
                    slot=error.slot,
                )
        except ValueError as error:
            failure = (
                ValueError(f"Item {item.index} of inputs: {error}") if len(items) > 1 else error
            )
        if failure is not None:
            raise failure


def is_file_reference(value: object) -> bool:
    """Whether ``value`` is any accepted form of a file reference (see ``NextcloudPath``)."""
    try:
        parse_file_reference(value)
    except ValueError:
        return False
    return True


def _file_slots(declared: TaskType, task_input: Mapping[str, Any]) -> dict[str, bool]:
    """The input's file slots, each with whether it holds a list."""
    shapes = {**declared.optional_input_shape, **declared.input_shape}
    slots = {}
    for name in task_input:
        shape_type = shapes[name].shape_type
        if shape_type is not None and shape_type.is_file and task_input[name] is not None:
            slots[name] = shape_type.is_list
    return slots


def _references(declared: TaskType, task_input: Mapping[str, Any]) -> list[Any]:
    return [
        reference
        for name, is_list in _file_slots(declared, task_input).items()
        for reference in (task_input[name] if is_list else [task_input[name]])
    ]


def _resolve(
    client: NextcloudClient, batch: _Batch, item: BatchItem, options: RunOptions
) -> dict[str, Any]:
    """The item's input with file references replaced by file ids, uploading local data."""
    assert batch.declared is not None
    slots = _file_slots(batch.declared, item.input)
    ids = iter(
        resolve_staged(
            client,
            _references(batch.declared, item.input),
            staging_folder=options.staging_folder,
            tag=item.custom_id,
            staged=batch.staged,
        )
    )
    resolved = dict(item.input)
    for name, is_list in slots.items():
        count = len(item.input[name]) if is_list else 1
        chosen = [next(ids) for _ in range(count)]
        resolved[name] = chosen if is_list else chosen[0]
    return resolved


def _output_files(
    client: NextcloudClient, declared: TaskType, finished: Task
) -> dict[str, list[TaskFile]]:
    """Download every file of the task's file-typed output slots."""
    shapes = {**declared.optional_output_shape, **declared.output_shape}
    files: dict[str, list[TaskFile]] = {}
    for name, value in (finished.output or {}).items():
        shape_type = shapes[name].shape_type if name in shapes else None
        if shape_type is None or not shape_type.is_file or value is None:
            continue
        ids = value if isinstance(value, list) else [value]
        files[name] = [client.get_task_file(finished.id, int(file_id)) for file_id in ids]
    return files


def _save(client: NextcloudClient, finished: Task, destination: str) -> None:
    """Save the downloaded output files to a Nextcloud folder or a local folder."""
    folder = parse_file_reference(destination)
    for slot, files in finished.output_files.items():
        for index, output in enumerate(files):
            extension = mimetypes.guess_extension(output.content_type or "") or ""
            name = f"task-{finished.id}-{slot}-{index + 1}{extension}"
            if isinstance(folder, NextcloudPath):
                client.upload_file(folder / name, output.content)
            else:
                assert isinstance(folder, Path)
                save_in_allowed_folder(folder, name, output.content)


def _settle_finished(
    client: NextcloudClient, batch: _Batch, item: BatchItem, task: Task, options: RunOptions
) -> None:
    """Settle an item whose task has ended: read its output files, or keep its error."""
    error = unsuccessful_error(task)
    if error is not None:
        item.settle(task, error)
        return
    assert batch.declared is not None
    try:
        finished = task.model_copy(
            update={"output_files": _output_files(client, batch.declared, task)}
        )
        if options.save_outputs_to is not None:
            _save(client, finished, options.save_outputs_to)
    except NextcloudError as failure:
        item.settle(task, failure)
        return
    except (OSError, ValueError) as failure:  # a local folder that refuses the files
        item.settle(
            task,
            ValueError(
                f"The output files of Nextcloud task {task.id} could not be saved to "
                f"{options.save_outputs_to}: {failure}"
            ),
        )
        return
    item.settle(finished, None)


def _timed_out(
    client: NextcloudClient, batch: _Batch, item: BatchItem, options: RunOptions, now: float
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
        _settle_finished(client, batch, item, task, options)
    else:
        item.settle(task, error)


def _gone(batch: _Batch, task: Task) -> TaskNotFoundError:
    return TaskNotFoundError(
        f"Nextcloud task {task.id} ({batch.task_type}) is gone from the server: it was deleted "
        "or cleaned up before it finished.",
        endpoint=f"GET /task/{task.id}",
        status_code=404,
    )


def _unreadable(batch: _Batch, row: UnreadableTask) -> UnexpectedResponseError:
    which = f"Nextcloud task {row.id}" if row.id is not None else "A Nextcloud task"
    return UnexpectedResponseError(
        f"{which} ({batch.task_type}, custom id {row.custom_id!r}) is listed in a form this "
        f"library cannot read ({row.problem}), so its answer cannot be used; it was cancelled. "
        "Check the provider app and the server's version, then run the item again.",
        endpoint=f"GET /tasks/app/{batch.app_id}",
    )


def _drop(client: NextcloudClient, task_id: int, *, delete: bool) -> None:
    """Cancel (and delete) a task that must not run, as far as the server lets us now."""
    try:
        client.cancel_task(task_id)
        if delete:
            client.delete_task(task_id)
    except NextcloudError as error:
        run_logger().warning("Could not cancel Nextcloud task %s: %s", task_id, error)


def _look_up(client: NextcloudClient, batch: _Batch, item: BatchItem) -> Task | None:
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


def _reconcile(client: NextcloudClient, batch: _Batch, options: RunOptions, now: float) -> None:
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
            _settle_finished(client, batch, item, task, options)


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
            _drop(client, twin.id, delete=True)


def _drop_unreadable(
    client: NextcloudClient,
    batch: _Batch,
    item: BatchItem,
    row: UnreadableTask,
    kept: dict[str, tuple[Task, list[Task]]],
) -> None:
    """An unreadable row of ours: a twin of a readable task, or its item's failure."""
    if item.custom_id in kept:  # a readable twin is kept: this one must not run
        if row.id is not None:
            _drop(client, row.id, delete=True)
    elif not item.settled:
        if row.id is not None:
            _drop(client, row.id, delete=False)
        item.settle(item.task, _unreadable(batch, row))


def _match(
    client: NextcloudClient,
    batch: _Batch,
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


def _resolve_waiting(client: NextcloudClient, batch: _Batch, options: RunOptions) -> None:
    """Turn the file references of items still to be scheduled into file ids."""
    for item in batch.items:
        if not _to_schedule(item) or item.resolved is not None:
            continue
        try:
            item.resolved = _resolve(client, batch, item, options)
        except NextcloudError as error:
            if not is_transient(error):  # a passing failure is tried again next attempt
                item.settle(None, error)
        except ValueError as error:
            item.settle(None, error)


def _schedule_one(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: _Batch,
    item: BatchItem,
    options: RunOptions,
    now: float,
) -> bool:
    """Schedule one item; return False when the window is full and scheduling must stop."""
    assert item.resolved is not None
    try:
        task = client.schedule_task(
            batch.task_type,
            item.resolved,
            app_id=batch.app_id,
            custom_id=item.custom_id,
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
        _settle_finished(client, batch, item, task, options)
    return True


def _to_schedule(item: BatchItem) -> bool:
    """Whether the item has no task yet and is known to have none on the server."""
    return not item.settled and item.task is None and not item.outcome_unknown


def _schedule(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: _Batch,
    options: RunOptions,
    now: float,
) -> float | None:
    """Resolve and schedule the open items that have no task, as far as the window allows.

    Returns:
        The seconds until more may be scheduled, or ``None`` when nothing waits for a slot.
    """
    _resolve_waiting(client, batch, options)
    ready = [item for item in batch.items if _to_schedule(item) and item.resolved is not None]
    if not ready:
        return None
    pacer = client.schedule_pacer
    # Slots free up one by one as the last window's calls leave it; when the rest follow
    # within a poll interval, one attempt then schedules them all instead of one per slot.
    whole = pacer.wait_seconds(len(ready))
    if 0 < whole <= options.poll_interval_seconds:
        return whole
    wanted = min(len(ready), pacer.available())
    granted, global_wait = take_schedule_slots(wanted) if wanted else (0, 0.0)
    remember_scheduled(credentials, batch.app_id)
    for item in ready[:granted]:
        if not _schedule_one(client, credentials, batch, item, options, now):
            break
    if not any(_to_schedule(item) for item in ready):
        return None
    # Held back by the window (this process's or the Prefect limit's), or a passing failure.
    wait = max(pacer.wait_seconds(), global_wait)
    return wait if wait > 0 else options.poll_interval_seconds


def _next_delay(batch: _Batch, options: RunOptions, now: float, slot_wait: float | None) -> float:
    """The delay before the next attempt: when a task is due, a slot frees or a deadline hits."""
    pending = [item for item in batch.items if not item.settled and item.task is not None]
    delays = []
    if pending:
        dues = [
            next_look(
                item.task,
                now - (item.watched_since or now),
                item.queued_polls,
                options.poll_interval_seconds,
            )
            for item in pending
            if item.task is not None
        ]
        soon = [due for due in dues if due < options.poll_interval_seconds]
        # A batch waits for the tasks expected within one interval rather than for the first
        # of them, so a hundred staggered tasks do not cost a hundred looks.
        delays.append(max(soon) if soon else min(dues))
        deadlines = [
            item.watched_since + options.timeout_seconds - now
            for item in pending
            if item.watched_since is not None
        ]
        delays.append(max(min(deadlines), 0.0))
    if slot_wait is not None:
        delays.append(slot_wait)
    return min(delays) if delays else options.poll_interval_seconds


def reconcile_batch(
    credentials: NextcloudCredentials,
    task_type: str,
    inputs: Sequence[Mapping[str, Any]],
    options: RunOptions,
    *,
    custom_ids: Sequence[str | None] | None = None,
    app_id: str | None = None,
    artifact_key: str | None = None,
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

    Returns:
        Every item, settled, in input order.

    Raises:
        ValueError: An argument or an item is invalid; nothing was sent.
        TaskStillRunning: Some items are not settled yet; look again after ``retry_after``.
        NextcloudError: The server could not be asked (a passing failure is retried by the
            polling task's retry rule).
    """
    items = _check_inputs(inputs)
    if not items:
        return []
    context = TaskRunContext.get()
    key = context.task_run.id if context is not None else None
    batch = _recall(key)
    if batch is None:
        batch = _start(task_type, items, custom_ids, app_id, artifact_key)
        _remember(key, batch)
    failure: NextcloudError | None = None
    try:
        with credentials.get_client() as client, _bounded(client, batch, options):
            _attempt(client, credentials, batch, options)
    except TaskStillRunning:
        batch.failing_since = None
        raise
    except NextcloudError as error:
        failure = error
    except BaseException:
        _forget(key)
        raise
    if failure is not None:
        # Raised outside the except block: no httpx request may hang on __context__.
        if passing_failure(failure):
            _time_out_unreachable(batch, failure, options)
        if key is not None and passing_failure(failure) and _still_open(batch):
            look_again_after_failure(
                batch,
                failure,
                credentials.retry_seconds,
                min(options.poll_interval_seconds, _to_next_deadline(batch, options)),
            )
        _forget(key)
        if _still_open(batch):
            _abandon(credentials, batch)
            raise failure
    _forget(key)
    batch.progress.finish(batch.items)
    return batch.items


def _deadlines(batch: _Batch, options: RunOptions) -> list[tuple[BatchItem, float]]:
    """Each open item on the server, with the monotonic time its wait ends."""
    return [
        (item, item.watched_since + options.timeout_seconds)
        for item in batch.items
        if not item.settled and item.task is not None and item.watched_since is not None
    ]


def _to_next_deadline(batch: _Batch, options: RunOptions) -> float:
    ends = [end for _, end in _deadlines(batch, options)]
    return max(min(ends) - time.monotonic(), 0.0) if ends else options.poll_interval_seconds


def _bounded(client: NextcloudClient, batch: _Batch, options: RunOptions) -> Any:
    """Bound the attempt by the first wait's end (and the grace to cancel it), if any."""
    ends = [end for _, end in _deadlines(batch, options)]
    if not ends:
        return nullcontext()
    return client.deadline(min(ends) - time.monotonic() + DEADLINE_GRACE_SECONDS)


def _time_out_unreachable(batch: _Batch, failure: NextcloudError, options: RunOptions) -> None:
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


def _abandon(credentials: NextcloudCredentials, batch: _Batch) -> None:
    """Cancel the pending tasks of a batch that ends with an error and is not looked at again.

    Tasks that other runs share (an idempotency key) are left to them, or to a re-run.
    """
    pending = [item.task.id for item in batch.items if not item.settled and item.task]
    if batch.shared or not pending:
        return
    try:
        with credentials.get_client() as client:
            for task_id in pending:
                _drop(client, task_id, delete=False)
    except NextcloudError as error:  # the server cannot be reached at all: nothing to do
        run_logger().warning("Could not cancel Nextcloud tasks %s: %s", pending, error)


def _still_open(batch: _Batch) -> bool:
    return any(not item.settled for item in batch.items)


def _attempt(
    client: NextcloudClient,
    credentials: NextcloudCredentials,
    batch: _Batch,
    options: RunOptions,
) -> None:
    now = time.monotonic()
    if batch.declared is None:
        declared = client.get_task_type(batch.task_type)
        _validate(declared, batch.items)
        batch.declared = declared
    # Runs sharing the batch schedule one at a time, each after a fresh look.
    coordinate = batch.shared and any(
        not item.settled and item.task is None for item in batch.items
    )
    with run_lock(batch.app_id) if coordinate else nullcontext(True) as locked:
        if coordinate or _must_look(batch):
            _reconcile(client, batch, options, now)
            batch.may_have_unseen = False
        _end_overdue(client, batch, options, now)
        slot_wait = _schedule(client, credentials, batch, options, now)
    if not locked:
        # Scheduled without the lock: look again at once, so that twins another run may have
        # scheduled meanwhile are cancelled before a provider picks them up.
        _reconcile(client, batch, options, time.monotonic())
    summary = batch.progress.update(batch.items)
    emit_task_events(credentials, batch.items)
    if any(not item.settled for item in batch.items):
        delay = _next_delay(batch, options, time.monotonic(), slot_wait)
        raise TaskStillRunning(summary, retry_after=delay)
    _tidy_up(client, batch, options)


def _must_look(batch: _Batch) -> bool:
    """Whether a listing can find anything.

    It cannot before the first schedule of a fresh batch, nor while no task of the batch is
    pending and no schedule's outcome is unknown.
    """
    return batch.may_have_unseen or any(
        not item.settled and (item.task is not None or item.outcome_unknown) for item in batch.items
    )


def _end_overdue(client: NextcloudClient, batch: _Batch, options: RunOptions, now: float) -> None:
    """End the waits of the items whose time is up."""
    for item in batch.items:
        if (
            not item.settled
            and item.task is not None
            and item.watched_since is not None
            and now - item.watched_since >= options.timeout_seconds
        ):
            _timed_out(client, batch, item, options, now)


def _tidy_up(client: NextcloudClient, batch: _Batch, options: RunOptions) -> None:
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
