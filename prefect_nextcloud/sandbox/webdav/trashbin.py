"""The trash bin: ``/remote.php/dav/trashbin/<user>/trash/`` and ``…/restore/``.

A ``DELETE`` of a user's file or folder moves it here (see :mod:`.files`). ``trash/`` lists
each deleted item as ``<name>.d<deletion time>``; what was below a deleted folder keeps its
plain names below it. The items have ``nc:trashbin-filename``, ``nc:trashbin-original-location``
(the path below the home folder, e.g. ``Docs/report.pdf``), ``nc:trashbin-title``,
``nc:trashbin-deletion-time``, ``nc:trashbin-deleted-by-id`` and ``-display-name``,
``nc:trashbin-backend``, ``oc:size``, ``oc:id`` and ``oc:fileid`` (the plain file id),
``oc:permissions`` ``GD``, ``nc:has-preview``, and an unquoted ``d:getetag`` that is their
modification time (for a deleted item, its deletion time).

- ``GET`` of a file item downloads it, with ``Content-Disposition: attachment;
  filename="<name>"``;
- ``MOVE`` to ``trashbin/<user>/restore/<any name>`` restores it (201): back where it was, or
  into the home folder when that folder is gone (what was below a deleted folder always goes to
  the home folder), renamed ``<name> (restored).<ext>`` when the name is taken;
- ``DELETE`` of an item deletes it for good, of ``trash/`` empties the trash bin (204).

Sources: Nextcloud's ``apps/files_trashbin/lib/Sabre/`` (``TrashbinPlugin.php``,
``TrashRoot.php``, ``TrashHome.php``, ``RestoreFolder.php``, ``AbstractTrash.php``,
``TrashFile.php``, ``TrashFolder.php``) and ``lib/Trashbin.php`` (``restore``,
``getUniqueFilename``); sabre/dav ``lib/DAV/CorePlugin.php``.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.filetypes import has_preview, mime_type_for_name
from prefect_nextcloud.sandbox.storage.records import Node, TrashItem
from prefect_nextcloud.sandbox.webdav import sabre_xml
from prefect_nextcloud.sandbox.webdav.history import (
    HomeCollection,
    check_restore_move,
    collection_entry,
    empty_response,
)
from prefect_nextcloud.sandbox.webdav.ranges import byte_range, ranged_response
from prefect_nextcloud.sandbox.webdav.request import DavRequest, depth, dispatch
from prefect_nextcloud.sandbox.webdav.sabre_xml import DAV, NEXTCLOUD, OWNCLOUD, DavError

__all__ = ["TrashBin"]

_BACKEND = "OCA\\Files_Trashbin\\Trash\\LegacyTrashBackend"
_FOLDER_ALLPROP = sabre_xml.dav_properties("getlastmodified", "resourcetype", "getetag")


class TrashBin(HomeCollection):
    """Answers ``trashbin/…`` for every user (each sees only their own).

    Args:
        store: Users, files and their trash bins.
        exists: Whether a node exists at a path (for ``MOVE`` destinations).
    """

    collection = "trashbin"
    children = ("restore", "trash")

    def items(self, request: DavRequest, names: list[str]) -> Response:
        """Answer ``trash/`` and the items below it.

        Raises:
            DavError: 404 for anything else, or any Sabre error.
        """
        if names[0] != "trash":
            raise DavError(404, "NotFound", "")
        if len(names) == 1:
            return self._trash_root(request)
        return self._item(request, names[1:])

    def _href(self, user: str) -> str:
        return f"{sabre_xml.DAV_ROOT}/trashbin/{user}/trash/"

    def _trash_root(self, request: DavRequest) -> Response:
        if request.method == "DELETE":
            for item in self._store.trash(request.user):
                self._store.purge(item)
            return empty_response(204)
        if request.method != "PROPFIND":
            raise sabre_xml.not_implemented(request.method)
        requested = sabre_xml.requested_properties(request.body)
        href = self._href(request.user)
        entries = [collection_entry(href, requested)]
        level = depth(request.headers)
        if level != 0:
            below = None if level is None else level - 1
            for item in self._store.trash(request.user):
                entries += self._entries(item, item.node, f"{href}{item.name}", requested, below)
        return sabre_xml.multistatus(entries)

    def _find(self, user: str, names: list[str]) -> tuple[TrashItem, Node, str]:
        """The item named first and the node the other names lead to below it, with its href.

        Raises:
            DavError: 404 when there is no such item or node.
        """
        item = next((item for item in self._store.trash(user) if item.name == names[0]), None)
        if item is None:
            raise DavError(404, "NotFound", "")
        node = item.node
        for name in names[1:]:
            if not node.is_dir:
                path = "/".join(["trashbin", user, "trash", *names])
                raise DavError(404, "NotFound", f"Could not find node at path: {path}")
            child = next((found for found in _children(item, node) if found.name == name), None)
            if child is None:
                raise DavError(404, "NotFound", "")
            node = child
        return item, node, self._href(user) + "/".join(names)

    def _item(self, request: DavRequest, names: list[str]) -> Response:
        if request.method == "MOVE":
            check_restore_move(request, "trashbin", self._exists)
        item, node, href = self._find(request.user, names)
        handlers: dict[str, Callable[[], Response]] = {
            "PROPFIND": lambda: self._propfind(request, item, node, href),
            "GET": lambda: self._get(request, item, node),
            "HEAD": lambda: self._get(request, item, node),
            "DELETE": lambda: self._delete(item, node),
            "MOVE": lambda: self._restore(item, node),
        }
        return dispatch(request.method, handlers)

    def _delete(self, item: TrashItem, node: Node) -> Response:
        self._store.purge(item, node)
        return empty_response(204)

    def _restore(self, item: TrashItem, node: Node) -> Response:
        self._store.restore(item, node)
        return empty_response(201)

    def _get(self, request: DavRequest, item: TrashItem, node: Node) -> Response:
        if node.is_dir:
            raise sabre_xml.not_implemented(request.method)
        etag = str(_mtime(item, node))
        headers = {
            "Content-Type": mime_type_for_name(node.name),
            "Last-Modified": sabre_xml.http_date(_mtime(item, node)),
            "ETag": etag,
            "Content-Disposition": f'attachment; filename="{node.name}"',
        }
        wanted = byte_range(request.headers, len(node.data), etag, _mtime(item, node))
        return ranged_response(node.data, headers, wanted)

    def _propfind(self, request: DavRequest, item: TrashItem, node: Node, href: str) -> Response:
        requested = sabre_xml.requested_properties(request.body)
        return sabre_xml.multistatus(
            self._entries(item, node, href, requested, depth(request.headers))
        )

    def _entries(
        self,
        item: TrashItem,
        node: Node,
        href: str,
        requested: list[tuple[str, str]] | None,
        level: int | None,
    ) -> list[sabre_xml.PropStat]:
        """A node's answer and, ``level`` levels down (None: all), those of what is below it."""
        allprops = _FOLDER_ALLPROP if node.is_dir else sabre_xml.FILE_ALLPROP
        entry = sabre_xml.select(
            _properties(item, node), requested, allprops, f"{href}/" if node.is_dir else href
        )
        entries = [entry]
        if node.is_dir and level != 0:
            below = None if level is None else level - 1
            for child in _children(item, node):
                entries += self._entries(item, child, f"{href}/{child.name}", requested, below)
        return entries


