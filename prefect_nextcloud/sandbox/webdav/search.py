"""WebDAV ``SEARCH`` on ``/remote.php/dav/``: the basic search of Nextcloud's ``FileSearchBackend``.

It answers what clients such as nc_py_api's ``find``/``by_id`` send: a ``d:basicsearch`` with a
``d:select``, one scope below ``/files/<user>/``, a ``d:where`` of ``eq``, ``like``, ``gt``,
``gte``, ``lt``, ``lte``, ``is-collection``, ``and``, ``or`` and ``not`` over name, MIME type,
size, modification time, favourite and file id, and optional ``d:orderby`` and ``d:limit``.
Malformed bodies get the plain-text 400 answers of the SearchDAV library.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_int, to_timestamp
from prefect_nextcloud.sandbox.storage.filetypes import mime_type_for_name
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.files import FilesTree
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    OWNCLOUD,
    multistatus,
    parse_xml,
)
from prefect_nextcloud.sandbox.webdav.sabre_xml import split_tag as _split

__all__ = ["search"]

_D = f"{{{DAV}}}"
_FOLDER_MIME = "httpd/unix-directory"
_COMPARISONS = {"eq", "gt", "gte", "lt", "lte", "like"}


class _SearchError(Exception):
    """A 400 with a plain-text body, as SearchDAV answers."""


def search(store: Store, files: FilesTree, user: str, body: bytes) -> Response:
    """Run one ``SEARCH`` request of a user.

    Args:
        store: Users and files.
        files: Renders the selected properties.
        user: The requesting user.
        body: The request body.

    Returns:
        A 207 multistatus of the matching files and folders, or a 400.

    Raises:
        DavError: 404 when the scope folder does not exist.
    """
    try:
        query = _parse(body)
        prop = query.find(f"{_D}select/{_D}prop")
        where = query.find(f"{_D}where")
        assert prop is not None, "checked by _parse"
        assert where is not None, "checked by _parse"
        requested = [_split(element.tag) for element in prop]
        scope, depth = _scope(query, user)
        conditions = [_condition(element) for element in where]
        order = _order(query)
        limit = _limit(query)
    except _SearchError as error:
        return Response(str(error).encode(), status_code=400, media_type="text/html")
    with store.condition:
        base = files.lookup(user, scope)
        found = [
            node
            for node in _below(store, base, depth)
            if all(condition(node, store) for condition in conditions)
        ]
        for value_of, descending in reversed(order):
            found.sort(key=_sort_key(value_of, store), reverse=descending)
        response = multistatus([files.propstat(node, requested) for node in found[:limit]])
    response.headers["Content-Type"] = 'application/xml; charset="utf-8"'
    return response


def _sort_key(value_of: Value, store: Store) -> Callable[[Node], tuple[int, str]]:
    def key(node: Node) -> tuple[int, str]:
        value = value_of(node, store)
        return (value, "") if isinstance(value, int) else (0, str(value))

    return key


def _parse(body: bytes) -> ET.Element:
    """Return the ``d:basicsearch`` element of a well-formed search request."""
    try:
        root = parse_xml(body)
    except ET.ParseError as error:
        raise _SearchError(f"Parse error: {error}") from None
    if root.tag != f"{_D}searchrequest":
        raise _SearchError(
            f"Unexpected document type: {root.tag} for this Content-Type, expected "
            "{DAV:}searchrequest or {DAV:}query-schema-discovery"
        )
    query = root.find(f"{_D}basicsearch")
    if query is None:
        raise _SearchError("Unexpected xml content for searchrequest, expected basicsearch")
    if query.find(f"{_D}where") is None:
        raise _SearchError("Parse error: Missing {DAV:}where from {DAV:}basicsearch")
    if query.find(f"{_D}select/{_D}prop") is None:
        raise _SearchError("Parse error: Missing {DAV:}select from {DAV:}basicsearch")
    return query


def _scope(query: ET.Element, user: str) -> tuple[str, str]:
    scopes = query.findall(f"{_D}from/{_D}scope")
    if len(scopes) != 1:
        raise _SearchError("Searching more than one folder is not supported")
    href = (scopes[0].findtext(f"{_D}href") or "").strip()
    depth = (scopes[0].findtext(f"{_D}depth") or "infinity").strip().lower()
    if "://" in href:
        href = urlsplit(href).path.removeprefix(DAV_ROOT)
    parts = [part for part in unquote(href).split("/") if part]
    if len(parts) < 2 or parts[0] != "files" or parts[1] != user:
        raise _SearchError(f"Invalid search scope: {href}")
    return "/".join(parts[2:]), depth


def _below(store: Store, folder: Node, depth: str) -> list[Node]:
    if not folder.is_dir:
        return []
    children = store.children(folder)
    if depth != "infinity":
        return sorted(children, key=lambda node: node.id)
    found: list[Node] = []
    for child in children:
        found.append(child)
        found += _below(store, child, depth)
    return sorted(found, key=lambda node: node.id)


Value = Callable[[Node, Store], object]


def _mtime(node: Node, store: Store) -> object:
    return node.mtime


_VALUES: dict[tuple[str, str], Value] = {
    (DAV, "displayname"): lambda node, store: node.name,
    (DAV, "getcontenttype"): lambda node, store: (
        _FOLDER_MIME if node.is_dir else mime_type_for_name(node.name)
    ),
    (DAV, "getlastmodified"): _mtime,
    (OWNCLOUD, "size"): lambda node, store: store.size(node),
    (OWNCLOUD, "favorite"): lambda node, store: int(node.favorite),
    (OWNCLOUD, "fileid"): lambda node, store: node.id,
}


def _property(element: ET.Element) -> tuple[tuple[str, str], Value]:
    prop = element.find(f"{_D}prop")
    if prop is None or len(prop) != 1:
        raise _SearchError(f"Parse error: Missing {{DAV:}}prop in {element.tag}")
    key = _split(prop[0].tag)
    if key not in _VALUES:
        raise _SearchError(f"Unsupported property for search or order: {prop[0].tag}")
    return key, _VALUES[key]


Condition = Callable[[Node, Store], bool]


def _condition(element: ET.Element) -> Condition:
    namespace, operator = _split(element.tag)
    if namespace != DAV:
        raise _SearchError(f"Parse error: Unsupported operation {element.tag}")
    if operator in ("and", "or"):
        parts = [_condition(child) for child in element]
        combine = all if operator == "and" else any
        return lambda node, store: combine(part(node, store) for part in parts)
    if operator == "not":
        if len(element) != 1:
            raise _SearchError("Parse error: {DAV:}not takes exactly one operation")
        inner = _condition(element[0])
        return lambda node, store: not inner(node, store)
    if operator == "is-collection":
        return lambda node, store: node.is_dir
    if operator not in _COMPARISONS:
        raise _SearchError(f"Parse error: Unsupported operation {element.tag}")
    key, value_of = _property(element)
    literal = element.findtext(f"{_D}literal")
    if literal is None:
        raise _SearchError(f"Parse error: Missing {{DAV:}}literal in {element.tag}")
    if operator == "like":
        pattern = _like(literal)
        return lambda node, store: pattern.fullmatch(str(value_of(node, store))) is not None
    expected = _literal(key, literal)
    compare: Callable[[object, object], bool] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }[operator]
    return lambda node, store: compare(value_of(node, store), expected)


def _like(literal: str) -> re.Pattern[str]:
    """SQL ``LIKE`` (``%`` any run, ``_`` one character), case-insensitive as Nextcloud's."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in literal]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _literal(key: tuple[str, str], literal: str) -> object:
    if key == (DAV, "getlastmodified"):
        return _timestamp(literal)
    if key[0] == OWNCLOUD:
        # PHP's (int) cast: "00000012ocsandbox000", an oc:id, compares as 12.
        return to_int(literal.strip())
    return literal


def _timestamp(literal: str) -> int:
    text = literal.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    timestamp = to_timestamp(text)
    if timestamp is None:
        raise _SearchError(f"Parse error: Invalid date {literal}")
    return timestamp


def _order(query: ET.Element) -> list[tuple[Value, bool]]:
    order = []
    for element in query.findall(f"{_D}orderby/{_D}order"):
        _, value_of = _property(element)
        order.append((value_of, element.find(f"{_D}descending") is not None))
    return order


def _limit(query: ET.Element) -> int | None:
    text = query.findtext(f"{_D}limit/{_D}nresults")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise _SearchError(f"Parse error: Invalid limit {text}")
    return int(text)
