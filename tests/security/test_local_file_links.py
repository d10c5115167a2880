"""Local files and symbolic links: a link swapped in or planted is refused or replaced.

A ``file:`` reference given as text is resolved and checked against NEXTCLOUD_LOCAL_FILE_ROOTS,
then opened again later (when it is uploaded). Someone who can write in those folders could put
a symbolic link in its place in between; such a link is refused, never followed. Files written
locally (``save_outputs_to``, ``download_to``) replace a link standing at their name instead of
writing through it. The swaps happen at fixed points of the code, so each race is deterministic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from faces import BothFaces

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import LocalFileNotAllowedError, NextcloudClient, stage_files, staging
from prefect_nextcloud.client.localfiles import open_allowed_file, save_in_allowed_folder
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import RunOptions, generate_images

ROOTS = "NEXTCLOUD_LOCAL_FILE_ROOTS"
DAV = "/remote.php/dav/files/alice"
OPTIONS = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)
SECRET = b"not for the server"


@dataclass
class Place:
    """``outer/allowed/sub/photo.png`` with ``allowed`` allowed, and ``private/`` beside it."""

    base: Path

    @property
    def allowed(self) -> Path:
        return self.base / "outer" / "allowed"

    @property
    def photo(self) -> Path:
        return self.allowed / "sub" / "photo.png"

    @property
    def private(self) -> Path:
        return self.base / "private"


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Place:
    place = Place(tmp_path.resolve())
    place.photo.parent.mkdir(parents=True)
    place.photo.write_bytes(b"photo")
    place.private.mkdir()
    (place.private / "photo.png").write_bytes(SECRET)
    (place.private / "outside.txt").write_bytes(SECRET)
    monkeypatch.setenv(ROOTS, str(place.allowed))
    return place


def link_in_place_of(path: Path, target: Path) -> None:
    """Move ``path`` aside (to ``<name>-real``) and put a symbolic link to ``target`` there."""
    path.rename(path.with_name(f"{path.name}-real"))
    path.symlink_to(target)


def moved_aside(path: Path) -> Path:
    return path.with_name(f"{path.name}-real")


# What is swapped for a link, relative to the base folder, and where the link leads.
SWAPS = [
    ("outer/allowed/sub/photo.png", "private/photo.png"),
    ("outer/allowed/sub", "private"),
]


def hook_after_the_check(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """Swap right after the reference has been resolved and checked against the roots."""

    def parse_then_swap(value: object) -> object:
        reference = parse_file_reference(value)
        swap()
        return reference

    monkeypatch.setattr(staging, "parse_file_reference", parse_then_swap)


def hook_before_the_upload(
    monkeypatch: pytest.MonkeyPatch, client: NextcloudClient, swap: Callable[[], None]
) -> None:
    """Swap once the file has been checked and opened once, just before it is uploaded."""
    make_folders = client.make_folders

    def make_folders_then_swap(path: str) -> None:
        make_folders(path)
        swap()

    monkeypatch.setattr(client, "make_folders", make_folders_then_swap)


@pytest.mark.parametrize(("swapped", "target"), SWAPS)
@pytest.mark.parametrize("moment", ["after the check", "before the upload"])
def test_a_link_swapped_in_after_the_check_is_refused_not_followed(
    sandbox: NextcloudSandbox,
    credentials: NextcloudCredentials,
    place: Place,
    swapped: str,
    target: str,
    moment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def swap() -> None:
        link_in_place_of(place.base / swapped, place.base / target)

    with credentials.get_client() as client:
        if moment == "after the check":
            hook_after_the_check(monkeypatch, swap)
        else:
            hook_before_the_upload(monkeypatch, client, swap)
        with (
            pytest.raises(LocalFileNotAllowedError) as info,
            stage_files(client, [f"file:{place.photo}"]),
        ):
            pass
    message = str(info.value)
    assert f"'{place.photo}' is refused: {place.base / swapped} is a symbolic link" in message
    assert f"Give the real path inside {ROOTS}" in message
    assert sandbox.requests_to("PUT", "") == []


def test_a_fifo_swapped_in_before_the_upload_is_refused_without_waiting(
    sandbox: NextcloudSandbox,
    credentials: NextcloudCredentials,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def swap() -> None:
        place.photo.unlink()
        os.mkfifo(place.photo)

    with credentials.get_client() as client:
        hook_before_the_upload(monkeypatch, client, swap)
        with (
            pytest.raises(ValueError, match=re.escape(f"'{place.photo}' is a named pipe (FIFO)")),
            stage_files(client, [f"file:{place.photo}"]),
        ):
            pass
    assert sandbox.requests_to("PUT", "") == []


def test_a_file_reference_inside_an_allowed_folder_is_still_uploaded(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, place: Place
) -> None:
    with credentials.get_client() as client, stage_files(client, [f"file:{place.photo}"]):
        (upload,) = sandbox.requests_to("PUT", "")
        assert client.download_file(upload.path.removeprefix(DAV)) == b"photo"


# Every name on the way to the photo: above the allowed folder, the folder itself, below it,
# and the file. Each is replaced by a link to where it was moved: following the link would
# reach the very same photo, and is refused all the same.
ON_THE_WAY = ["outer", "outer/allowed", "outer/allowed/sub", "outer/allowed/sub/photo.png"]


@pytest.mark.parametrize("linked", ON_THE_WAY)
def test_a_link_anywhere_on_the_way_to_a_file_is_refused(place: Place, linked: str) -> None:
    path = place.base / linked
    link_in_place_of(path, moved_aside(path))
    with pytest.raises(
        LocalFileNotAllowedError, match=f"{re.escape(repr(str(place.photo)))}.* is refused"
    ):
        open_allowed_file(place.photo)


@pytest.mark.parametrize("linked", ON_THE_WAY[:-1])
def test_a_link_anywhere_on_the_way_to_an_output_folder_is_refused(
    place: Place, linked: str
) -> None:
    folder = place.photo.parent
    path = place.base / linked
    link_in_place_of(path, moved_aside(path))
    with pytest.raises(LocalFileNotAllowedError, match="is refused"):
        save_in_allowed_folder(folder, "out.png", b"output")
    real_folder = Path(os.path.realpath(folder))
    assert sorted(p.name for p in real_folder.iterdir()) == ["photo.png"]


def test_a_folder_swapped_for_a_link_out_is_not_written_through(place: Place) -> None:
    folder = place.photo.parent
    link_in_place_of(folder, place.private)
    with pytest.raises(LocalFileNotAllowedError, match=re.escape(f"{folder} is a symbolic link.")):
        save_in_allowed_folder(folder, "outside.txt", b"output")
    assert (place.private / "outside.txt").read_bytes() == SECRET


def test_a_planted_link_at_the_output_name_is_replaced_not_written_through(
    place: Place,
) -> None:
    folder = place.allowed / "out"
    folder.mkdir()
    (folder / "task.png").symlink_to(place.private / "outside.txt")
    saved = save_in_allowed_folder(folder, "task.png", b"output")
    assert saved == folder / "task.png"
    assert not saved.is_symlink()
    assert saved.read_bytes() == b"output"
    assert (place.private / "outside.txt").read_bytes() == SECRET
    assert [p.name for p in folder.iterdir()] == ["task.png"]  # no temporary file left


def test_missing_output_folders_are_created_and_an_old_file_replaced(place: Place) -> None:
    folder = place.allowed / "new" / "run"
    save_in_allowed_folder(folder, "a.png", b"first")
    save_in_allowed_folder(folder, "a.png", b"second")
    assert (folder / "a.png").read_bytes() == b"second"
    assert [p.name for p in folder.iterdir()] == ["a.png"]


@pytest.mark.parametrize("name", ["../escape.png", "a/b.png", "..", ""])
def test_an_output_name_that_is_not_a_plain_name_is_refused(place: Place, name: str) -> None:
    folder = place.photo.parent
    expected = f"Cannot save {name!r} in {folder}: it is not a plain file name"
    with pytest.raises(ValueError, match=re.escape(expected)):
        save_in_allowed_folder(folder, name, b"output")
    assert sorted(p.name for p in place.allowed.rglob("*")) == ["photo.png", "sub"]


def test_an_output_folder_outside_the_allowed_folders_is_refused(place: Place) -> None:
    with pytest.raises(LocalFileNotAllowedError, match=re.escape(f"allows only {place.allowed}")):
        save_in_allowed_folder(place.private, "outside.txt", b"output")
    assert (place.private / "outside.txt").read_bytes() == SECRET


@pytest.mark.usefixtures("prefect_server")
def test_save_outputs_to_replaces_a_link_planted_in_the_output_folder(
    sandbox: NextcloudSandbox, place: Place
) -> None:
    folder = place.allowed / "generated"
    folder.mkdir()
    # A fresh sandbox numbers its tasks from 1, so the output's name is known in advance.
    planted = folder / "task-1-images-1.png"
    planted.symlink_to(place.private / "outside.txt")
    result = generate_images(
        sandbox.credentials,
        "a fox",
        options=RunOptions(
            timeout_seconds=30.0, poll_interval_seconds=0.05, save_outputs_to=f"file:{folder}"
        ),
    )
    assert result.task_id == 1
    assert (place.private / "outside.txt").read_bytes() == SECRET
    assert not planted.is_symlink()
    assert planted.read_bytes() == result.files[0].content
    assert [p.name for p in folder.iterdir()] == [planted.name]


def test_download_to_replaces_a_link_standing_at_the_destination(
    call: BothFaces, place: Place
) -> None:
    call("upload_file", "/data/report.txt", b"from nextcloud")
    folder = place.allowed / "downloads"
    folder.mkdir()
    destination = folder / "report.txt"
    destination.symlink_to(place.private / "outside.txt")
    assert call("download_to", "/data/report.txt", destination) == destination
    assert not destination.is_symlink()
    assert destination.read_bytes() == b"from nextcloud"
    assert (place.private / "outside.txt").read_bytes() == SECRET
    assert [p.name for p in folder.iterdir()] == ["report.txt"]


def test_a_system_without_folder_relative_opens_is_a_clear_error(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "supports_dir_fd", set())
    unsupported = "cannot open a file relative to an open folder without following"
    with pytest.raises(
        OSError, match=f"{re.escape(repr(str(place.photo)))}: this system .* {unsupported}"
    ):
        open_allowed_file(place.photo)
    with pytest.raises(OSError, match=unsupported):
        save_in_allowed_folder(place.allowed / "new", "a.png", b"output")
    assert not (place.allowed / "new").exists()
