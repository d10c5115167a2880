"""One WebDAV request as the collections below ``/remote.php/dav`` see it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.sabre_xml import DavError, not_implemented

__all__ = ["DavRequest", "depth", "dispatch", "home_owner"]


@dataclass(frozen=True)
class DavRequest:
    """An authenticated request, with the path segments left below the current collection.

    Attributes:
        method: The HTTP method.
        user: The user who logged in.
        segments: The decoded path segments below the collection that handles it.
        headers: The request headers.
        body: The request body.
        url_path: The request's URL path as sent.
    """

    method: str
    user: str
    segments: list[str]
    headers: Mapping[str, str]
    body: bytes
    url_path: str

    def below(self) -> DavRequest:
        """The same request, one collection further down."""
        return replace(self, segments=self.segments[1:])


def home_owner(request: DavRequest, store: Store) -> str:
    """The user whose home (``files/<user>``, ``uploads/<user>``) the request names.

    Raises:
        DavError: Sabre's 501 for the collection itself, or 404 for an unknown user.
    """
    if not request.segments:
        raise not_implemented(request.method)
    owner = request.segments[0]
    if owner not in store.user_ids:
        raise DavError(404, "NotFound", f"Principal with name {owner} not found")
    return owner


def depth(headers: Mapping[str, str]) -> int | None:
    """``Server::getHTTPDepth(1)``: a number, None for ``infinity``, 1 when missing or invalid."""
    header = headers.get("depth")
    if header == "infinity":
        return None
    return int(header) if header is not None and re.fullmatch("[0-9]+", header) else 1


def dispatch(method: str, handlers: Mapping[str, Callable[[], Response]]) -> Response:
    """Answer with the handler of the request's method.

    Raises:
        DavError: Sabre's 501 when no handler takes the method, or any error of the handler.
    """
    handler = handlers.get(method)
    if handler is None:
        raise not_implemented(method)
    return handler()
