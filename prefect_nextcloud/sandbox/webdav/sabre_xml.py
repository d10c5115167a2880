"""SabreDAV's XML: error bodies, multistatus answers and request bodies, as Nextcloud sends them.

Sources: sabre/dav ``lib/DAV/Server.php`` (``start``, ``calculateUri``, ``generateMultiStatus``,
``getHTTPPrefer``), ``lib/DAV/Xml/Element/Response.php``, and Nextcloud's
``apps/dav/lib/Connector/Sabre/Server.php`` (the error body, with ``TypeError`` messages hidden).
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from http import HTTPStatus
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from starlette.responses import Response

__all__ = [
    "DAV",
    "DAV_ROOT",
    "FILE_ALLPROP",
    "LEGACY_ROOT",
    "NEXTCLOUD",
    "OWNCLOUD",
    "DavError",
    "PropPatchResult",
    "PropStat",
    "calculate_uri",
    "dav_properties",
    "http_date",
    "multistatus",
    "not_implemented",
    "parse_xml",
    "prefers_minimal",
    "sabre_error",
    "server_error",
    "type_error",
]

DAV_ROOT = "/remote.php/dav"
LEGACY_ROOT = "/remote.php/webdav"
"""The legacy WebDAV endpoint: the logged-in user's files folder is its root."""
DAV = "DAV:"
OWNCLOUD = "http://owncloud.org/ns"
NEXTCLOUD = "http://nextcloud.org/ns"


def dav_properties(*names: str) -> tuple[tuple[str, str], ...]:
    """The (namespace, name) pairs of properties in the ``DAV:`` namespace."""
    return tuple((DAV, name) for name in names)


FILE_ALLPROP = dav_properties(
    "getlastmodified", "getcontentlength", "resourcetype", "getetag", "getcontenttype"
)
"""What a file answers a ``PROPFIND`` for all properties (``allprop``), in Sabre's order."""
_PREFIXES = {DAV: "d", "http://sabredav.org/ns": "s", OWNCLOUD: "oc", NEXTCLOUD: "nc"}
_NAMESPACES = " ".join(f'xmlns:{prefix}="{ns}"' for ns, prefix in _PREFIXES.items())


@dataclass(eq=False)
class DavError(Exception):
    r"""A Sabre exception: raised by the WebDAV handlers, answered by :func:`sabre_error`.

    Args:
        status: The HTTP status.
        exception: The class, short for ``Sabre\DAV\Exception\…`` or a full class name.
        message: ``s:message``.
        extra: Further XML children of ``d:error`` (already escaped), e.g. ``s:header``.
        attributes: Namespace declarations to add to ``d:error``.
        headers: Headers the response had gathered before the exception (Sabre keeps them).
    """

    status: int
    exception: str
    message: str
    _: KW_ONLY
    extra: str = ""
    attributes: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        """Render the error as Sabre does."""
        return sabre_error(
            self.status,
            self.exception,
            self.message,
            {**self.headers, **(headers or {})},
            extra=self.extra,
            attributes=self.attributes,
        )


def server_error(exception: str, message: str) -> DavError:
    """A PHP error outside Sabre's classes, e.g. ``InvalidArgumentException``: always a 500."""
    return DavError(500, f"\\{exception}", message)


def type_error() -> DavError:
    r"""A PHP ``TypeError``: a 500 whose message ``Connector\Sabre\Server`` hides."""
    return server_error(
        "TypeError",
        "A type error occurred. For more details, please refer to the logs, which provide "
        "additional context about the type error.",
    )


