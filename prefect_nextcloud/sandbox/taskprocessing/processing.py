"""Running a provider on a task: the parts of ``Manager::processTask`` and ``setTaskResult``.

Shared by the background workers and by the TextProcessing API, which may run a task inside the
schedule request. Raw bytes in file-typed output slots are stored in app data under
``<unixtime>-<rand>`` names and replaced by their file ids (``encapsulateOutputFileData``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from prefect_nextcloud.sandbox.storage.records import Task, TaskStatus
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    AvailableTaskType,
    ProcessingError,
    Shape,
)
from prefect_nextcloud.sandbox.taskprocessing.validation import resolve_file_id

__all__ = ["FAILING_MESSAGE", "output_file_ids", "process_task", "run_provider", "task_file_ids"]

FAILING_MESSAGE = "Failing as set by AppConfig"
_RAND_MAX = 100_000


def run_provider(
    store: Store, task: Task, task_type: AvailableTaskType, prepared: dict[str, Any]
) -> dict[str, Any]:
    """Run the task's provider and return the output as it is stored.

    Output keys outside the output slots are dropped; file outputs become app-data file ids.

    Args:
        store: Where output files go, and which task types are set to fail.
        task: The task (its id and end time name the output files).
        task_type: The type with its provider.
        prepared: The input, files as :class:`InputFile`.

    Returns:
        The output map.

    Raises:
        ProcessingError: The provider failed (or was set to fail).
        Exception: Whatever else a provider raises fails the task as well.
    """
    # The testing providers check their fail-<providerId> flag first thing in process().
    if task.type in store.failing_task_types:
        raise ProcessingError(FAILING_MESSAGE)
    output = task_type.provider.process(prepared)
    stored: dict[str, Any] = {}
    for key, shape in task_type.output_slots.items():
        if key not in output:
            continue
        value = output[key]
        if shape.type.is_file and shape.type.is_list:
            stored[key] = [_store_file(store, task, key, n, item) for n, item in enumerate(value)]
        elif shape.type.is_file:
            stored[key] = _store_file(store, task, key, 0, value)
        else:
            stored[key] = value
    return stored


def process_task(
    store: Store, task: Task, task_type: AvailableTaskType, prepared: dict[str, Any]
) -> dict[str, Any]:
    """Run the task's provider and return how the task ends, as the task fields to set.

    Any exception fails the task, as upstream; only a :class:`ProcessingError` carries a
    user-facing message.

    Args:
        store: Where output files go, and which task types are set to fail.
        task: The task being run.
        task_type: The type with its provider.
        prepared: The input, files as :class:`InputFile`.

    Returns:
        ``status`` SUCCESSFUL with ``output`` and ``progress`` 1, or ``status`` FAILED with
        ``error_message`` and ``user_facing_error_message``.
    """
    try:
        output = run_provider(store, task, task_type, prepared)
    except Exception as error:
        user_message = error.user_facing_message if isinstance(error, ProcessingError) else None
        return {
            "status": TaskStatus.FAILED,
            "error_message": str(error),
            "user_facing_error_message": user_message,
        }
    return {"status": TaskStatus.SUCCESSFUL, "output": output, "progress": 1.0}


def _store_file(store: Store, task: Task, key: str, index: int, data: bytes) -> int:
    # PHP names them time() . '-' . rand(1, 100000); the sandbox's "random" part is derived from
    # the task, slot and index, so runs are reproducible.
    attempt = 0
    while True:
        seed = f"{task.id}:{key}:{index}:{attempt}".encode()
        rand = int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") % _RAND_MAX + 1
        try:
            return store.create_app_data_file(f"{store.now()}-{rand}", data).id
        except FileExistsError:
            attempt += 1


def _file_ids(slots: dict[str, Shape], data: dict[Any, Any]) -> Iterable[int | None]:
    for key, shape in slots.items():
        if not shape.type.is_file:
            continue
        value = data.get(key)
        if isinstance(value, dict):
            values: list[object] = list(value.values())
        elif isinstance(value, list):
            values = value
        else:
            values = [value]
        yield from (resolve_file_id(item) for item in values)


def task_file_ids(task: Task, task_type: AvailableTaskType) -> set[int | None]:
    """``Manager::extractFileIdsFromTask``: ids in file-typed input and output slots."""
    return set(_file_ids(task_type.input_slots, task.input)) | output_file_ids(task, task_type)


def output_file_ids(task: Task, task_type: AvailableTaskType) -> set[int | None]:
    """The ids in the file-typed output slots of a task (none before it succeeded)."""
    if task.output is None:
        return set()
    return set(_file_ids(task_type.output_slots, task.output))
