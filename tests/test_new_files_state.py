"""The process_new_files flow where the real world bites: whatever fails, nothing twice.

Each test counts the Nextcloud tasks created, the comments posted and the answers returned.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from new_files_support import (
    STATE,
    comments,
    past_due,
    read_state,
    run,
    schedules,
    write_state,
)

from prefect_nextcloud.flows.process_new_files import default_state_file
from prefect_nextcloud.flows.process_new_files_state import (
    LAST_RETRY,
    StateFileError,
    legacy_state_file,
    retry_delay,
)
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

pytestmark = pytest.mark.usefixtures("prefect_server")

STATE_PATH = re.escape(STATE) + "$"  # as the sandbox logs it, below the user's DAV root


def photos(sandbox: NextcloudSandbox, names: str = "abc") -> list[int]:
    return [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in names]


def state_folder(sandbox: NextcloudSandbox) -> list[str]:
    with sandbox.credentials.get_client() as client:
        return [entry.path.name for entry in client.list_folder("/Prefect/process-new-files")]


def test_folders_differing_only_in_non_ascii_letters_keep_their_own_records(
    sandbox: NextcloudSandbox,
) -> None:
    folders = ("/Ürlaub", "/Örlaub")
    ids = {folder: sandbox.upload(f"{folder}/a.png", sample_image_bytes()) for folder in folders}
    first = [run(sandbox, folder=folder, report_path=None) for folder in folders]
    again = [run(sandbox, folder=folder, report_path=None) for folder in folders]
    assert [[o.file_id for o in result.outcomes] for result in first] == [
        [ids[folder]] for folder in folders
    ]
    assert [result.outcomes for result in again] == [[], []]
    assert len(sandbox.tasks()) == 2
    assert [len(comments(sandbox.credentials, file_id)) for file_id in ids.values()] == [1, 1]
    names = {default_state_file(folder, "image-analysis") for folder in folders}
    assert {f"/Prefect/process-new-files/{name}" for name in state_folder(sandbox)} == names
    assert {name.split("-")[0] for name in state_folder(sandbox)} == {"Ürlaub", "Örlaub"}


def test_folders_with_the_same_slug_have_their_own_state_files() -> None:
    names = {default_state_file(folder, "ocr") for folder in ("/Photos/2024", "/Photos-2024")}
    assert len(names) == 2
    assert all(name.startswith("/Prefect/process-new-files/Photos-2024-") for name in names)


def test_a_record_at_the_old_default_name_is_taken_over_once(sandbox: NextcloudSandbox) -> None:
    [done] = photos(sandbox, "a")
    with sandbox.credentials.get_client() as client:
        etag = client.get_file_info("/Photos/a.png").etag
    legacy = legacy_state_file("/Photos", "image-analysis")
    old = {"version": 1, "folder": "/Photos", "task": "image-analysis", "files": {str(done): etag}}
    write_state(sandbox, old, legacy)
    [new] = photos(sandbox, "b")
    result = run(sandbox, report_path=None)
    assert [outcome.file_id for outcome in result.outcomes] == [new]
    assert result.unchanged_count == 1
    assert len(sandbox.tasks()) == 1
    assert comments(sandbox.credentials, done) == []
    assert {key: entry["status"] for key, entry in read_state(sandbox)["files"].items()} == {
        str(done): "done",
        str(new): "done",
    }
    assert state_folder(sandbox) == [STATE.rpartition("/")[2]]  # the old file is gone


def test_a_record_at_the_old_name_of_another_folder_is_left_alone(
    sandbox: NextcloudSandbox,
) -> None:
    # Both folders once shared "-rlaub--image-analysis.json"; it records the other one.
    [file_id] = [sandbox.upload("Ürlaub/a.png", sample_image_bytes())]
    legacy = legacy_state_file("/Ürlaub", "image-analysis")
    other = {"version": 1, "folder": "/Örlaub", "task": "image-analysis", "files": {}}
    write_state(sandbox, other, legacy)
    result = run(sandbox, folder="/Ürlaub", report_path=None)
    assert [outcome.file_id for outcome in result.outcomes] == [file_id]
    assert read_state(sandbox, legacy) == other


@pytest.mark.parametrize(
    ("status", "said"), [(507, "Not enough storage"), (403, "Permission denied")]
)
def test_a_state_write_refused_before_posting_posts_nothing_and_pays_nothing_later(
    sandbox: NextcloudSandbox, status: int, said: str
) -> None:
    ids = photos(sandbox)
    sandbox.inject_error(STATE_PATH, status, method="PUT")
    with pytest.raises(StateFileError) as failure:
        run(sandbox, report_path=None)
    message = str(failure.value)
    assert f"The state file {STATE} could not be written: {said}" in message
    assert "No comment was posted" in message
    assert "which the next run adopts instead of paying for new ones" in message
    assert [comments(sandbox.credentials, file_id) for file_id in ids] == [[], [], []]
    assert len(sandbox.tasks()) == 3

    sandbox.clear_requests()
    again = run(sandbox, report_path=None)
    assert schedules(sandbox) == 0
    assert len(sandbox.tasks()) == 3  # adopted: nothing paid twice
    assert [(outcome.file_id, outcome.ok) for outcome in again.outcomes] == [
        (file_id, True) for file_id in ids
    ]
    assert all(outcome.text for outcome in again.outcomes)
    assert [len(comments(sandbox.credentials, file_id)) for file_id in ids] == [1, 1, 1]


def test_a_state_write_refused_after_posting_never_posts_twice(sandbox: NextcloudSandbox) -> None:
    ids = photos(sandbox)
    sandbox.inject_error(STATE_PATH, 507, method="PUT", after=1)  # the claim passes
    with pytest.raises(StateFileError, match="What this run did is not recorded"):
        run(sandbox, report_path=None)
    posted = [comments(sandbox.credentials, file_id) for file_id in ids]
    assert [len(found) for found in posted] == [1, 1, 1]
    entries = read_state(sandbox)["files"]
    assert {entries[str(file_id)]["status"] for file_id in ids} == {"posting"}

    sandbox.clear_requests()
    second = run(sandbox, report_path=None)
    assert [(outcome.file_id, outcome.ok) for outcome in second.outcomes] == [
        (file_id, True) for file_id in ids
    ]
    assert [outcome.text for outcome in second.outcomes] == [
        found[0].partition("\n")[2] for found in posted
    ]
    assert len(sandbox.requests_to("REPORT", "/comments/files/")) == 3  # one look per file
    assert sandbox.requests_to("POST", "/comments/files/") == []
    assert (schedules(sandbox), len(sandbox.tasks())) == (0, 3)
    assert [comments(sandbox.credentials, file_id) for file_id in ids] == posted

    sandbox.clear_requests()
    third = run(sandbox, report_path=None)
    assert (third.outcomes, third.unchanged_count) == ([], 3)
    assert [(r.method, r.status) for r in sandbox.requests] == [("PROPFIND", 207), ("GET", 200)]


@pytest.mark.parametrize("fault", ["lost answer", "dropped request"])
def test_a_comment_without_a_clear_answer_is_looked_for_before_posting_again(
    sandbox: NextcloudSandbox, fault: str
) -> None:
    [file_id] = photos(sandbox, "a")
    if fault == "lost answer":  # posted, but the answer never came back
        sandbox.inject_lost_response(f"/comments/files/{file_id}$", method="POST")
    else:  # never reached the server
        sandbox.inject_drop(f"/comments/files/{file_id}$", method="POST")
    [outcome] = run(sandbox, report_path=None).outcomes
    assert not outcome.ok
    assert "may have been posted as a comment, or not" in (outcome.error or "")
    assert read_state(sandbox)["files"][str(file_id)]["status"] == "posting"
    [again] = run(sandbox, report_path=None).outcomes
    assert (again.ok, again.task_id) == (True, outcome.task_id)
    assert len(comments(sandbox.credentials, file_id)) == 1
    assert len(sandbox.tasks()) == 1


def test_a_file_left_posting_waits_while_its_comments_cannot_be_read(
    sandbox: NextcloudSandbox,
) -> None:
    [first] = photos(sandbox, "a")
    sandbox.inject_lost_response(f"/comments/files/{first}$", method="POST")
    run(sandbox, report_path=None)
    [second] = photos(sandbox, "b")
    sandbox.inject_error(f"/comments/files/{first}$", 403, method="REPORT")
    result = run(sandbox, report_path=None)
    by_id = {outcome.file_id: outcome for outcome in result.outcomes}
    assert not by_id[first].ok
    assert "comments could not be read" in (by_id[first].error or "")
    assert by_id[second].ok
    assert [len(comments(sandbox.credentials, file_id)) for file_id in (first, second)] == [1, 1]
    assert read_state(sandbox)["files"][str(first)]["status"] == "posting"
    [last] = run(sandbox, report_path=None).outcomes
    assert (last.file_id, last.ok) == (first, True)
    assert [len(comments(sandbox.credentials, file_id)) for file_id in (first, second)] == [1, 1]
    assert len(sandbox.tasks()) == 2


def test_a_run_that_overlapped_another_adopts_its_tasks_and_posts_nothing_twice(
    sandbox: NextcloudSandbox,
) -> None:
    ids = photos(sandbox)
    first = run(sandbox, report_path=None)
    # The second run read the record before the first wrote it: it saw none.
    sandbox.inject_error(STATE_PATH, 404, method="GET")
    sandbox.clear_requests()
    second = run(sandbox, report_path=None)
    assert schedules(sandbox) == 0
    assert len(sandbox.tasks()) == 3
    assert [outcome.text for outcome in second.outcomes] == [o.text for o in first.outcomes]
    assert all(outcome.ok for outcome in second.outcomes)
    assert sandbox.requests_to("POST", "/comments/files/") == []
    assert [len(comments(sandbox.credentials, file_id)) for file_id in ids] == [1, 1, 1]


def deeply_nested() -> bytes:
    return b"[" * 10_000 + b"]" * 10_000


def padded_record() -> bytes:
    record = {"version": 2, "folder": "/Photos", "task": "image-analysis", "files": {}}
    return json.dumps({**record, "padding": "x" * 70_000}).encode()


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (b"{not json", "it is not JSON"),
        (deeply_nested(), "it is nested too deeply"),
        (padded_record(), "it is larger than the download limit of 65536 bytes"),
        (b"[1, 2]", "it is not a JSON object"),
        (json.dumps({"version": 99, "files": {}}).encode(), "format version 99"),
    ],
    ids=["not-json", "nested", "too-large", "not-an-object", "unknown-version"],
)
def test_an_unreadable_record_is_moved_aside_and_rebuilt(
    sandbox: NextcloudSandbox, caplog: pytest.LogCaptureFixture, record: bytes, why: str
) -> None:
    [file_id] = photos(sandbox, "a")
    sandbox.upload(STATE.lstrip("/"), record)
    # A small download limit (the server's task types, 20 KB, still fit) for the large record.
    credentials = sandbox.credentials.model_copy(update={"max_download_bytes": 65_536})
    with caplog.at_level(logging.WARNING):
        result = run(sandbox, credentials=credentials, report_path=None)
    assert [outcome.file_id for outcome in result.outcomes] == [file_id]
    assert len(sandbox.tasks()) == 1
    assert read_state(sandbox)["files"][str(file_id)]["status"] == "done"
    [aside] = [name for name in state_folder(sandbox) if ".corrupt-" in name]
    assert re.fullmatch(r"Photos-[0-9a-f]{10}--image-analysis\.corrupt-\d{8}T\d{6}Z\.json", aside)
    with sandbox.credentials.get_client() as client:
        assert client.download_file(f"/Prefect/process-new-files/{aside}") == record
    [warning] = [r.getMessage() for r in caplog.records if "moved aside" in r.getMessage()]
    assert STATE in warning
    assert aside in warning
    assert why in warning

    again = run(sandbox, credentials=credentials, report_path=None)
    assert (again.outcomes, again.unchanged_count) == ([], 1)
    assert len(sandbox.tasks()) == 1
    assert len([name for name in state_folder(sandbox) if ".corrupt-" in name]) == 1


def test_entries_that_cannot_be_read_are_dropped_alone(
    sandbox: NextcloudSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    kept, broken = photos(sandbox, "ab")
    run(sandbox, report_path=None, comment_on_files=False)
    record = read_state(sandbox)
    record["files"][str(broken)]["status"] = "lost"
    record["files"]["not-an-id"] = {"etag": "x", "status": "done"}
    write_state(sandbox, record)
    with caplog.at_level(logging.WARNING):
        result = run(sandbox, report_path=None, comment_on_files=False)
    assert [outcome.file_id for outcome in result.outcomes] == [broken]
    assert result.unchanged_count == 1
    assert len(sandbox.tasks()) == 2  # the broken entry's file again; it was not commented
    assert any(
        f"2 entries of the state file {STATE} cannot be read" in r.getMessage()
        for r in caplog.records
    )
    assert not [name for name in state_folder(sandbox) if ".corrupt-" in name]
    assert set(read_state(sandbox)["files"]) == {str(kept), str(broken)}


def test_a_record_of_another_folder_is_a_clear_error(sandbox: NextcloudSandbox) -> None:
    photos(sandbox, "a")
    run(sandbox, report_path=None)
    sandbox.upload("Scans/a.png", sample_image_bytes())
    with pytest.raises(ValueError, match=r"records /Photos \(image-analysis\), not /Scans"):
        run(sandbox, folder="/Scans", state_file=STATE, report_path=None)
    assert len(sandbox.tasks()) == 1


def test_a_file_whose_name_cannot_be_a_path_fails_alone(sandbox: NextcloudSandbox) -> None:
    first, last = photos(sandbox, "ad")
    odd = sandbox.upload("Photos/b\nc.png", sample_image_bytes())
    result = run(sandbox, report_path="/Reports/new.md")
    by_id = {outcome.file_id: outcome for outcome in result.outcomes}
    assert set(by_id) == {first, last, odd}
    assert by_id[first].ok
    assert by_id[last].ok
    assert not by_id[odd].ok
    assert by_id[odd].path == "/Photos/b\\x0ac.png"
    assert by_id[odd].task_id is None
    assert "/Photos holds an entry named 'b\\nc.png'" in (by_id[odd].error or "")
    assert "Rename it in Nextcloud" in (by_id[odd].error or "")
    assert len(sandbox.tasks()) == 2
    assert [len(comments(sandbox.credentials, file_id)) for file_id in (first, last, odd)] == [
        1,
        1,
        0,
    ]
    with sandbox.credentials.get_client() as client:
        assert "b\\x0ac.png" in client.download_file("/Reports/new.md").decode()
    again = run(sandbox, report_path=None)
    assert (again.outcomes, again.waiting_count, again.unchanged_count) == ([], 1, 2)


def test_files_that_always_fail_never_crowd_out_new_ones(sandbox: NextcloudSandbox) -> None:
    broken = [sandbox.upload(f"Photos/{name}.png", b"not an image") for name in "ab"]
    quiet: dict[str, Any] = {"report_path": None, "comment_on_files": False, "max_files": 2}
    first = run(sandbox, **quiet)
    assert [(outcome.file_id, outcome.ok) for outcome in first.outcomes] == [
        (file_id, False) for file_id in broken
    ]
    fresh = photos(sandbox, "cd")
    second = run(sandbox, **quiet)
    assert [(outcome.file_id, outcome.ok) for outcome in second.outcomes] == [
        (file_id, True) for file_id in fresh
    ]
    assert (second.waiting_count, second.left_out_count) == (2, 0)

    past_due(sandbox, *broken)
    [newest] = photos(sandbox, "e")
    third = run(sandbox, **quiet)
    # Never-tried files first, then the retries now due, within max_files.
    assert [outcome.file_id for outcome in third.outcomes] == [newest, broken[0]]
    assert third.left_out_count == 1
    assert len(sandbox.tasks()) == 2 + 2 + 2
    entry = read_state(sandbox)["files"][str(broken[0])]
    assert entry["attempts"] == 2
    wait = datetime.fromisoformat(entry["next_try"]) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=59) < wait <= timedelta(hours=2)
    assert read_state(sandbox)["files"][str(broken[1])]["attempts"] == 1


def test_the_wait_before_a_retry_doubles_up_to_a_week() -> None:
    assert [retry_delay(attempts) / timedelta(hours=1) for attempts in range(1, 10)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        168,
    ]
    assert retry_delay(10**9) == LAST_RETRY


def test_answers_are_posted_and_recorded_as_they_come_so_a_crash_keeps_them() -> None:
    # One worker, one task at a time: the answers arrive one after another.
    with NextcloudSandbox(run_seconds=1.0, workers=1) as sandbox:
        ids = photos(sandbox)

        def crash_after_the_first_comment() -> None:
            sandbox.wait_for_requests("POST", "/comments/files/", count=1, timeout=60)
            # The last task never starts, and the server refuses the next listing: the run
            # fails with answers still to come.
            sandbox.pause_processing()
            sandbox.inject_error("/taskprocessing/tasks/app/", 401, times=1000)

        crasher = threading.Thread(target=crash_after_the_first_comment)
        crasher.start()
        with pytest.raises(Exception, match="401"):
            run(sandbox, report_path=None)
        crasher.join()

        # Every answer known before the crash was posted and recorded as done.
        record = read_state(sandbox)["files"]
        done = [file_id for file_id in ids if record.get(str(file_id), {}).get("status") == "done"]
        commented = [file_id for file_id in ids if comments(sandbox.credentials, file_id)]
        assert 1 <= len(done) < len(ids)
        assert commented == done

        # The next run finishes the rest only: no task paid twice, no comment twice.
        sandbox.clear_faults()
        sandbox.resume_processing()
        again = run(sandbox, report_path=None)
        assert [outcome.file_id for outcome in again.outcomes] == [
            file_id for file_id in ids if file_id not in done
        ]
        assert [len(comments(sandbox.credentials, file_id)) for file_id in ids] == [1, 1, 1]
        assert len(sandbox.tasks()) == 3
