"""WebDAV below ``/remote.php/dav``: login, then the tree Nextcloud's Sabre server mounts there.

``files/`` (:mod:`~prefect_nextcloud.sandbox.webdav.files`), ``uploads/`` for chunked uploads
(:mod:`~prefect_nextcloud.sandbox.webdav.uploads`), ``comments/`` (file comments,
:mod:`~prefect_nextcloud.sandbox.webdav.comments`) and ``SEARCH`` on the root
(:mod:`~prefect_nextcloud.sandbox.webdav.search`). Any other child of the root is Sabre's 404
``File not found: <name> in 'root'``. No OCS-APIRequest header is needed.
"""

from __future__ import annotations

import io

from starlette.requests import Request
from starlette.responses import Response

from prefect_nextcloud.sandbox.http.auth import authenticate
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.comments import Comments
from prefect_nextcloud.sandbox.webdav.files import INSTANCE_ID, FilesTree
from prefect_nextcloud.sandbox.webdav.request import DavRequest
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    DavError,
    PropStat,
    calculate_uri,
    multistatus,
    not_implemented,
)
from prefect_nextcloud.sandbox.webdav.search import search
from prefect_nextcloud.sandbox.webdav.uploads import Uploads

__all__ = ["DAV_ROOT", "INSTANCE_ID", "WebDav"]

_XML_TYPES = ("text/xml", "application/xml")


class WebDav:
    """Answers every request below ``/remote.php/dav``.

    Args:
        store: Users and their files.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.comments = Comments(store)
        self._files = FilesTree(store, self.comments.count)
        self._uploads = Uploads(store, self._files)

    async def handle(self, request: Request) -> Response:
        """Handle one request."""
        login = authenticate(request.headers.get("authorization"), self._store)
        if login.user_id is None:
            message = (
                "Username or password was incorrect"
                if login.rejected
                else "No public access to this resource., No 'Authorization: Basic' header "
                "found. Either the client didn't send one, or the server is misconfigured"
            )
            return DavError(401, "NotAuthenticated", message).response(
                {"WWW-Authenticate": 'Basic realm="Nextcloud", charset="UTF-8"'}
            )
        user = login.user_id
        try:
            # Sabre's Request::getPath() normalises the raw path before decoding it.
            path = calculate_uri(request.scope["raw_path"].decode("latin-1"))
        except DavError as error:
            return error.response()
        segments = [part for part in path.split("/") if part not in ("", ".")]
        body = await _read_stream(request) if request.method == "PUT" else await request.body()
        try:
            return self._route(request, user, segments, body)
        except DavError as error:
            return error.response()

    def _route(self, request: Request, user: str, segments: list[str], body: bytes) -> Response:
        dav = DavRequest(request.method, user, segments, request.headers, body, request.url.path)
        if not segments:
            return self._root(dav.method, user, dav.headers.get("content-type", ""), body)
        root = segments[0]
        if root == "files":
            return self._files.handle(dav.below())
        if root == "uploads":
            return self._uploads.handle(dav.below())
        if root == "comments":
            return self.comments.handle(dav.below())
        raise DavError(404, "NotFound", f"File not found: {root} in 'root'")

    def _root(self, method: str, user: str, content_type: str, body: bytes) -> Response:
        # SearchDAV only takes XML bodies; anything else falls through to "no plugin".
        if method == "SEARCH" and any(kind in content_type for kind in _XML_TYPES):
            return search(self._store, self._files, user, body)
        if method == "PROPFIND":
            return multistatus(
                [PropStat(f"{DAV_ROOT}/", [(DAV, "resourcetype", "<d:collection/>")])]
            )
        raise not_implemented(method)


async def _read_stream(request: Request) -> bytes:
    """Collect an upload chunk by chunk without ever holding two copies of it."""
    buffer = io.BytesIO()
    async for chunk in request.stream():
        buffer.write(chunk)
    # BytesIO hands out its own buffer here rather than a copy (CPython).
    return buffer.getvalue()
