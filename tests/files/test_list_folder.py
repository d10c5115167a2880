"""Listing a folder (PROPFIND depth 1) against the sandbox, through both faces and as a task."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import NextcloudFileNotFoundError
from prefect_nextcloud.client.webdav import FileInfo
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import list_folder


def test_lists_files_and_subfolders_with_ids(sandbox: NextcloudSandbox, call: Any) -> None:
    photo = sandbox.upload("Photos/b photo.png", b"\x89PNG")
    note = sandbox.upload("Photos/a.txt", b"note")
    nested = sandbox.upload("Photos/Trips/c.jpg", b"\xff\xd8\xff")
    entries = call("list_folder", "/Photos")
    assert [(entry.path, entry.is_folder) for entry in entries] == [
        ("/Photos/Trips", True),
        ("/Photos/a.txt", False),
        ("/Photos/b photo.png", False),
    ]
    assert [entry.file_id for entry in entries[1:]] == [note, photo]
    assert entries[0].file_id == call("get_file_id", "/Photos/Trips")
    assert entries[2].content_type == "image/png"
    assert nested not in {entry.file_id for entry in entries}
    assert [entry.path for entry in call("list_folder", "/")] == ["/Photos"]


def test_an_empty_folder_lists_nothing(call: Any, credentials: NextcloudCredentials) -> None:
    with credentials.get_client() as client:
        client.make_folders("/Empty")
    assert call("list_folder", "/Empty") == []


def test_a_missing_folder_is_not_found(sandbox: NextcloudSandbox, call: Any) -> None:
    with pytest.raises(NextcloudFileNotFoundError, match="/Missing"):
        call("list_folder", "/Missing")


def test_a_file_is_not_a_folder(sandbox: NextcloudSandbox, call: Any) -> None:
    sandbox.upload("Photos/a.png", b"\x89PNG")
    with pytest.raises(ValueError, match=r"/Photos/a\.png is a file, not a folder"):
        call("list_folder", "/Photos/a.png")


def test_an_entry_whose_name_cannot_be_a_path_is_set_apart(
    sandbox: NextcloudSandbox, call: Any
) -> None:
    good = sandbox.upload("Photos/a.png", b"\x89PNG")
    odd = sandbox.upload("Photos/b\nc.png", b"\x89PNG")
    listing = call("read_folder", "/Photos")
    assert [entry.file_id for entry in listing.entries] == [good]
    [entry] = listing.unreadable
    assert (entry.file_id, entry.name, entry.is_folder) == (odd, "b\nc.png", False)
    assert entry.shown_path == "/Photos/b\\x0ac.png"
    assert "/Photos holds an entry named 'b\\nc.png'" in entry.problem
    assert "control character" in entry.problem
    assert "Rename it in Nextcloud" in entry.problem
    with pytest.raises(ValueError, match=r"entry named 'b\\nc\.png' \(file id"):
        call("list_folder", "/Photos")


@flow
def listing(credentials: NextcloudCredentials, path: str) -> list[FileInfo]:
    return list_folder(credentials, path)


@pytest.mark.usefixtures("prefect_server")
def test_list_folder_task(sandbox: NextcloudSandbox, credentials: NextcloudCredentials) -> None:
    file_id = sandbox.upload("Inbox/scan.pdf", b"%PDF")
    [entry] = listing(credentials, "/Inbox")
    assert (entry.file_id, entry.path, entry.is_folder) == (file_id, "/Inbox/scan.pdf", False)
