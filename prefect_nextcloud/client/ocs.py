"""OCS calls: how they are described, and how their answers are read or turned into errors.

Pure functions over ``httpx.Response``; no I/O happens here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from typing import Any, NoReturn, TypeVar
from xml.etree import ElementTree

import httpx

from prefect_nextcloud.client.calls import Api, Call, Reader
from prefect_nextcloud.client.errors import (
    AuthenticationError,
    CSRFCheckFailedError,
    EndpointNotFoundError,
    FileAccessDeniedError,
    InvalidInputError,
    MaintenanceModeError,
    NextcloudHTTPError,
    RateLimitedError,
    ServerError,
    TaskNotFoundError,
    TaskTypeUnavailableError,
    UnexpectedResponseError,
)

__all__ = [
    "error_fields",
    "ocs_call",
    "raise_for_status",
    "raise_http_error",
    "server_message",
    "server_said",
    "unwrap",
]

T = TypeVar("T")

_SNIPPET = 120
TASK_NOT_FOUND_HINT = (
    "The task does not exist, belongs to another user, or was cleaned up by the server."
)


def _json_body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        # Not JSON, not decodable (UnicodeDecodeError is a ValueError), or nested too deeply.
        return None


def _xml_message(response: httpx.Response) -> str | None:
    try:
        root = ElementTree.fromstring(response.content)  # noqa: S314 - the server's own answer
    except (ElementTree.ParseError, LookupError):  # LookupError: an unknown encoding= name
        return None
    text = root.findtext("meta/message")
    return text.strip() if text else None


def _envelope(body: Any) -> tuple[dict[str, Any], Any] | None:
    """Return ``(meta, data)`` when ``body`` is an OCS envelope."""
    if not isinstance(body, dict) or not isinstance(body.get("ocs"), dict):
        return None
    meta = body["ocs"].get("meta")
    if not isinstance(meta, dict):
        return None
    return meta, body["ocs"].get("data")


def _describe_body(response: httpx.Response) -> str:
    if not response.content:
        return "an empty body"
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"a {len(response.content)}-byte {kind} body"


def server_message(response: httpx.Response) -> str | None:
    """Extract the human-readable message from any kind of error body the server sends.

    Controller errors carry it in ``data.message`` with an empty ``meta.message``; middleware
    errors in ``meta.message``; CSRF and rate-limit answers are not wrapped at all; the
    wrong-password answer is XML (reference §2).
    """
    body = _json_body(response)
    envelope = _envelope(body)
    if envelope is not None:
        meta, data = envelope
        if isinstance(data, dict) and isinstance(data.get("message"), str) and data["message"]:
            return str(data["message"])
        message = meta.get("message")
        return str(message) if message else None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    if body is None and response.content.lstrip().startswith(b"<?xml"):
        return _xml_message(response)
    return None


def _ocs_statuscode(response: httpx.Response) -> int | None:
    envelope = _envelope(_json_body(response))
    if envelope is None:
        code = None
        if response.content.lstrip().startswith(b"<?xml"):
            try:
                root = ElementTree.fromstring(response.content)  # noqa: S314
                code = root.findtext("meta/statuscode")
            except (ElementTree.ParseError, LookupError):
                return None
        code = (code or "").strip()
        # isdigit() alone admits digits int() refuses ("²") and more digits than it converts.
        return int(code) if code.isascii() and code.isdigit() and len(code) < 10 else None
    code = envelope[0].get("statuscode")
    return code if isinstance(code, int) else None


def _too_many_requests(endpoint: str, where: str, said: str) -> str:
    if endpoint.endswith("/schedule"):
        return (
            f"Rate limited ({where}): Nextcloud allows 20 schedule calls per user in any "
            "120 seconds. Wait before scheduling more, or spread the work over time."
        )
    return (
        f"Too many requests ({where}).{said} Nextcloud throttles an address after failed "
        "logins (brute-force protection): check the app password, then wait before trying "
        "again; an admin can reset it with occ security:bruteforce:reset <ip>."
    )


def server_said(message: str | None) -> str:
    """The sentence that quotes the server's message in an error, or nothing without one."""
    return f" The server said: {message!r}." if message else ""


def error_fields(response: httpx.Response, endpoint: str, message: str | None) -> dict[str, Any]:
    """The keyword arguments of the :class:`NextcloudHTTPError` raised for a failed answer."""
    return {"endpoint": endpoint, "status_code": response.status_code, "server_message": message}


