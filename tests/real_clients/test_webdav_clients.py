"""Two widely used third-party WebDAV clients against the sandbox's WebDAV, unmodified.

webdav4 (on httpx) and webdavclient3 (on requests) each upload, download, list, rename, move,
copy and delete files, and read modification times, as their users' scripts do against
Nextcloud; webdav4 also reads part of a file (an HTTP ``Range`` request).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from webdav3.client import Client as WebdavClient3
from webdav4.client import Client as Webdav4Client

from prefect_nextcloud.sandbox import NextcloudSandbox

DATA = bytes(range(256)) * 8  # 2 KiB, every byte value


@pytest.fixture(scope="module")
def sandbox() -> Iterator[NextcloudSandbox]:
    with NextcloudSandbox() as running:
        yield running


def _dav_root(sandbox: NextcloudSandbox) -> str:
    return f"{sandbox.base_url}/remote.php/dav/files/{sandbox.user_id}/"


def _sandbox_bytes(sandbox: NextcloudSandbox, path: str) -> bytes:
    with sandbox.credentials.get_client() as client:
        return client.download_file(path)


def test_webdav4_round_trip(sandbox: NextcloudSandbox) -> None:
    client = Webdav4Client(_dav_root(sandbox), auth=(sandbox.user_id, sandbox.app_password))
    client.mkdir("w4")
    client.upload_fileobj(io.BytesIO(DATA), "w4/a.bin", overwrite=True)
    assert _sandbox_bytes(sandbox, "/w4/a.bin") == DATA

    downloaded = io.BytesIO()
    client.download_fileobj("w4/a.bin", downloaded)
    assert downloaded.getvalue() == DATA
    with client.open("w4/a.bin", mode="rb") as remote:  # a ranged read
        remote.seek(100)
        assert remote.read(100) == DATA[100:200]

    assert [entry["name"] for entry in client.ls("w4", detail=True)] == ["w4/a.bin"]
    modified = client.modified("w4/a.bin")
    assert abs((datetime.now(UTC) - modified).total_seconds()) < 120

    client.move("w4/a.bin", "w4/b.bin")  # a rename
    client.mkdir("w4/sub")
    client.copy("w4/b.bin", "w4/sub/c.bin")
    client.move("w4/b.bin", "w4/sub/b.bin")
    assert sorted(entry["name"] for entry in client.ls("w4/sub", detail=True)) == [
        "w4/sub/b.bin",
        "w4/sub/c.bin",
    ]
    assert _sandbox_bytes(sandbox, "/w4/sub/c.bin") == DATA
    client.remove("w4/sub/c.bin")
    assert not client.exists("w4/sub/c.bin")
    assert client.exists("w4/sub/b.bin")


def test_webdavclient3_round_trip(sandbox: NextcloudSandbox) -> None:
    client = WebdavClient3(
        {
            "webdav_hostname": _dav_root(sandbox),
            "webdav_login": sandbox.user_id,
            "webdav_password": sandbox.app_password,
        }
    )
    client.mkdir("w3")
    client.upload_to(io.BytesIO(DATA), "w3/a.bin")
    assert _sandbox_bytes(sandbox, "/w3/a.bin") == DATA

    downloaded = io.BytesIO()
    client.download_from(downloaded, "w3/a.bin")
    assert downloaded.getvalue() == DATA

    assert client.list("w3") == ["w3/", "a.bin"]
    info = client.info("w3/a.bin")
    assert int(info["size"]) == len(DATA)
    assert info["modified"]  # Sabre's getlastmodified, an HTTP date

    client.move("w3/a.bin", "w3/b.bin")  # a rename
    client.mkdir("w3/sub")
    client.copy("w3/b.bin", "w3/sub/c.bin")
    client.move("w3/b.bin", "w3/sub/b.bin")
    assert sorted(client.list("w3/sub")) == ["b.bin", "c.bin", "sub/"]
    assert _sandbox_bytes(sandbox, "/w3/sub/c.bin") == DATA
    client.clean("w3/sub/c.bin")
    assert not client.check("w3/sub/c.bin")
    assert client.check("w3/sub/b.bin")
