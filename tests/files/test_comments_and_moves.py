"""Reading a file's comments (REPORT) and moving files (MOVE), through both faces."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_nextcloud.client import NextcloudFileNotFoundError, NextcloudHTTPError
from prefect_nextcloud.sandbox import NextcloudSandbox


def test_comments_are_listed_newest_first(sandbox: NextcloudSandbox, call: Any) -> None:
    file_id = sandbox.upload("Photos/a.png", b"\x89PNG")
    quiet = sandbox.upload("Photos/b.png", b"\x89PNG")
    with sandbox.credentials.get_client() as client:
        for text in ("one", "two\nlines", "three"):
            client.post_comment(file_id, text)
    comments = call("list_comments", file_id)
    assert [comment.message for comment in comments] == ["three", "two\nlines", "one"]
    assert {comment.actor_id for comment in comments} == {"alice"}
    assert len({comment.comment_id for comment in comments}) == 3
    assert [c.message for c in call("list_comments", file_id, limit=1, offset=1)] == ["two\nlines"]
    assert call("list_comments", quiet) == []


@pytest.mark.parametrize(
    ("file_id", "options", "problem"),
    [
        (0, {}, "file_id must be a positive file id"),
        (7, {"limit": 0}, "limit must be an integer from 1 to 100"),
        (7, {"limit": 101}, "limit must be an integer from 1 to 100"),
        (7, {"offset": -1}, "offset must be a non-negative integer"),
    ],
)
def test_bad_comment_lookups_send_nothing(
    sandbox: NextcloudSandbox, call: Any, file_id: int, options: dict[str, int], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        call("list_comments", file_id, **options)
    assert sandbox.requests == []


def test_comments_of_a_missing_file_are_not_found(sandbox: NextcloudSandbox, call: Any) -> None:
    with pytest.raises(NextcloudFileNotFoundError, match=r"File 4242 not found .*404 on REPORT"):
        call("list_comments", 4242)


def test_a_move_renames_and_never_replaces(sandbox: NextcloudSandbox, call: Any) -> None:
    file_id = sandbox.upload("Docs/a.txt", b"a")
    sandbox.upload("Docs/b.txt", b"b")
    call("move_file", "/Docs/a.txt", "/Docs/c d.txt")
    assert call("get_file_id", "/Docs/c d.txt") == file_id
    with pytest.raises(NextcloudFileNotFoundError):
        call("get_file_info", "/Docs/a.txt")
    with pytest.raises(NextcloudHTTPError, match="412"):
        call("move_file", "/Docs/c d.txt", "/Docs/b.txt")
    assert call("download_file", "/Docs/b.txt") == b"b"
    with pytest.raises(NextcloudFileNotFoundError, match=r"/Docs/missing\.txt"):
        call("move_file", "/Docs/missing.txt", "/Docs/e.txt")
