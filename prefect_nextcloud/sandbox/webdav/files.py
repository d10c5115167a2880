"""The files tree of WebDAV, ``/remote.php/dav/files/<user>/…``, as Nextcloud's Sabre nodes answer.

GET/HEAD, PUT, MKCOL, DELETE, PROPFIND (Depth 0/1), MOVE and COPY, with Sabre's status codes
and error bodies. Paths are walked segment by segment like ``Directory::getChild``: a missing
segment, or ``..`` (which never names a node), is a 404 naming the path up to there. A user sees
only their own home; another user's home looks like an empty, read-only folder, as in Nextcloud.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.filetypes import mime_type_for_name
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.request import DavRequest, home_owner
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    NEXTCLOUD,
    OWNCLOUD,
    DavError,
    PropStat,
    calculate_uri,
    http_date,
    multistatus,
    not_implemented,
    requested_properties,
    select,
)

__all__ = ["INSTANCE_ID", "Destination", "FilesTree", "file_href", "file_id_header"]

INSTANCE_ID = "ocsandbox000"
"""The sandbox's instance id, the suffix of ``oc:id`` and ``OC-FileId`` values."""

_FILE_ALLPROP = (
    (DAV, "getlastmodified"),
    (DAV, "getcontentlength"),
    (DAV, "resourcetype"),
    (DAV, "getetag"),
    (DAV, "getcontenttype"),
)
_FOLDER_ALLPROP = (
    (DAV, "getlastmodified"),
    (DAV, "resourcetype"),
    (DAV, "quota-used-bytes"),
    (DAV, "quota-available-bytes"),
    (DAV, "getetag"),
)


def file_id_header(node: Node) -> dict[str, str]:
    """``OC-FileId`` (id and instance id) and ``OC-ETag`` of a node."""
    return {"OC-FileId": f"{node.id:08d}{INSTANCE_ID}", "OC-ETag": f'"{node.etag}"'}


def file_href(node: Node) -> str:
    """The percent-encoded href of a user's file; folders end with ``/``."""
    suffix = f"{node.path}/" if node.is_dir and node.path else node.path
    return quote(f"{DAV_ROOT}/files/{node.owner}/{suffix}", safe="/:@()~")


def _dot_name() -> DavError:
    # Directory::createFile/createDirectory: View::verifyPath refuses "." and "..".
    return DavError(
        400,
        "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath",
        "Dot files are not allowed",
        attributes=' xmlns:o="o:"',
        extra="  <o:retry>false</o:retry>\n  <o:reason>Dot files are not allowed</o:reason>\n",
    )


@dataclass(frozen=True)
class Destination:
    """Where a MOVE or COPY goes: a path in the requesting user's home.

    Attributes:
        path: Home-relative path.
        existing: The node there now, if any.
        dav_path: The path below ``/remote.php/dav`` (for messages).
    """

    path: str
    existing: Node | None
    dav_path: str


