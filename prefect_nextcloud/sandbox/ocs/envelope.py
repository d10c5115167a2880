"""OCS response rendering: the v2 envelope in JSON or XML, as Nextcloud's PHP renders it.

Controller results and middleware errors go through the AppFramework's ``V2Response``;
``ocs/v1.php`` answers wrong credentials, unknown routes, maintenance and uncaught exceptions
itself through ``OC_API::respond()``, which differs in format handling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_string

__all__ = [
    "RESPOND_NOT_FOUND",
    "RESPOND_SERVER_ERROR",
    "RESPOND_UNAUTHORISED",
    "RESPOND_UNKNOWN_ERROR",
    "JsonObject",
    "csrf_failed_response",
    "legacy_content_type",
    "legacy_response",
    "negotiate_format",
    "ocs_response",
    "php_json",
    "plain_json_response",
]

RESPOND_UNAUTHORISED = 997
RESPOND_NOT_FOUND = 998
RESPOND_SERVER_ERROR = 996
RESPOND_UNKNOWN_ERROR = 999

_XML_ENTITIES = {'"': "&quot;", "\r": "&#13;"}


class JsonObject(dict[str, Any]):
    """A map that PHP serialises as an object even when empty (``stdClass``): ``{}``, not ``[]``."""


def negotiate_format(params: Mapping[str, Any], accept: str | None) -> str:
    """Pick the response format the way ``OCSMiddleware::getFormat`` does.

    The ``format`` parameter (query or body) wins; otherwise the first comma-separated Accept entry
    that is exactly ``application/json`` or ``application/xml`` after trimming and lower-casing.
    An entry with parameters (``application/json; charset=utf-8``) matches nothing, so such a
    client gets XML (reference §1).

    Args:
        params: The merged request parameters.
        accept: The Accept header, if any.

    Returns:
        The format string; anything but ``"json"`` renders as XML.
    """
    if params.get("format") is not None:
        return to_string(params["format"])
    for entry in (accept or "").split(","):
        responder = entry.strip().lower().replace("application/", "")
        if responder in ("json", "xml"):
            return responder
    return "xml"


def php_json(value: object, *, hex_tag: bool = True) -> bytes:
    r"""Encode like PHP's ``json_encode($value, JSON_HEX_TAG)``.

    ``/`` becomes ``\/``, non-ASCII is ``\uXXXX``, ``<``/``>`` become ``\u003C``/``\u003E``
    (unless ``hex_tag`` is false), and empty plain dicts are PHP's empty array ``[]`` (use
    :class:`JsonObject` for ``{}``).
    """
    text = json.dumps(_php_shape(value), ensure_ascii=True, separators=(",", ":"))
    # These characters only ever occur inside JSON strings, so a global replacement is safe.
    text = text.replace("/", "\\/")
    if hex_tag:
        text = text.replace("<", "\\u003C").replace(">", "\\u003E")
    return text.encode("ascii")


def _php_shape(value: object) -> object:
    if isinstance(value, JsonObject):
        return {str(k): _php_shape(v) for k, v in value.items()}
    if isinstance(value, dict):
        if not value:
            return []
        return {str(k): _php_shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_php_shape(v) for v in value]
    return value


def _xml_document(envelope: Mapping[str, Any]) -> bytes:
    """Render like ``BaseResponse::toXML`` with XMLWriter's ``setIndent(true)``.

    One space per level; numeric keys become ``element`` and ``$comment`` an XML comment
    (``lib/private/AppFramework/OCS/BaseResponse.php``).
    """
    lines = ['<?xml version="1.0"?>']
    _xml_element(lines, "ocs", envelope, 0)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xml_element(lines: list[str], name: str, value: object, depth: int) -> None:
    pad = " " * depth
    if name == "$comment":
        # BaseResponse::toXML writes this key as an XML comment (XMLWriter::writeComment).
        lines.append(f"{pad}<!--{to_string(value)}-->")
    elif isinstance(value, dict | list | tuple):
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        if not items:
            lines.append(f"{pad}<{name}/>")
            return
        lines.append(f"{pad}<{name}>")
        for key, child in items:
            _xml_element(lines, "element" if isinstance(key, int) else key, child, depth + 1)
        lines.append(f"{pad}</{name}>")
    elif value is None:
        lines.append(f"{pad}<{name}/>")
    else:
        text = escape(to_string(value), _XML_ENTITIES)
        lines.append(f"{pad}<{name}>{text}</{name}>")


def _render(envelope: Mapping[str, Any], fmt: str) -> bytes:
    return php_json({"ocs": envelope}) if fmt == "json" else _xml_document(envelope)


def _v2_http_status(ocs_status: int) -> int:
    if ocs_status == RESPOND_UNAUTHORISED:
        return 401
    if ocs_status == RESPOND_NOT_FOUND:
        return 404
    if ocs_status in (RESPOND_SERVER_ERROR, RESPOND_UNKNOWN_ERROR):
        return 500
    if ocs_status < 200 or ocs_status > 600:
        return 400
    return ocs_status


def ocs_response(
    data: object, *, status: int, fmt: str, message: str = "", version: int = 2
) -> Response:
    """Render an AppFramework ``V2Response``, or a ``V1Response`` for ``/ocs/v1.php``.

    Args:
        data: The ``data`` payload.
        status: The OCS status; 997/998/996 map to HTTP 401/404/500, others are the HTTP status.
        fmt: ``"json"``, or anything else for XML.
        message: ``meta.message`` for non-2xx results (2xx always say ``"OK"``).
        version: 1 for v1 rules: HTTP 200 for everything but 997 (401), ``statuscode`` 100 for
            200, and ``totalitems``/``itemsperpage`` as empty strings in ``meta``.

    Returns:
        The response, with the Content-Type the server sends.
    """
    if version == 1:
        code = 100 if status == 200 else status
        ok = code == 100
        meta: dict[str, object] = {
            "status": "ok" if ok else "failure",
            "statuscode": code,
            "message": "OK" if ok else message,
            "totalitems": "",
            "itemsperpage": "",
        }
        http_status = 401 if status == RESPOND_UNAUTHORISED else 200
    else:
        ok = 200 <= status < 300
        meta = {"status": "ok" if ok else "failure", "statuscode": status}
        meta["message"] = "OK" if ok else message
        http_status = _v2_http_status(status)
    media = "application/json" if fmt == "json" else "application/xml"
    return Response(
        _render({"meta": meta, "data": data}, fmt),
        status_code=http_status,
        headers={"Content-Type": f"{media}; charset=utf-8"},
    )


def legacy_response(
    *,
    statuscode: int,
    message: str,
    fmt: str,
    headers: Mapping[str, str] | None = None,
    version: int = 2,
) -> Response:
    """Render ``OC_API::respond()``: the errors ``ocs/v1.php`` answers before any controller.

    Its ``meta`` has no ``totalitems``/``itemsperpage`` and ``data`` is ``[]`` on both entry
    points. On ``ocs/v2.php`` ``OC_API::mapStatusCodes`` rewrites ``meta.statuscode`` and the
    HTTP status: 998 (not found) becomes 404, 996 (server error) and 999 (unknown error) become
    500, while 997 (unauthorised) stays 997 with HTTP 401 (reference §2). On ``ocs/v1.php`` the
    raw code stays and the HTTP status is 200, except 401 for 997 and 503 for maintenance,
    which ``ocs/v1.php`` sets itself. The format comes from the ``format`` parameter only, never
    from Accept; XML is the default.

    Args:
        statuscode: The raw OCS code, or an HTTP code such as 503.
        message: ``meta.message``.
        fmt: ``"json"``, ``"xml"``, or another value (XML body, octet-stream type, as upstream).
        headers: Extra headers, e.g. the maintenance flag or a ``WWW-Authenticate`` override.
        version: 1 or 2, the entry point.

    Returns:
        The response.
    """
    if version == 1:
        http_status = {RESPOND_UNAUTHORISED: 401, 503: 503}.get(statuscode, 200)
        meta = {"status": "failure", "statuscode": statuscode, "message": message}
        response = Response(_render({"meta": meta, "data": []}, fmt), status_code=http_status)
    else:
        mapped = statuscode if statuscode == RESPOND_UNAUTHORISED else _v2_http_status(statuscode)
        response = ocs_response([], status=mapped, fmt=fmt, message=message)
    response.headers.update(headers or {})
    if statuscode == RESPOND_UNAUTHORISED:
        response.headers.setdefault("WWW-Authenticate", 'Basic realm="Authorisation Required"')
    response.headers["Content-Type"] = legacy_content_type(fmt)
    return response


def legacy_content_type(fmt: str) -> str:
    """Return the Content-Type ``OC_API::setContentType()`` sends for a format."""
    if fmt == "json":
        return "application/json; charset=utf-8"
    if fmt == "xml":
        return "text/xml; charset=UTF-8"
    return "application/octet-stream; charset=utf-8"


def plain_json_response(data: Mapping[str, Any], status: int) -> Response:
    """Render an AppFramework ``JSONResponse``: no OCS envelope (e.g. 412 ``ExApp required``)."""
    return Response(
        php_json(data),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def csrf_failed_response() -> Response:
    """Return the 412 ``{"message":"CSRF check failed"}``, outside any envelope (reference §1)."""
    return plain_json_response({"message": "CSRF check failed"}, 412)
