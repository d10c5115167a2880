"""NextcloudPath and file references: pure parsing, no server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from prefect_nextcloud.client import LocalFile, NextcloudPath, parse_file_reference
from prefect_nextcloud.client.paths import dav_path


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("/Photos/receipt.jpg", "/Photos/receipt.jpg"),
        ("Photos//receipt.jpg", "/Photos/receipt.jpg"),
        ("/Photos/", "/Photos"),
        ("/", "/"),
        ("/a b/ü #?%.txt", "/a b/ü #?%.txt"),
    ],
)
def test_nextcloud_path_normalises(raw: str, normal: str) -> None:
    path = NextcloudPath(raw)
    assert path == normal
    assert isinstance(path, str)
    assert NextcloudPath(path) is path


@pytest.mark.parametrize("raw", ["", "   ", "/a/../b", "/./a", "..", "/a\x00b", "/a\nb", 5])
def test_nextcloud_path_rejects(raw: Any) -> None:
    with pytest.raises(ValueError, match="Nextcloud path"):
        NextcloudPath(raw)


def test_nextcloud_path_parts() -> None:
    path = NextcloudPath("/Photos/2024/receipt.jpg")
    assert path.parts == ("Photos", "2024", "receipt.jpg")
    assert path.name == "receipt.jpg"
    assert path.parent == "/Photos/2024"
    assert isinstance(path.parent, NextcloudPath)
    assert NextcloudPath("/").parent.is_root
    assert NextcloudPath("/").parts == ()
    assert NextcloudPath("/Photos") / "a/b.png" == "/Photos/a/b.png"
    assert repr(path) == "NextcloudPath('/Photos/2024/receipt.jpg')"


def test_dav_path_encodes_every_segment() -> None:
    assert (
        dav_path("al ice@x", "/My Photos/a#1?.png")
        == "/remote.php/dav/files/al%20ice%40x/My%20Photos/a%231%3F.png"
    )
    assert dav_path("alice", "/") == "/remote.php/dav/files/alice"


def test_nextcloud_path_as_a_pydantic_and_json_value() -> None:
    class Params(BaseModel):
        path: NextcloudPath

    params = Params.model_validate({"path": "Photos/a.jpg"})
    assert isinstance(params.path, NextcloudPath)
    assert params.path == "/Photos/a.jpg"
    assert json.loads(params.model_dump_json()) == {"path": "/Photos/a.jpg"}
    schema = Params.model_json_schema()["properties"]["path"]
    assert schema["type"] == "string"
    with pytest.raises(ValueError, match=r"'\.\.' segment"):
        Params.model_validate({"path": "/a/../b"})
    assert json.dumps(NextcloudPath("/x")) == '"/x"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, 42),
        ("42", 42),
        (" 7 ", 7),
        ("nc:/Photos/a.jpg", NextcloudPath("/Photos/a.jpg")),
        ("nc:Photos/a.jpg", NextcloudPath("/Photos/a.jpg")),
        (NextcloudPath("/x.png"), NextcloudPath("/x.png")),
        ("file:/data/a b.png", Path("/data/a b.png")),
        ("file:///data/a%20b.png", Path("/data/a b.png")),
        ("file://localhost/data/x.png", Path("/data/x.png")),
        (Path("/data/x.png"), Path("/data/x.png")),
        (("a.png", b"\x89PNG"), LocalFile(name="a.png", data=b"\x89PNG")),
        (LocalFile(name="b.txt", data=b"b"), LocalFile(name="b.txt", data=b"b")),
    ],
)
def test_parse_file_reference(value: Any, expected: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", "/data")
    parsed = parse_file_reference(value)
    assert parsed == expected
    assert type(parsed) is type(expected)


def test_relative_local_paths_become_absolute() -> None:
    parsed = parse_file_reference(Path("some/file.png"))
    assert isinstance(parsed, Path)
    assert parsed.is_absolute()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("photo.png", "ambiguous.*nc:/Photos/receipt.jpg.*file:/.*digits"),
        ("/Photos/a.png", "ambiguous"),
        (0, "positive"),
        (-3, "positive"),
        ("0", "positive"),
        (True, "bool"),
        (b"raw", "not PNG, JPEG, GIF, WebP.*LocalFile"),
        (b"", "LocalFile"),
        (b"\xff\xf1\x50\x80", "LocalFile"),  # AAC in ADTS: MPEG sync bits, but no MP3 layer
        ("file:relative/x.png", "absolute"),
        ("file://server/share/x.png", "host 'server'"),
        ("nc:/a/../b", r"'\.\.'"),
        (("a/b.png", b"x"), "plain file name"),
        (3.5, "float"),
        (None, "NoneType"),
    ],
)
def test_parse_file_reference_rejects(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_file_reference(value)


MINIMAL_CONTENT = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "gif": b"GIF89a\x01\x00\x01\x00",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "pdf": b"%PDF-1.7\n%",
    "tiff": b"II*\x00\x08\x00\x00\x00",
    "flac": b"fLaC\x00\x00\x00\x22",
    "ogg": b"OggS\x00\x02",
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00",
    "mp4": b"\x00\x00\x00\x20ftypisom\x00",
}


@pytest.mark.parametrize(("extension", "data"), MINIMAL_CONTENT.items())
def test_raw_bytes_are_named_from_their_content(extension: str, data: bytes) -> None:
    parsed = parse_file_reference(data)
    assert parsed == LocalFile(
        name=f"upload-{hashlib.sha256(data).hexdigest()[:12]}.{extension}", data=data
    )
    assert parse_file_reference(bytearray(data)) == parsed


def test_an_mp3_frame_without_a_tag_is_recognised() -> None:
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 8  # MPEG-1 layer III, 128 kbit/s
    parsed = parse_file_reference(frame)
    assert isinstance(parsed, LocalFile)
    assert parsed.name.endswith(".mp3")


def test_local_file_round_trips_through_json() -> None:
    local = LocalFile(name="a.bin", data=b"\x00\xff")
    assert LocalFile.model_validate_json(local.model_dump_json()) == local
    assert TypeAdapter(LocalFile).json_schema()["properties"]["name"]["type"] == "string"
