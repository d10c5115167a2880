"""Checking a task's input against the task type the server declares, before sending it.

The server validates too, but it silently drops unknown slots and answers one problem at a
time; checking here names the slot, what it expects and what is allowed, and refuses a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prefect_nextcloud.client.checks import check_json
from prefect_nextcloud.client.errors import TaskInputError
from prefect_nextcloud.client.models import MAX_ID, ShapeDescriptor, ShapeType, TaskType

__all__ = ["FileCheck", "is_file_id", "validate_input"]

FileCheck = Callable[[object], bool]
"""Tells whether a value may stand in a file slot (by default: a file id)."""


def is_file_id(value: object) -> bool:
    """Whether ``value`` is a file id: a positive int, or a string of digits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value <= MAX_ID
    # isascii(): "²" is a digit to isdigit() but not to int(); 20 digits hold any 64-bit id,
    # and keep int() from numbers too long to convert.
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 20
        and 0 < int(value) <= MAX_ID
    )


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


_SCALAR_CHECKS: dict[ShapeType, tuple[str, Callable[[object], bool]]] = {
    ShapeType.NUMBER: ("a number", _is_number),
    ShapeType.TEXT: ("a string", lambda value: isinstance(value, str)),
    ShapeType.ENUM: ("one of the allowed values", lambda value: isinstance(value, str)),
}

_LIST_ITEMS = {
    ShapeType.LIST_OF_NUMBERS: ShapeType.NUMBER,
    ShapeType.LIST_OF_TEXTS: ShapeType.TEXT,
    ShapeType.LIST_OF_IMAGES: ShapeType.IMAGE,
    ShapeType.LIST_OF_AUDIOS: ShapeType.AUDIO,
    ShapeType.LIST_OF_VIDEOS: ShapeType.VIDEO,
    ShapeType.LIST_OF_FILES: ShapeType.FILE,
}


def _list_problem(
    value: object, item_type: ShapeType, allowed: list[str], file_check: FileCheck
) -> str | None:
    if not isinstance(value, list | tuple):
        return f"expected a list, got {type(value).__name__}"
    for index, item in enumerate(value):
        if (problem := _problem(item, item_type, allowed, file_check)) is not None:
            return f"item {index}: {problem}"
    return None


def _problem(
    value: object, shape_type: ShapeType, allowed: list[str], file_check: FileCheck
) -> str | None:
    """Describe why ``value`` does not fit a slot of ``shape_type``, or return ``None``."""
    item_type = _LIST_ITEMS.get(shape_type)
    if item_type is not None:
        return _list_problem(value, item_type, allowed, file_check)
    if shape_type.is_file:
        return None if file_check(value) else f"expected a file id, got {value!r}"
    expected, check = _SCALAR_CHECKS[shape_type]
    if not check(value):
        return f"expected {expected}, got {type(value).__name__} {value!r}"
    if shape_type is ShapeType.ENUM and allowed and value not in allowed:
        return f"{value!r} is not offered; allowed: {', '.join(map(repr, allowed))}"
    return None


def validate_input(
    task_type: TaskType, input: Mapping[str, Any], *, file_check: FileCheck = is_file_id
) -> None:
    """Check a task input against the task type's input shapes.

    Mandatory slots must be present (unless the provider declares a default), every present
    slot must have the slot's type (and for enums one of the offered values), and no slot may
    be unknown: the server would drop it silently.

    Args:
        task_type: The task type, as ``GET /tasktypes`` describes it.
        input: Slot name to value.
        file_check: Accepts what may stand in a file slot; file ids by default.

    Raises:
        TaskInputError: The first problem found, naming the slot and what it expects.
    """
    if not isinstance(input, Mapping):
        raise TaskInputError(
            f"The input of {task_type.id} must be a mapping of slot names to values, got "
            f"{type(input).__name__}.",
            task_type=task_type.id,
        )
    slots: dict[str, ShapeDescriptor] = {**task_type.optional_input_shape, **task_type.input_shape}
    # Sorted by str: a mapping may mix key types (1 and "a") that do not compare.
    unknown = sorted(set(input) - set(slots), key=str)
    if unknown:
        raise TaskInputError(
            f"{task_type.id} has no input slot {unknown[0]!r}; its slots are "
            f"{', '.join(sorted(slots))}.",
            task_type=task_type.id,
            slot=str(unknown[0]),
        )
    defaults = {**task_type.optional_input_shape_defaults, **task_type.input_shape_defaults}
    for name, shape in task_type.input_shape.items():
        if input.get(name) is None and name not in defaults:
            raise TaskInputError(
                f"{task_type.id} needs input slot {name!r} ({shape.type}: {shape.description}).",
                task_type=task_type.id,
                slot=name,
            )
    enum_values = {
        **task_type.optional_input_shape_enum_values,
        **task_type.input_shape_enum_values,
    }
    for name, value in input.items():
        shape = slots[name]
        if value is None or shape.shape_type is None:
            continue
        allowed = [option.value for option in enum_values.get(name, [])]
        problem = _problem(value, shape.shape_type, allowed, file_check)
        if problem is None and not shape.shape_type.is_file:  # file slots may hold references
            try:
                check_json("the value", value)
            except ValueError as error:
                problem = str(error).rstrip(".")
        if problem is not None:
            raise TaskInputError(
                f"Input slot {name!r} of {task_type.id} ({shape.type}): {problem}.",
                task_type=task_type.id,
                slot=name,
            )
