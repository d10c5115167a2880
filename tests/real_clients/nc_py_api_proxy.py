"""The test side of nc_py_api_driver: a stand-in for a ``Nextcloud`` client in another process."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLIENTS_PYTHON = ROOT / ".venv-clients" / ("Scripts" if os.name == "nt" else "bin") / "python"
DRIVER = Path(__file__).with_name("nc_py_api_driver.py")


@dataclass(frozen=True)
class Node:
    """What the tests read of an nc_py_api ``FsNode``; passed back, it stands for the node."""

    full_path: str
    user_path: str
    name: str
    file_id: str
    fileid: int
    etag: str
    is_dir: bool
    size: int
    mimetype: str
    favorite: bool
    is_version: bool
    trashbin_filename: str
    trashbin_original_location: str


@dataclass(frozen=True)
class Tag:
    """What the tests read of an nc_py_api ``SystemTag``."""

    tag_id: int
    display_name: str
    user_visible: bool
    user_assignable: bool


@dataclass(frozen=True)
class User:
    """What the tests read of an nc_py_api ``UserInfo``."""

    user_id: str
    display_name: str
    email: str
    enabled: bool
    groups: list[str]
    language: str
    quota: dict[str, Any]
    storage_location: str


class NpaError(Exception):
    """A ``NextcloudException`` (or subclass) that nc_py_api raised."""

    def __init__(self, type_name: str, status_code: int) -> None:
        super().__init__(f"{type_name} {status_code}")
        self.type_name = type_name
        self.status_code = status_code


@dataclass(frozen=True)
class Stream:
    """A file object with this content, for ``upload_stream``."""

    data: bytes


class Sink:
    """A writable file object, for ``download2stream``; ``data`` holds what was written."""

    data = b""


class Driver:
    """The nc_py_api process, started from .venv-clients (``python3 dev.py setup`` makes it)."""

    def __init__(self) -> None:
        if not CLIENTS_PYTHON.exists():
            raise RuntimeError(f"{CLIENTS_PYTHON} is missing: run python3 dev.py setup")
        self._process = subprocess.Popen(
            [str(CLIENTS_PYTHON), str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the nc_py_api driver ended; see its output above")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def _encode(value: Any, sinks: list[Sink]) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, Stream):
        return {"__stream__": base64.b64encode(value.data).decode()}
    if isinstance(value, Sink):
        sinks.append(value)
        return {"__sink__": True}
    if isinstance(value, Node):
        return {"__fsnode__": asdict(value)}
    if isinstance(value, list | tuple):
        return [_encode(item, sinks) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item, sinks) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if "__fsnode__" in value:
            return Node(**value["__fsnode__"])
        if "__systemtag__" in value:
            return Tag(**value["__systemtag__"])
        if "__userinfo__" in value:
            return User(**value["__userinfo__"])
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        return {key: _decode(item) for key, item in value.items()}
    return value


class Client:
    """Calls on one nc_py_api client: ``client.files.upload(...)``, ``client.get("user")``.

    Args:
        driver: The nc_py_api process.
        face: ``"sync"`` for ``Nextcloud``, ``"async"`` for ``AsyncNextcloud``.
        url: The server.
        user: Login.
        password: App password.
        prefix: The attribute path so far (``"files"`` for ``client.files``).
    """

    def __init__(
        self, driver: Driver, face: str, url: str, user: str, password: str, prefix: str = ""
    ) -> None:
        self._driver = driver
        self._where = {"face": face, "url": url, "user": user, "password": password}
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        target = f"{self._prefix}.{name}" if self._prefix else name
        return Client(self._driver, prefix=target, **self._where)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._send(self._prefix, args=list(args), kwargs=kwargs)

    def get(self, attribute: str) -> Any:
        """Read an attribute (awaited on the async face), e.g. ``"srv_version"``."""
        return self._send(attribute, call=False)

    def _send(self, target: str, **request: Any) -> Any:
        sinks: list[Sink] = []
        encoded = {key: _encode(value, sinks) for key, value in request.items()}
        answer = self._driver.request({**self._where, "target": target, **encoded})
        if "error" in answer:
            raise NpaError(answer["error"]["type"], answer["error"]["status_code"])
        for sink, data in zip(sinks, answer["sinks"], strict=True):
            sink.data = base64.b64decode(data)
        return _decode(answer["result"])
