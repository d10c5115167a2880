"""Output files: stored in app data, served through their task only, removed by cleanup."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import TP, ocs_data, schedule, schedule_ok

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for
from prefect_nextcloud.sandbox.storage.images import read_image_facts


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[NextcloudSandbox]:
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, rate_limit=10_000, server_version=35) as sandbox:
        yield sandbox


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, ocs_data(response)["message"]


def test_text_to_image(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2image", {"input": "a fox", "numberOfImages": 3})
    images = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["images"]
    assert len(images) == 3
    assert all(isinstance(file_id, int) for file_id in images)
    contents = []
    for file_id in images:
        response = alice.get(f"{TP}/tasks/{task['id']}/file/{file_id}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        disposition = response.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="\d{10}-\d{1,6}"', disposition)
        assert read_image_facts(response.content) is not None
        contents.append(response.content)
    assert len(set(contents)) == 3  # each image differs


def test_text_to_image_defaults_and_size(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2image", {"input": "a fox", "size": "32x16"})
    assert task["input"] == {"numberOfImages": 1, "input": "a fox", "size": "32x16"}
    [image] = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["images"]
    facts = read_image_facts(alice.get(f"{TP}/tasks/{task['id']}/file/{image}").content)
    assert facts is not None
    assert (facts.width, facts.height) == (32, 16)


def test_text_to_image_is_deterministic(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    def image_bytes() -> bytes:
        task = schedule_ok(alice, "core:text2image", {"input": "same prompt"})
        [image] = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["images"]
        return alice.get(f"{TP}/tasks/{task['id']}/file/{image}").content

    assert image_bytes() == image_bytes()


@pytest.mark.parametrize(
    ("count", "message"),
    [(0, "Cannot generate less than 1 image"), (13, "Cannot generate more than 12 images")],
)
def test_number_of_images_out_of_range(
    sb: NextcloudSandbox, alice: httpx.Client, count: int, message: str
) -> None:
    task = schedule_ok(alice, "core:text2image", {"input": "x", "numberOfImages": count})
    failed = sb.wait_for_status(task["id"], "FAILED")
    assert failed.output is None
    assert failed.user_facing_error_message == message


def test_text_to_speech(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2speech", {"input": "Hello there"})
    speech = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["speech"]
    response = alice.get(f"{TP}/tasks/{task['id']}/file/{speech}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/x-wav"
    assert response.content[:4] == b"RIFF"
    assert response.content[8:12] == b"WAVE"


def test_output_files_are_not_user_files(
    sb: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client
) -> None:
    task = schedule_ok(alice, "core:text2speech", {"input": "x"})
    speech = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["speech"]
    other = schedule_ok(alice, "core:text2text", {"input": "x"})
    sb.wait_for_status(other["id"], "SUCCESSFUL")
    # Only through the task it belongs to, and only for its owner (§3.7).
    assert _error(alice.get(f"{TP}/tasks/{other['id']}/file/{speech}")) == (404, "Not found")
    assert _error(bob.get(f"{TP}/tasks/{task['id']}/file/{speech}")) == (404, "Not found")
    # App data is nobody's file: it cannot be used as input, even by the task owner.
    reuse = schedule(alice, "core:audio2text", {"input": speech})
    assert reuse.status_code == 401


def test_delete_then_cleanup(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2image", {"input": "x", "numberOfImages": 2})
    images = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["images"]
    url = f"{TP}/tasks/{task['id']}/file/{images[0]}"
    assert alice.get(url).status_code == 200
    assert sb.cleanup_task(task["id"]) == sorted(images)
    assert _error(alice.get(url)) == (404, "Not found")
    assert _error(alice.get(f"{TP}/task/{task['id']}")) == (404, "Task not found")
    with pytest.raises(KeyError):
        sb.cleanup_task(task["id"])


def test_delete_keeps_files_but_the_task_url_is_gone(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    task = schedule_ok(alice, "core:text2speech", {"input": "x"})
    speech = sb.wait_for_status(task["id"], "SUCCESSFUL").json["output"]["speech"]
    assert alice.delete(f"{TP}/task/{task['id']}").status_code == 200
    assert _error(alice.get(f"{TP}/tasks/{task['id']}/file/{speech}")) == (404, "Not found")


def test_cleanup_keeps_input_files(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    audio = sb.upload("outputs/keep.wav", b"RIFF....WAVE")
    task = schedule_ok(alice, "core:audio2text", {"input": audio})
    sb.wait_for_status(task["id"], "SUCCESSFUL")
    assert sb.cleanup_task(task["id"]) == []
    kept = alice.get("/remote.php/dav/files/alice/outputs/keep.wav")
    assert kept.content == b"RIFF....WAVE"


def test_folder_id_in_a_file_slot(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    assert alice.request("MKCOL", "/remote.php/dav/files/alice/a-folder").status_code == 201
    body = (
        '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        "<d:prop><oc:fileid/></d:prop></d:propfind>"
    )
    propfind = alice.request(
        "PROPFIND", "/remote.php/dav/files/alice/a-folder", content=body, headers={"Depth": "0"}
    )
    found = re.search(r"<oc:fileid>(\d+)</oc:fileid>", propfind.text)
    assert found is not None
    folder_id = int(found.group(1))
    for task_type, task_input in (
        ("core:audio2text", {"input": folder_id}),
        ("core:image2text:ocr", {"input": [folder_id]}),
    ):
        assert _error(schedule(alice, task_type, task_input)) == (
            400,
            f'File with id "{folder_id}" is not a file',
        )
