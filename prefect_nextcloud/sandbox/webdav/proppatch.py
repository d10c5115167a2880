"""``PROPPATCH`` on files and folders, as Sabre's ``PropPatch`` runs Nextcloud's handlers.

Each property of a ``d:propertyupdate`` ends with a status, answered in one 207 multistatus
(or 204 with ``Prefer: return=minimal`` when all succeeded):

- protected properties (``d:getlastmodified``, ``d:getcontentlength``, ``oc:fileid``,
  ``oc:checksums``, …) are 403, and then nothing is changed: every other property is 424;
- ``d:lastmodified`` takes a Unix time (``MtimeSanitizer``: a bad one is a 500 for the whole
  request), ``d:getetag`` any text, ``d:creationdate`` a date, ``nc:creation_time`` an integer;
  an empty value is 403; ``d:displayname`` is always 403 (``FilesPlugin``);
- ``oc:favorite`` of ``1`` or ``true`` marks a favourite, anything else unmarks it, and
  ``d:remove`` unmarks with 204 (``TagsPlugin``);
- any other property is stored as a dead property, returned by ``PROPFIND`` when asked for
  (``CustomPropertiesBackend``); removing one answers 204.

Handlers run in Nextcloud's order and stop at the first failure, whose later properties are 424.
An empty element counts as a removal, as Sabre's ``Complex`` reads it. Sources: sabre/dav
``lib/DAV/PropPatch.php``, ``lib/DAV/CorePlugin.php`` (``httpPropPatch``,
``propPatchProtectedPropertyCheck``), ``lib/DAV/Xml/Request/PropPatch.php``; Nextcloud's
``apps/dav/lib/Connector/Sabre/FilesPlugin.php`` (``handleUpdateProperties``, NC 30+),
``TagsPlugin.php`` and ``apps/dav/lib/DAV/CustomPropertiesBackend.php``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape

from prefect_nextcloud.sandbox.http.phpcompat import to_int, to_timestamp
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav import sabre_xml
from prefect_nextcloud.sandbox.webdav.sabre_xml import DAV, NEXTCLOUD, OWNCLOUD, DavError
from prefect_nextcloud.sandbox.webdav.writes import sanitize_mtime

__all__ = ["parse_property_update", "protected_properties", "update_properties"]

Key = tuple[str, str]
_OCS = "http://open-collaboration-services.org/ns"
_OCM = "http://open-cloud-mesh.org/ns"
# Server::$protectedProperties (without d:getetag, which FilesPlugin makes writable), then what
# DAVACL's and FilesPlugin's initialize() add, in that order.
_PROTECTED: tuple[Key, ...] = (
    *(
        (DAV, name)
        for name in (
            "getcontentlength",
            "getlastmodified",
            "lockdiscovery",
            "supportedlock",
            "quota-available-bytes",
            "quota-used-bytes",
            "supported-privilege-set",
            "current-user-privilege-set",
            "acl",
            "acl-restrictions",
            "inherited-acl-set",
            "supported-method-set",
            "supported-report-set",
            "sync-token",
        )
    ),
    ("http://calendarserver.org/ns/", "ctag"),
    ("http://sabredav.org/ns", "sync-token"),
    *(
        (DAV, name)
        for name in (
            "alternate-URI-set",
            "principal-URL",
            "group-membership",
            "principal-collection-set",
            "current-user-principal",
            "owner",
            "group",
        )
    ),
    (OWNCLOUD, "id"),
    (OWNCLOUD, "fileid"),
    (OWNCLOUD, "permissions"),
    (_OCS, "share-permissions"),
    (_OCM, "share-permissions"),
    (NEXTCLOUD, "share-attributes"),
    (OWNCLOUD, "size"),
    (OWNCLOUD, "downloadURL"),
    (OWNCLOUD, "owner-id"),
    (OWNCLOUD, "owner-display-name"),
    (OWNCLOUD, "checksums"),
    (OWNCLOUD, "data-fingerprint"),
    (NEXTCLOUD, "has-preview"),
    (NEXTCLOUD, "mount-type"),
    (NEXTCLOUD, "is-federated"),
    (NEXTCLOUD, "note"),
)
_PROPERTY_UPDATE = f"{{{DAV}}}propertyupdate"


def parse_property_update(body: bytes) -> dict[Key, ET.Element | None]:
    """Read a ``d:propertyupdate``: each property's new element, or None to remove it.

    Raises:
        DavError: 400 when the body is not a well-formed ``d:propertyupdate``.
    """
    try:
        root = sabre_xml.parse_xml(body)
    except ET.ParseError as error:
        raise DavError(400, "BadRequest", str(error)) from None
    if root.tag != _PROPERTY_UPDATE:
        raise DavError(
            400,
            "BadRequest",
            f"The root element should be {_PROPERTY_UPDATE}, but was {root.tag}",
        )
    mutations: dict[Key, ET.Element | None] = {}
    for action in root:
        if action.tag not in (f"{{{DAV}}}set", f"{{{DAV}}}remove"):
            continue
        for prop in action.iterfind(f"{{{DAV}}}prop"):
            for element in prop:
                removed = action.tag.endswith("}remove") or _is_empty(element)
                mutations[sabre_xml.split_tag(element.tag)] = None if removed else element
    return mutations


def protected_properties(mutations: Mapping[Key, object]) -> list[Key]:
    """The properties of a ``PROPPATCH`` that the server protects (403, and nothing changes)."""
    return [key for key in _PROTECTED if key in mutations]


def _is_empty(element: ET.Element) -> bool:
    return not element.text and len(element) == 0


def _text(element: ET.Element | None) -> str:
    return "" if element is None else "".join(element.itertext())


def _content(element: ET.Element) -> str:
    """The XML a dead property keeps: its escaped text and child elements."""
    return escape(element.text or "") + "".join(
        ET.tostring(child, encoding="unicode") for child in element
    )


def _php_empty(value: str) -> bool:
    return value in ("", "0")


Handler = Callable[[Store, Node, ET.Element | None], int]


Setter = Callable[[Store, Node, str], None]


def _when_not_empty(setter: Setter) -> Handler:
    """A handler that refuses a PHP-empty text (403) and otherwise sets it (200)."""

    def handle(store: Store, node: Node, element: ET.Element | None) -> int:
        value = _text(element)
        if _php_empty(value):
            return 403
        setter(store, node, value)
        return 200

    return handle


def _set_last_modified(store: Store, node: Node, value: str) -> None:
    store.touch(node, sanitize_mtime(value))


def _set_etag(store: Store, node: Node, value: str) -> None:
    node.etag = value


def _set_creation_date(store: Store, node: Node, value: str) -> None:
    timestamp = to_timestamp(value)
    if timestamp is None:
        # PHP 8.3's DateTimeImmutable; the position and reason depend on PHP's date parser.
        raise sabre_xml.server_error(
            "DateMalformedStringException",
            f"Failed to parse time string ({value}) at position 0 ({value[0]}): The timezone "
            "could not be found in the database",
        )
    node.creation_time = timestamp


def _set_creation_time(store: Store, node: Node, value: str) -> None:
    node.creation_time = to_int(value)


def _display_name(store: Store, node: Node, element: ET.Element | None) -> int:
    return 403


def _favorite(store: Store, node: Node, element: ET.Element | None) -> int:
    value = _text(element)
    node.favorite = to_int(value) == 1 or value == "true"
    return 204 if element is None else 200


# The handlers in the order Nextcloud registers them: FilesPlugin, then TagsPlugin.
_HANDLERS: tuple[tuple[Key, Handler], ...] = (
    ((DAV, "lastmodified"), _when_not_empty(_set_last_modified)),
    ((DAV, "getetag"), _when_not_empty(_set_etag)),
    ((DAV, "creationdate"), _when_not_empty(_set_creation_date)),
    ((NEXTCLOUD, "creation_time"), _when_not_empty(_set_creation_time)),
    ((DAV, "displayname"), _display_name),
    ((OWNCLOUD, "favorite"), _favorite),
)


def update_properties(
    store: Store, node: Node, mutations: Mapping[Key, ET.Element | None]
) -> dict[Key, int]:
    """Apply a ``PROPPATCH`` to a node as ``PropPatch::commit`` does.

    Args:
        store: Where the node lives.
        node: The file or folder.
        mutations: From :func:`parse_property_update`.

    Returns:
        Every property's status, in the order Sabre reports them.

    Raises:
        DavError: 500 for a ``d:lastmodified`` or ``d:creationdate`` PHP cannot read.
    """
    protected = protected_properties(mutations)
    handled = [(key, run) for key, run in _HANDLERS if key in mutations]
    handled_keys = [key for key, _ in handled]
    remaining = [key for key in mutations if key not in handled_keys and key not in protected]
    statuses = dict.fromkeys(protected, 403) | dict.fromkeys([*handled_keys, *remaining], 202)
    failed = bool(protected)
    for key, run in handled:
        if failed:
            break
        statuses[key] = run(store, node, mutations[key])
        failed = statuses[key] >= 400
    if remaining and not failed:
        statuses |= _store_dead_properties(node, {key: mutations[key] for key in remaining})
    if failed:
        statuses = {key: 424 if status == 202 else status for key, status in statuses.items()}
    return statuses


def _store_dead_properties(node: Node, changes: Mapping[Key, ET.Element | None]) -> dict[Key, int]:
    for key, element in changes.items():
        if element is None:
            node.dead_properties.pop(key, None)
        else:
            node.dead_properties[key] = _content(element)
    return {key: 204 if element is None else 200 for key, element in changes.items()}