class FilesTree:
    """Answers requests below ``/remote.php/dav/files/``.

    Args:
        store: Users and their files.
        comment_count: Number of comments on a file id (``oc:comments-count``).
    """

    def __init__(self, store: Store, comment_count: Callable[[int], int]) -> None:
        self._store = store
        self._comment_count = comment_count

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, owner: str, path: str) -> Node:
        """Walk a home-relative path like ``Directory::getChild``.

        Raises:
            DavError: 404 at the first segment that does not exist (``..`` never does).
        """
        node = self._store.node(owner, "")
        assert node is not None, "every user has a home"
        current = ""
        for segment in [part for part in path.split("/") if part]:
            if not node.is_dir:
                raise DavError(
                    404, "NotFound", f"Could not find node at path: files/{owner}/{path}"
                )
            child_path = f"{current}/{segment}" if current else segment
            child = None if segment == ".." else self._store.node(owner, child_path)
            if child is None:
                raise DavError(
                    404, "NotFound", f"File with name /{current}/{segment} could not be located"
                )
            node, current = child, child_path
        return node

    def _parent(self, owner: str, path: str) -> tuple[Node | None, str]:
        parent_path, _, name = path.rpartition("/")
        try:
            return self.lookup(owner, parent_path), name
        except DavError:
            return None, name

    # -- requests --------------------------------------------------------------------------

    def handle(self, request: DavRequest) -> Response:
        """Handle one request for ``files/<owner>/<path>`` (``segments`` after ``files``).

        Raises:
            DavError: Any Sabre error.
        """
        owner = home_owner(request, self._store)
        method, headers, body = request.method, request.headers, request.body
        path = "/".join(request.segments[1:])
        if owner != request.user:
            return self._foreign_home(method, owner, path)
        handlers: dict[str, Callable[[], Response]] = {
            "GET": lambda: self._get(owner, path),
            "HEAD": lambda: self._get(owner, path),
            "PUT": lambda: self.put(owner, path, body),
            "MKCOL": lambda: self._mkcol(owner, path),
            "DELETE": lambda: self._delete(owner, path),
            "PROPFIND": lambda: self._propfind(owner, path, headers.get("depth", ""), body),
            "MOVE": lambda: self._move_or_copy("MOVE", owner, path, headers),
            "COPY": lambda: self._move_or_copy("COPY", owner, path, headers),
        }
        if method not in handlers:
            raise not_implemented(method)
        with self._store.condition:
            return handlers[method]()

    def _foreign_home(self, method: str, owner: str, path: str) -> Response:
        # Files\RootCollection gives other users' homes as an empty SimpleCollection.
        if method in ("PUT", "MKCOL", "DELETE", "MOVE", "COPY"):
            raise DavError(403, "Forbidden", "Permission denied")
        if path or method != "PROPFIND":
            first = path.split("/", 1)[0]
            raise DavError(404, "NotFound", f"File not found: {first} in '{owner}'")
        href = quote(f"{DAV_ROOT}/files/{owner}/", safe="/:@()~")
        return multistatus([PropStat(href, [(DAV, "resourcetype", "<d:collection/>")])])

    def _get(self, owner: str, path: str) -> Response:
        node = self.lookup(owner, path)
        if node.is_dir:
            raise DavError(
                501,
                "NotImplemented",
                f"{not_implemented('GET').message} Enable the Browser plugin to get a better "
                "result here.",
            )
        return Response(
            node.data,
            headers={
                "Content-Type": mime_type_for_name(node.name),
                "ETag": f'"{node.etag}"',
                "Last-Modified": http_date(node.mtime),
                # FilesPlugin: rawurlencode() in both parameters, so no name breaks the header.
                "Content-Disposition": (
                    f"attachment; filename*=UTF-8''{quote(node.name, safe='')};"
                    f' filename="{quote(node.name, safe="")}"'
                ),
                **file_id_header(node),
            },
        )

    def put(self, owner: str, path: str, data: bytes) -> Response:
        """Create or overwrite a file (also the last step of a chunked upload)."""
        node, created = self.write(owner, path, data)
        return Response(
            b"",
            status_code=201 if created else 204,
            headers={"ETag": f'"{node.etag}"', **file_id_header(node)},
        )

    def write(self, owner: str, path: str, data: bytes) -> tuple[Node, bool]:
        """Store a file's content; return the node and whether it is new.

        Raises:
            DavError: The path is a folder, its parent is missing or a file, or it ends in ``..``.
        """
        store = self._store
        with store.condition:
            try:
                node: Node | None = self.lookup(owner, path)
            except DavError:
                node = None
            if node is not None:
                if node.is_dir:
                    raise DavError(409, "Conflict", "PUT is not allowed on non-files.")
                store.write_file(node, data)
                return node, False
            parent, name = self._parent(owner, path)
            if parent is None:
                raise DavError(
                    409, "Conflict", "Files cannot be created in non-existent collections"
                )
            if not parent.is_dir:
                raise DavError(
                    409, "Conflict", "Files can only be created as children of collections"
                )
            if name == "..":
                raise _dot_name()
            return store.create_file(owner, path, data), True

    def _mkcol(self, owner: str, path: str) -> Response:
        store = self._store
        try:
            self.lookup(owner, path)
        except DavError:
            pass
        else:
            raise DavError(
                405, "MethodNotAllowed", "The resource you tried to create already exists"
            )
        parent, name = self._parent(owner, path)
        if parent is None:
            raise DavError(409, "Conflict", "Parent node does not exist")
        if not parent.is_dir:
            raise DavError(409, "Conflict", "Parent node is not a collection")
        if name == "..":
            raise _dot_name()
        node = store.create_folder(owner, path)
        return Response(b"", status_code=201, headers=file_id_header(node))

    def _delete(self, owner: str, path: str) -> Response:
        node = self.lookup(owner, path)
        if not path.strip("/"):
            raise DavError(403, "Forbidden", "Permission denied to delete home folder")
        self._store.delete_node(node)
        return Response(b"", status_code=204)

    def _propfind(self, owner: str, path: str, depth: str, body: bytes) -> Response:
        requested = requested_properties(body)
        node = self.lookup(owner, path)
        nodes = [node]
        # Depth infinity is disabled in Nextcloud, and Sabre then treats it as 1.
        if node.is_dir and depth.strip() != "0":
            nodes += self._store.children(node)
        return multistatus([self.propstat(item, requested) for item in nodes])

    # -- MOVE and COPY ---------------------------------------------------------------------

    def destination(self, user: str, headers: Mapping[str, str], source: str) -> Destination:
        """Read the Destination and Overwrite headers as ``Server::getCopyAndMoveInfo`` does.

        Args:
            user: The requesting user.
            headers: The request headers.
            source: The source's path below ``/remote.php/dav``.

        Raises:
            DavError: A missing or foreign destination, a bad Overwrite header, a missing
                parent, an existing target with ``Overwrite: F``, or a target in the source.
        """
        raw = headers.get("destination")
        if not raw:
            raise DavError(400, "BadRequest", "The destination header was not supplied")
        dav_path = calculate_uri(raw)
        overwrite = headers.get("overwrite", "T").upper() or "T"
        if overwrite not in ("T", "F"):
            raise DavError(400, "BadRequest", "The HTTP Overwrite header should be either T or F")
        segments = dav_path.split("/")
        if len(segments) < 3 or segments[0] != "files" or segments[1] != user:
            raise DavError(403, "Forbidden", "Permission denied")
        path = "/".join(segments[2:])
        parent, name = self._parent(user, path)
        if parent is None:
            raise DavError(409, "Conflict", "The destination node is not found")
        if not parent.is_dir:
            raise DavError(415, "UnsupportedMediaType", "The destination node is not a collection")
        try:
            existing: Node | None = self.lookup(user, path)
        except DavError:
            existing = None
        if existing is not None and overwrite == "F":
            raise DavError(
                412,
                "PreconditionFailed",
                "The destination node already exists, and the overwrite header is set to false",
                extra="  <s:header>Overwrite</s:header>\n",
            )
        if dav_path == source:
            raise DavError(403, "Forbidden", "Source and destination uri are identical.")
        if dav_path.startswith(f"{source}/"):
            raise DavError(
                409,
                "Conflict",
                "The destination may not be part of the same subtree as the source path.",
            )
        if name == "..":
            raise _dot_name()
        return Destination(path, existing, dav_path)

    def _move_or_copy(
        self, method: str, owner: str, path: str, headers: Mapping[str, str]
    ) -> Response:
        source_dav = "/".join(["files", owner, *[part for part in path.split("/") if part]])
        target = self.destination(owner, headers, source_dav)
        node = self.lookup(owner, path)
        if method == "MOVE" and not path.strip("/"):
            raise DavError(403, "Forbidden", f"{source_dav} cannot be deleted")
        store = self._store
        if target.existing is not None:
            store.delete_node(target.existing)
        if method == "MOVE":
            store.move_node(node, target.path)
            result = node
        else:
            result = store.copy_node(node, target.path)
        # FilesPlugin::sendFileIdHeader runs on afterBind of the destination.
        return Response(
            b"",
            status_code=204 if target.existing is not None else 201,
            headers={"OC-FileId": file_id_header(result)["OC-FileId"], "Content-Length": "0"},
        )

    # -- properties ------------------------------------------------------------------------

    def propstat(self, node: Node, requested: list[tuple[str, str]] | None) -> PropStat:
        """The requested properties of a node (its allprops for None)."""
        allprops = _FOLDER_ALLPROP if node.is_dir else _FILE_ALLPROP
        return select(self.properties(node), requested, allprops, file_href(node))

    def properties(self, node: Node) -> dict[tuple[str, str], str]:
        """Property values as XML fragments (text already escaped)."""
        size = str(self._store.size(node))
        values = {
            (DAV, "getlastmodified"): http_date(node.mtime),
            (DAV, "getetag"): escape(f'"{node.etag}"', {'"': "&quot;"}),
            (DAV, "resourcetype"): "<d:collection/>" if node.is_dir else "",
            (DAV, "displayname"): escape(node.name),
            (OWNCLOUD, "fileid"): str(node.id),
            (OWNCLOUD, "id"): f"{node.id:08d}{INSTANCE_ID}",
            (OWNCLOUD, "size"): size,
            (OWNCLOUD, "permissions"): "RGDNVCK" if node.is_dir else "RGDNVW",
            (OWNCLOUD, "favorite"): "0",
            (OWNCLOUD, "comments-href"): f"{DAV_ROOT}/comments/files/{node.id}",
            (OWNCLOUD, "comments-count"): str(self._comment_count(node.id)),
            (OWNCLOUD, "comments-unread"): "0",
            (NEXTCLOUD, "is-encrypted"): "0",
        }
        if node.is_dir:
            values[DAV, "quota-used-bytes"] = size
            values[DAV, "quota-available-bytes"] = "-3"
        else:
            values[DAV, "getcontentlength"] = size
            values[DAV, "getcontenttype"] = escape(mime_type_for_name(node.name))
        return values