def sabre_error(
    status: int,
    exception: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    extra: str = "",
    attributes: str = "",
) -> Response:
    r"""Return SabreDAV's XML error body, e.g. for ``Sabre\DAV\Exception\NotFound``.

    A short ``exception`` names a Sabre exception; a name with a backslash is a full class name,
    and a leading backslash (a global PHP class such as ``\TypeError``) is dropped.
    """
    if "\\" in exception:
        name = exception.removeprefix("\\")
    else:
        name = f"Sabre\\DAV\\Exception\\{exception}"
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"{attributes}>\n'
        f"  <s:exception>{escape(name)}</s:exception>\n"
        f"  <s:message>{escape(message)}</s:message>\n"
        f"{extra}"
        "</d:error>\n"
    )
    return Response(
        body.encode("utf-8"),
        status_code=status,
        headers={**(headers or {}), "Content-Type": "application/xml; charset=utf-8"},
    )


def http_date(timestamp: float) -> str:
    """Format a Unix time as an HTTP date, e.g. ``Tue, 02 Dec 2025 12:00:00 GMT``."""
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_xml(body: bytes) -> ET.Element:
    """Parse a request body.

    Raises:
        ET.ParseError: The body is not well-formed XML.
    """
    # The sandbox only listens on the caller's own machine, so defusedxml is not needed.
    return ET.fromstring(body)  # noqa: S314


