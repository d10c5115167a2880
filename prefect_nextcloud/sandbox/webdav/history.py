"""What ``trashbin/`` and ``versions/`` share: a home per user, and a ``restore/`` folder.

Both are Sabre principal collections: ``<collection>/<user>/`` is 404 for an unknown user and
403 for another user than the caller, and the collection itself does not list its members
(405 for ``Depth`` 1). Each home holds the items and ``restore/``, a folder that is always
empty: a ``MOVE`` of an item to ``restore/<any name>`` restores it (201), while its children
are PHP's null, so ``Overwrite: F`` is 412 (Sabre takes the null for an existing node) and any
other request for one is a 500 ``TypeError``. A ``MOVE`` elsewhere is Sabre's copy-and-delete
fallback, which the sandbox does not emulate (501). Sources: sabre/dav
``lib/DAVACL/AbstractPrincipalCollection.php``, ``lib/DAV/Server.php``
(``getCopyAndMoveInfo``), ``lib/DAV/Tree.php`` (``getNodeForPath``, ``move``); Nextcloud's
``apps/files_trashbin/lib/Sabre/{RootCollection,TrashHome,RestoreFolder}.php`` and
``apps/files_versions/lib/Sabre/{RootCollection,VersionHome,RestoreFolder}.php``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

from starlette.responses import Response

from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.request import DavRequest, depth, home_owner
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    DavError,
    PropStat,
    calculate_uri,
    multistatus,
    not_implemented,
    select,
    type_error,
)

__all__ = [
    "Exists",
    "HomeCollection",
    "check_restore_move",
    "collection_entry",
    "collection_root",
    "empty_response",
    "home_listing",
    "own_home",
    "restore_folder",
]

Exists = Callable[[DavRequest], bool]
"""Whether a node exists at a request's ``segments``, counted from ``/remote.php/dav``."""


class HomeCollection:
    """The request handling ``trashbin/`` and ``versions/`` share, up to the items of a home.

    A subclass names its ``collection`` and the child collections of a home (``children``),
    and answers what is below a home other than ``restore/`` in :meth:`items`.

    Args:
        store: Users, files and what the collection keeps of them.
        exists: Whether a node exists at a path (for ``MOVE`` destinations).
    """

    collection: ClassVar[str]
    children: ClassVar[tuple[str, ...]]

    def __init__(self, store: Store, exists: Exists) -> None:
        self._store = store
        self._exists = exists

    def handle(self, request: DavRequest) -> Response:
        """Handle one request for ``<collection>/…`` (``segments`` after the collection).

        Raises:
            DavError: Any Sabre error.
        """
        if not request.segments:
            return collection_root(request, self.collection)
        own_home(request, self._store)
        below = request.below()
        with self._store.condition:
            if not below.segments:
                return home_listing(request, self.collection, self.children)
            if below.segments[0] == "restore":
                return restore_folder(below, self.collection)
            return self.items(request, below.segments)

    def items(self, request: DavRequest, names: list[str]) -> Response:
        """Answer a request for ``names`` below the caller's home, other than ``restore/``.

        Raises:
            DavError: Any Sabre error.
        """
        raise NotImplementedError


def empty_response(status: int) -> Response:
    """An answer with an empty body and ``Content-Length: 0``, as Sabre sends one."""
    return Response(b"", status_code=status, headers={"Content-Length": "0"})


def collection_entry(href: str, requested: list[tuple[str, str]] | None = None) -> PropStat:
    """The answer for a collection with no properties of its own.

    Args:
        href: The collection's href.
        requested: The properties a ``PROPFIND`` asks for; None for all of them.
    """
    resourcetype = (DAV, "resourcetype")
    return select({resourcetype: "<d:collection/>"}, requested, [resourcetype], href)


def collection_root(request: DavRequest, collection: str) -> Response:
    """``<collection>/`` itself: found, but its members are not listed.

    Raises:
        DavError: 405 for ``Depth`` other than 0, Sabre's 501 for other methods.
    """
    if request.method != "PROPFIND":
        raise not_implemented(request.method)
    if depth(request.headers) != 0:
        raise DavError(405, "MethodNotAllowed", "Listing members of this collection is disabled")
    return multistatus([collection_entry(f"{DAV_ROOT}/{collection}/")])


def own_home(request: DavRequest, store: Store) -> None:
    """Check that ``<collection>/<user>`` is the caller's own home.

    Raises:
        DavError: 404 for an unknown user, 403 (empty message) for another user.
    """
    if home_owner(request, store) != request.user:
        raise DavError(403, "Forbidden", "")


def home_listing(request: DavRequest, collection: str, children: Sequence[str]) -> Response:
    """``PROPFIND`` of ``<collection>/<user>/``: the home and its child collections.

    Raises:
        DavError: Sabre's 501 for other methods.
    """
    if request.method != "PROPFIND":
        raise not_implemented(request.method)
    href = f"{DAV_ROOT}/{collection}/{request.user}/"
    entries = [collection_entry(href)]
    if depth(request.headers) != 0:
        entries += [collection_entry(f"{href}{child}/") for child in children]
    return multistatus(entries)


def restore_folder(request: DavRequest, collection: str) -> Response:
    """A request for ``restore/`` or below it (``segments`` after the user).

    Raises:
        DavError: 500 below ``restore/``, 403 for a ``DELETE`` of it, 501 for other methods.
    """
    if len(request.segments) > 1:
        raise type_error()
    if request.method == "PROPFIND":
        return multistatus([collection_entry(f"{DAV_ROOT}/{collection}/{request.user}/restore/")])
    if request.method == "DELETE":
        raise DavError(403, "Forbidden", "")
    raise not_implemented(request.method)


def check_restore_move(request: DavRequest, collection: str, exists: Exists) -> None:
    """Read a ``MOVE``'s destination as ``Server::getCopyAndMoveInfo`` does; it must be restore/.

    Raises:
        DavError: 400 without a destination or with a bad ``Overwrite``, 403 outside the DAV
            root, 409 when the destination's folder does not exist, 412 with ``Overwrite: F``,
            501 for a destination outside ``restore/``.
    """
    raw = request.headers.get("destination")
    if not raw:
        raise DavError(400, "BadRequest", "The destination header was not supplied")
    target = [part for part in calculate_uri(raw).split("/") if part]
    overwrite = request.headers.get("overwrite", "T").upper() or "T"
    if overwrite not in ("T", "F"):
        raise DavError(400, "BadRequest", "The HTTP Overwrite header should be either T or F")
    parent = target[:-1]
    if parent != [collection, request.user, "restore"]:
        if not exists(replace(request, segments=parent)):
            raise DavError(409, "Conflict", "The destination node is not found")
        raise not_implemented("MOVE")
    if overwrite == "F":
        raise DavError(
            412,
            "PreconditionFailed",
            "The destination node already exists, and the overwrite header is set to false",
            extra="  <s:header>Overwrite</s:header>\n",
        )
