"""Task processing endpoints: task types, scheduling, validation, life cycle, visibility."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sandbox_helpers import TP, client_for, make_png, ocs_data, schedule, schedule_ok

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

TASK_TYPE_KEYS = [
    "name",
    "description",
    "optionalInputShape",
    "inputShapeEnumValues",
    "inputShapeDefaults",
    "inputShape",
    "optionalInputShapeEnumValues",
    "optionalInputShapeDefaults",
    "outputShape",
    "outputShapeEnumValues",
    "optionalOutputShape",
    "optionalOutputShapeEnumValues",
    "isInternal",
]
TASK_KEYS = [
    "id",
    "type",
    "lastUpdated",
    "status",
    "userId",
    "appId",
    "input",
    "output",
    "customId",
    "completionExpectedAt",
    "progress",
    "scheduledAt",
    "startedAt",
    "endedAt",
    "allowCleanup",
    "includeWatermark",
    "userFacingErrorMessage",
]


def _error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()["ocs"]
    assert body["meta"]["message"] == ""
    return response.status_code, body["data"]["message"]


def test_task_types(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/tasktypes")
    types = ocs_data(response)["types"]
    assert list(types)[:4] == [
        "core:text2text",
        "core:text2text:headline",
        "core:text2text:topics",
        "core:text2text:summary",
    ]
    text2text = types["core:text2text"]
    assert list(text2text) == TASK_TYPE_KEYS
    assert text2text["inputShape"] == {
        "input": {
            "name": "Prompt",
            "description": "Describe a task that you want the assistant to do or ask a question",
            "type": "Text",
        }
    }
    assert text2text["optionalInputShapeDefaults"] == {"max_tokens": 1234, "model": "model_2"}
    assert [v["value"] for v in text2text["optionalInputShapeEnumValues"]["model"]] == [
        "model_1",
        "model_2",
        "model_3",
    ]
    assert text2text["isInternal"] is False
    assert types["core:analyze-images"]["inputShape"]["images"]["type"] == "ListOfImages"
    # Empty shape, enum and default maps are objects, not PHP's empty array.
    assert b'"inputShapeEnumValues":{},"inputShapeDefaults":{}' in response.content


def test_schedule_normalises_input(alice: httpx.Client) -> None:
    task = schedule_ok(
        alice, "core:text2text", {"input": "Write a haiku", "junk": 1}, customId="job-1"
    )
    assert list(task) == TASK_KEYS
    assert list(task["input"]) == ["max_tokens", "model", "input"]
    assert task["input"] == {"max_tokens": 1234, "model": "model_2", "input": "Write a haiku"}
    assert task["status"] == "STATUS_SCHEDULED"
    assert (task["userId"], task["appId"], task["customId"]) == ("alice", "tests", "job-1")
    assert task["output"] is None
    assert task["progress"] is None
    assert task["startedAt"] is None
    assert task["endedAt"] is None
    assert task["lastUpdated"] == task["scheduledAt"]
    assert task["completionExpectedAt"] == task["scheduledAt"] + 1
    assert task["allowCleanup"] is True
    assert task["includeWatermark"] is True
    assert task["userFacingErrorMessage"] is None


def test_schedule_defaults_and_options(alice: httpx.Client) -> None:
    task = schedule_ok(
        alice,
        "core:text2text",
        {"model": "model_3", "input": "x", "max_tokens": None},
        includeWatermark=False,
    )
    # A given value keeps the default's position; an explicit null survives (PHP array_merge).
    assert task["input"] == {"max_tokens": None, "model": "model_3", "input": "x"}
    assert list(task["input"]) == ["max_tokens", "model", "input"]
    assert task["customId"] == ""
    assert task["includeWatermark"] is False


def test_schedule_unknown_type(alice: httpx.Client) -> None:
    response = schedule(alice, "core:nope", {"input": "x"})
    assert _error(response) == (412, "The given provider is not available")


@pytest.mark.parametrize(
    ("task_type", "task_input", "message"),
    [
        ("core:text2text", {}, 'Missing key: "input"'),
        ("core:text2text", [], 'Missing key: "input"'),
        ("core:text2text", {"input": None}, 'Missing key: "input"'),
        (
            "core:text2text",
            {"input": 5},
            'Failed to validate input key "input": Non-text item provided for Text slot',
        ),
        (
            "core:text2text",
            {"input": "x", "max_tokens": "many"},
            'Failed to validate input key "max_tokens": Non-numeric item provided for Number slot',
        ),
        (
            "core:text2text",
            {"input": "x", "max_tokens": True},
            'Failed to validate input key "max_tokens": Non-numeric item provided for Number slot',
        ),
        (
            "core:text2text",
            {"input": "x", "model": 2},
            'Failed to validate input key "model": Non-text item provided for Enum slot',
        ),
        (
            "core:text2text",
            {"input": "x", "model": "gpt"},
            'Failed to validate input key "model": Wrong value given for Enum slot. Got "gpt", '
            'but expected one of the provided enum values: "model_1", "model_2", "model_3"',
        ),
        (
            "core:analyze-images",
            {"input": "x"},
            'Missing key: "images"',
        ),
        (
            "core:analyze-images",
            {"images": 3, "input": "x"},
            'Failed to validate input key "images": '
            "Non-image list item provided for ListOfImages slot",
        ),
        (
            "core:analyze-images",
            {"images": [1, "one"], "input": "x"},
            'Failed to validate input key "images": '
            "Non-image list item provided for ListOfImages slot",
        ),
        (
            "core:analyze-images",
            {"images": [1], "input": ["x"]},
            'Failed to validate input key "input": Non-text item provided for Text slot',
        ),
    ],
)
def test_schedule_validation(
    alice: httpx.Client, task_type: str, task_input: Any, message: str
) -> None:
    assert _error(schedule(alice, task_type, task_input)) == (400, message)


@pytest.mark.parametrize(
    ("param", "length"),
    [("appId", 32), ("customId", 255), ("webhookUri", 4000), ("webhookMethod", 64)],
)
def test_values_longer_than_their_column_fail_the_insert(
    sb: NextcloudSandbox, alice: httpx.Client, param: str, length: int
) -> None:
    assert schedule(alice, "core:text2text", {"input": "x"}, **{param: "a" * length}).is_success
    before = len(sb.tasks())
    response = schedule(alice, "core:text2text", {"input": "x"}, **{param: "a" * (length + 1)})
    # An uncaught OCP\DB\Exception: the generic 500 of ocs/v1.php, in XML as it passes no format.
    assert response.status_code == 500
    assert "<statuscode>500</statuscode>" in response.text
    assert "<message>Internal Server Error\n</message>" in response.text
    assert len(sb.tasks()) == before


def test_too_long_app_id_is_checked_after_the_input(alice: httpx.Client) -> None:
    response = schedule(alice, "core:text2text", {}, appId="a" * 33)
    assert _error(response) == (400, 'Missing key: "input"')


def test_numeric_strings_are_numbers(alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2text", {"input": "x", "max_tokens": " 12.5e1"})
    assert task["input"]["max_tokens"] == " 12.5e1"


def test_mandatory_slots_are_checked_in_shape_order(alice: httpx.Client) -> None:
    response = schedule(alice, "core:analyze-images", {"input": 1})
    assert _error(response) == (400, 'Missing key: "images"')


def test_file_checks(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    own = sb.upload("checks/own.png", make_png(2, 2))
    theirs = sb.upload("theirs.png", make_png(2, 2), user_id="bob")
    folder = sb.upload("checks/deeper/x.txt", b"x") - 1  # the folder created just before
    assert _error(
        schedule(alice, "core:analyze-images", {"images": [own, 987654], "input": "?"})
    ) == (
        400,
        "Could not find file 987654",
    )
    assert _error(schedule(alice, "core:analyze-images", {"images": [folder], "input": "?"})) == (
        400,
        f'File with id "{folder}" is not a file',
    )
    response = schedule(alice, "core:analyze-images", {"images": [own, theirs], "input": "?"})
    assert response.status_code == 401
    assert response.json()["ocs"] == {
        "meta": {"status": "failure", "statuscode": 401, "message": ""},
        "data": {"message": "User does not have access to the files mentioned in the task input"},
    }
    task = schedule_ok(alice, "core:analyze-images", {"images": [str(own)], "input": "?"})
    assert task["input"]["images"] == [str(own)]


def test_life_cycle(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.pause_processing()
    task = schedule_ok(alice, "core:text2text", {"input": "Hello"})
    assert sb.task(task["id"]).status == "STATUS_SCHEDULED"
    sb.hold_running()
    running = sb.wait_for_status(task["id"], "RUNNING")
    assert running.started_at is not None
    assert running.progress is None
    assert ocs_data(alice.get(f"{TP}/task/{task['id']}"))["task"]["status"] == "STATUS_RUNNING"
    sb.resume_processing()
    done = sb.wait_for_status(task["id"], "STATUS_SUCCESSFUL")
    fetched = ocs_data(alice.get(f"{TP}/task/{task['id']}"))["task"]
    assert fetched == done.json
    assert fetched["output"] == {
        "output": "This is a fake result: \n\n- Prompt: Hello\n- Model: model_2\n"
        "- Maximum number of words: 1234"
    }
    assert fetched["progress"] == 1.0
    assert fetched["scheduledAt"] <= fetched["startedAt"] <= fetched["endedAt"]
    assert fetched["lastUpdated"] >= fetched["endedAt"]
    assert fetched["completionExpectedAt"] == fetched["scheduledAt"] + 1


def test_text_to_text_ignores_numeric_string_tokens(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    task = schedule_ok(alice, "core:text2text", {"input": "x", "max_tokens": "50"})
    done = sb.wait_for_status(task["id"], "SUCCESSFUL")
    assert done.output == {
        "output": "This is a fake result: \n\n- Prompt: x\n- Model: model_2\n"
        "- Maximum number of words: "
    }


def test_summary_reports_paragraphs_and_first_sentences(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    text = "First point. Detail.\n\nSecond point? Yes.\n\n" + "Third " * 80
    task = schedule_ok(alice, "core:text2text:summary", {"input": text})
    output = sb.wait_for_status(task["id"], "SUCCESSFUL").output
    assert output is not None
    summary = output["output"]
    assert summary.startswith(
        "Sandbox summary of 3 paragraphs (86 words): First point. Second point? Third Third"
    )
    assert summary.endswith("\N{HORIZONTAL ELLIPSIS}")
    assert len(summary) < 320
    empty = schedule_ok(alice, "core:text2text:summary", {"input": " \n "})
    assert sb.wait_for_status(empty["id"], "SUCCESSFUL").output == {
        "output": "Sandbox summary of an empty text: there is nothing to summarize."
    }


def test_failing_type(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.set_failing("core:text2text")
    task = schedule_ok(alice, "core:text2text", {"input": "x"})
    with pytest.raises(RuntimeError, match="ended as STATUS_FAILED"):
        sb.wait_for_status(task["id"], "SUCCESSFUL")
    failed = sb.task(task["id"])
    assert failed.output is None
    assert failed.ended_at is not None
    assert failed.user_facing_error_message is None
    assert failed.error_message == "Failing as set by AppConfig"
    assert failed.json["userFacingErrorMessage"] is None


def test_analyze_images_reads_image_facts(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    first = sb.upload("facts/sample.png", sample_image_bytes())
    second = sb.upload("facts/wide.png", make_png(300, 20))
    task = schedule_ok(
        alice, "core:analyze-images", {"images": [first, second], "input": "What is it?"}
    )
    output = sb.wait_for_status(task["id"], "SUCCESSFUL").output
    assert output == {
        "output": 'Sandbox image analysis (not an AI answer). Prompt: "What is it?". '
        f"Image 1 (file {first}, sample.png): PNG, 64\u00d748 px, "
        f"{len(sample_image_bytes()):,} bytes. "
        f"Image 2 (file {second}, wide.png): PNG, 300\u00d720 px, "
        f"{len(make_png(300, 20)):,} bytes."
    }


def test_analyze_images_takes_an_optional_model(alice: httpx.Client, sb: NextcloudSandbox) -> None:
    image = sb.upload("model.png", make_png(1, 1))
    task = schedule_ok(
        alice, "core:analyze-images", {"images": [image], "input": "?", "model": "m1"}
    )
    assert task["input"] == {"images": [image], "input": "?", "model": "m1"}
    without = schedule_ok(alice, "core:analyze-images", {"images": [image], "input": "?"})
    assert without["input"] == {"images": [image], "input": "?"}


def test_analyze_images_rejects_non_images(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    text = sb.upload("notes.txt", b"not an image")
    task = schedule_ok(alice, "core:analyze-images", {"images": [text], "input": "?"})
    failed = sb.wait_for_status(task["id"], "FAILED")
    assert failed.started_at is not None
    assert failed.user_facing_error_message is not None
    assert "notes.txt" in failed.user_facing_error_message


def test_file_deleted_before_processing(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.pause_processing()
    image = sb.upload("gone.png", make_png(1, 1))
    task = schedule_ok(alice, "core:analyze-images", {"images": [image], "input": "?"})
    assert alice.request("DELETE", "/remote.php/dav/files/alice/gone.png").status_code == 204
    sb.resume_processing()
    failed = sb.wait_for_status(task["id"], "FAILED")
    assert failed.started_at is None
    assert failed.error_message == f"Could not find file {image}"


def test_progress_and_cancel_while_running() -> None:
    with NextcloudSandbox(run_seconds=0.2) as sandbox, client_for(sandbox, "alice") as alice:
        sandbox.hold_running()  # the result is held back, so the cancel cannot come too late
        task = schedule_ok(alice, "core:text2text", {"input": "x"})
        halfway = sandbox.wait_for_task(task["id"], lambda t: t.progress == 0.5)
        assert halfway.status == "STATUS_RUNNING"
        cancelled = ocs_data(alice.post(f"{TP}/tasks/{task['id']}/cancel"))["task"]
        assert cancelled["status"] == "STATUS_CANCELLED"
        assert cancelled["progress"] == 0.5
        assert cancelled["endedAt"] is not None


def test_cancel_wins_over_a_late_result(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.hold_running()
    task = schedule_ok(alice, "core:text2text", {"input": "x"})
    sb.wait_for_status(task["id"], "RUNNING")
    assert alice.post(f"{TP}/tasks/{task['id']}/cancel").status_code == 200
    sb.resume_processing()
    later = schedule_ok(alice, "core:text2text", {"input": "y"})
    sb.wait_for_status(later["id"], "SUCCESSFUL")  # one worker: the cancelled one came first
    cancelled = sb.task(task["id"])
    assert cancelled.status == "STATUS_CANCELLED"
    assert cancelled.output is None


def test_cancel_scheduled_then_finished_is_a_no_op(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    sb.pause_processing()
    task = schedule_ok(alice, "core:text2text", {"input": "x"})
    first = ocs_data(alice.post(f"{TP}/tasks/{task['id']}/cancel"))["task"]
    assert first["status"] == "STATUS_CANCELLED"
    assert first["startedAt"] is None
    assert first["endedAt"] is not None
    second = ocs_data(alice.post(f"{TP}/tasks/{task['id']}/cancel"))["task"]
    assert second == first
    sb.resume_processing()
    done = schedule_ok(alice, "core:text2text", {"input": "x"})
    finished = sb.wait_for_status(done["id"], "SUCCESSFUL").json
    assert ocs_data(alice.post(f"{TP}/tasks/{done['id']}/cancel"))["task"] == finished


def test_cancel_unknown_task(alice: httpx.Client) -> None:
    assert _error(alice.post(f"{TP}/tasks/999999/cancel")) == (404, "Not found")


def test_delete(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2text", {"input": "x"})
    response = alice.delete(f"{TP}/task/{task['id']}")
    assert (
        response.content
        == b'{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":null}}'
    )
    assert _error(alice.get(f"{TP}/task/{task['id']}")) == (404, "Task not found")
    again = alice.delete(f"{TP}/task/{task['id']}", headers={"Accept": "application/xml"})
    assert again.status_code == 200
    assert again.text.endswith(" <data/>\n</ocs>\n")


def test_other_users_tasks_are_invisible(
    sb: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client
) -> None:
    task = schedule_ok(alice, "core:text2text", {"input": "private"}, customId="secret")
    assert _error(bob.get(f"{TP}/task/{task['id']}")) == (404, "Task not found")
    assert _error(bob.post(f"{TP}/tasks/{task['id']}/cancel")) == (404, "Not found")
    assert bob.delete(f"{TP}/task/{task['id']}").json()["ocs"]["data"] is None
    assert sb.task(task["id"]).user_id == "alice"  # not deleted by bob
    assert ocs_data(bob.get(f"{TP}/tasks", params={"customId": "secret"})) == {"tasks": []}


def test_list_tasks_filters(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    tag = "list-filters"
    a = schedule_ok(alice, "core:text2text", {"input": "a"}, customId=tag)
    b = schedule_ok(alice, "core:text2text:summary", {"input": "b"}, customId=tag)
    c = schedule_ok(alice, "core:text2text", {"input": "c"}, customId=tag, appId="other")

    def ids(path: str, **params: str) -> list[int]:
        return [t["id"] for t in ocs_data(alice.get(f"{TP}{path}", params=params))["tasks"]]

    assert ids("/tasks", customId=tag) == [a["id"], b["id"], c["id"]]
    assert ids("/tasks", customId=tag, taskType="core:text2text") == [a["id"], c["id"]]
    assert ids("/tasks/app/other", customId=tag) == [c["id"]]
    assert ids("/tasks/app/tests", customId=tag) == [a["id"], b["id"]]
    assert ids("/tasks", taskType="") == []
    all_ids = ids("/tasks")
    assert {a["id"], b["id"], c["id"]} <= set(all_ids)
    assert all_ids == sorted(all_ids)
    empty = alice.get(f"{TP}/tasks", params={"customId": "nothing-has-this"})
    assert b'"data":{"tasks":[]}' in empty.content


def test_file_endpoint(sb: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client) -> None:
    image = sb.upload("endpoint/pic.png", sample_image_bytes())
    other = sb.upload("endpoint/other.png", make_png(1, 1))
    task = schedule_ok(alice, "core:analyze-images", {"images": [image], "input": "?"})
    response = httpx.get(  # NoCSRFRequired: no OCS-APIRequest header needed
        f"{sb.base_url}{TP}/tasks/{task['id']}/file/{image}",
        auth=(sb.user_id, sb.app_password),
    )
    assert response.status_code == 200
    assert response.content == sample_image_bytes()
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="pic.png"'
    assert _error(alice.get(f"{TP}/tasks/{task['id']}/file/{other}")) == (404, "Not found")
    assert _error(bob.get(f"{TP}/tasks/{task['id']}/file/{image}")) == (404, "Not found")
    assert httpx.get(f"{sb.base_url}{TP}/tasks/{task['id']}/file/{image}").status_code == 401


def test_webhook_is_called(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    task = schedule_ok(
        alice,
        "core:text2text",
        {"input": "hook"},
        webhookUri=f"{sb.base_url}/hooks/done",
        webhookMethod="HTTP:POST",
    )
    [request] = sb.wait_for_requests("POST", r"^/hooks/done$")
    assert request.headers["content-type"] == "application/json"
    payload = request.json()["task"]
    assert payload["id"] == task["id"]
    assert payload["status"] == "STATUS_SUCCESSFUL"


@pytest.mark.parametrize("version", [30, 32, 35])
def test_server_version_switch(version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox, client_for(sandbox, "alice") as alice:
        types = ocs_data(alice.get(f"{TP}/tasktypes"))["types"]
        assert ("core:analyze-images" in types) is (version >= 32)
        assert ("isInternal" in types["core:text2text"]) is (version >= 33)
        task = schedule_ok(alice, "core:text2text", {"input": "x"})
        assert ("allowCleanup" in task) is (version >= 32)
        assert ("userFacingErrorMessage" in task) is (version >= 33)
        assert ("preferStreaming" in task) is (version >= 35)
        consumer = alice.get(f"{TP}/tasks_consumer/tasktypes")
        assert consumer.status_code == (412 if version >= 33 else 404)


def test_app_password_format(sb: NextcloudSandbox) -> None:
    assert re.fullmatch(r"([A-Za-z0-9]{5}-){4}[A-Za-z0-9]{5}", sb.app_password)
