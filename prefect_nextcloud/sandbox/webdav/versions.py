"""File versions: ``/remote.php/dav/versions/<user>/versions/<file id>/<revision>``.

Each write of a non-empty file keeps its former content as a version named by the former
modification time (see :class:`~prefect_nextcloud.sandbox.storage.store.Store`).
``versions/<file id>/`` (a file of the user's, else 404) lists the kept versions and the
current one, named after the file's modification time, as the ``LegacyVersionsBackend`` of
Nextcloud 28 and later does; each has ``d:getlastmodified``, ``d:getcontentlength``,
``d:getcontenttype``, an unquoted ``d:getetag`` (the revision), ``nc:version-label`` (empty)
and ``nc:has-preview``.

- ``GET`` of a kept version downloads it (``Content-Disposition`` names the file); the current
  one is not kept as a version file, so it is 404: read it from the file itself;
- ``MOVE`` to ``versions/<user>/restore/<any name>`` restores it (201): the current content is
  kept as a version and the restored one becomes current, with the revision as its
  modification time (``Storage::rollback``); ``COPY`` there is 403;
- ``DELETE`` deletes a kept version (204).

Sources: Nextcloud's ``apps/files_versions/lib/Sabre/`` (``VersionRoot.php``,
``VersionCollection.php``, ``VersionFile.php``, ``RestoreFolder.php``, ``Plugin.php``),
``lib/Versions/LegacyVersionsBackend.php`` and ``lib/Storage.php`` (``rollback``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_int
from prefect_nextcloud.sandbox.storage.filetypes import has_preview, mime_type_for_name
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.webdav import sabre_xml
from prefect_nextcloud.sandbox.webdav.history import (
    HomeCollection,
    check_restore_move,
    collection_entry,
    empty_response,
)
from prefect_nextcloud.sandbox.webdav.ranges import byte_range, ranged_response
from prefect_nextcloud.sandbox.webdav.request import DavRequest, depth, dispatch
from prefect_nextcloud.sandbox.webdav.sabre_xml import DAV, NEXTCLOUD, DavError

__all__ = ["Versions"]


class Versions(HomeCollection):
    """Answers ``versions/…`` for every user (each sees only their own files).

    Args:
        store: Users, files and their versions.
        exists: Whether a node exists at a path (for ``MOVE`` destinations).
    """

    collection = "versions"
    children = ("versions", "restore")

    def items(self, request: DavRequest, names: list[str]) -> Response:
        """Answer ``versions/``, a file's ``<file id>/`` and its ``<revision>``.

        Raises:
            DavError: 500 for anything else (``VersionHome::getChild`` answers null), 404 for
                an unknown file or revision, or any Sabre error.
        """
        if names[0] != "versions":
            raise sabre_xml.type_error()
        names = names[1:]
        if not names:
            return self._version_root(request)
        node = self._file(request.user, names[0])
        href = f"{sabre_xml.DAV_ROOT}/versions/{request.user}/versions/{names[0]}/"
        if len(names) == 1:
            return self._listing(request, node, href)
        if len(names) > 2:  # <file id>/<revision>
            path = "/".join(["versions", *request.segments])
            raise DavError(404, "NotFound", f"Could not find node at path: {path}")
        return self._version(request, node, names[1], href + names[1])

    def _version_root(self, request: DavRequest) -> Response:
        if request.method != "PROPFIND":
            raise sabre_xml.not_implemented(request.method)
        return sabre_xml.multistatus(
            [collection_entry(f"{sabre_xml.DAV_ROOT}/versions/{request.user}/versions/")]
        )

    def _file(self, user: str, name: str) -> Node:
        """``VersionRoot::getChild``: a file of the user's, by its id.

        Raises:
            DavError: 404 for anything else.
        """
        node = self._store.node_by_id(to_int(name))
        if node is None or node.owner != user or node.is_dir:
            raise DavError(404, "NotFound", "")
        return node

    def _revisions(self, node: Node) -> dict[int, bytes | None]:
        """The versions, kept ones in the order they were made, then the current one.

        A kept version's content, or None for the current one when it is not kept.
        """
        revisions: dict[int, bytes | None] = dict(self._store.versions(node))
        revisions.setdefault(node.mtime, None)
        return revisions

    def _listing(self, request: DavRequest, node: Node, href: str) -> Response:
        if request.method != "PROPFIND":
            raise sabre_xml.not_implemented(request.method)
        requested = sabre_xml.requested_properties(request.body)
        entries = [collection_entry(href, requested)]
        if depth(request.headers) != 0:
            entries += [
                self._propstat(node, revision, data, requested, f"{href}{revision}")
                for revision, data in self._revisions(node).items()
            ]
        return sabre_xml.multistatus(entries)

    def _version(self, request: DavRequest, node: Node, name: str, href: str) -> Response:
        if request.method in ("MOVE", "COPY"):
            check_restore_move(request, "versions", self._exists)
        revisions = self._revisions(node)
        revision = next((found for found in revisions if str(found) == name), None)
        if revision is None:
            raise DavError(404, "NotFound", "")
        data = revisions[revision]
        handlers: dict[str, Callable[[], Response]] = {
            "PROPFIND": lambda: self._propfind(request, node, revision, data, href),
            "GET": lambda: self._get(request, node, revision, data),
            "HEAD": lambda: self._get(request, node, revision, data),
            "DELETE": lambda: self._delete(node, revision),
            "MOVE": lambda: self._restore(node, revision),
            "COPY": self._copy,
        }
        return dispatch(request.method, handlers)

    def _restore(self, node: Node, revision: int) -> Response:
        self._store.restore_version(node, revision)
        return empty_response(201)

    def _copy(self) -> Response:
        # Sabre copies into restore/ by createFile, which RestoreFolder refuses.
        raise DavError(403, "Forbidden", "")

    def _delete(self, node: Node, revision: int) -> Response:
        self._store.delete_version(node, revision)
        return empty_response(204)

    def _get(self, request: DavRequest, node: Node, revision: int, data: bytes | None) -> Response:
        if data is None:
            # LegacyVersionsBackend::read finds no version file for the current content.
            raise DavError(404, "NotFound", "")
        name = quote(node.name, safe="")
        headers = {
            "Content-Type": mime_type_for_name(node.name),
            "Last-Modified": sabre_xml.http_date(revision),
            "ETag": str(revision),
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}; filename=\"{name}\"",
        }
        wanted = byte_range(request.headers, len(data), str(revision), revision)
        return ranged_response(data, headers, wanted)

    def _propfind(
        self, request: DavRequest, node: Node, revision: int, data: bytes | None, href: str
    ) -> Response:
        requested = sabre_xml.requested_properties(request.body)
        return sabre_xml.multistatus([self._propstat(node, revision, data, requested, href)])

    def _propstat(
        self,
        node: Node,
        revision: int,
        data: bytes | None,
        requested: list[tuple[str, str]] | None,
        href: str,
    ) -> sabre_xml.PropStat:
        mime = mime_type_for_name(node.name)
        values = {
            (DAV, "getlastmodified"): sabre_xml.http_date(revision),
            (DAV, "getcontentlength"): str(len(node.data if data is None else data)),
            (DAV, "resourcetype"): "",
            (DAV, "getetag"): str(revision),
            (DAV, "getcontenttype"): escape(mime),
            # Sabre writes PHP's true as "1" and false as nothing.
            (NEXTCLOUD, "has-preview"): "1" if has_preview(mime) else "",
        }
        if node.data:
            # VersionFile::getLabel: no label while the file is empty.
            values[NEXTCLOUD, "version-label"] = ""
        return sabre_xml.select(values, requested, sabre_xml.FILE_ALLPROP, href)
