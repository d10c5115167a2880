"""The ASGI middleware that logs every request and applies the failures :class:`HttpControl` picks.

It wraps the whole app, so failures happen before any authentication or routing, where a proxy
or the network in front of Nextcloud would cause them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prefect_nextcloud.sandbox.faults.control import HttpControl, RecordedRequest
from prefect_nextcloud.sandbox.faults.echo import credentials_echo
from prefect_nextcloud.sandbox.faults.effects import FaultAction, FaultEffect
from prefect_nextcloud.sandbox.ocs.envelope import legacy_response
from prefect_nextcloud.sandbox.webdav.sabre_xml import sabre_error

__all__ = ["ControlMiddleware"]

_REDACTED = "REDACTED"


class ControlMiddleware:
    """ASGI middleware that logs each request and applies injected failures.

    Args:
        app: The wrapped application.
        control: The log, the one-off failures and the chaos settings.
    """

    def __init__(self, app: ASGIApp, control: HttpControl) -> None:
        self._app = app
        self._control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        # Uploads can be large: they stream through unrecorded instead of being held twice.
        streamed = method == "PUT" and path.startswith("/remote.php/")
        body = b"" if streamed else await _read_body(receive)
        query_string = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers: dict[str, str] = {}
        authorization = ""
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "authorization":
                authorization, value = value, _REDACTED
            headers[name] = f"{headers[name]}, {value}" if name in headers else value

        effect, chaos = self._control.decide(method, path)
        if chaos is not None:
            await chaos.delay()
        action = None if effect is None else effect.action

        def record(status: int | None) -> None:
            request = RecordedRequest(method, path, query_string, headers, body, status, action)
            self._control.record(request)

        body_sent = False

        async def replay() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        app_receive = receive if streamed else replay
        if action is FaultAction.DROP:
            record(None)
            await _drop_connection(receive)
            return
        if action is FaultAction.LOSE_RESPONSE:
            await _lost(self._app, scope, app_receive, record)
            await _drop_connection(receive)
            return
        if action is FaultAction.REWRITE:
            assert effect is not None
            assert effect.rewrite is not None
            await _rewritten(self._app, effect.rewrite, scope, app_receive, record, send)
            return

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Logged before the client can see the response, so tests never race the log.
                record(message["status"])
            await send(message)

        if effect is not None:
            response = _fault_response(effect, path, query_string, authorization)
            await response(scope, receive, send_recorded)
            return
        await self._app(scope, app_receive, send_recorded)


async def _lost(
    app: ASGIApp, scope: Scope, receive: Receive, record: Callable[[int | None], None]
) -> None:
    """Run the request and record the status of the answer the client will never get."""
    status: int | None = None

    async def swallow(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, swallow)
    record(status)


async def _rewritten(
    app: ASGIApp,
    rewrite: Callable[[Any], Any],
    scope: Scope,
    receive: Receive,
    record: Callable[[int | None], None],
    send: Send,
) -> None:
    """Run the request, then send its JSON answer as ``rewrite`` changes it."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    assert start is not None
    body = json.dumps(rewrite(json.loads(b"".join(chunks)))).encode()
    headers = [
        (name, value) for name, value in start.get("headers", []) if name != b"content-length"
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    record(start["status"])
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


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


def _fault_response(
    effect: FaultEffect, path: str, query_string: str, authorization: str
) -> Response:
    if effect.action is FaultAction.RESPOND:
        return Response(effect.body, status_code=effect.status, headers=dict(effect.headers))
    if effect.action is FaultAction.ECHO_CREDENTIALS:
        return credentials_echo(effect.status, path, query_string, authorization)
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