@dataclass
class PropStat:
    """One ``d:response``: found properties as (namespace, name, XML content), missing ones.

    ``status`` is the status of the whole response, written before its href, as
    ``FilesReportPlugin`` gives one (200) to each file it reports.
    """

    href: str
    found: list[tuple[str, str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    status: int | None = None

    def groups(self) -> list[tuple[int, list[tuple[str, str, str]]]]:
        """The propstats in Sabre's order: 200, then 404."""
        return [(200, self.found), (404, [(ns, name, "") for ns, name in self.missing])]


@dataclass
class PropPatchResult:
    """The answer to a ``PROPPATCH``: every property with its status, in Sabre's result order."""

    href: str
    statuses: dict[tuple[str, str], int]

    def groups(self) -> list[tuple[int, list[tuple[str, str, str]]]]:
        """One propstat per status, in the order each status first occurs."""
        grouped: dict[int, list[tuple[str, str, str]]] = {}
        for (namespace, name), status in self.statuses.items():
            grouped.setdefault(status, []).append((namespace, name, ""))
        return list(grouped.items())


def _element(namespace: str, name: str, content: str, extra: dict[str, str]) -> str:
    prefix = _PREFIXES.get(namespace)
    declaration = ""
    if prefix is None:
        prefix = extra.setdefault(namespace, f"x{len(extra) + 1}")
        declaration = f' xmlns:{prefix}="{escape(namespace)}"'
    tag = f"{prefix}:{name}"
    return f"<{tag}{declaration}>{content}</{tag}>" if content else f"<{tag}{declaration}/>"


def _status_line(status: int) -> str:
    # sabre/http's reason phrases are Python's, but for 418.
    phrase = "I'm a teapot" if status == HTTPStatus.IM_A_TEAPOT else HTTPStatus(status).phrase
    return f"<d:status>HTTP/1.1 {status} {phrase}</d:status>"


def multistatus(
    responses: Iterable[PropStat | PropPatchResult], headers: Mapping[str, str] | None = None
) -> Response:
    """Render a 207 multistatus answer with ``d:``, ``oc:`` and ``nc:`` prefixes, as Nextcloud.

    Empty propstats are left out, and a response left without any gets an empty one with status
    418, as sabre/dav's ``Xml/Element/Response.php`` does.
    """
    parts = [f'<?xml version="1.0"?>\n<d:multistatus {_NAMESPACES}>']
    for item in responses:
        extra: dict[str, str] = {}
        parts.append("<d:response>")
        if isinstance(item, PropStat) and item.status is not None:
            parts.append(_status_line(item.status))
        parts.append(f"<d:href>{escape(item.href)}</d:href>")
        groups = [(status, props) for status, props in item.groups() if props]
        for status, props in groups:
            rendered = "".join(_element(ns, name, value, extra) for ns, name, value in props)
            parts.append(f"<d:propstat><d:prop>{rendered}</d:prop>")
            parts.append(f"{_status_line(status)}</d:propstat>")
        if not groups:
            teapot = _status_line(HTTPStatus.IM_A_TEAPOT)
            parts.append(f"<d:propstat><d:prop/>{teapot}</d:propstat>")
        parts.append("</d:response>")
    parts.append("</d:multistatus>\n")
    return Response(
        "".join(parts).encode("utf-8"),
        status_code=207,
        headers={**(headers or {}), "Content-Type": "application/xml; charset=utf-8"},
    )


def split_tag(tag: str) -> tuple[str, str]:
    """Split an ElementTree tag ``{namespace}name`` into (namespace, name)."""
    namespace, _, name = tag.rpartition("}")
    return namespace.removeprefix("{"), name


def select(
    values: Mapping[tuple[str, str], str],
    requested: list[tuple[str, str]] | None,
    allprops: Iterable[tuple[str, str]],
    href: str,
) -> PropStat:
    """Build a response from a node's property values: the requested ones, or ``allprops``."""
    if requested is None:
        return PropStat(href, [(ns, name, values[ns, name]) for ns, name in allprops])
    found = [(ns, name, values[ns, name]) for ns, name in requested if (ns, name) in values]
    missing = [(ns, name) for ns, name in requested if (ns, name) not in values]
    return PropStat(href, found, missing)


def requested_properties(
    body: bytes, root_tag: str = f"{{{DAV}}}propfind"
) -> list[tuple[str, str]] | None:
    """Return the (namespace, name) pairs a PROPFIND asks for, or None for all properties.

    Raises:
        DavError: 400 when the body is not a well-formed propfind.
    """
    if not body.strip():
        return None
    try:
        root = parse_xml(body)
    except ET.ParseError:
        raise DavError(400, "BadRequest", "The request body must be a valid propfind") from None
    if root.tag != root_tag:
        raise DavError(400, "BadRequest", "The request body must be a valid propfind")
    prop = root.find(f"{{{DAV}}}prop")
    if prop is None:
        return None
    return [split_tag(element.tag) for element in prop]


def prefers_minimal(headers: Mapping[str, str]) -> bool:
    """``Server::getHTTPPrefer``: whether ``Prefer: return=minimal`` (or ``Brief: t``) was sent."""
    prefer = headers.get("prefer")
    if prefer:
        tokens = [token.split(";", 1)[0].replace(" ", "") for token in prefer.split(",")]
        return "return=minimal" in tokens or "return-minimal" in tokens
    return headers.get("brief") == "t"


def calculate_uri(uri: str, root: str = DAV_ROOT) -> str:
    """``Server::calculateUri``: a URL's or path's decoded path below a DAV root.

    Dot segments are resolved first, as sabre/uri's ``normalize()`` does, so only a
    percent-encoded ``..`` survives (as a name that never exists).

    Args:
        uri: A URL or an absolute path.
        root: The server's base, :data:`DAV_ROOT` or :data:`LEGACY_ROOT`.

    Raises:
        DavError: 403 when it is outside the DAV root.
    """
    path = urlsplit(uri).path if "://" in uri and not uri.startswith("/") else uri
    path = path.split("?", 1)[0]
    while "//" in path:
        path = path.replace("//", "/")
    # sabre/uri's normalize() resolves dot segments before anything is decoded.
    segments: list[str] = []
    for part in path.lstrip("/").split("/"):
        if part == "..":
            if segments:
                segments.pop()
        elif part != ".":
            segments.append(part)
    normal = "/" + "/".join(segments)
    base = f"{root}/"
    if normal.startswith(base):
        return unquote(normal[len(base) :]).strip("/")
    if f"{normal}/" == base:
        return ""
    raise DavError(403, "Forbidden", f"Requested uri ({normal}) is out of base uri ({base})")


def not_implemented(method: str) -> DavError:
    """Sabre's 501 for a method no plugin handles."""
    return DavError(
        501,
        "NotImplemented",
        f"There was no plugin in the system that was willing to handle this {method} method.",
    )
