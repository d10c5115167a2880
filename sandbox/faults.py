"""Test knobs at the HTTP layer: a log of every request and one-off injected failures.

:class:`ControlMiddleware` wraps the whole app, so injected failures stand in for what sits in
front of Nextcloud (a proxy answering 502, maintenance mode, a dropped connection) and happen
before any authentication or routing.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prefect_nextcloud.sandbox.ocs import legacy_response
from prefect_nextcloud.sandbox.webdav import sabre_error

__all__ = ["ControlMiddleware", "FaultAction", "HttpControl", "RecordedRequest"]

_REDACTED = "REDACTED"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received.

    Attributes:
        method: The HTTP method.
        path: The URL path, percent-decoded.
        query_string: The raw query string.
        headers: Lower-cased header names; the Authorization value is ``"REDACTED"``.
        body: The raw request body.
        status: The response status, or None when the connection was dropped on purpose.
    """

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    status: int | None

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value wins for repeated names)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def matches(self, method: str | None, path_regex: str) -> bool:
        """Whether the method is ``method`` (any if None) and ``path_regex`` occurs in the path."""
        return (method is None or self.method == method.upper()) and bool(
            re.search(path_regex, self.path)
        )


class FaultAction(Enum):
    """What an injected failure does."""

    RESPOND = "respond"
    MAINTENANCE = "maintenance"
    DROP = "drop"


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int
    action: FaultAction
    status: int = 0
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


class HttpControl:
    """Thread-safe request log and queue of injected failures."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []

    def add_fault(
        self,
        path_regex: str,
        action: FaultAction,
        *,
        times: int,
        method: str | None,
        status: int = 0,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a failure for the next ``times`` requests whose path matches (``re.search``)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = _Fault(
            re.compile(path_regex),
            method.upper() if method else None,
            times,
            action,
            status,
            body,
            dict(headers or {}),
        )
        with self._lock:
            self._faults.append(fault)

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """Return (and use up) the first failure queued for this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def clear_faults(self) -> None:
        """Forget all pending failures."""
        with self._lock:
            self._faults.clear()

    def record(self, request: RecordedRequest) -> None:
        """Append a request to the log."""
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def wait_for_requests(
        self, method: str | None, path_regex: str, *, count: int, timeout: float
    ) -> list[RecordedRequest]:
        """Wait until ``count`` matching requests are logged; return all matching ones.

        Raises:
            TimeoutError: Fewer requests arrived in time.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [r for r in self._requests if r.matches(method, path_regex)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(found)} of {count} requests to {path_regex!r} within {timeout} s"
                    )
                self._lock.wait(remaining)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()


class ControlMiddleware:
    """ASGI middleware that logs each request and applies injected failures.

    Args:
        app: The wrapped application.
        control: The log and failure queue.
    """

    def __init__(self, app: ASGIApp, control: HttpControl) -> None:
        self._app = app
        self._control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        query_string = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = _REDACTED if name == "authorization" else raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value

        def record(status: int | None) -> None:
            self._control.record(RecordedRequest(method, path, query_string, headers, body, status))

        fault = self._control.take_fault(method, path)
        if fault is not None and fault.action is FaultAction.DROP:
            record(None)
            await _drop_connection(receive)
            return

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Logged before the client can see the response, so tests never race the log.
                record(message["status"])
            await send(message)

        if fault is not None:
            await _fault_response(fault, path, query_string)(scope, receive, send_recorded)
            return

        body_sent = False

        async def replay() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send_recorded)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _fault_response(fault: _Fault, path: str, query_string: str) -> Response:
    if fault.action is FaultAction.RESPOND:
        return Response(fault.body, status_code=fault.status, headers=dict(fault.headers))
    maintenance = {"X-Nextcloud-Maintenance-Mode": "1"}
    if path.startswith("/remote.php/"):
        response = sabre_error(503, "ServiceUnavailable", "System is in maintenance mode.")
        response.headers.update(maintenance)
        return response
    fmt = dict(parse_qsl(query_string)).get("format", "xml")
    return legacy_response(
        statuscode=503, message="Service unavailable", fmt=fmt, headers=maintenance
    )


async def _drop_connection(receive: Receive) -> None:
    """Close the TCP connection without any response bytes.

    uvicorn hands the ASGI app bound methods of its per-request cycle, which holds the transport;
    aborting it is the only way to drop a connection from inside an ASGI app.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("injected connection drop")
    transport.abort()
    # Let connection_lost() run, so uvicorn sees a client disconnect instead of a missing reply.
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)
