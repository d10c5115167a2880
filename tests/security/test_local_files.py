"""Local files: ``file:`` text only inside NEXTCLOUD_LOCAL_FILE_ROOTS, only regular files.

Text is what run parameters carry, so a ``file:`` reference given as text must not let whoever
starts a run make the worker upload any file it can read. Paths, ``LocalFile`` and bytes passed
by code are not limited. Special files are refused before anything is sent, with their kind.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from faces import BothFaces

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    LocalFile,
    LocalFileNotAllowedError,
    NextcloudFileNotFoundError,
    stage_files,
)
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.flows import analyze_image
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import RunOptions, generate_images

ROOTS = "NEXTCLOUD_LOCAL_FILE_ROOTS"
DAV = "/remote.php/dav/files/alice"
FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}
OPTIONS = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_text("not for the server")
    return path


@pytest.fixture
def no_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ROOTS, raising=False)


@pytest.mark.usefixtures("prefect_server", "no_roots")
def test_a_file_reference_in_a_flow_parameter_is_refused_by_default(
    sandbox: NextcloudSandbox, secret: Path
) -> None:
    state = analyze_image(
        prompt="What is in it?",
        image_file_ids=f"file:{secret}",
        credentials=sandbox.credentials,
        return_state=True,
        **FAST,
    )
    assert state.is_failed()
    with pytest.raises(LocalFileNotAllowedError) as info:
        state.result()
    message = str(info.value)
    assert ROOTS in message
    assert "is not set on this machine" in message
    assert "pathlib.Path" in message  # what to do instead
    assert sandbox.requests_to("PUT", "") == []
    assert sandbox.requests_to("POST", "/schedule$") == []


@pytest.mark.usefixtures("prefect_server", "no_roots")
def test_saving_outputs_to_a_local_folder_given_as_text_is_refused(
    sandbox: NextcloudSandbox, tmp_path: Path
) -> None:
    with pytest.raises(LocalFileNotAllowedError, match=ROOTS):
        generate_images(
            sandbox.credentials,
            "a fox",
            options=RunOptions(
                timeout_seconds=30.0, poll_interval_seconds=0.05, save_outputs_to=f"file:{tmp_path}"
            ),
        )
    assert sandbox.requests_to("POST", "/schedule$") == []
    assert list(tmp_path.iterdir()) == []


def test_only_files_inside_an_allowed_folder_are_accepted(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = tmp_path / "allowed"
    other = tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (allowed / "photo.png").write_bytes(b"png")
    (other / "b.png").write_bytes(b"png")
    (allowed / "escape.png").symlink_to(secret)
    (tmp_path / "link-to-allowed").symlink_to(allowed)
    monkeypatch.setenv(ROOTS, os.pathsep.join([str(allowed), str(other)]))

    assert parse_file_reference(f"file:{allowed}/photo.png") == allowed / "photo.png"
    assert parse_file_reference(f"file:{other}/b.png") == other / "b.png"
    # Resolved before the check: a symlink into an allowed folder is accepted as its target.
    linked = parse_file_reference(f"file:{tmp_path}/link-to-allowed/photo.png")
    assert linked == allowed / "photo.png"
    refused = [
        f"file:{secret}",
        f"file:{allowed}/../private/secret.txt",  # .. out of the folder
        f"file:{allowed}/escape.png",  # a symlink out of the folder
        f"file://{tmp_path}/allowed%2F..%2Fprivate/secret.txt",  # escapes decoded first
        f"file:{tmp_path}/allowed-not-really.png",  # a sibling with the same prefix
    ]
    for text in refused:
        with pytest.raises(LocalFileNotAllowedError, match=f"which allows only {allowed}, "):
            parse_file_reference(text)


def test_an_allowed_folder_given_through_a_symlink_is_resolved_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.png").write_bytes(b"png")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    monkeypatch.setenv(ROOTS, str(tmp_path / "alias"))
    assert parse_file_reference(f"file:{tmp_path}/real/a.png") == tmp_path / "real" / "a.png"


def test_a_relative_allowed_folder_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ROOTS, f"/srv{os.pathsep}data")
    with pytest.raises(ValueError, match=f"{ROOTS} must list absolute folders.*'data'"):
        parse_file_reference("file:/srv/a.png")


@pytest.mark.usefixtures("no_roots")
def test_paths_local_files_and_bytes_from_code_stay_allowed(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, secret: Path
) -> None:
    references = [secret, LocalFile(name="a.txt", data=b"a"), ("b.txt", b"b")]
    with credentials.get_client() as client, stage_files(client, references) as ids:
        staged = [r.path.removeprefix(DAV) for r in sandbox.requests_to("PUT", "")]
        contents = [client.download_file(path) for path in staged]
    assert len(ids) == 3
    assert contents == [b"not for the server", b"a", b"b"]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    return path


SPECIAL = [
    ("fifo", "is a named pipe \\(FIFO\\), not a regular file"),
    ("/dev/zero", "is a character device, not a regular file"),
    ("/proc/self/environ", "reports a size of 0 bytes but has content"),
]


@pytest.mark.parametrize(("special", "reason"), SPECIAL)
def test_special_files_are_refused_before_anything_is_sent(
    sandbox: NextcloudSandbox,
    call: BothFaces,
    fifo: Path,
    special: str,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = fifo if special == "fifo" else Path(special)
    if not path.exists():
        pytest.skip(f"{path} does not exist on this system")
    with pytest.raises(ValueError, match=reason):
        call("upload_file", "/Uploads/special.bin", path)
    monkeypatch.setenv(ROOTS, str(path.parent))
    with (
        pytest.raises(ValueError, match=f"File reference 1 of 1: .*{reason}"),
        call.credentials.get_client() as client,
        stage_files(client, [f"file:{path}"]),
    ):
        pass
    assert sandbox.requests == []


class MisreportedSize(io.BytesIO):
    """A file object whose size, as seeking to its end tells it, is not what it holds."""

    def __init__(self, content: bytes, reported: int) -> None:
        super().__init__(content)
        self.reported = reported

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = super().seek(offset, whence)
        return self.reported if whence == io.SEEK_END else position


@pytest.mark.parametrize(
    ("content", "reported", "reason"),
    [
        (b"0123456789", 3, "gave more than the 3 bytes it declared"),
        (b"012", 10, "ended after 3 of the 10 bytes it declared"),
    ],
)
def test_a_source_that_changes_size_while_read_is_a_clear_error(
    sandbox: NextcloudSandbox, call: BothFaces, content: bytes, reported: int, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        call("upload_file", "/Uploads/changing.bin", MisreportedSize(content, reported))
    with pytest.raises(NextcloudFileNotFoundError):
        call("get_file_info", "/Uploads/changing.bin")
