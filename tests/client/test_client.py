"""The sync and async clients against the sandbox over real HTTP: every endpoint, every error."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from faces import BothFaces

from prefect_nextcloud import NextcloudCredentials, __version__
from prefect_nextcloud.client import (
    AuthenticationError,
    FileAccessDeniedError,
    InvalidInputError,
    MaintenanceModeError,
    NextcloudClient,
    NextcloudConnectionError,
    NextcloudError,
    RateLimitedError,
    ScheduleDeferredError,
    ServerError,
    TaskFileNotFoundError,
    TaskInputError,
    TaskNotFoundError,
    TaskStatus,
    TaskTypeUnavailableError,
)
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes


def test_every_endpoint(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    types = call("get_task_types")
    assert types["core:text2text"].optional_input_shape_defaults == {
        "max_tokens": 1234,
        "model": "model_2",
    }
    assert [v.value for v in types["core:text2text"].optional_input_shape_enum_values["model"]] == [
        "model_1",
        "model_2",
        "model_3",
    ]
    sandbox.pause_processing()
    # The server drops unknown slots silently; with validation off, that is what it shows.
    task = call(
        "schedule_task",
        "core:text2text",
        {"input": "Hi", "junk": 1},
        custom_id="job-1",
        validate=False,
    )
    assert task.status is TaskStatus.SCHEDULED
    assert task.input == {"max_tokens": 1234, "model": "model_2", "input": "Hi"}
    assert task.custom_id == "job-1"
    assert call("get_task", task.id).id == task.id
    assert [t.id for t in call("list_tasks", custom_id="job-1")] == [task.id]
    assert [t.id for t in call("list_tasks", task_type="core:text2text")] == [task.id]
    assert call("list_tasks", task_type="core:text2text:summary") == []
    assert [t.id for t in call("list_tasks_by_app", "prefect-nextcloud")] == [task.id]
    assert call("list_tasks_by_app", "another-app") == []
    listing = call("task_listing", "prefect-nextcloud", custom_id="job-1")
    assert [t.id for t in listing.tasks] == [task.id]
    assert listing.unreadable == []
    assert call("cancel_task", task.id).status is TaskStatus.CANCELLED
    assert call("delete_task", task.id) is None
    with pytest.raises(TaskNotFoundError):
        call("get_task", task.id)


def test_task_file_returns_bytes_name_and_type(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    task = call("schedule_task", "core:analyze-images", {"images": [file_id], "input": "Hi"})
    downloaded = call("get_task_file", task.id, file_id)
    assert downloaded.content == sample_image_bytes()
    assert downloaded.content_type == "image/png"
    assert downloaded.filename == "sample.png"
    with pytest.raises(TaskFileNotFoundError, match="not part of task"):
        call("get_task_file", task.id, file_id + 1000)


def test_every_request_carries_the_ocs_headers_and_asks_for_json(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    call("get_task_types")
    [request] = sandbox.requests_to("GET", "/tasktypes$")
    assert request.headers["ocs-apirequest"] == "true"
    assert request.headers["user-agent"] == f"prefect-nextcloud/{__version__}"
    assert request.query["format"] == "json"
    assert request.headers["authorization"] == "REDACTED"


def test_wrong_password(sandbox: NextcloudSandbox) -> None:
    wrong = NextcloudCredentials(base_url=sandbox.base_url, user_id="alice", app_password="nope")
    with wrong.get_client() as client, pytest.raises(AuthenticationError) as info:
        client.get_task_types()
    assert info.value.status_code == 401
    assert info.value.server_message == "Unauthorised"
    assert "nope" not in str(info.value)


def test_invalid_input_is_refused_before_scheduling(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    with pytest.raises(TaskInputError, match="needs input slot 'input'"):
        call("schedule_task", "core:text2text", {})
    with pytest.raises(TaskInputError, match="has no input slot 'inptu'"):
        call("schedule_task", "core:text2text", {"inptu": "typo"})
    assert sandbox.requests_to("POST", "/schedule$") == []


def test_invalid_input_the_server_rejects(call: BothFaces) -> None:
    with pytest.raises(InvalidInputError, match='Missing key: "input"') as info:
        call("schedule_task", "core:text2text", {}, validate=False)
    assert info.value.endpoint == "POST /ocs/v2.php/taskprocessing/schedule"


def test_unavailable_task_type(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    with pytest.raises(TaskTypeUnavailableError, match="install and enable a provider app") as info:
        call("schedule_task", "core:no-such-type", {"input": "a fox"})
    assert "core:text2text" in str(info.value)  # the offered types are listed
    assert sandbox.requests_to("POST", "/schedule$") == []
    with pytest.raises(TaskTypeUnavailableError, match="The given provider is not available"):
        call("schedule_task", "core:no-such-type", {"input": "a fox"}, validate=False)


def test_file_of_another_user(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    bobs = sandbox.upload("bob.png", sample_image_bytes(), user_id="bob")
    with pytest.raises(FileAccessDeniedError, match="No access to a file"):
        call("schedule_task", "core:analyze-images", {"images": [bobs], "input": "Hi"})


def test_task_of_another_user_is_not_found(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    with sandbox.credentials_for("bob").get_client() as bob:
        bobs_task = bob.schedule_task("core:text2text", {"input": "Hi"})
    with pytest.raises(TaskNotFoundError, match="Task not found"):
        call("get_task", bobs_task.id)
    with pytest.raises(TaskNotFoundError):
        call("cancel_task", bobs_task.id)
    assert call("list_tasks") == []


def test_rate_limit_when_waiting_is_off() -> None:
    with NextcloudSandbox(rate_limit=2) as sandbox:
        # The block says 20, the server allows 2: the server's 429 surfaces.
        credentials = sandbox.credentials.model_copy(
            update={"rate_limit_wait_seconds": 0, "schedule_limit": 20}
        )
        with credentials.get_client() as client:
            for _ in range(2):
                client.schedule_task("core:text2text", {"input": "Hi"})
            with pytest.raises(RateLimitedError, match="20 schedule calls") as info:
                client.schedule_task("core:text2text", {"input": "Hi"})
    assert info.value.status_code == 429


def test_a_full_schedule_window_holds_calls_back_unsent() -> None:
    with NextcloudSandbox(rate_limit=2) as sandbox:
        credentials = sandbox.credentials.model_copy(update={"rate_limit_wait_seconds": 0})
        with credentials.get_client() as client:
            for _ in range(2):
                client.schedule_task("core:text2text", {"input": "Hi"})
            with pytest.raises(ScheduleDeferredError, match="held back, unsent") as info:
                client.schedule_task("core:text2text", {"input": "Hi"})
            with pytest.raises(ScheduleDeferredError):
                client.schedule_task("core:text2text", {"input": "Hi"}, wait_for_slot=False)
    assert not info.value.refused
    assert 0 < info.value.retry_after <= 121
    assert [r.status for r in sandbox.requests_to("POST", "/schedule$")] == [200, 200]


def test_rate_limit_is_waited_out(sandbox: NextcloudSandbox) -> None:
    # A 429 that this process did not cause holds schedules back for window / limit seconds.
    credentials = sandbox.credentials.model_copy(
        update={"rate_limit_wait_seconds": 2, "schedule_window_seconds": 2}
    )
    sandbox.inject_error("/schedule$", status=429, method="POST", times=1)
    with credentials.get_client() as client:
        scheduled = client.schedule_task("core:text2text", {"input": "Hi"})
    assert [r.status for r in sandbox.requests_to("POST", "/schedule$")] == [429, 200]
    assert [task.id for task in sandbox.tasks()] == [scheduled.id]


@pytest.mark.parametrize(
    ("inject", "error", "status"),
    [
        pytest.param(
            lambda sandbox: sandbox.inject_error(
                "/tasktypes", status=502, body=b"<html>Bad gateway</html>", times=1
            ),
            ServerError,
            502,
            id="bad-gateway",
        ),
        pytest.param(
            lambda sandbox: sandbox.inject_maintenance("/tasktypes", times=1),
            MaintenanceModeError,
            503,
            id="maintenance",
        ),
        pytest.param(
            lambda sandbox: sandbox.inject_drop("/tasktypes", times=1),
            NextcloudConnectionError,
            None,
            id="dropped-connection",
        ),
    ],
)
def test_a_passing_failure_surfaces_when_retrying_is_off(
    sandbox: NextcloudSandbox,
    inject: Callable[[NextcloudSandbox], None],
    error: type[NextcloudError],
    status: int | None,
) -> None:
    call = BothFaces(sandbox.credentials.model_copy(update={"retry_seconds": 0}), "sync")
    inject(sandbox)
    with pytest.raises(error) as info:
        call("get_task_types")
    assert info.value.status_code == status
    assert len(sandbox.requests_to("GET", "/tasktypes$")) == 1  # not retried
    assert call("get_task_types")  # the failure has passed


def test_transient_errors_are_retried(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    fast = BothFaces(
        sandbox.credentials.model_copy(update={"retry_initial_delay_seconds": 0.01}), call.face
    )
    sandbox.inject_error("/tasktypes", status=502, times=1)
    sandbox.inject_maintenance("/tasktypes", times=1)
    sandbox.inject_drop("/tasktypes", times=1)
    assert fast("get_task_types")
    assert [r.status for r in sandbox.requests_to("GET", "/tasktypes$")] == [502, 503, None, 200]


def test_permanent_errors_are_not_retried(sandbox: NextcloudSandbox) -> None:
    sandbox.inject_error("/task/7$", status=404, body=b'{"message":"Task not found"}', times=1)
    with sandbox.credentials.get_client() as client, pytest.raises(TaskNotFoundError):
        client.get_task(7)
    assert len(sandbox.requests_to("GET", "/task/7$")) == 1


def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = NextcloudClient(
        f"http://127.0.0.1:{port}",
        "alice",
        "secret-password",
        retry_policy=RetryPolicy(max_elapsed_seconds=0),
    )
    with client, pytest.raises(NextcloudConnectionError, match="connection to") as info:
        client.get_task(1)
    assert "secret-password" not in str(info.value)
    # A new client asks for the task at once: the Task Processing API is assumed until a 404.
    assert info.value.endpoint == "GET /ocs/v2.php/taskprocessing/task/1"


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("get_task", (0,), "task_id must be a positive integer"),
        ("get_task", ("7",), "task_id must be a positive integer"),
        ("schedule_task", ("", {}), "task_type must be a non-empty string"),
        ("schedule_task", ("core:text2text", ["x"]), "input must be a mapping"),
        ("get_task_file", (1, -2), "file_id must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    sandbox: NextcloudSandbox, call: BothFaces, method: str, args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(method, *args)
    assert sandbox.requests == []


def test_schedule_arguments_are_checked(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    with pytest.raises(ValueError, match="at most 255"):
        call("schedule_task", "core:text2text", {"input": "x"}, custom_id="x" * 256)
    with pytest.raises(ValueError, match="app_id may have at most 32 characters"):
        call("schedule_task", "core:text2text", {"input": "x"}, app_id="a" * 33)
    with pytest.raises(ValueError, match="webhook_uri may have at most 4000"):
        call(
            "schedule_task",
            "core:text2text",
            {"input": "x"},
            webhook_uri="https://h/" + "x" * 4000,
            webhook_method="HTTP:POST",
        )
    with pytest.raises(ValueError, match="given together"):
        call("schedule_task", "core:text2text", {"input": "x"}, webhook_uri="https://h/x")
    with pytest.raises(ValueError, match="would ignore it"):
        call(
            "schedule_task",
            "core:text2text",
            {"input": "x"},
            webhook_uri="https://h/x",
            webhook_method="POST",
        )
    assert sandbox.requests == []


def test_a_listing_keeps_rows_that_are_not_tasks_apart(
    sandbox: NextcloudSandbox, call: BothFaces, caplog: pytest.LogCaptureFixture
) -> None:
    task = call("schedule_task", "core:text2text", {"input": "Hi"}, custom_id="good")

    def spoil(data: Any) -> Any:
        rows = data["ocs"]["data"]["tasks"]
        rows.append({**rows[0], "id": 99, "customId": "bad", "input": 42})
        rows.append("not even a map")
        return data

    sandbox.inject_rewrite("/tasks/app/", spoil, method="GET", times=2)
    listing = call("task_listing", "prefect-nextcloud")
    assert [t.id for t in listing.tasks] == [task.id]
    bad, garbage = listing.unreadable
    assert (bad.id, bad.custom_id, bad.user_id, bad.app_id) == (99, "bad", "alice", task.app_id)
    assert bad.problem.startswith("input:")
    assert (garbage.id, garbage.custom_id) == (None, None)
    assert [t.id for t in call("list_tasks_by_app", "prefect-nextcloud")] == [task.id]
    assert "2 row(s) that are not valid tasks" in caplog.text
