"""WebDAV: login, then the tree Nextcloud's Sabre servers mount below ``/remote.php``.

``/remote.php/dav`` has ``files/`` (:mod:`~prefect_nextcloud.sandbox.webdav.files`),
``uploads/`` for chunked uploads (:mod:`~prefect_nextcloud.sandbox.webdav.uploads`),
``comments/`` (file comments, :mod:`~prefect_nextcloud.sandbox.webdav.comments`),
``systemtags/`` and ``systemtags-relations/`` (:mod:`~prefect_nextcloud.sandbox.webdav.systemtags`),
``trashbin/`` (:mod:`~prefect_nextcloud.sandbox.webdav.trashbin`), ``versions/``
(:mod:`~prefect_nextcloud.sandbox.webdav.versions`) and ``SEARCH`` on the root
(:mod:`~prefect_nextcloud.sandbox.webdav.search`). Any other child of the root is Sabre's 404
``File not found: <name> in 'root'``. The legacy ``/remote.php/webdav`` is the logged-in user's
files folder itself, without uploads, comments, tags, trash bin, versions or search
(``ServerFactory``).
No OCS-APIRequest header is needed. ``OPTIONS`` and a ``GET`` of a collection are answered
everywhere (:mod:`~prefect_nextcloud.sandbox.webdav.options`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from prefect_nextcloud.sandbox.http.auth import authenticate
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.comments import Comments
from prefect_nextcloud.sandbox.webdav.files import INSTANCE_ID, FilesTree, Home
from prefect_nextcloud.sandbox.webdav.options import dummy_get_response, options_response
from prefect_nextcloud.sandbox.webdav.request import DavRequest
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    LEGACY_ROOT,
    DavError,
    PropStat,
    calculate_uri,
    multistatus,
    not_implemented,
)
from prefect_nextcloud.sandbox.webdav.search import search
from prefect_nextcloud.sandbox.webdav.systemtags import SystemTagsTree
from prefect_nextcloud.sandbox.webdav.trashbin import TrashBin
from prefect_nextcloud.sandbox.webdav.uploads import Uploads
from prefect_nextcloud.sandbox.webdav.versions import Versions

__all__ = ["DAV_ROOT", "INSTANCE_ID", "LEGACY_ROOT", "WebDav"]

_XML_TYPES = ("text/xml", "application/xml")


class WebDav:
    """Answers every request below ``/remote.php/dav`` and ``/remote.php/webdav``.

    Args:
        store: Users and their files.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.comments = Comments(store)
        self._files = FilesTree(store, self.comments.count)
        self._uploads = Uploads(store, self._files)
        self._tags = SystemTagsTree(store)
        self._trashbin = TrashBin(store, self._exists)
        self._versions = Versions(store, self._exists)

    async def handle(self, request: Request) -> Response:
        """Handle one request below ``/remote.php/dav``."""
        return await self._handle(request, DAV_ROOT)

    async def handle_legacy(self, request: Request) -> Response:
        """Handle one request below ``/remote.php/webdav``."""
        return await self._handle(request, LEGACY_ROOT)

    async def _handle(self, request: Request, root: str) -> Response:
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
        try:
            # Sabre's Request::getPath() normalises the raw path before decoding it.
            path = calculate_uri(request.scope["raw_path"].decode("latin-1"), root)
        except DavError as error:
            return error.response()
        segments = [part for part in path.split("/") if part not in ("", ".")]
        body = await _read_stream(request) if request.method == "PUT" else await request.body()
        dav = DavRequest(
            request.method, login.user_id, segments, request.headers, body, request.url.path
        )
        try:
            if root == LEGACY_ROOT:
                return self._files.serve(dav, Home.legacy(dav.user), "/".join(segments))
            return self._answer(dav)
        except DavError as error:
            return error.response()

    def _answer(self, dav: DavRequest) -> Response:
        if dav.method == "OPTIONS" and (len(dav.segments) < 2 or dav.segments[0] != "files"):
            return options_response(
                DAV_ROOT, exists=self._exists(dav), search_root=not dav.segments
            )
        try:
            return self._route(dav)
        except DavError as error:
            # No handler took a GET of a collection: DummyGetResponsePlugin answers it.
            if error.status == 501 and dav.method in ("GET", "HEAD"):
                return dummy_get_response()
            raise

    def _exists(self, dav: DavRequest) -> bool:
        """Whether a node exists at the path: a ``PROPFIND`` of it finds no 404."""
        probe = replace(dav, method="PROPFIND", headers={"depth": "0"}, body=b"")
        try:
            self._route(probe)
        except DavError as error:
            return error.status != 404
        return True

    def _route(self, dav: DavRequest) -> Response:
        if not dav.segments:
            return self._root(dav.method, dav.user, dav.headers.get("content-type", ""), dav.body)
        root = dav.segments[0]
        handlers: dict[str, Callable[[DavRequest], Response]] = {
            "files": self._files.handle,
            "uploads": self._uploads.handle,
            "comments": self.comments.handle,
            "systemtags": self._tags.handle_tags,
            "systemtags-relations": self._tags.handle_relations,
            "trashbin": self._trashbin.handle,
            "versions": self._versions.handle,
        }
        if root in handlers:
            return handlers[root](dav.below())
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
