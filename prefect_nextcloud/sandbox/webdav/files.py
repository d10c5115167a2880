"""A user's files over WebDAV, as Nextcloud's Sabre nodes answer.

They are mounted at ``/remote.php/dav/files/<user>/`` and, on the legacy endpoint, as the root of
``/remote.php/webdav/`` (the logged-in user's files; see :class:`Home`). Every method first
checks the request's conditional headers (:mod:`.conditions`); then:

- ``GET``/``HEAD`` of a file, with one byte range (:mod:`.ranges`) and ``OC-Checksum``; of a
  folder, ``DummyGetResponsePlugin``'s 200. ``HEAD`` with a satisfiable range is the
  ``TypeError`` 500 of sabre/dav 4.5 to 4.7.0, whose ``CorePlugin::httpGet`` seeks in the
  empty string it uses as a HEAD's body (fixed in 4.7.1);
- ``PUT`` with ``X-OC-MTime``, ``X-OC-CTime``, ``OC-Checksum`` and ``X-HASH`` (:mod:`.writes`);
- ``PATCH`` with ``X-Recalculate-Hash``, ``PROPPATCH`` (:mod:`.proppatch`), ``OPTIONS``;
- ``PROPFIND`` with ``Depth`` 0, 1, any number or ``infinity`` (Nextcloud turns
  ``enablePropfindDepthInfinity`` on), ``Prefer: return=minimal`` dropping the 404 propstats;
  ``oc:tags`` (the private tags, which the sandbox has none of) and, below ``/remote.php/dav``,
  ``nc:system-tags`` (:mod:`.systemtags`);
- ``REPORT`` ``oc:filter-files`` on a folder (:mod:`.filter_files`);
- ``MKCOL``, ``DELETE``, ``MOVE`` and ``COPY``, with Sabre's status codes and error bodies; a
  deleted file or folder, and one replaced by a ``MOVE`` or ``COPY``, goes to the owner's
  trash bin (:mod:`.trashbin`).

Paths are walked segment by segment like ``Directory::getChild``: a missing segment, or ``..``
(which never names a node), is a 404 naming the path up to there. A user sees only their own
home; another user's home looks like an empty, read-only folder, as in Nextcloud. Sources:
Nextcloud's ``apps/dav/lib/Connector/Sabre/`` (``File.php``, ``Directory.php``, ``Node.php``,
``FilesPlugin.php``, ``CopyEtagHeaderPlugin.php``, ``TagsPlugin.php``, ``Server.php``,
``ServerFactory.php``) and ``apps/dav/lib/Files/RootCollection.php``; sabre/dav
``lib/DAV/CorePlugin.php`` and ``lib/DAV/Server.php``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.filetypes import mime_type_for_name
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.conditions import check_preconditions
from prefect_nextcloud.sandbox.webdav.filter_files import (
    filter_query,
    matching_nodes,
    parse_report,
    report_not_supported,
)
from prefect_nextcloud.sandbox.webdav.options import (
    dav_features,
    dummy_get_response,
    options_response,
)
from prefect_nextcloud.sandbox.webdav.proppatch import parse_property_update, update_properties
from prefect_nextcloud.sandbox.webdav.ranges import byte_range, ranged_response
from prefect_nextcloud.sandbox.webdav.request import DavRequest, depth, dispatch, home_owner
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    FILE_ALLPROP,
    LEGACY_ROOT,
    NEXTCLOUD,
    OWNCLOUD,
    DavError,
    PropPatchResult,
    PropStat,
    calculate_uri,
    dav_properties,
    http_date,
    multistatus,
    not_implemented,
    prefers_minimal,
    requested_properties,
    select,
    type_error,
)
from prefect_nextcloud.sandbox.webdav.systemtags import system_tags_property
from prefect_nextcloud.sandbox.webdav.writes import after_write, recalculate_checksum

__all__ = ["INSTANCE_ID", "Destination", "FilesTree", "Home", "file_id_header"]

INSTANCE_ID = "ocsandbox000"
"""The sandbox's instance id, the suffix of ``oc:id`` and ``OC-FileId`` values."""

_FOLDER_ALLPROP = dav_properties(
    "getlastmodified", "resourcetype", "quota-used-bytes", "quota-available-bytes", "getetag"
)
_WRITES = ("PUT", "MKCOL", "DELETE", "MOVE", "COPY")


