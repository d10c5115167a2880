"""Helpers for the sandbox tests: OCS and WebDAV calls, and tiny image files built by hand."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any

import httpx

from prefect_nextcloud.sandbox import NextcloudSandbox

TP = "/ocs/v2.php/taskprocessing"


def client_for(sandbox: NextcloudSandbox, user_id: str) -> httpx.Client:
    """An OCS client for a sandbox user, asking for JSON."""
    return httpx.Client(
        base_url=sandbox.base_url,
        auth=(user_id, sandbox.app_password_of(user_id)),
        headers={"OCS-APIRequest": "true", "Accept": "application/json"},
        timeout=5,
    )


def ocs_data(response: httpx.Response) -> Any:
    """Return ``ocs.data`` of a JSON OCS response."""
    return response.json()["ocs"]["data"]


def schedule(client: httpx.Client, task_type: str, task_input: Any, **extra: Any) -> httpx.Response:
    """POST /schedule with a JSON body."""
    body = {"input": task_input, "type": task_type, "appId": "tests", **extra}
    return client.post(f"{TP}/schedule", json=body)


def schedule_ok(
    client: httpx.Client, task_type: str, task_input: Any, **extra: Any
) -> dict[str, Any]:
    """Schedule a task that must be accepted; return its JSON."""
    response = schedule(client, task_type, task_input, **extra)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = ocs_data(response)["task"]
    return task


def make_png(width: int, height: int) -> bytes:
    """A valid grey PNG."""
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_jpeg(width: int, height: int) -> bytes:
    """JPEG headers: SOI, a JFIF APP0 segment, a baseline SOF0 frame header, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xc0"
        + struct.pack(">H", len(sof) + 2)
        + sof
        + b"\xff\xd9"
    )


def make_gif(width: int, height: int) -> bytes:
    """GIF header with a logical screen descriptor."""
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def make_webp(width: int, height: int, kind: str) -> bytes:
    """WebP RIFF header with a VP8, VP8L or VP8X first chunk."""
    if kind == "VP8 ":
        data = b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height)
    elif kind == "VP8L":
        data = b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14)
    else:
        data = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = kind.encode() + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def make_bmp(width: int, height: int) -> bytes:
    """A BMP file header plus a BITMAPINFOHEADER (negative height: top-down)."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


DAV_NS = "{DAV:}"
OC_NS = "{http://owncloud.org/ns}"
NC_NS = "{http://nextcloud.org/ns}"
SABRE_NS = "{http://sabredav.org/ns}"


def dav_client(sandbox: NextcloudSandbox, user_id: str) -> httpx.Client:
    """A WebDAV client for a sandbox user, rooted at ``/remote.php/dav``."""
    return httpx.Client(
        base_url=f"{sandbox.base_url}/remote.php/dav",
        auth=(user_id, sandbox.app_password_of(user_id)),
        timeout=5,
    )


def dav_error(response: httpx.Response) -> tuple[str, str]:
    """The ``s:exception`` and ``s:message`` of a Sabre error body."""
    root = ET.fromstring(response.content)
    return root.findtext(f"{SABRE_NS}exception") or "", root.findtext(f"{SABRE_NS}message") or ""


def dav_responses(response: httpx.Response) -> dict[str, ET.Element]:
    """The ``d:response`` elements of a 207 answer, by href."""
    assert response.status_code == 207, response.text
    return {
        entry.findtext(f"{DAV_NS}href") or "": entry
        for entry in ET.fromstring(response.content).findall(f"{DAV_NS}response")
    }


def found(entry: ET.Element) -> dict[str, str]:
    """The properties of the 200 propstat of a ``d:response``: tag → text."""
    for propstat in entry.findall(f"{DAV_NS}propstat"):
        if propstat.findtext(f"{DAV_NS}status") == "HTTP/1.1 200 OK":
            prop = propstat.find(f"{DAV_NS}prop")
            assert prop is not None
            return {element.tag: element.text or "" for element in prop}
    return {}


def propfind_body(*props: str) -> str:
    """A PROPFIND body asking for ``props`` (``oc:``/``nc:``/``d:`` prefixed names)."""
    wanted = "".join(f"<{prop}/>" for prop in props)
    return (
        '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" '
        f'xmlns:nc="http://nextcloud.org/ns"><d:prop>{wanted}</d:prop></d:propfind>'
    )
