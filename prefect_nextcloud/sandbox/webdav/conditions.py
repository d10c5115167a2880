"""HTTP preconditions, checked before every method as Sabre's ``Server::checkPreconditions`` does.

``If-Match``, ``If-None-Match``, ``If-Modified-Since`` and ``If-Unmodified-Since`` are read on
the request's own path (for ``MOVE`` and ``COPY``: the source). Tags compare as exact strings
after trimming spaces, in comma-separated lists, with no weak comparison (``W/"x"`` never matches
``"x"``); only files have a tag to compare, so a collection never matches a list. Failures are
412 ``PreconditionFailed`` naming the header; a matching ``If-None-Match`` is a 304 for ``GET``
only (``HEAD`` reaches this check as itself and gets the 412), and ``If-Modified-Since`` is a 304
for every method. Sources: sabre/dav ``lib/DAV/Server.php`` (``checkPreconditions``,
``invokeMethod``) and sabre/http ``lib/functions.php`` (``parseDate``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.webdav.sabre_xml import DavError, http_date

__all__ = ["check_preconditions", "etag_of", "parse_http_date"]

_MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"([0-1]\d|2[0-3])(:[0-5]\d){2}"
_WKDAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_WEEKDAY = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# The three forms RFC 2616 allows: RFC 1123, RFC 850 and asctime().
_HTTP_DATE = re.compile(
    rf"^({_WKDAY}, (0[1-9]|[12]\d|3[01]) {_MONTH} [1-9]\d{{3}} {_TIME} GMT"
    rf"|{_WEEKDAY}, (0[1-9]|[12]\d|3[01])-{_MONTH}-\d{{2}} {_TIME} GMT"
    rf"|{_WKDAY} {_MONTH} ([12]\d|3[01]| [1-9]) {_TIME} [1-9]\d{{3}})$"
)


def etag_of(node: Node) -> str | None:
    """The ``ETag`` a node compares with: a file's quoted etag; collections have none."""
    return None if node.is_dir else f'"{node.etag}"'


def parse_http_date(text: str) -> int | None:
    """Return the Unix time of an HTTP date, or None when it is not in one of the three forms."""
    text = text.strip(" ")
    if not _HTTP_DATE.match(text):
        return None
    try:
        return int(parsedate_to_datetime(text if " GMT" in text else f"{text} GMT").timestamp())
    except (TypeError, ValueError):
        return None


def _tags(header: str) -> list[str]:
    return [tag.strip(" ") for tag in header.split(",")]


def _failed(message: str, header: str, etag: str | None = None) -> DavError:
    return DavError(
        412,
        "PreconditionFailed",
        message,
        extra=f"  <s:header>{header}</s:header>\n",
        headers={"ETag": etag} if etag else {},
    )


class _Target:
    """The node at the request's path, looked up once, as ``getNodeForPath`` is."""

    def __init__(self, find: Callable[[], Node]) -> None:
        self._find = find
        self._node: Node | None = None
        self._missing = False

    def get(self) -> Node | None:
        """The node, or None when the path does not exist."""
        if self._node is None and not self._missing:
            try:
                self._node = self._find()
            except DavError as error:
                if error.status != 404:
                    raise
                self._missing = True
        return self._node

    def require(self) -> Node:
        """The node; Sabre's 404 when the path does not exist."""
        return self.get() or self._find()


def check_preconditions(
    method: str, headers: Mapping[str, str], find: Callable[[], Node]
) -> Response | None:
    """Check a request's conditional headers against the node at its path.

    Args:
        method: The HTTP method as received (``HEAD`` stays ``HEAD``).
        headers: The request headers.
        find: Returns the node at the request's path, or raises Sabre's 404.

    Returns:
        A 304 answer to send instead of running the method, or None to go on.

    Raises:
        DavError: 412 for a failed condition, or the 404 of ``find`` when a date condition needs
            a node that does not exist.
    """
    target = _Target(find)
    etag = _check_if_match(headers.get("if-match"), target)
    if_none_match = headers.get("if-none-match")
    if if_none_match:
        answer = _check_if_none_match(method, if_none_match, target, etag)
    else:
        answer = _check_modified_since(headers.get("if-modified-since"), target)
    if answer is None:
        _check_unmodified_since(headers.get("if-unmodified-since"), target)
    return answer


def _check_if_match(header: str | None, target: _Target) -> str | None:
    """Refuse a missing node or a tag list without the node's tag; return the tag compared."""
    if not header:
        return None
    node = target.get()
    if node is None:
        raise _failed("An If-Match header was specified and the resource did not exist", "If-Match")
    if header == "*":
        return None
    etag = etag_of(node)
    # Sabre also accepts \" for " (a workaround for Evolution).
    if etag is None or not any(etag in (tag, tag.replace('\\"', '"')) for tag in _tags(header)):
        raise _failed(
            "An If-Match header was specified, but none of the specified ETags matched.",
            "If-Match",
            etag,
        )
    return etag


def _check_if_none_match(
    method: str, header: str, target: _Target, etag: str | None
) -> Response | None:
    node = target.get()
    if node is None:
        return None
    # Sabre reads the tag only to compare a list, so a bare "*" answers without an ETag.
    if header != "*":
        etag = etag_of(node)
        if etag is None or etag not in _tags(header):
            return None
    if method == "GET":
        return Response(b"", status_code=304, headers={"ETag": etag} if etag else {})
    raise _failed(
        "An If-None-Match header was specified, but the ETag matched (or * was specified).",
        "If-None-Match",
        etag,
    )


def _check_modified_since(header: str | None, target: _Target) -> Response | None:
    date = parse_http_date(header) if header else None
    if date is None:
        return None
    mtime = target.require().mtime
    if mtime and mtime <= date:
        return Response(b"", status_code=304, headers={"Last-Modified": http_date(mtime)})
    return None


def _check_unmodified_since(header: str | None, target: _Target) -> None:
    date = parse_http_date(header) if header else None
    if date is not None and target.require().mtime > date:
        raise _failed(
            "An If-Unmodified-Since header was specified, but the entity has been changed since "
            "the specified date.",
            "If-Unmodified-Since",
        )
