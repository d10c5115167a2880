"""The Prefect tasks against the sandbox over real HTTP, from sync and async flows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flow_helpers import OPTIONS, in_flow
from prefect import flow

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    AuthenticationError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    TaskTypeUnavailableError,
)
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import (
    ImageAnalysis,
    RunOptions,
    analyze_images,
    cancel_task,
    delete_task,
    download_task_file,
    list_task_types,
    run_task,
    schedule_task,
    wait_for_task,
)
from prefect_nextcloud.tasks.images import image_analysis_input

pytestmark = pytest.mark.usefixtures("prefect_server")

FACES = pytest.mark.parametrize("face", ["sync", "async"])


def requests_to(sandbox: NextcloudSandbox, method: str, fragment: str) -> list[Any]:
    return [r for r in sandbox.requests if r.method == method and fragment in r.path]


@flow
def analyze_in_sync_flow(credentials: NextcloudCredentials, **kwargs: Any) -> ImageAnalysis:
    return analyze_images(credentials, **kwargs)


@flow
async def analyze_in_async_flow(credentials: NextcloudCredentials, **kwargs: Any) -> ImageAnalysis:
    return analyze_images(credentials, **kwargs)


@pytest.mark.parametrize("face", ["sync", "async"])
def test_analyze_images_returns_the_sandbox_analysis(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, face: str
) -> None:
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    arguments = {"prompt": "What is this?", "image_file_ids": str(file_id), "options": OPTIONS}
    if face == "sync":
        analysis = analyze_in_sync_flow(credentials, **arguments)
    else:
        analysis = asyncio.run(analyze_in_async_flow(credentials, **arguments))
    assert "What is this?" in analysis.analysis_text
    assert "PNG" in analysis.analysis_text
    [task] = sandbox.tasks()
    assert analysis.task_id == task.id
    assert task.status == "STATUS_SUCCESSFUL"
    # A numeric string id is sent as a JSON integer; no model is sent when none is given.
    assert task.input == {"images": [file_id], "input": "What is this?"}


def test_analyze_images_sends_the_model_when_given(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    analyze_in_sync_flow(
        credentials, prompt="Hi", image_file_ids=[file_id], model="m1", options=OPTIONS
    )
    [task] = sandbox.tasks()
    assert task.input["model"] == "m1"


@pytest.mark.parametrize(
    ("prompt", "ids", "message"),
    [
        ("", [1], "prompt must be a non-empty"),
        ("   ", [1], "prompt must be a non-empty"),
        ("Hi", [], "at least one image"),
        ("Hi", ["photo.png"], "Image 1: The file reference 'photo.png' is ambiguous"),
        ("Hi", [3, 0], "Image 2: A Nextcloud file id must be a positive integer"),
        ("Hi", [-4], "must be a positive integer"),
        ("Hi", [True], "cannot be a bool"),
        ("Hi", [1.5], "Cannot use a float"),
    ],
)
def test_image_analysis_input_refuses_bad_arguments(prompt: str, ids: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        image_analysis_input(prompt, ids)


@pytest.mark.parametrize("model", ["", "  ", 3])
def test_image_analysis_input_refuses_a_blank_model(model: Any) -> None:
    with pytest.raises(ValueError, match="model must be a non-empty model name"):
        image_analysis_input("Hi", [1], model)


@pytest.mark.parametrize(
    "bad",
    [
        {"prompt": "", "image_file_ids": [1]},
        {"prompt": "Hi", "image_file_ids": []},
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"must be a non-empty|must name at least one"):
        analyze_in_sync_flow(credentials, **bad)
    assert sandbox.requests == []


def test_failed_task_names_the_task(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    sandbox.set_failing("core:analyze-images")
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    with pytest.raises(TaskFailedError) as info:
        analyze_in_sync_flow(credentials, prompt="Hi", image_file_ids=file_id, options=OPTIONS)
    [task] = sandbox.tasks()
    assert task.status == "STATUS_FAILED"
    assert info.value.task_id == task.id
    assert f"task {task.id}" in str(info.value)


@FACES
def test_wait_ends_at_once_on_a_failed_task(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, face: str
) -> None:
    sandbox.set_failing("core:text2text")

    def schedule_then_wait() -> Any:
        scheduled = schedule_task(credentials, "core:text2text", {"input": "Hi"})
        sandbox.wait_for_status(scheduled.id, "STATUS_FAILED")
        return wait_for_task(credentials, scheduled.id, options=OPTIONS)

    with pytest.raises(TaskFailedError):
        in_flow(schedule_then_wait, face)
    [task] = sandbox.tasks()
    assert len(requests_to(sandbox, "GET", f"/task/{task.id}")) == 1


def test_timeout_cancels_the_task_and_says_how_long_it_waited(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    sandbox.pause_processing()
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    with pytest.raises(TaskTimeoutError) as info:
        analyze_in_sync_flow(
            credentials,
            prompt="Hi",
            image_file_ids=file_id,
            options=RunOptions(timeout_seconds=1.0, poll_interval_seconds=0.2),
        )
    [task] = sandbox.tasks()
    assert info.value.task_id == task.id
    assert info.value.cancelled is True
    assert info.value.running_seconds == 0
    assert f"task {task.id}" in str(info.value)
    assert "in the queue" in str(info.value)
    assert task.status == "STATUS_CANCELLED"


@FACES
def test_timeout_can_leave_the_task_running(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, face: str
) -> None:
    sandbox.pause_processing()

    def wait_without_cancel() -> None:
        scheduled = schedule_task(credentials, "core:text2text", {"input": "Hi"})
        wait_for_task(
            credentials,
            scheduled.id,
            options=RunOptions(
                timeout_seconds=1.0, poll_interval_seconds=0.2, cancel_on_timeout=False
            ),
        )

    with pytest.raises(TaskTimeoutError, match="left on the server") as info:
        in_flow(wait_without_cancel, face)
    assert info.value.cancelled is False
    [task] = sandbox.tasks()
    assert task.status == "STATUS_SCHEDULED"


def wait_through_three_polls(sandbox: NextcloudSandbox, credentials: NextcloudCredentials) -> Any:
    """In a flow: schedule a task, wait for it, let it finish once the wait has looked 3 times."""

    def schedule_then_wait() -> Any:
        sandbox.pause_processing()
        scheduled = schedule_task(credentials, "core:text2text", {"input": "Hi"})
        future = wait_for_task.submit(credentials, scheduled.id, options=OPTIONS)
        sandbox.wait_for_requests("GET", f"/task/{scheduled.id}", count=3)
        sandbox.resume_processing()
        return future.result()

    return in_flow(schedule_then_wait)


def test_wait_polls_until_the_task_is_done(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    task = wait_through_three_polls(sandbox, credentials)
    assert task.status == "STATUS_SUCCESSFUL"
    assert task.output["output"].startswith("This is a fake result")
    assert len(requests_to(sandbox, "GET", f"/task/{task.id}")) >= 3


def test_a_transient_poll_failure_does_not_end_the_wait(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    # run_task looks at its task through the listing of its app id.
    poll = r"/taskprocessing/tasks/app/[^/]+$"
    sandbox.inject_error(poll, status=502, times=1)
    sandbox.inject_error(poll, status=503, times=1)
    sandbox.inject_drop(poll, times=1)
    task = in_flow(
        lambda: run_task(credentials, "core:text2text", {"input": "Hi"}, options=OPTIONS)
    )
    assert task.status == "STATUS_SUCCESSFUL"
    assert [r.status for r in sandbox.requests_to("GET", poll)][:4] == [502, 503, None, 200]
    assert len(sandbox.tasks()) == 1


WRONG_PASSWORD = "Wrong-Wrong-Wrong-Wrong-Wrong"


@pytest.mark.parametrize(
    ("password", "call", "error", "message", "refusals"),
    [
        pytest.param(
            WRONG_PASSWORD,
            lambda credentials: run_task(
                credentials, "core:text2text", {"input": "Hi"}, options=OPTIONS
            ),
            AuthenticationError,
            "did not accept the login",
            [401],
            id="wrong-password",
        ),
        pytest.param(
            None,
            lambda credentials: run_task(
                credentials, "core:no-such-type", {"input": "Hi"}, options=OPTIONS
            ),
            TaskTypeUnavailableError,
            # Names the provider app to install, and lists what the server offers.
            r"(?s)provider app.*core:analyze-images",
            [],
            id="unavailable-task-type",
        ),
        pytest.param(
            None,
            lambda credentials: wait_for_task(credentials, 4242, options=OPTIONS),
            TaskNotFoundError,
            "cleaned up",
            [404],
            id="missing-task",
        ),
    ],
)
def test_a_permanent_error_fails_at_once_without_scheduling(
    sandbox: NextcloudSandbox,
    password: str | None,
    call: Callable[[NextcloudCredentials], Any],
    error: type[Exception],
    message: str,
    refusals: list[int],
) -> None:
    credentials = sandbox.credentials
    if password is not None:
        credentials = NextcloudCredentials(
            base_url=sandbox.base_url, user_id=sandbox.user_id, app_password=password
        )
    with pytest.raises(error, match=message):
        in_flow(lambda: call(credentials))
    # The refusal is taken as final: asked once, never retried, and nothing is scheduled.
    assert [r.status for r in sandbox.requests if r.status >= 400] == refusals
    assert requests_to(sandbox, "POST", "/schedule") == []


def test_rate_limited_schedule_is_retried(sandbox: NextcloudSandbox) -> None:
    # A 429 that this process did not cause holds schedules back for window / limit seconds.
    credentials = sandbox.credentials.model_copy(
        update={"rate_limit_wait_seconds": 1, "schedule_window_seconds": 2}
    )
    # The answer Nextcloud gives the 21st schedule within 120 s: 429 with an empty body.
    sandbox.inject_error("/schedule$", status=429, method="POST", times=1)

    @flow
    def schedule_two() -> list[int]:
        return [schedule_task(credentials, "core:text2text", {"input": "Hi"}).id for _ in "ab"]

    ids = schedule_two()
    assert len(set(ids)) == 2
    assert [r.status for r in requests_to(sandbox, "POST", "/schedule")] == [429, 200, 200]
    assert len(sandbox.tasks()) == 2


@FACES
def test_single_call_tasks(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, face: str
) -> None:
    image = sample_image_bytes()
    file_id = sandbox.upload("sample.png", image)

    def calls() -> dict[str, Any]:
        types = list_task_types(credentials)
        sandbox.pause_processing()
        scheduled = schedule_task(
            credentials, "core:analyze-images", {"images": [file_id], "input": "Hi"}, custom_id="c1"
        )
        downloaded = download_task_file(credentials, scheduled.id, file_id)
        cancelled = cancel_task(credentials, scheduled.id)
        delete_task(credentials, scheduled.id)
        return {"types": types, "scheduled": scheduled, "file": downloaded, "cancelled": cancelled}

    result = in_flow(calls, face)
    assert {"core:analyze-images", "core:text2text", "core:text2text:summary"} <= set(
        result["types"]
    )
    assert result["scheduled"].custom_id == "c1"
    assert result["scheduled"].app_id == "prefect-nextcloud"
    assert result["file"] == image
    assert result["cancelled"].status == "STATUS_CANCELLED"
    assert sandbox.tasks() == []


@FACES
def test_run_task_can_delete_the_task_afterwards(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, face: str
) -> None:
    def run() -> Any:
        return run_task(
            credentials,
            "core:text2text:summary",
            {"input": "Hi"},
            options=RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05, delete_after=True),
        )

    task = in_flow(run, face)
    assert task.output == {"output": "Sandbox summary of 1 paragraph (1 word): Hi"}
    assert sandbox.tasks() == []


def test_state_changes_are_logged_at_info_and_polls_at_debug(
    sandbox: NextcloudSandbox,
    credentials: NextcloudCredentials,
    task_run_records: list[logging.LogRecord],
) -> None:
    wait_through_three_polls(sandbox, credentials)
    ours = [r for r in task_run_records if r.getMessage().startswith("Nextcloud task ")]
    info = [r.getMessage() for r in ours if r.levelno == logging.INFO]
    debug = [r.getMessage() for r in ours if r.levelno == logging.DEBUG]
    assert [m.split(" is ")[1].split(",")[0].rstrip(".") for m in info] == [
        "scheduled",
        "successful",
    ]
    assert len(debug) >= 2
    assert all(" is scheduled" in m for m in debug)