def _children(item: TrashItem, folder: Node) -> list[Node]:
    found = [node for node in item.nodes if node.path.rpartition("/")[0] == folder.path]
    return sorted(found, key=lambda node: node.name)


def _mtime(item: TrashItem, node: Node) -> int:
    """A deleted item's time is its deletion time; what was below it keeps its own."""
    return item.deleted_at if node is item.node else node.mtime


def _properties(item: TrashItem, node: Node) -> dict[tuple[str, str], str]:
    owner = escape(node.owner or "")
    prefix = f"{node.path}/"
    size = sum(len(n.data) for n in item.nodes if n is node or n.path.startswith(prefix))
    mime = "httpd/unix-directory" if node.is_dir else mime_type_for_name(node.name)
    values = {
        (DAV, "getlastmodified"): sabre_xml.http_date(_mtime(item, node)),
        (DAV, "resourcetype"): "<d:collection/>" if node.is_dir else "",
        (DAV, "getetag"): str(_mtime(item, node)),
        (DAV, "displayname"): escape(node.name),
        (NEXTCLOUD, "trashbin-filename"): escape(node.name),
        (NEXTCLOUD, "trashbin-original-location"): escape(node.path),
        (NEXTCLOUD, "trashbin-title"): escape(node.path),
        (NEXTCLOUD, "trashbin-deletion-time"): str(item.deleted_at),
        (NEXTCLOUD, "trashbin-deleted-by-id"): owner,
        (NEXTCLOUD, "trashbin-deleted-by-display-name"): owner,
        (NEXTCLOUD, "trashbin-backend"): escape(_BACKEND),
        (OWNCLOUD, "size"): str(size),
        (OWNCLOUD, "id"): str(node.id),
        (OWNCLOUD, "fileid"): str(node.id),
        (OWNCLOUD, "permissions"): "GD",
        (NEXTCLOUD, "has-preview"): "true" if has_preview(mime) else "false",
        (NEXTCLOUD, "mount-type"): "",
    }
    if not node.is_dir:
        values[DAV, "getcontentlength"] = str(size)
        values[DAV, "getcontenttype"] = escape(mime)
    return values