def file_id_header(node: Node) -> dict[str, str]:
    """``OC-FileId`` (id and instance id) and ``OC-ETag`` of a node."""
    return {"OC-FileId": f"{node.id:08d}{INSTANCE_ID}", "OC-ETag": f'"{node.etag}"'}


@dataclass(frozen=True)
class Home:
    """Where one user's files are mounted for a request.

    On ``/remote.php/dav`` the home is ``files/<owner>``; on the legacy ``/remote.php/webdav``
    (``ServerFactory``) the endpoint's root is the home itself.

    Attributes:
        root: The endpoint, :data:`DAV_ROOT` or :data:`LEGACY_ROOT`.
        owner: The user whose files these are.
    """

    root: str
    owner: str

    @classmethod
    def dav(cls, owner: str) -> Home:
        """``/remote.php/dav/files/<owner>/``."""
        return cls(DAV_ROOT, owner)

    @classmethod
    def legacy(cls, owner: str) -> Home:
        """``/remote.php/webdav/``, the files of the user who logged in."""
        return cls(LEGACY_ROOT, owner)

    def tree_path(self, path: str) -> str:
        """A home-relative path as Sabre's tree names it, e.g. ``files/alice/a.txt``."""
        parts = [] if self.root == LEGACY_ROOT else ["files", self.owner]
        return "/".join([*parts, *(part for part in path.split("/") if part)])

    def home_path(self, tree_path: str) -> str | None:
        """The home-relative path of a tree path, or None when it is outside this home."""
        if self.root == LEGACY_ROOT:
            return tree_path
        segments = tree_path.split("/")
        if len(segments) < 3 or segments[:2] != ["files", self.owner]:
            return None
        return "/".join(segments[2:])

    def href(self, path: str, *, folder: bool = False) -> str:
        """The percent-encoded href of a home-relative path; folders end with ``/``."""
        tree = self.tree_path(path)
        suffix = "/" if folder and tree else ""
        return quote(f"{self.root}/{tree}{suffix}", safe="/:@()~")


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
        dav_path: The path below the endpoint's root (for messages).
    """

    path: str
    existing: Node | None
    dav_path: str


class FilesTree:
    """Answers requests for users' files.

    Args:
        store: Users and their files.
        comment_count: Number of comments on a file id (``oc:comments-count``).
    """

    def __init__(self, store: Store, comment_count: Callable[[int], int]) -> None:
        self._store = store
        self._comment_count = comment_count

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, owner: str, path: str, home: Home | None = None) -> Node:
        """Walk a home-relative path like ``Directory::getChild``.

        Raises:
            DavError: 404 at the first segment that does not exist (``..`` never does).
        """
        node = self._store.node(owner, "")
        assert node is not None, "every user has a home"
        current = ""
        for segment in [part for part in path.split("/") if part]:
            if not node.is_dir:
                tree_path = (home or Home.dav(owner)).tree_path(path)
                raise DavError(404, "NotFound", f"Could not find node at path: {tree_path}")
            child_path = f"{current}/{segment}" if current else segment
            child = None if segment == ".." else self._store.node(owner, child_path)
            if child is None:
                raise DavError(
                    404, "NotFound", f"File with name /{current}/{segment} could not be located"
                )
            node, current = child, child_path
        return node

    def _find(self, owner: str, path: str) -> Node | None:
        try:
            return self.lookup(owner, path)
        except DavError:
            return None

    def _parent(self, owner: str, path: str) -> tuple[Node | None, str]:
        parent_path, _, name = path.rpartition("/")
        return self._find(owner, parent_path), name

    # -- requests --------------------------------------------------------------------------

    def handle(self, request: DavRequest) -> Response:
        """Handle one request for ``files/<owner>/<path>`` (``segments`` after ``files``).

        Raises:
            DavError: Any Sabre error.
        """
        owner = home_owner(request, self._store)
        path = "/".join(request.segments[1:])
        if owner != request.user:
            return self._foreign_home(request.method, owner, path)
        return self.serve(request, Home.dav(owner), path)

    def serve(self, request: DavRequest, home: Home, path: str) -> Response:
        """Handle one request for a path in the requesting user's own home.

        Raises:
            DavError: Any Sabre error.
        """
        owner, headers, body = home.owner, request.headers, request.body
        handlers: dict[str, Callable[[], Response]] = {
            "OPTIONS": lambda: self._options(home, path),
            "GET": lambda: self._get(home, path, request),
            "HEAD": lambda: self._get(home, path, request),
            "PUT": lambda: self._put(home, path, headers, body),
            "PATCH": lambda: self._patch(home, path, headers),
            "MKCOL": lambda: self._mkcol(owner, path),
            "DELETE": lambda: self._delete(home, path),
            "PROPFIND": lambda: self._propfind(home, path, headers, body),
            "PROPPATCH": lambda: self._proppatch(home, path, headers, body),
            "MOVE": lambda: self._move_or_copy("MOVE", home, path, headers),
            "COPY": lambda: self._move_or_copy("COPY", home, path, headers),
            "REPORT": lambda: self._report(home, path, body),
        }
        with self._store.condition:
            answer = check_preconditions(
                request.method, headers, lambda: self.lookup(owner, path, home)
            )
            if answer is not None:
                return answer
            return dispatch(request.method, handlers)

    def _foreign_home(self, method: str, owner: str, path: str) -> Response:
        # Files\RootCollection gives other users' homes as an empty SimpleCollection.
        if method in _WRITES:
            raise DavError(403, "Forbidden", "Permission denied")
        if method == "OPTIONS":
            return options_response(DAV_ROOT, exists=not path)
        if path:
            first = path.split("/", 1)[0]
            raise DavError(404, "NotFound", f"File not found: {first} in '{owner}'")
        href = quote(f"{DAV_ROOT}/files/{owner}/", safe="/:@()~")
        if method == "PROPFIND":
            return multistatus([PropStat(href, [(DAV, "resourcetype", "<d:collection/>")])])
        if method in ("GET", "HEAD"):
            return dummy_get_response()
        raise not_implemented(method)

    def _options(self, home: Home, path: str) -> Response:
        node = self._find(home.owner, path)
        is_file = node is not None and not node.is_dir
        return options_response(home.root, exists=node is not None, is_file=is_file)

    def _get(self, home: Home, path: str, request: DavRequest) -> Response:
        node = self.lookup(home.owner, path, home)
        if node.is_dir:
            return dummy_get_response()
        etag = f'"{node.etag}"'
        # CorePlugin::httpGet adds these before it reads the range, so its errors keep them.
        sabre_headers = {
            "Content-Type": mime_type_for_name(node.name),
            "Last-Modified": http_date(node.mtime),
            "ETag": etag,
        }
        try:
            wanted = byte_range(request.headers, len(node.data), etag, node.mtime)
            if wanted is not None and request.method == "HEAD":
                # sabre/dav <= 4.7.0 seeks in the empty body of a HEAD: stream_get_meta_data('').
                raise type_error()
        except DavError as error:
            error.headers.update(sabre_headers)
            raise
        return ranged_response(node.data, {**sabre_headers, **_download_headers(node)}, wanted)

    def _put(self, home: Home, path: str, headers: Mapping[str, str], data: bytes) -> Response:
        if headers.get("content-range"):
            raise DavError(400, "BadRequest", "Content-Range on PUT requests are forbidden.")
        node, created, answer = self.store_file(home.owner, path, data, headers)
        return Response(
            b"",
            status_code=201 if created else 204,
            headers={**answer, "ETag": f'"{node.etag}"', **file_id_header(node)},
        )

    def store_file(
        self, owner: str, path: str, data: bytes, headers: Mapping[str, str]
    ) -> tuple[Node, bool, dict[str, str]]:
        """Write a file as ``File::put`` does: the content, then what the headers ask for.

        Also the last step of a chunked upload, with the headers of its ``MOVE``.

        Returns:
            The node, whether it is new, and the headers ``File::put`` adds to the answer.

        Raises:
            DavError: The path is a folder, its parent is missing or a file, it ends in ``..``;
                or (after the write) a bad ``X-OC-MTime``.
        """
        node, created = self._write(owner, path, data)
        return node, created, after_write(self._store, node, headers)

    def _write(self, owner: str, path: str, data: bytes) -> tuple[Node, bool]:
        store = self._store
        node = self._find(owner, path)
        if node is not None:
            if node.is_dir:
                raise DavError(409, "Conflict", "PUT is not allowed on non-files.")
            store.write_file(node, data)
            return node, False
        self._check_creatable(
            owner,
            path,
            missing="Files cannot be created in non-existent collections",
            not_folder="Files can only be created as children of collections",
        )
        return store.create_file(owner, path, data), True

    def _check_creatable(self, owner: str, path: str, *, missing: str, not_folder: str) -> None:
        """Check that a new node may be made at ``path``: its parent is a folder, its name valid.

        Raises:
            DavError: 409 with ``missing`` or ``not_folder`` when the parent is not there or is
                a file, 400 for the name ``..``.
        """
        parent, name = self._parent(owner, path)
        if parent is None:
            raise DavError(409, "Conflict", missing)
        if not parent.is_dir:
            raise DavError(409, "Conflict", not_folder)
        if name == "..":
            raise _dot_name()

    def _patch(self, home: Home, path: str, headers: Mapping[str, str]) -> Response:
        node = self.lookup(home.owner, path, home)
        if node.is_dir:
            raise not_implemented("PATCH")
        return recalculate_checksum(node, headers.get("x-recalculate-hash", ""))

    def _mkcol(self, owner: str, path: str) -> Response:
        if self._find(owner, path) is not None:
            raise DavError(
                405, "MethodNotAllowed", "The resource you tried to create already exists"
            )
        self._check_creatable(
            owner,
            path,
            missing="Parent node does not exist",
            not_folder="Parent node is not a collection",
        )
        node = self._store.create_folder(owner, path)
        return Response(b"", status_code=201, headers=file_id_header(node))

    def _delete(self, home: Home, path: str) -> Response:
        node = self.lookup(home.owner, path, home)
        if not path.strip("/"):
            raise DavError(403, "Forbidden", "Permission denied to delete home folder")
        self._store.trash_node(node)
        return Response(b"", status_code=204)

    def _propfind(self, home: Home, path: str, headers: Mapping[str, str], body: bytes) -> Response:
        requested = requested_properties(body)
        node = self.lookup(home.owner, path, home)
        minimal = prefers_minimal(headers)
        nodes = [node, *self._descendants(node, depth(headers))]
        return multistatus(
            [self.propstat(item, requested, home, minimal=minimal) for item in nodes],
            headers={"DAV": dav_features(home.root), "Vary": "Brief,Prefer"},
        )

    def _descendants(self, folder: Node, depth: int | None) -> Iterator[Node]:
        """The nodes below a folder, each followed by its own, ``depth`` levels (None: all)."""
        if not folder.is_dir or depth == 0:
            return
        for child in self._store.children(folder):
            yield child
            yield from self._descendants(child, None if depth is None else depth - 1)

    def _proppatch(
        self, home: Home, path: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        mutations = parse_property_update(body)
        node = self.lookup(home.owner, path, home)
        statuses = update_properties(self._store, node, mutations)
        vary = {"Vary": "Brief,Prefer"}
        if prefers_minimal(headers) and all(status < 300 for status in statuses.values()):
            return Response(b"", status_code=204, headers=vary)
        return multistatus([PropPatchResult(home.href(path), statuses)], headers=vary)

    def _report(self, home: Home, path: str, body: bytes) -> Response:
        """``REPORT``: only ``oc:filter-files`` on a folder (``FilesReportPlugin``)."""
        report = parse_report(body)
        folder = self.lookup(home.owner, path, home)
        if not folder.is_dir:
            raise report_not_supported()
        query = filter_query(report)
        found = []
        for node in matching_nodes(self._store, home.owner, folder, query):
            entry = self.propstat(node, query.requested, home)
            # FilesReportPlugin writes the href without a folder's trailing slash.
            entry.href, entry.status = home.href(node.path), 200
            found.append(entry)
        return multistatus(found)

    # -- MOVE and COPY ---------------------------------------------------------------------

    def destination(self, home: Home, headers: Mapping[str, str], source: str) -> Destination:
        """Read the Destination and Overwrite headers as ``Server::getCopyAndMoveInfo`` does.

        Args:
            home: The requesting user's home on the request's endpoint.
            headers: The request headers.
            source: The source's path below the endpoint's root.

        Raises:
            DavError: A missing or foreign destination, a bad Overwrite header, a missing
                parent, an existing target with ``Overwrite: F``, or a target in the source.
        """
        raw = headers.get("destination")
        if not raw:
            raise DavError(400, "BadRequest", "The destination header was not supplied")
        dav_path = calculate_uri(raw, home.root)
        overwrite = headers.get("overwrite", "T").upper() or "T"
        if overwrite not in ("T", "F"):
            raise DavError(400, "BadRequest", "The HTTP Overwrite header should be either T or F")
        path = home.home_path(dav_path)
        if path is None:
            raise DavError(403, "Forbidden", "Permission denied")
        parent, name = self._parent(home.owner, path)
        if parent is None:
            raise DavError(409, "Conflict", "The destination node is not found")
        if not parent.is_dir:
            raise DavError(415, "UnsupportedMediaType", "The destination node is not a collection")
        existing = self._find(home.owner, path)
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
        self, method: str, home: Home, path: str, headers: Mapping[str, str]
    ) -> Response:
        source = home.tree_path(path)
        target = self.destination(home, headers, source)
        node = self.lookup(home.owner, path, home)
        if method == "MOVE" and not path.strip("/"):
            raise DavError(403, "Forbidden", f"{source} cannot be deleted")
        store = self._store
        if target.existing is not None:
            store.trash_node(target.existing)
        if method == "MOVE":
            store.move_node(node, target.path)
            result = node
        else:
            result = store.copy_node(node, target.path)
        # FilesPlugin::sendFileIdHeader runs on afterBind of the destination, and
        # CopyEtagHeaderPlugin::afterMove sends a moved file's etag.
        answer = {"OC-FileId": file_id_header(result)["OC-FileId"], "Content-Length": "0"}
        if method == "MOVE" and not result.is_dir:
            answer |= {"OC-ETag": f'"{result.etag}"', "ETag": f'"{result.etag}"'}
        return Response(
            b"", status_code=204 if target.existing is not None else 201, headers=answer
        )

    # -- properties ------------------------------------------------------------------------

    def propstat(
        self,
        node: Node,
        requested: list[tuple[str, str]] | None,
        home: Home | None = None,
        *,
        minimal: bool = False,
    ) -> PropStat:
        """The requested properties of a node (its allprops for None).

        Args:
            node: The file or folder.
            requested: From :func:`requested_properties`.
            home: Where the href points; ``/remote.php/dav/files/<owner>/`` by default.
            minimal: Leave the missing properties out (``Prefer: return=minimal``).
        """
        assert node.owner is not None, "only user files are listed"
        allprops = _FOLDER_ALLPROP if node.is_dir else FILE_ALLPROP
        values = {**node.dead_properties, **self.properties(node)}
        if home is None or home.root == DAV_ROOT:
            # SystemTagPlugin is loaded on /remote.php/dav only, not on the legacy endpoint.
            values[NEXTCLOUD, "system-tags"] = system_tags_property(self._store, node)
        href = (home or Home.dav(node.owner)).href(node.path, folder=node.is_dir)
        found = select(values, requested, allprops, href)
        if minimal:
            found.missing = []
        return found

    def properties(self, node: Node) -> dict[tuple[str, str], str]:
        """Property values as XML fragments (text already escaped)."""
        size = str(self._store.size(node))
        values = {
            (DAV, "getlastmodified"): http_date(node.mtime),
            (DAV, "getetag"): escape(f'"{node.etag}"', {'"': "&quot;"}),
            (DAV, "resourcetype"): "<d:collection/>" if node.is_dir else "",
            (DAV, "displayname"): escape(node.name),
            (DAV, "creationdate"): _atom(node.creation_time),
            (NEXTCLOUD, "creation_time"): str(node.creation_time),
            (OWNCLOUD, "fileid"): str(node.id),
            (OWNCLOUD, "id"): f"{node.id:08d}{INSTANCE_ID}",
            (OWNCLOUD, "size"): size,
            (OWNCLOUD, "permissions"): "RGDNVCK" if node.is_dir else "RGDNVW",
            (OWNCLOUD, "favorite"): "1" if node.favorite else "0",
            (OWNCLOUD, "tags"): "",
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
            if node.checksum:
                # ChecksumList: one oc:checksum per comma-separated part.
                values[OWNCLOUD, "checksums"] = "".join(
                    f"<oc:checksum>{escape(part)}</oc:checksum>"
                    for part in node.checksum.split(",")
                )
        return values


def _download_headers(node: Node) -> dict[str, str]:
    """What FilesPlugin::httpGet and CopyEtagHeaderPlugin add to a file's GET and HEAD."""
    name = quote(node.name, safe="")
    headers = {
        # FilesPlugin: rawurlencode() in both parameters, so no name breaks the header.
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}; filename=\"{name}\"",
    }
    if node.checksum:
        headers["OC-Checksum"] = node.checksum
    headers["X-Accel-Buffering"] = "no"
    headers["OC-ETag"] = f'"{node.etag}"'
    return headers


def _atom(timestamp: int) -> str:
    """``DateTimeInterface::ATOM`` in UTC, e.g. ``2025-12-02T12:00:00+00:00``."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
