"""PHP value semantics that the real server applies to request data.

Nextcloud is written in PHP, so numeric checks, casts and query-string parsing follow PHP rules.
The sandbox reproduces the handful of rules that change what a client sees.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "is_numeric",
    "natural_key",
    "parse_str",
    "to_bool",
    "to_int",
    "to_string",
    "to_timestamp",
    "truthy",
]

_WS = " \t\n\r\v\f"
_NUMERIC = re.compile(rf"^[{_WS}]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[{_WS}]*$")
_LEADING_INT = re.compile(rf"^[{_WS}]*[+-]?[0-9]+")


def is_numeric(value: object) -> bool:
    """Return whether PHP's ``is_numeric`` accepts the value (numbers and numeric strings)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _NUMERIC.match(value) is not None


def to_string(value: object) -> str:
    """Return the value as PHP's ``(string)`` cast gives it (``true`` → "1", ``1.0`` → "1")."""
    if value is None or isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return _float_string(value)
    return str(value)


def _float_string(value: float) -> str:
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def to_int(value: object) -> int:
    """Return the value as PHP's ``(int)`` cast gives it (``"12abc"`` → 12, ``"abc"`` → 0)."""
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return 0 if math.isnan(value) or math.isinf(value) else int(value)
    if isinstance(value, str):
        if is_numeric(value):
            number = float(value)
            return int(number) if math.isfinite(number) else 0
        match = _LEADING_INT.match(value)
        return int(match.group()) if match else 0
    return 0


def to_timestamp(text: str) -> int | None:
    """Return the Unix time PHP's ``DateTime`` reads from an ISO 8601 or RFC 2822 date.

    Args:
        text: The date as the request gives it.

    Returns:
        The time in whole seconds, or None for text in neither form (PHP's relative forms such
        as "tomorrow" are not read).
    """
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        pass
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError):
        return None


def to_bool(value: object) -> bool:
    """Return the value as the AppFramework casts a ``bool`` parameter (``"false"`` is false)."""
    if value == "false":
        return False
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def truthy(value: object) -> bool:
    """Return PHP's ``(bool)`` cast: false only for false, 0, "", "0", null and empty arrays."""
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def natural_key(text: str) -> list[int | str]:
    """A sort key for PHP's natural order (``strnatcmp``): digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def parse_str(query: str) -> dict[str, Any]:
    """Parse a query string or form body like PHP does, including ``a[b][]=c`` nesting.

    Args:
        query: The raw ``application/x-www-form-urlencoded`` text.

    Returns:
        The parameters; nested PHP arrays with keys 0..n-1 become lists.
    """
    result: dict[Any, Any] = {}
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        keys = _split_key(unquote_plus(raw_key))
        if keys:
            _assign(result, keys, unquote_plus(raw_value))
    listified = _listify(result)
    assert isinstance(listified, dict)
    return listified


def _split_key(key: str) -> list[str | None]:
    key = key.lstrip(" ")
    bracket = key.find("[")
    if bracket <= 0 or "]" not in key[bracket:]:
        base = key
        rest = ""
    else:
        base, rest = key[:bracket], key[bracket:]
    # PHP turns spaces, dots and an unmatched "[" in the top-level name into underscores.
    base = re.sub(r"[ .\[]", "_", base)
    if not base:
        return []
    keys: list[str | None] = [base]
    while rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            break
        inner = rest[1:end]
        keys.append(inner if inner else None)
        rest = rest[end + 1 :]
    return keys


def _array_key(key: str) -> str | int:
    return int(key) if re.fullmatch(r"-?[1-9][0-9]*|0", key) else key


def _assign(container: dict[Any, Any], keys: list[str | None], value: str) -> None:
    head, *tail = keys
    if head is None:
        int_keys = [k for k in container if isinstance(k, int)]
        slot: str | int = max(int_keys) + 1 if int_keys else 0
    else:
        slot = _array_key(head)
    if not tail:
        container[slot] = value
        return
    child = container.get(slot)
    if not isinstance(child, dict):
        child = {}
        container[slot] = child
    _assign(child, tail, value)


def _listify(value: object) -> object:
    if not isinstance(value, dict):
        return value
    items = {k: _listify(v) for k, v in value.items()}
    if items and list(items) == list(range(len(items))):
        return list(items.values())
    return items
