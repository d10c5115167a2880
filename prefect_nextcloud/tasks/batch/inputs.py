"""The items' inputs: checked before anything is sent, and their file references resolved.

Local data is uploaded to the staging folder under names derived from each item's custom
id, so that a new process finds what an earlier one staged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefect_nextcloud.client.errors import NextcloudError, TaskInputError, is_transient
from prefect_nextcloud.client.models import TaskType
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.references import FileReference, parse_file_reference
from prefect_nextcloud.client.staging import check_references, resolve_staged
from prefect_nextcloud.client.validation import validate_input
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem, to_schedule
from prefect_nextcloud.tasks.options import RunOptions

__all__ = ["check_inputs", "is_file_reference", "item_files", "resolve_waiting", "validate"]


def check_inputs(inputs: object) -> list[Mapping[str, Any]]:
    """The inputs as a list of mappings, or a ``ValueError`` naming what is not one."""
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


def validate(declared: TaskType, items: list[BatchItem]) -> None:
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


def item_files(declared: TaskType, item: BatchItem) -> list[tuple[FileReference, int | None]]:
    """The files of the item's input, each with its file id once known."""
    references = [parse_file_reference(value) for value in _references(declared, item.input)]
    ids: list[int | None] = (
        _references(declared, item.resolved)
        if item.resolved is not None
        else [reference if isinstance(reference, int) else None for reference in references]
    )
    return list(zip(references, ids, strict=True))


def _resolve(
    client: NextcloudClient, batch: Batch, item: BatchItem, options: RunOptions
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


def resolve_waiting(client: NextcloudClient, batch: Batch, options: RunOptions) -> None:
    """Turn the file references of items still to be scheduled into file ids."""
    for item in batch.items:
        if not to_schedule(item) or item.resolved is not None:
            continue
        try:
            item.resolved = _resolve(client, batch, item, options)
        except NextcloudError as error:
            if not is_transient(error):  # a passing failure is tried again next attempt
                item.settle(None, error)
        except ValueError as error:
            item.settle(None, error)
