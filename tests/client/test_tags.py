"""Collaborative tags through both client faces: ensure, list, tag, untag, and what fails how."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from faces import BothFaces

from prefect_nextcloud.client import (
    FilePermissionError,
    NextcloudFileNotFoundError,
    NextcloudHTTPError,
    SystemTag,
)
from prefect_nextcloud.sandbox import FaultAction, NextcloudSandbox, app_password_for

TAGS = r"/remote\.php/dav/systemtags"


def raw_tag(sandbox: NextcloudSandbox, user_id: str, **body: object) -> int:
    """Create a tag with plain HTTP, flags and all; its id."""
    response = httpx.post(
        f"{sandbox.base_url}/remote.php/dav/systemtags",
        json=body,
        auth=(user_id, sandbox.app_password_of(user_id)),
    )
    assert response.status_code == 201, response.text
    return int(response.headers["content-location"].rpartition("/")[2])


def test_ensure_tag_creates_the_tag_once(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    tag = call("ensure_tag", " processed ")
    assert tag == SystemTag(tag_id=tag.tag_id, name="processed", can_assign=True)
    assert call("ensure_tag", "processed") == tag.model_copy(update={"can_assign": True})
    assert call("list_tags") == [tag]
    assert [(r.method, r.status) for r in sandbox.requests_to(None, TAGS)] == [
        ("PROPFIND", 207),
        ("POST", 201),
        ("PROPFIND", 207),
        ("PROPFIND", 207),
    ]


def test_ensure_tag_takes_a_tag_that_differs_in_case(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    tag_id = raw_tag(sandbox, "alice", name="Processed")
    sandbox.clear_requests()
    assert call("ensure_tag", "processed").tag_id == tag_id
    assert sandbox.requests_to("POST", TAGS) == []


def test_tagging_a_file_is_idempotent(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    file_id = sandbox.upload("Photos/cat.png", b"png")
    tag = call("ensure_tag", "reviewed")
    assert call("tag_file", file_id, tag) is True
    assert call("tag_file", file_id, tag.tag_id) is False  # there already: not an error
    assert [found.tag_id for found in call("file_tags", file_id)] == [tag.tag_id]
    assert call("untag_file", file_id, tag) is True
    assert call("untag_file", file_id, tag) is False  # gone already: not an error
    assert call("file_tags", file_id) == []


def test_a_tag_assigned_by_a_lost_answer_is_assigned_once(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    file_id = sandbox.upload("lost.txt", b"l")
    tag = call("ensure_tag", "lost")
    sandbox.inject_lost_response(r"/systemtags-relations/", method="PUT")
    assert call("tag_file", file_id, tag) is False  # the repeat found it assigned
    faults = [r.fault for r in sandbox.requests_to("PUT", r"/systemtags-relations/")]
    assert faults == [FaultAction.LOSE_RESPONSE, None]
    assert [found.tag_id for found in call("file_tags", file_id)] == [tag.tag_id]


def test_what_tagging_refuses(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    mine = sandbox.upload("mine.txt", b"m")
    theirs = sandbox.upload("theirs.txt", b"t", user_id="bob")
    tag = call("ensure_tag", "refusals")
    with pytest.raises(NextcloudFileNotFoundError, match=f"File {theirs} not found for tags"):
        call("tag_file", theirs, tag)
    with pytest.raises(NextcloudFileNotFoundError):
        call("untag_file", theirs, tag)
    with pytest.raises(NextcloudFileNotFoundError):
        call("file_tags", theirs)
    with pytest.raises(NextcloudHTTPError, match="tag 4242 does not exist") as gone:
        call("tag_file", mine, 4242)
    assert gone.value.status_code == 412
    for bad in ("", "  ", "x" * 65, "é" * 33):
        with pytest.raises(ValueError, match="tag"):
            call("ensure_tag", bad)
    with pytest.raises(ValueError, match="file_id"):
        call("tag_file", 0, tag)
    with pytest.raises(ValueError, match="tag must be"):
        call("tag_file", mine, True)


@pytest.fixture
def admin_sandbox() -> Iterator[NextcloudSandbox]:
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, admins=["bob"]) as sandbox:
        yield sandbox


@pytest.mark.parametrize("face", ["sync", "async"])
def test_tags_only_admins_may_use(admin_sandbox: NextcloudSandbox, face: str) -> None:
    call = BothFaces(admin_sandbox.credentials, face)
    file_id = admin_sandbox.upload("locked.txt", b"l")
    locked = raw_tag(admin_sandbox, "bob", name="approved", userAssignable=False)
    raw_tag(admin_sandbox, "bob", name="hidden", userVisible=False)
    with pytest.raises(FilePermissionError, match="may not change the tags"):
        call("tag_file", file_id, locked)
    approved = call("ensure_tag", "approved")
    assert (approved.user_assignable, approved.can_assign) == (False, False)
    with pytest.raises(NextcloudHTTPError, match="cannot see it") as hidden:
        call("ensure_tag", "hidden")
    assert hidden.value.status_code == 409
