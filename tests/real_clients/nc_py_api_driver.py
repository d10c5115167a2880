"""Runs nc_py_api calls for the tests, inside .venv-clients (nc_py_api cannot live in .venv).

Reads one JSON request a line from standard input and answers one JSON line on standard output:
``{"face": "sync"|"async", "url", "user", "password", "target": "files.upload", "args": [...],
"kwargs": {...}}`` calls ``target`` on a ``Nextcloud`` or ``AsyncNextcloud`` (``"call": false``
reads an attribute instead). Values travel as JSON with tagged bytes, streams, sinks and file
nodes; results come back as ``{"result": ..., "sinks": [...]}`` (file nodes, tags and user details
tagged too) or ``{"error": {"type", "status_code"}}``.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import json
import sys
import warnings
from typing import Any

from nc_py_api import AsyncNextcloud, Nextcloud, NextcloudException
from nc_py_api.files import FsNode, SystemTag
from nc_py_api.users import UserInfo


def _decode(value: Any, sinks: list[io.BytesIO]) -> Any:
    if isinstance(value, list):
        return [_decode(item, sinks) for item in value]
    if isinstance(value, dict):
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__stream__" in value:
            return io.BytesIO(base64.b64decode(value["__stream__"]))
        if "__sink__" in value:
            sinks.append(io.BytesIO())
            return sinks[-1]
        if "__fsnode__" in value:
            node = value["__fsnode__"]
            return FsNode(
                node["full_path"], file_id=node["file_id"], fileid=node["fileid"], etag=node["etag"]
            )
        return {key: _decode(item, sinks) for key, item in value.items()}
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, FsNode):
        return {
            "__fsnode__": {
                "full_path": value.full_path,
                "user_path": value.user_path,
                "name": value.name,
                "file_id": value.file_id,
                "fileid": value.info.fileid,
                "etag": value.etag,
                "is_dir": value.is_dir,
                "size": value.info.size,
                "mimetype": value.info.mimetype,
                "favorite": value.info.favorite,
                "is_version": value.info.is_version,
                "trashbin_filename": value.info.trashbin_filename,
                "trashbin_original_location": value.info.trashbin_original_location,
            }
        }
    if isinstance(value, SystemTag):
        return {
            "__systemtag__": {
                "tag_id": value.tag_id,
                "display_name": value.display_name,
                "user_visible": value.user_visible,
                "user_assignable": value.user_assignable,
            }
        }
    if isinstance(value, UserInfo):
        return {
            "__userinfo__": {
                "user_id": value.user_id,
                "display_name": value.display_name,
                "email": value.email,
                "enabled": value.enabled,
                "groups": value.groups,
                "language": value.language,
                "quota": value.quota,
                "storage_location": value.storage_location,
            }
        }
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    return value


class _Clients:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, ...], Any] = {}
        self._runner = asyncio.Runner()

    def get(self, face: str, url: str, user: str, password: str) -> Any:
        key = (face, url, user, password)
        if key not in self._clients:
            options = {"nextcloud_url": url, "nc_auth_user": user, "nc_auth_pass": password}
            with warnings.catch_warnings():
                # 0.30 announces the end of the sync class; it is still what most code uses.
                warnings.simplefilter("ignore", DeprecationWarning)
                cls = AsyncNextcloud if face == "async" else Nextcloud
                self._clients[key] = cls(**options)
        return self._clients[key]

    def resolve(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return self._runner.run(_wait(value))
        return value


async def _wait(awaitable: Any) -> Any:
    return await awaitable


def _answer(clients: _Clients, request: dict[str, Any]) -> dict[str, Any]:
    target: Any = clients.get(request["face"], request["url"], request["user"], request["password"])
    for name in request["target"].split("."):
        target = getattr(target, name)
    sinks: list[io.BytesIO] = []
    try:
        if request.get("call", True):
            args = _decode(request.get("args", []), sinks)
            kwargs = _decode(request.get("kwargs", {}), sinks)
            target = target(*args, **kwargs)
        result = clients.resolve(target)
    except NextcloudException as error:
        return {"error": {"type": type(error).__name__, "status_code": error.status_code}}
    encoded = [base64.b64encode(sink.getvalue()).decode() for sink in sinks]
    return {"result": _encode(result), "sinks": encoded}


def main() -> None:
    """Answer requests until standard input closes."""
    clients = _Clients()
    for line in sys.stdin:
        print(json.dumps(_answer(clients, json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
