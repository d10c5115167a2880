"""The process_new_files flow against the sandbox: each new or changed file once, a kept record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flow_helpers import artifact_of
from new_files_support import (
    FAST,
    PROMPT,
    STATE,
    comments,
    past_due,
    read_state,
    run,
    schedules,
)

from prefect_nextcloud.client.errors import (
    FilePermissionError,
    NextcloudConnectionError,
    NextcloudFileNotFoundError,
)
from prefect_nextcloud.flows import process_new_files
from prefect_nextcloud.flows.process_new_files import STATE_VERSION, default_state_file
from prefect_nextcloud.flows.process_new_files_state import batch_app_id, file_custom_id
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

pytestmark = pytest.mark.usefixtures("prefect_server")


def analyzed_ids(sandbox: NextcloudSandbox) -> list[int]:
    return sorted(task.input["images"][0] for task in sandbox.tasks())


def test_each_file_is_processed_once_and_again_only_when_new_or_changed(
    sandbox: NextcloudSandbox,
) -> None:
    first = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "abc"]
    sandbox.upload("Photos/notes.txt", b"not an image")
    result = run(sandbox, report_path=None, comment_on_files=False)
    assert sorted(outcome.file_id for outcome in result.outcomes) == sorted(first)
    assert all(outcome.ok for outcome in result.outcomes)
    assert analyzed_ids(sandbox) == sorted(first)
    state = read_state(sandbox)
    assert state["version"] == STATE_VERSION
    assert set(state["files"]) == {str(file_id) for file_id in first}
    assert {entry["status"] for entry in state["files"].values()} == {"done"}
    # Under custom ids every run derives the same way, in one app id for the folder.
    assert {task.app_id for task in sandbox.tasks()} == {batch_app_id(STATE)}
    assert {task.custom_id for task in sandbox.tasks()} == {
        file_custom_id(
            STATE, file_id, state["files"][str(file_id)]["etag"], "image-analysis", PROMPT
        )
        for file_id in first
    }

    # Unchanged: nothing scheduled, and only the listing and the state file are read.
    sandbox.clear_requests()
    again = run(sandbox, report_path=None, comment_on_files=False)
    assert (again.outcomes, again.unchanged_count) == ([], 3)
    assert schedules(sandbox) == 0
    assert [(r.method, r.status) for r in sandbox.requests] == [("PROPFIND", 207), ("GET", 200)]

    # Two added: exactly those two.
    added = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "de"]
    sandbox.clear_requests()
    third = run(sandbox, report_path=None, comment_on_files=False)
    assert sorted(outcome.file_id for outcome in third.outcomes) == sorted(added)
    assert schedules(sandbox) == 2

    # One changed (a new etag): only that one.
    changed = sandbox.upload("Photos/b.png", sample_image_bytes() + b"\0")
    assert changed == first[1]
    sandbox.clear_requests()
    fourth = run(sandbox, report_path=None, comment_on_files=False)
    assert [outcome.file_id for outcome in fourth.outcomes] == [changed]
    assert schedules(sandbox) == 1


def test_answers_go_to_comments_report_and_artifact(sandbox: NextcloudSandbox) -> None:
    ids = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "ab"]
    state = process_new_files(
        credentials=sandbox.credentials,
        prompt="What is in it?",
        report_path="/Reports/new.md",
        return_state=True,
        **FAST,
    )
    result = state.result()
    assert result.report_path == "/Reports/new.md"
    with sandbox.credentials.get_client() as client:
        report = client.download_file("/Reports/new.md").decode()
    assert "2 file(s) processed (2 succeeded, 0 failed)" in report
    assert "**Prompt:** What is in it?" in report
    for file_id, outcome in zip(ids, result.outcomes, strict=True):
        assert outcome.text
        assert outcome.text in report
        assert comments(sandbox.credentials, file_id) == [
            f"Image analysis (Prefect, Nextcloud task {outcome.task_id}):\n{outcome.text}"
        ]
    assert artifact_of(state.state_details.flow_run_id, "process-new-files").data == report


def test_ocr_in_subfolders_with_its_own_record(sandbox: NextcloudSandbox) -> None:
    top = sandbox.upload("Scans/top.png", sample_image_bytes())
    nested = sandbox.upload("Scans/2024/receipt.png", sample_image_bytes())
    shallow = run(sandbox, folder="/Scans", task="ocr", report_path=None, comment_on_files=False)
    assert [outcome.file_id for outcome in shallow.outcomes] == [top]
    deep = run(
        sandbox,
        folder="/Scans",
        task="ocr",
        recursive=True,
        report_path=None,
        comment_on_files=False,
    )
    assert [outcome.file_id for outcome in deep.outcomes] == [nested]
    assert {task.type for task in sandbox.tasks()} == {"core:image2text:ocr"}
    assert set(read_state(sandbox, default_state_file("/Scans", "ocr"))["files"]) == {
        str(top),
        str(nested),
    }


def test_a_failed_file_waits_an_hour_then_is_tried_again(sandbox: NextcloudSandbox) -> None:
    file_id = sandbox.upload("Photos/a.png", sample_image_bytes())
    sandbox.set_failing("core:analyze-images")
    failed = run(sandbox, report_path=None, comment_on_files=False)
    assert [outcome.ok for outcome in failed.outcomes] == [False]
    assert failed.failed_count == 1
    [outcome] = failed.outcomes
    entry = read_state(sandbox)["files"][str(file_id)]
    assert (entry["status"], entry["attempts"]) == ("failed", 1)
    assert outcome.next_try is not None
    assert outcome.next_try - datetime.now(UTC) > timedelta(minutes=59)
    assert datetime.fromisoformat(entry["next_try"]) == outcome.next_try

    sandbox.set_failing("core:analyze-images", False)
    waiting = run(sandbox, report_path=None, comment_on_files=False)
    assert (waiting.outcomes, waiting.waiting_count) == ([], 1)
    assert len(sandbox.tasks()) == 1

    past_due(sandbox, file_id)
    retried = run(sandbox, report_path=None, comment_on_files=False)
    assert [(outcome.file_id, outcome.ok) for outcome in retried.outcomes] == [(file_id, True)]
    assert len(sandbox.tasks()) == 2
    assert read_state(sandbox)["files"][str(file_id)]["status"] == "done"


def test_a_comment_refused_fails_only_that_file(sandbox: NextcloudSandbox) -> None:
    refused = sandbox.upload("Photos/a.png", sample_image_bytes())
    fine = sandbox.upload("Photos/b.png", sample_image_bytes())
    sandbox.inject_error(f"/comments/files/{refused}$", status=403, method="POST")
    result = run(sandbox, report_path=None)
    by_id = {outcome.file_id: outcome for outcome in result.outcomes}
    assert by_id[fine].ok
    assert not by_id[refused].ok
    assert "could not be posted as a comment" in (by_id[refused].error or "")
    assert "Permission denied" in (by_id[refused].error or "")
    assert len(comments(sandbox.credentials, fine)) == 1
    assert comments(sandbox.credentials, refused) == []
    files = read_state(sandbox)["files"]
    assert (files[str(fine)]["status"], files[str(refused)]["status"]) == ("done", "failed")
    assert "could not be posted as a comment" in files[str(refused)]["error"]


def test_a_missing_folder_is_a_clear_error_and_nothing_is_recorded(
    sandbox: NextcloudSandbox,
) -> None:
    with pytest.raises(ValueError, match="The folder /Nowhere does not exist"):
        run(sandbox, folder="/Nowhere")
    assert sandbox.tasks() == []
    with sandbox.credentials.get_client() as client, pytest.raises(NextcloudFileNotFoundError):
        client.get_file_info(default_state_file("/Nowhere", "image-analysis"))


def test_post_comment_on_both_faces(sandbox: NextcloudSandbox, call: Any) -> None:
    file_id = sandbox.upload("Photos/a.png", sample_image_bytes())
    comment_id = call("post_comment", file_id, "  A cat.  ")
    assert isinstance(comment_id, int)
    assert comments(sandbox.credentials, file_id) == ["A cat."]
    sandbox.inject_error(f"/comments/files/{file_id}$", status=403, method="POST")
    with pytest.raises(FilePermissionError, match=f"may not comment on file {file_id}"):
        call("post_comment", file_id, "again")
    with pytest.raises(ValueError, match="at most 1000 characters"):
        call("post_comment", file_id, "x" * 1001)
    sandbox.inject_lost_response(f"/comments/files/{file_id}$", method="POST")
    with pytest.raises(NextcloudConnectionError):
        call("post_comment", file_id, "lost")
    assert comments(sandbox.credentials, file_id) == ["lost", "A cat."]  # posted once, not repeated


@pytest.mark.parametrize(
    ("files", "recursive", "said"),
    [
        ([], False, "The folder /Photos is empty: nothing to process."),
        (
            ["Photos/holiday/a.png"],
            False,
            "No images directly in /Photos; its 1 subfolder(s) were not looked in. Turn on "
            "recursive (Include subfolders)",
        ),
        (["Photos/notes.txt"], False, "No images in /Photos: its 1 file(s) are of other types"),
    ],
    ids=["empty", "only in a subfolder", "other types"],
)
def test_a_run_that_finds_no_file_says_why(
    sandbox: NextcloudSandbox,
    caplog: pytest.LogCaptureFixture,
    files: list[str],
    recursive: bool,
    said: str,
) -> None:
    with sandbox.credentials.get_client() as client:
        client.make_folders("/Photos")
    for name in files:
        data = sample_image_bytes() if name.endswith(".png") else b"just text"
        sandbox.upload(name, data)
    with caplog.at_level("INFO"):
        result = run(sandbox, recursive=recursive, report_path=None)
    assert result.outcomes == []
    assert said in caplog.text
    assert schedules(sandbox) == 0


def test_a_run_with_nothing_new_names_the_state_file(
    sandbox: NextcloudSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.upload("Photos/a.png", sample_image_bytes())
    run(sandbox, report_path=None)
    with caplog.at_level("INFO"):
        again = run(sandbox, report_path=None)
    assert (again.outcomes, again.unchanged_count) == ([], 1)
    assert "Nothing new in /Photos: 1 file(s) unchanged" in caplog.text
    assert str(again.state_file) in caplog.text


def tag_names(sandbox: NextcloudSandbox, file_id: int) -> list[str]:
    with sandbox.credentials.get_client() as client:
        return [tag.name for tag in client.file_tags(file_id)]


def tag_puts(sandbox: NextcloudSandbox) -> list[tuple[int, int | None]]:
    """The tag assignments sent: (file id, status), in order."""
    return [
        (int(request.path.split("/")[-2]), request.status)
        for request in sandbox.requests_to("PUT", r"/systemtags-relations/files/")
    ]


def test_processed_files_are_tagged_once_across_runs(sandbox: NextcloudSandbox) -> None:
    first, second = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "ab"]
    other = sandbox.upload("Photos/notes.txt", b"not an image")
    run(sandbox, report_path=None, tag="processed")
    assert sorted(tag_puts(sandbox)) == [(first, 201), (second, 201)]
    assert len(sandbox.requests_to("POST", r"/systemtags$")) == 1  # the tag, made once
    assert (tag_names(sandbox, first), tag_names(sandbox, second)) == (["processed"], ["processed"])
    assert tag_names(sandbox, other) == []

    # Nothing new: no tag request at all, the run costs what it did without a tag.
    sandbox.clear_requests()
    again = run(sandbox, report_path=None, tag="processed")
    assert again.outcomes == []
    assert [(r.method, r.status) for r in sandbox.requests] == [("PROPFIND", 207), ("GET", 200)]

    # A changed file is processed again; the tag it has already is no failure.
    sandbox.upload("Photos/a.png", sample_image_bytes() + b"\0")
    sandbox.clear_requests()
    changed = run(sandbox, report_path=None, tag="processed")
    assert [(outcome.file_id, outcome.ok) for outcome in changed.outcomes] == [(first, True)]
    assert tag_puts(sandbox) == [(first, 409)]
    assert sandbox.requests_to("POST", r"/systemtags$") == []
    assert tag_names(sandbox, first) == ["processed"]


def test_a_file_that_cannot_be_tagged_keeps_its_answer(sandbox: NextcloudSandbox) -> None:
    file_id = sandbox.upload("Photos/a.png", sample_image_bytes())
    sandbox.inject_error(r"/systemtags-relations/", 403, method="PUT")
    result = run(sandbox, report_path=None, comment_on_files=False, tag="processed")
    assert [(outcome.file_id, outcome.ok) for outcome in result.outcomes] == [(file_id, True)]
    assert read_state(sandbox)["files"][str(file_id)]["status"] == "done"
    assert tag_names(sandbox, file_id) == []
    with pytest.raises(ValueError, match="more than 64 bytes"):
        run(sandbox, tag="x" * 65)
    assert len(sandbox.tasks()) == 1  # the bad tag name failed the run before any work
