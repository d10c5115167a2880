"""WebDAV below ``/remote.php/dav/files/<user>/``: enough of Nextcloud's SabreDAV for uploads.

Supports PUT, GET/HEAD, MKCOL, DELETE and PROPFIND (Depth 0/1) with Sabre's status codes and
error bodies. A user sees only their own home; another user's home looks like an empty,
read-only folder, as in Nextcloud. No OCS-APIRequest header is needed.
"""

from __future__ import annotations

import email.utils
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from prefect_nextcloud.sandbox.auth import authenticate
from prefect_nextcloud.sandbox.filetypes import mime_type_for_name
from prefect_nextcloud.sandbox.models import Node
from prefect_nextcloud.sandbox.state import Store

__all__ = ["DAV_ROOT", "INSTANCE_ID", "WebDav", "sabre_error"]

DAV_ROOT = "/remote.php/dav"
INSTANCE_ID = "ocsandbox000"
"""The sandbox's instance id, the suffix of ``oc:id`` and ``OC-FileId`` values."""

_DAV = "DAV:"
_OC = "http://owncloud.org/ns"
_PREFIXES = {_DAV: "d", "http://sabredav.org/ns": "s", _OC: "oc", "http://nextcloud.org/ns": "nc"}
_NAMESPACES = " ".join(f'xmlns:{prefix}="{ns}"' for ns, prefix in _PREFIXES.items())
_FILE_ALLPROP = ("getlastmodified", "getcontentlength", "resourcetype", "getetag", "getcontenttype")
_FOLDER_ALLPROP = (
    "getlastmodified",
    "resourcetype",
    "quota-used-bytes",
    "quota-available-bytes",
    "getetag",
)


