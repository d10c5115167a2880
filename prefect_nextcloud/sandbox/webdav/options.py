"""``OPTIONS``, the ``DAV`` header, and the answer to a ``GET`` that no handler takes.

``OPTIONS`` answers 200 with ``Allow`` (Sabre's methods, ``MKCOL`` where nothing exists yet,
``PATCH`` on files for ``ChecksumUpdatePlugin``, ``SEARCH`` on the search root), ``DAV`` (classes
1 and 3, ``extended-mkcol`` and the features of the loaded plugins), ``MS-Author-Via: DAV``,
``Accept-Ranges: bytes`` and, at the search root, ``DASL``. The features are those a files
request loads: on ``/remote.php/dav`` the ACL plugin, pagination, checksum updates, the calendar
search and birthday-calendar plugins; on the legacy ``/remote.php/webdav`` only checksum updates.
``PROPFIND`` answers carry the same ``DAV`` header. A ``GET`` or ``HEAD`` of a collection is
``DummyGetResponsePlugin``'s 200 (outside debug mode). Sources: sabre/dav
``lib/DAV/CorePlugin.php`` (``httpOptions``, ``httpPropFind``), ``lib/DAV/Server.php``
(``getAllowedMethods``); Nextcloud's ``apps/dav/lib/Server.php``,
``apps/dav/lib/Connector/Sabre/ServerFactory.php``, ``ChecksumUpdatePlugin.php``,
``DummyGetResponsePlugin.php``, ``apps/dav/lib/Paginate/PaginatePlugin.php`` and SearchDAV's
``SearchPlugin``.
"""

from __future__ import annotations

from starlette.responses import Response

from prefect_nextcloud.sandbox.webdav.sabre_xml import LEGACY_ROOT

__all__ = ["dav_features", "dummy_get_response", "options_response"]

_CORE_METHODS = (
    "OPTIONS",
    "GET",
    "HEAD",
    "DELETE",
    "PROPFIND",
    "PUT",
    "PROPPATCH",
    "COPY",
    "MOVE",
    "REPORT",
)
_CLASSES = ("1", "3", "extended-mkcol")
_DAV_FEATURES = (
    "access-control",
    "calendarserver-principal-property-search",
    "nc-paginate",
    "nextcloud-checksum-update",
    "nc-calendar-search",
    "nc-enable-birthday-calendar",
)
_LEGACY_FEATURES = ("nextcloud-checksum-update",)
_DUMMY_TEXT = (
    b"This is the WebDAV interface. It can only be accessed by WebDAV clients such as the "
    b"Nextcloud desktop sync client."
)


def dav_features(root: str) -> str:
    """The ``DAV`` header of an endpoint (:data:`DAV_ROOT` or :data:`LEGACY_ROOT`)."""
    features = _LEGACY_FEATURES if root == LEGACY_ROOT else _DAV_FEATURES
    return ", ".join((*_CLASSES, *features))


def options_response(
    root: str, *, exists: bool, is_file: bool = False, search_root: bool = False
) -> Response:
    """Answer ``OPTIONS`` for a path.

    Args:
        root: The endpoint, :data:`DAV_ROOT` or :data:`LEGACY_ROOT`.
        exists: Whether something exists at the path (else ``MKCOL`` is allowed).
        is_file: Whether it is a user's file (``PATCH`` recalculates its checksum).
        search_root: Whether it is the root that answers ``SEARCH``.
    """
    methods = list(_CORE_METHODS)
    if not exists:
        methods.append("MKCOL")
    if search_root:
        methods.append("SEARCH")
    if is_file:
        methods.append("PATCH")
    headers = {
        "Allow": ", ".join(methods),
        "DAV": dav_features(root),
        "MS-Author-Via": "DAV",
        "Accept-Ranges": "bytes",
    }
    if search_root:
        headers["DASL"] = "<DAV:basicsearch>"
    return Response(b"", headers=headers)


def dummy_get_response() -> Response:
    """``DummyGetResponsePlugin``: the 200 for a ``GET`` no other handler answered."""
    return Response(_DUMMY_TEXT)