def raise_for_status(
    response: httpx.Response,
    endpoint: str,
    *,
    not_found: type[NextcloudHTTPError] = TaskNotFoundError,
    not_found_hint: str = TASK_NOT_FOUND_HINT,
) -> None:
    """Raise the error that matches a non-2xx answer; return quietly on 2xx.

    Args:
        response: The server's answer.
        endpoint: ``METHOD /path`` of the call, for the error message.
        not_found: The error class for a 404 that the endpoint itself produced.
        not_found_hint: What such a 404 means for this endpoint.

    Raises:
        NextcloudHTTPError: The subclass matching the answer.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    message = server_message(response)
    said = server_said(message)
    where = f"{status} on {endpoint}"
    kwargs = error_fields(response, endpoint, message)
    # A 401 carrying OCS statuscode 401 (not 997) is the file-access answer of schedule.
    if status == 401 and _ocs_statuscode(response) == 401:
        raise FileAccessDeniedError(
            f"No access to a file in the task input ({where}).{said} Check that the file "
            "ids exist and that this user can read them (shared files included).",
            **kwargs,
        )
    if status == 400:
        raise InvalidInputError(
            f"The server rejected the task input ({where}).{said} Fix the input and try again.",
            **kwargs,
        )
    if status == 412:
        if message == "CSRF check failed":
            raise CSRFCheckFailedError(
                f"The request was refused as cross-site ({where}): the OCS-APIRequest: true "
                "header did not reach the server. A proxy in front of Nextcloud may be "
                "stripping it.",
                **kwargs,
            )
        raise TaskTypeUnavailableError(
            f"The task type is not available ({where}).{said} Ask the server's admin to "
            "install and enable an AI provider app for it, or pick a type that "
            "list_task_types shows.",
            **kwargs,
        )
    if status == 404:
        envelope = _envelope(_json_body(response))
        if envelope is not None and envelope[0].get("message"):
            raise EndpointNotFoundError(
                f"The server has no such API ({where}). Check that base_url is the Nextcloud "
                "root and that the server is Nextcloud 30 or newer (Task Processing API).",
                **kwargs,
            )
        raise not_found(f"Not found ({where}).{said} {not_found_hint}".rstrip(), **kwargs)
    raise_http_error(response, endpoint, message)


def raise_http_error(
    response: httpx.Response, endpoint: str, message: str | None, *, label: str | None = None
) -> NoReturn:
    """Raise the error for an answer any Nextcloud endpoint (OCS or WebDAV) may give.

    Covers redirects, refused logins, throttling, maintenance, server and proxy failures, and
    anything else unexpected; endpoint-specific statuses are mapped by the caller first.

    Args:
        response: A non-2xx answer.
        endpoint: ``METHOD /path`` of the call, for the error message.
        message: The server's message, as the endpoint's kind of body carries it.
        label: How messages name the call, when not by ``endpoint`` (e.g. a user's file path).

    Raises:
        NextcloudHTTPError: The subclass matching the answer.
    """
    status = response.status_code
    said = server_said(message)
    label = label or endpoint
    where = f"{status} on {label}"
    kwargs = error_fields(response, endpoint, message)
    if 300 <= status < 400:
        location = response.headers.get("location", "an unknown place")
        raise NextcloudHTTPError(
            f"The server redirected {label} to {location} ({status}). Redirects are not "
            "followed, so that credentials never travel to another address: set base_url to "
            "the address the server redirects to (often https:// instead of http://).",
            **kwargs,
        )
    if status == 401:
        raise AuthenticationError(
            f"Nextcloud did not accept the login ({where}).{said} Check the user id and the "
            "app password; create a new app password under Personal settings > Security > "
            "Devices & sessions. A login password is refused when two-factor authentication "
            "is on, and repeated failures make Nextcloud throttle this address (brute-force "
            "protection), so fix the credentials before trying again.",
            **kwargs,
        )
    if status == 429:
        raise RateLimitedError(_too_many_requests(endpoint, where, said), **kwargs)
    if status == 503 and response.headers.get("x-nextcloud-maintenance-mode"):
        raise MaintenanceModeError(
            f"The server is in maintenance mode ({where}). Try again when the admin has "
            "finished the upgrade or maintenance.",
            **kwargs,
        )
    if status >= 500:
        raise ServerError(
            f"The server failed ({where}), answering with {_describe_body(response)}.{said} "
            "This is usually temporary; if it persists, check the Nextcloud log.",
            **kwargs,
        )
    raise NextcloudHTTPError(f"Unexpected answer ({where}).{said}", **kwargs)


def unwrap(response: httpx.Response, endpoint: str) -> Any:
    """Return the ``data`` of a successful OCS JSON answer.

    Args:
        response: A 2xx answer.
        endpoint: ``METHOD /path`` of the call, for the error message.

    Raises:
        UnexpectedResponseError: The body is not an OCS JSON envelope.
    """
    envelope = _envelope(_json_body(response))
    if envelope is None:
        raise UnexpectedResponseError(
            f"Expected an OCS JSON answer ({response.status_code} on {endpoint}) but got "
            f"{_describe_body(response)}. A proxy may be answering instead of Nextcloud, or "
            "base_url may not point at the Nextcloud root.",
            endpoint=endpoint,
            status_code=response.status_code,
        )
    return envelope[1]


def expect_dict(value: Any, key: str, response: httpx.Response, endpoint: str) -> Any:
    """Return ``value[key]``, or raise a clear error when the answer has another shape."""
    if isinstance(value, dict) and key in value:
        return value[key]
    raise UnexpectedResponseError(
        f"The answer to {endpoint} ({response.status_code}) has no {key!r} in its data; "
        f"got {str(value)[:_SNIPPET]!r}.",
        endpoint=endpoint,
        status_code=response.status_code,
    )


def ocs_call(
    method: str,
    path: str,
    read: Reader[T],
    *,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    idempotent: bool = True,
    not_found: type[NextcloudHTTPError] = TaskNotFoundError,
    not_found_hint: str = TASK_NOT_FOUND_HINT,
) -> Call[T]:
    """Describe a call to an OCS endpoint, whose failed answers :func:`raise_for_status` reads.

    Args:
        method: The HTTP method.
        path: The path below the server root.
        read: Turns a 2xx answer into the result.
        params: Query parameters (the client adds ``format=json``).
        json: The JSON body, if any.
        idempotent: Whether sending it twice has the effect of sending it once.
        not_found: The error class for a 404 that the endpoint itself produced.
        not_found_hint: What such a 404 means for this endpoint.
    """
    return Call(
        method,
        path,
        Api.OCS,
        read,
        partial(raise_for_status, not_found=not_found, not_found_hint=not_found_hint),
        params=params or {},
        json=json,
        idempotent=idempotent,
    )