def sabre_error(
    status: int, exception: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    r"""Return SabreDAV's XML error body, e.g. for ``Sabre\DAV\Exception\NotFound``."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n'
        f"  <s:exception>Sabre\\DAV\\Exception\\{exception}</s:exception>\n"
        f"  <s:message>{escape(message)}</s:message>\n"
        "</d:error>\n"
    )
    return Response(
        body.encode("utf-8"),
        status_code=status,
        headers={**(headers or {}), "Content-Type": "application/xml; charset=utf-8"},
    )


def _not_found(path: str) -> Response:
    return sabre_error(404, "NotFound", f"File with name {path} could not be located")


def _file_id_header(node: Node) -> dict[str, str]:
    return {"OC-FileId": f"{node.id:08d}{INSTANCE_ID}", "OC-ETag": f'"{node.etag}"'}


def _http_date(timestamp: int) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


class WebDav:
    """Answers every request below ``/remote.php/dav``.

    Args:
        store: Users and their files.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

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
            return sabre_error(
                401,
                "NotAuthenticated",
                message,
                {"WWW-Authenticate": 'Basic realm="Nextcloud", charset="UTF-8"'},
            )
        target = self._target(request.path_params["path"])
        if isinstance(target, Response):
            return target
        owner, path = target
        if owner != login.user_id:
            return self._foreign_home(request.method, owner, path)
        if request.method == "PUT":
            return self._put(owner, path, await _read_stream(request))
        body = await request.body()
        return self._dispatch(request.method, owner, path, body, request.headers.get("depth", ""))

    def _target(self, raw_path: str) -> tuple[str, str] | Response:
        """Return (owner, home-relative path) for ``files/<owner>/<path>``, or an error."""
        segments = [part for part in raw_path.split("/") if part not in ("", ".")]
        if ".." in segments:
            return sabre_error(403, "Forbidden", "Invalid path")
        if len(segments) < 2 or segments[0] != "files":
            return _not_found("/".join(segments))
        if segments[1] not in self._store.user_ids:
            return sabre_error(404, "NotFound", f"Principal with name {segments[1]} not found")
        return segments[1], "/".join(segments[2:])

    def _dispatch(self, method: str, owner: str, path: str, body: bytes, depth: str) -> Response:
        if method in ("GET", "HEAD"):
            return self._get(owner, path)
        if method == "MKCOL":
            return self._mkcol(owner, path)
        if method == "DELETE":
            return self._delete(owner, path)
        if method == "PROPFIND":
            return self._propfind(owner, path, depth, body)
        return sabre_error(
            501,
            "NotImplemented",
            f"There was no plugin in the system that was willing to handle this {method} method.",
        )

    def _foreign_home(self, method: str, owner: str, path: str) -> Response:
        # Files\RootCollection gives other users' homes as an empty SimpleCollection.
        if method in ("PUT", "MKCOL", "DELETE"):
            return sabre_error(403, "Forbidden", "Permission denied")
        if path or method != "PROPFIND":
            first = path.split("/", 1)[0]
            return sabre_error(404, "NotFound", f"File not found: {first} in '{owner}'")
        href = quote(f"{DAV_ROOT}/files/{owner}/", safe="/:@()~")
        return _multistatus([(href, [("resourcetype", _DAV, "<d:collection/>")], [])])

    def _get(self, owner: str, path: str) -> Response:
        node = self._store.node(owner, path)
        if node is None:
            return _not_found(path)
        if node.is_dir:
            return sabre_error(
                501,
                "NotImplemented",
                "There was no plugin in the system that was willing to handle this GET method. "
                "Enable the Browser plugin to get a better result here.",
            )
        return Response(
            node.data,
            headers={
                "Content-Type": mime_type_for_name(node.name),
                "ETag": f'"{node.etag}"',
                "Last-Modified": _http_date(node.mtime),
                # FilesPlugin: rawurlencode() in both parameters, so no name breaks the header.
                "Content-Disposition": (
                    f"attachment; filename*=UTF-8''{quote(node.name, safe='')};"
                    f' filename="{quote(node.name, safe="")}"'
                ),
                **_file_id_header(node),
            },
        )

    def _put(self, owner: str, path: str, body: bytes) -> Response:
        store = self._store
        with store.condition:
            node = store.node(owner, path)
            if node is not None:
                if node.is_dir:
                    return sabre_error(409, "Conflict", "PUT is not allowed on non-files.")
                store.write_file(node, body)
                status = 204
            else:
                parent = store.node(owner, path.rpartition("/")[0])
                if parent is None:
                    return sabre_error(
                        409, "Conflict", "Files cannot be created in non-existent collections"
                    )
                if not parent.is_dir:
                    return sabre_error(
                        409, "Conflict", "Files can only be created as children of collections"
                    )
                node = store.create_file(owner, path, body)
                status = 201
            return Response(
                b"", status_code=status, headers={"ETag": f'"{node.etag}"', **_file_id_header(node)}
            )

    def _mkcol(self, owner: str, path: str) -> Response:
        store = self._store
        with store.condition:
            if store.node(owner, path) is not None:
                return sabre_error(
                    405, "MethodNotAllowed", "The resource you tried to create already exists"
                )
            parent = store.node(owner, path.rpartition("/")[0])
            if parent is None:
                return sabre_error(409, "Conflict", "Parent node does not exist")
            if not parent.is_dir:
                return sabre_error(409, "Conflict", "Parent node is not a collection")
            node = store.create_folder(owner, path)
            return Response(b"", status_code=201, headers=_file_id_header(node))

    def _delete(self, owner: str, path: str) -> Response:
        store = self._store
        with store.condition:
            node = store.node(owner, path)
            if node is None:
                return _not_found(path)
            if not path:
                return sabre_error(403, "Forbidden", "Permission denied to delete home folder")
            store.delete_node(node)
            return Response(b"", status_code=204)

    def _propfind(self, owner: str, path: str, depth: str, body: bytes) -> Response:
        try:
            requested = _requested_properties(body)
        except ET.ParseError:
            return sabre_error(400, "BadRequest", "The request body must be a valid propfind")
        store = self._store
        with store.condition:
            node = store.node(owner, path)
            if node is None:
                return _not_found(path)
            nodes = [node]
            # Depth infinity is disabled in Nextcloud, and Sabre then treats it as 1.
            if node.is_dir and depth.strip() != "0":
                nodes += store.children(node)
            return _multistatus([self._propstat(item, requested) for item in nodes])

    def _propstat(
        self, node: Node, requested: list[tuple[str, str]] | None
    ) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]:
        values = self._properties(node)
        suffix = f"{node.path}/" if node.is_dir and node.path else node.path
        href = quote(f"{DAV_ROOT}/files/{node.owner}/{suffix}", safe="/:@()~")
        if requested is None:
            names = _FOLDER_ALLPROP if node.is_dir else _FILE_ALLPROP
            return href, [(name, _DAV, values[_DAV, name]) for name in names], []
        found = [(name, ns, values[ns, name]) for ns, name in requested if (ns, name) in values]
        missing = [(ns, name) for ns, name in requested if (ns, name) not in values]
        return href, found, missing

    def _properties(self, node: Node) -> dict[tuple[str, str], str]:
        """Property values as XML fragments (text already escaped)."""
        size = str(self._store.size(node))
        values = {
            (_DAV, "getlastmodified"): _http_date(node.mtime),
            (_DAV, "getetag"): escape(f'"{node.etag}"', {'"': "&quot;"}),
            (_DAV, "resourcetype"): "<d:collection/>" if node.is_dir else "",
            (_OC, "fileid"): str(node.id),
            (_OC, "id"): f"{node.id:08d}{INSTANCE_ID}",
            (_OC, "size"): size,
            (_OC, "permissions"): "RGDNVCK" if node.is_dir else "RGDNVW",
        }
        if node.is_dir:
            values[_DAV, "quota-used-bytes"] = size
            values[_DAV, "quota-available-bytes"] = "-3"
        else:
            values[_DAV, "getcontentlength"] = size
            values[_DAV, "getcontenttype"] = escape(mime_type_for_name(node.name))
        return values


