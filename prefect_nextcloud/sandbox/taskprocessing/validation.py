"""Schedule-time input validation and normalisation, as ``Manager::prepareTask`` does it (§6.1).

Checks run in the server's order: mandatory slots (missing, then type) in shape order, optional
slots that are present, then every referenced file (existence, then access). Messages are the
server's, character for character.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prefect_nextcloud.sandbox.http.phpcompat import is_numeric, to_string
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    AvailableTaskType,
    EnumValue,
    Shape,
    ShapeType,
)

__all__ = ["FileAccessError", "InputValidationError", "prepare_input", "resolve_file_id"]


class InputValidationError(Exception):
    """``ValidationException``: the controller answers 400 with this message."""


class FileAccessError(Exception):
    """``UnauthorizedException``: the input names a file the user cannot access (401)."""


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _php_items(value: object) -> list[Any] | None:
    """Return the values of a PHP array (a JSON list or object), or None for scalars."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return None


# EShapeType::validateInput(): the check a slot's value, or each item of a list slot, must pass.
_ITEM_CHECKS: dict[ShapeType, Callable[[object], bool]] = {
    ShapeType.ENUM: _is_string,
    ShapeType.TEXT: _is_string,
    ShapeType.NUMBER: is_numeric,
    ShapeType.IMAGE: is_numeric,
    ShapeType.AUDIO: is_numeric,
    ShapeType.VIDEO: is_numeric,
    ShapeType.FILE: is_numeric,
}
# The reason validateInput() gives per slot type; the ListOfAudios, ListOfVideos and ListOfFiles
# texts are wrong upstream too.
_TYPE_ERRORS = {
    ShapeType.ENUM: "Non-text item provided for Enum slot",
    ShapeType.TEXT: "Non-text item provided for Text slot",
    ShapeType.LIST_OF_TEXTS: "Non-text list item provided for ListOfTexts slot",
    ShapeType.NUMBER: "Non-numeric item provided for Number slot",
    ShapeType.LIST_OF_NUMBERS: "Non-numeric list item provided for ListOfNumbers slot",
    ShapeType.IMAGE: "Non-image item provided for Image slot",
    ShapeType.LIST_OF_IMAGES: "Non-image list item provided for ListOfImages slot",
    ShapeType.AUDIO: "Non-audio item provided for Audio slot",
    ShapeType.LIST_OF_AUDIOS: "Non-audio list item provided for ListOfAudio slot",
    ShapeType.VIDEO: "Non-video item provided for Video slot",
    ShapeType.LIST_OF_VIDEOS: "Non-video list item provided for ListOfTexts slot",
    ShapeType.FILE: "Non-file item provided for File slot",
    ShapeType.LIST_OF_FILES: "Non-audio list item provided for ListOfFiles slot",
}


def _has_type(shape_type: ShapeType, value: object) -> bool:
    check = _ITEM_CHECKS[shape_type.scalar]
    if not shape_type.is_list:
        return check(value)
    items = _php_items(value)
    return items is not None and all(check(item) for item in items)


def _type_error(
    key: str, shape: Shape, value: object, enum_values: Sequence[EnumValue] | None
) -> str | None:
    if not _has_type(shape.type, value):
        return _TYPE_ERRORS[shape.type]
    if shape.type is ShapeType.ENUM:
        if enum_values is None:
            return f'Provider did not provide enum values for an enum slot: "{key}"'
        allowed = [item.value for item in enum_values]
        if value not in allowed:
            return (
                f'Wrong value given for Enum slot. Got "{value}", but expected one of the '
                'provided enum values: "' + '", "'.join(allowed) + '"'
            )
    return None


def _validate(
    spec: Mapping[str, Shape],
    defaults: Mapping[str, object],
    enum_values: Mapping[str, Sequence[EnumValue]],
    io: Mapping[Any, Any],
    *,
    optional: bool,
) -> None:
    for key, shape in spec.items():
        value = io.get(key)
        if value is None:  # PHP isset(): a null value counts as missing
            if optional or defaults.get(key) is not None:
                continue
            raise InputValidationError(f'Missing key: "{key}"')
        reason = _type_error(key, shape, value, enum_values.get(key))
        if reason is not None:
            raise InputValidationError(f'Failed to validate input key "{key}": {reason}')


def resolve_file_id(value: object) -> int | None:
    """Return the integer file id a numeric input value names, or None if it names none."""
    if isinstance(value, bool) or not is_numeric(value):
        return None
    number = float(value) if isinstance(value, str) else value
    assert isinstance(number, int | float)
    return int(number) if float(number).is_integer() else None


def _referenced_file_ids(io: Mapping[Any, Any], slots: Mapping[str, Shape]) -> list[object]:
    # PHP builds this with `$ids += $list` (array union by index) and `$ids[] = $id`, so with
    # several list slots some ids escape the check; reproduced on purpose (reference §6.1).
    ids: dict[Any, object] = {}
    for key, shape in slots.items():
        if not shape.type.is_file:
            continue
        value = io.get(key)
        if isinstance(value, list | dict):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for index, item in items:
                ids.setdefault(index, item)
        else:
            int_keys = [k for k in ids if isinstance(k, int)]
            ids[max(int_keys) + 1 if int_keys else 0] = value
    return list(ids.values())


def _check_file(value: object, store: Store, user_id: str | None) -> None:
    file_id = resolve_file_id(value)
    node = None if file_id is None else store.node_by_id(file_id)
    if node is None:
        raise InputValidationError(f"Could not find file {to_string(value)}")
    if node.is_dir:
        raise InputValidationError(f'File with id "{to_string(value)}" is not a file')
    if user_id is None or node.owner != user_id:
        raise FileAccessError(f"User {user_id} does not have access to file {to_string(value)}")


def prepare_input(
    raw_input: Mapping[Any, Any] | list[Any],
    task_type: AvailableTaskType,
    store: Store,
    user_id: str | None,
) -> dict[str, Any]:
    """Validate a task's input and return it normalised.

    Args:
        raw_input: The ``input`` parameter (a PHP array: JSON object or list).
        task_type: The available task type with its preferred provider.
        store: Where referenced files are looked up.
        user_id: The scheduling user.

    Returns:
        The input with unknown keys dropped (slot order) and provider defaults merged in first.

    Raises:
        InputValidationError: A slot is missing or invalid, or a file does not exist / is a folder.
        FileAccessError: A referenced file belongs to someone else.
    """
    io: Mapping[Any, Any] = dict(enumerate(raw_input)) if isinstance(raw_input, list) else raw_input
    provider = task_type.provider
    _validate(
        task_type.spec.input_shape,
        provider.input_shape_defaults,
        provider.input_shape_enum_values,
        io,
        optional=False,
    )
    _validate(
        provider.optional_input_shape,
        provider.optional_input_shape_defaults,
        provider.optional_input_shape_enum_values,
        io,
        optional=True,
    )
    slots = task_type.input_slots
    for value in _referenced_file_ids(io, slots):
        _check_file(value, store, user_id)
    normalised: dict[str, Any] = {
        **provider.input_shape_defaults,
        **provider.optional_input_shape_defaults,
    }
    # dict.update keeps the position of keys that are already there, like PHP's array_merge.
    normalised.update({key: io[key] for key in slots if key in io})
    return normalised
