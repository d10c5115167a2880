"""Checks of the arguments of a call, before anything is sent: ids, text and JSON."""

from __future__ import annotations

import json
from typing import Any

from prefect_nextcloud.client.models import MAX_ID

__all__ = ["check_id", "check_json", "check_text", "check_unicode"]


def check_id(name: str, value: int) -> int:
    """Return ``value`` if it is a task or file id: an integer from 1 to 2^63 - 1.

    Raises:
        ValueError: It is not.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if value > MAX_ID:
        raise ValueError(
            f"{name} must be at most {MAX_ID} (2^63 - 1, the largest id Nextcloud stores), got "
            f"{value}."
        )
    return value


def check_unicode(name: str, text: str) -> str:
    """Return ``text`` if it can be sent as UTF-8.

    Raises:
        ValueError: It holds a lone surrogate (such as text decoded with
            ``errors="surrogateescape"``), which no UTF-8 request can carry.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = text[error.start : error.end]
        raise ValueError(
            f"{name} is not valid Unicode: it holds the lone surrogate {bad!r} at position "
            f"{error.start}, which cannot be sent. Decode the text with its real encoding."
        ) from None
    return text


def check_text(name: str, value: str) -> str:
    """Return ``value`` if it is a non-empty string that can be sent.

    Raises:
        ValueError: It is not.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}.")
    return check_unicode(name, value)


def check_json(name: str, value: Any) -> Any:
    """Return ``value`` if it can be sent in a JSON body.

    Raises:
        ValueError: It holds text that is not valid Unicode, a NaN or infinite number, or an
            object JSON does not know.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} cannot be sent as JSON: {error}.") from None
    check_unicode(name, text)
    return value
