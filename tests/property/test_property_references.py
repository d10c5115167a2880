"""Property tests of file references and Nextcloud paths: a valid result or a ValueError.

``parse_file_reference`` and ``NextcloudPath`` document ``ValueError`` as their only error
(with every local folder allowed, so that ``file:`` text is parsed rather than refused); a
path that is accepted is normalised (leading ``/``, no ``//``, no ``.``/``..`` segment, no
control character), and a local path from text is resolved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from property_strategies import BIG_INT_TEXT, PROPERTY, json_values, pick

from prefect_nextcloud.client.paths import NextcloudPath, dav_path
from prefect_nextcloud.client.references import LocalFile, parse_file_reference

PATHS = settings(PROPERTY, max_examples=400)


@pytest.fixture(autouse=True, scope="module")
def _every_local_folder_allowed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", "/")
        yield


path_text = st.lists(
    st.sampled_from(["/", ".", "..", "a", "é", " ", "\x00", "\n", "\x7f", "~", "%2F", "\\"])
    | st.characters(),
    max_size=20,
).map("".join)


def check_path(path: NextcloudPath) -> None:
    assert path.startswith("/")
    assert "//" not in path
    assert "\x00" not in path
    assert not any(char < " " or char == "\x7f" for char in path)
    assert not any(part in (".", "..") for part in path.split("/"))
    assert path == "/" or not path.endswith("/")
    assert NextcloudPath(str(path)) == path  # normalising is idempotent


class PathLikeText(os.PathLike[str]):
    """A path-like object that is not a Path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return self.path


class PathLikeBytes(os.PathLike[bytes]):
    """A path-like object whose path is bytes."""

    def __fspath__(self) -> bytes:
        return b"/tmp/x"


@PATHS
@given(value=path_text | st.binary(max_size=10) | json_values)
@example(value="a//b/../c")
@example(value="/ \t /")
@example(value="nc:/a")
def test_nextcloud_path_is_normalised_or_refused(value: object) -> None:
    try:
        path = NextcloudPath(value)  # type: ignore[arg-type]
    except ValueError:
        return
    check_path(path)
    check_path(path.parent)
    assert path.parts == tuple(PurePosixPath(path).parts[1:])
    assert dav_path("alice", path).startswith("/remote.php/dav/files/alice")
    try:
        child = path / "x"
    except ValueError:
        return
    check_path(child)
    assert child.parent == path


references = (
    path_text
    | path_text.map(lambda text: "nc:" + text)
    | path_text.map(lambda text: "file:" + text)
    | path_text.map(lambda text: "file://" + text)
    | pick(["123", " 7 ", "0", "-3", "²", BIG_INT_TEXT, "file:/a%00b", "file://host/a"])
    | st.integers()
    | st.booleans()
    | st.binary(max_size=10)
    | st.tuples(path_text, st.binary(max_size=5))
    | st.tuples(json_values, json_values)
    | path_text.map(PathLikeText)
    | st.just(PathLikeBytes())
    | json_values
)


@PATHS
@given(value=references)
# ~user expands through the password database: RuntimeError for an unknown user.
@example(value=PathLikeText("~no-such-user-here/a.txt"))
@example(value=Path("~no-such-user-here"))
# A path-like object whose path is bytes: pathlib raised TypeError.
@example(value=PathLikeBytes())
@example(value=("a\x00b", b"x"))
def test_parse_file_reference_gives_a_reference_or_value_error(value: object) -> None:
    try:
        reference = parse_file_reference(value)
    except ValueError:
        return
    if isinstance(reference, int):
        assert not isinstance(reference, bool)
        assert reference > 0
    elif isinstance(reference, NextcloudPath):
        check_path(reference)
    elif isinstance(reference, LocalFile):
        assert reference.name
        assert "/" not in reference.name
    else:
        assert isinstance(reference, Path)
        assert reference.is_absolute()
        if isinstance(value, str):
            assert ".." not in reference.parts
