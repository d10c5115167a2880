"""File versions over WebDAV: kept on each overwrite, listed, downloaded, restored, deleted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import DAV_NS, dav_client, dav_error, dav_responses, found, propfind_body

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for

START = 1_700_000_000


class Clock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = float(START)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += seconds
        return int(self.now)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def version_sandbox(clock: Clock) -> Iterator[NextcloudSandbox]:
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, clock=clock) as sandbox:
        yield sandbox


@pytest.fixture
def dav(version_sandbox: NextcloudSandbox) -> Iterator[httpx.Client]:
    with dav_client(version_sandbox, "alice") as client:
        yield client


def versions(dav: httpx.Client, file_id: int) -> dict[int, int]:
    """The versions a Depth 1 PROPFIND lists: revision → size, in the listed order."""
    response = dav.request(
        "PROPFIND",
        f"/versions/alice/versions/{file_id}",
        content=propfind_body("d:getcontentlength", "d:getetag"),
        headers={"Depth": "1"},
    )
    listed = {}
    for href, entry in dav_responses(response).items():
        props = found(entry)
        if href.endswith("/"):
            continue  # the file's version collection
        revision = int(href.rpartition("/")[2])
        assert props[f"{DAV_NS}getetag"] == str(revision)  # unquoted, as Nextcloud sends it
        listed[revision] = int(props[f"{DAV_NS}getcontentlength"])
    return listed


def write(dav: httpx.Client, path: str, data: bytes) -> None:
    assert dav.put(f"/files/alice/{path}", content=data).status_code in (201, 204)


def test_each_overwrite_keeps_the_previous_content(
    version_sandbox: NextcloudSandbox, clock: Clock, dav: httpx.Client
) -> None:
    first = clock.advance(100)
    file_id = version_sandbox.upload("kept.txt", b"one", user_id="alice")
    second = clock.advance(10)
    write(dav, "kept.txt", b"two!")
    third = clock.advance(10)
    write(dav, "kept.txt", b"three")
    assert versions(dav, file_id) == {first: 3, second: 4, third: 5}
    old = dav.get(f"/versions/alice/versions/{file_id}/{first}")
    assert (old.content, old.headers["etag"]) == (b"one", str(first))
    assert old.headers["content-disposition"].endswith('filename="kept.txt"')
    assert dav.get(f"/versions/alice/versions/{file_id}/{second}").content == b"two!"
    # The current content is no version file: read it from the file itself.
    assert dav.get(f"/versions/alice/versions/{file_id}/{third}").status_code == 404


def test_a_write_in_the_same_second_replaces_that_seconds_version(
    version_sandbox: NextcloudSandbox, clock: Clock, dav: httpx.Client
) -> None:
    moment = clock.advance(100)
    file_id = version_sandbox.upload("quick.txt", b"a", user_id="alice")
    write(dav, "quick.txt", b"bb")
    write(dav, "quick.txt", b"ccc")
    assert list(versions(dav, file_id)) == [moment]
    empty = version_sandbox.upload("empty.txt", b"", user_id="alice")
    clock.advance(10)
    write(dav, "empty.txt", b"now full")
    assert len(versions(dav, empty)) == 1  # no version of an empty file is kept


def test_restoring_a_version_makes_it_current(
    version_sandbox: NextcloudSandbox, clock: Clock, dav: httpx.Client
) -> None:
    first = clock.advance(100)
    file_id = version_sandbox.upload("restore.txt", b"original", user_id="alice")
    second = clock.advance(10)
    write(dav, "restore.txt", b"changed")
    clock.advance(10)
    destination = f"{dav.base_url}/versions/alice/restore/target"
    moved = dav.request(
        "MOVE",
        f"/versions/alice/versions/{file_id}/{first}",
        headers={"Destination": destination},
    )
    assert moved.status_code == 201
    assert dav.get("/files/alice/restore.txt").content == b"original"
    # The content it replaced is kept; the restored one is current again, with its own time.
    assert versions(dav, file_id) == {second: 7, first: 8}
    copied = dav.request(
        "COPY",
        f"/versions/alice/versions/{file_id}/{second}",
        headers={"Destination": destination},
    )
    assert copied.status_code == 403


def test_deleting_a_version(
    version_sandbox: NextcloudSandbox, clock: Clock, dav: httpx.Client
) -> None:
    first = clock.advance(100)
    file_id = version_sandbox.upload("delete.txt", b"v1", user_id="alice")
    clock.advance(10)
    write(dav, "delete.txt", b"v2")
    assert dav.delete(f"/versions/alice/versions/{file_id}/{first}").status_code == 204
    assert first not in versions(dav, file_id)
    assert dav.get(f"/versions/alice/versions/{file_id}/{first}").status_code == 404


def test_versions_of_the_users_own_files_only(
    version_sandbox: NextcloudSandbox, dav: httpx.Client
) -> None:
    theirs = version_sandbox.upload("bob.txt", b"b", user_id="bob")
    assert dav.request("PROPFIND", f"/versions/alice/versions/{theirs}").status_code == 404
    foreign = dav.request("PROPFIND", f"/versions/bob/versions/{theirs}")
    assert (foreign.status_code, dav_error(foreign)[1]) == (403, "")