async def _read_stream(request: Request) -> bytes:
    """Collect an upload chunk by chunk without ever holding two copies of it."""
    buffer = io.BytesIO()
    async for chunk in request.stream():
        buffer.write(chunk)
    # BytesIO hands out its own buffer here rather than a copy (CPython).
    return buffer.getvalue()


def _requested_properties(body: bytes) -> list[tuple[str, str]] | None:
    """Return the (namespace, name) pairs a PROPFIND asks for, or None for all properties."""
    if not body.strip():
        return None
    # The sandbox only listens on the caller's own machine, so defusedxml is not needed.
    root = ET.fromstring(body)  # noqa: S314
    prop = root.find(f"{{{_DAV}}}prop")
    if prop is None:
        return None
    requested = []
    for element in prop:
        namespace, _, name = element.tag.rpartition("}")
        requested.append((namespace.removeprefix("{"), name))
    return requested


def _element(namespace: str, name: str, content: str, extra: dict[str, str]) -> str:
    prefix = _PREFIXES.get(namespace)
    declaration = ""
    if prefix is None:
        prefix = extra.setdefault(namespace, f"x{len(extra) + 1}")
        declaration = f' xmlns:{prefix}="{escape(namespace)}"'
    tag = f"{prefix}:{name}"
    return f"<{tag}{declaration}>{content}</{tag}>" if content else f"<{tag}{declaration}/>"


def _multistatus(
    responses: Iterable[tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]],
) -> Response:
    parts = [f'<?xml version="1.0"?>\n<d:multistatus {_NAMESPACES}>']
    for href, found, missing in responses:
        extra: dict[str, str] = {}
        parts.append(f"<d:response><d:href>{escape(href)}</d:href>")
        if found:
            props = "".join(_element(ns, name, value, extra) for name, ns, value in found)
            parts.append(f"<d:propstat><d:prop>{props}</d:prop>")
            parts.append("<d:status>HTTP/1.1 200 OK</d:status></d:propstat>")
        if missing:
            props = "".join(_element(ns, name, "", extra) for ns, name in missing)
            parts.append(f"<d:propstat><d:prop>{props}</d:prop>")
            parts.append("<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>")
        parts.append("</d:response>")
    parts.append("</d:multistatus>\n")
    return Response(
        "".join(parts).encode("utf-8"),
        status_code=207,
        headers={"Content-Type": "application/xml; charset=utf-8"},
    )
