"""Helpers of the security tests: a secret scanner, a log capture and a tiny recording HTTP(S)
server."""

from __future__ import annotations

import asyncio
import base64
import http.server
import logging
import pickle
import socket
import ssl
import threading
import traceback
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cloudpickle

from prefect_nextcloud.client import AsyncNextcloudClient, NextcloudClient, NextcloudError
from prefect_nextcloud.client.retrying import RetryPolicy


def basic_forms(user_id: str, password: str) -> dict[str, str]:
    """Every form in which a password could leak: raw, base64 ``user:password``, header value."""
    token = base64.b64encode(f"{user_id}:{password}".encode()).decode()
    return {
        f"{user_id}'s password": password,
        f"base64({user_id}:password)": token,
        f"'Basic' header of {user_id}": f"Basic {token}",
    }


@dataclass
class SecretScanner:
    """Searches texts and bytes for secrets and remembers where each one was found."""

    secrets: dict[str, str]
    hits: list[str] = field(default_factory=list)
    scanned: int = 0

    def scan(self, where: str, content: str | bytes | None) -> None:
        if content is None:
            return
        self.scanned += 1
        for label, secret in self.secrets.items():
            needle: str | bytes = secret.encode() if isinstance(content, bytes) else secret
            if needle in content:  # type: ignore[operator]
                self.hits.append(f"{label} in {where}")

    def scan_all(self, where: str, contents: Iterable[str | bytes | None]) -> None:
        for index, content in enumerate(contents):
            self.scan(f"{where}[{index}]", content)

    def assert_clean(self) -> None:
        assert self.hits == [], "The app password leaked:\n" + "\n".join(sorted(set(self.hits)))


class LogCapture(logging.Handler):
    """Keeps every record it is given, once even when it passes several of its handlers."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self._ids: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) not in self._ids:
            self._ids.add(id(record))
            self.records.append(record)


def closed_port() -> int:
    """A loopback port nobody listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RecordingServer:
    """A loopback HTTP(S) server that answers 404 to everything and records request paths."""

    url: str
    paths: list[str]


@contextmanager
def recording_server(tls: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            paths.append(self.path)  # before answering: a client that follows waits for this
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_PROPFIND = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield RecordingServer(f"{scheme}://127.0.0.1:{server.server_address[1]}", paths)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def exception_chain(error: BaseException) -> list[BaseException]:
    """The error and every exception reachable through ``__cause__`` and ``__context__``."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [current.__cause__, current.__context__]
    return chain


def exception_surfaces(error: BaseException) -> dict[str, str | bytes]:
    """What a user, a log or Prefect's state store can see of an error and its chain."""
    surfaces: dict[str, str | bytes] = {
        "format_exception": "".join(traceback.format_exception(error)),
        "pickle": pickle.dumps(error),
        "cloudpickle": cloudpickle.dumps(error),
    }
    for depth, link in enumerate(exception_chain(error)):
        name = f"{type(link).__name__}#{depth}"
        surfaces[f"{name} str"] = str(link)
        surfaces[f"{name} repr"] = repr(link)
        surfaces[f"{name} args"] = repr(link.args)
        surfaces[f"{name} __dict__"] = repr(vars(link))
        surfaces[f"{name} format_exception"] = "".join(traceback.format_exception(link))
        surfaces[f"{name} notes"] = repr(getattr(link, "__notes__", None))
    return surfaces


_OPAQUE = (type, types.ModuleType, types.FunctionType, types.MethodType, types.TracebackType)


def reachable_texts(root: object, *, limit: int = 20_000) -> Iterator[tuple[str, str | bytes]]:
    """Every str and bytes reachable from an object through attributes and containers.

    Tracebacks, frames, modules, classes and functions are not followed: they reach everything.
    """
    seen: set[int] = set()
    pending: list[tuple[str, object]] = [("error", root)]
    while pending and len(seen) < limit:
        path, value = pending.pop()
        if id(value) in seen or isinstance(value, _OPAQUE):
            continue
        seen.add(id(value))
        if isinstance(value, str | bytes | bytearray):
            yield path, bytes(value) if isinstance(value, bytearray) else value
            continue
        if isinstance(value, dict):
            pending += [(f"{path}[{key!r}]", item) for key, item in value.items()]
            pending += [(f"{path}.<key>", key) for key in value]
        elif isinstance(value, list | tuple | set | frozenset):
            pending += [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        if isinstance(value, BaseException):
            pending += [(f"{path}.__cause__", value.__cause__)]
            pending += [(f"{path}.__context__", value.__context__)]
            pending += [(f"{path}.args", value.args)]
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            pending += [(f"{path}.{name}", item) for name, item in attributes.items()]
        for slot in getattr(type(value), "__slots__", ()):
            if isinstance(slot, str) and hasattr(value, slot):
                pending.append((f"{path}.{slot}", getattr(value, slot)))


def get_task_error(face: str, base_url: str, user_id: str, password: str) -> NextcloudError:
    """The error ``get_task(1)`` raises through a fresh client of one face, with no retries."""
    no_retry = RetryPolicy(max_elapsed_seconds=0)
    if face == "sync":
        with NextcloudClient(base_url, user_id, password, retry_policy=no_retry) as client:
            try:
                client.get_task(1)
            except NextcloudError as raised:
                return raised
        raise AssertionError("get_task(1) raised nothing")

    async def call() -> NextcloudError:
        async with AsyncNextcloudClient(
            base_url, user_id, password, retry_policy=no_retry
        ) as client:
            try:
                await client.get_task(1)
            except NextcloudError as raised:
                return raised
        raise AssertionError("get_task(1) raised nothing")

    return asyncio.run(call())
