"""Byte ranges of a ``GET``, as sabre/dav 4.5 to 4.7.0 (Nextcloud 28 to 33) serves them.

Only one range of the exact form ``bytes=<a>-<b>`` (either number optional, case-insensitive)
is read; anything else, several ranges included, is ignored and the whole file is sent with 200.
An empty file is always sent whole. A start at or past the end, or an end before the start, is a
416 ``RequestedRangeNotSatisfiable`` without ``Content-Range``; an end of 0 counts as no end.
``If-Range`` keeps the range only when it is a date not older than the file, or its exact
``ETag``. Sources: sabre/dav ``lib/DAV/CorePlugin.php`` (``httpGet``) and ``lib/DAV/Server.php``
(``getHTTPRange``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_timestamp
from prefect_nextcloud.sandbox.webdav.sabre_xml import DavError

__all__ = ["byte_range", "ranged_response"]

_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)


def byte_range(
    headers: Mapping[str, str], size: int, etag: str, mtime: int
) -> tuple[int, int] | None:
    """Return the first and last byte a ``GET`` asks for, or None to send the whole file.

    Args:
        headers: The request headers (``Range``, ``If-Range``).
        size: The file's size.
        etag: The file's ``ETag`` header value (quoted).
        mtime: The file's modification time.

    Raises:
        DavError: 416 when the range cannot be satisfied.
    """
    match = _RANGE.fullmatch(headers.get("range", ""))
    if match is None or match[0].lower() == "bytes=-" or not size:
        return None
    if_range = headers.get("if-range")
    if if_range and not _range_still_valid(if_range, etag, mtime):
        return None
    start_text, end_text = match[1], match[2]
    if not start_text:
        return max(size - int(end_text), 0), size - 1
    start = int(start_text)
    asked_end = int(end_text) if end_text else None
    end = asked_end or size - 1
    if start >= size:
        raise DavError(
            416,
            "RequestedRangeNotSatisfiable",
            f"The start offset ({start}) exceeded the size of the entity ({size})",
        )
    if end < start:
        raise DavError(
            416,
            "RequestedRangeNotSatisfiable",
            f"The end offset ({asked_end}) is lower than the start offset ({start})",
        )
    return start, min(end, size - 1)


def _range_still_valid(if_range: str, etag: str, mtime: int) -> bool:
    date = to_timestamp(if_range)
    if date is None:
        return if_range == etag
    return mtime <= date


def ranged_response(
    data: bytes, headers: dict[str, str], wanted: tuple[int, int] | None
) -> Response:
    """Send a file whole (200) or the range :func:`byte_range` returned (206).

    Args:
        data: The file's content.
        headers: The answer's headers; ``Content-Range`` is added for a range.
        wanted: The first and last byte, or None for the whole file.
    """
    if wanted is None:
        return Response(data, headers=headers)
    start, end = wanted
    ranged = {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
    return Response(data[start : end + 1], status_code=206, headers=ranged)
