"""Nothing twice: lost responses, retried tasks, retried flows and re-runs adopt the task."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow

from prefect_nextcloud.flows import analyze_image
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import RunOptions, run_task, schedule_task, wait_for_task

pytestmark = pytest.mark.usefixtures("prefect_server")

FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}
OPTIONS = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)


def test_a_lost_schedule_response_adopts_the_created_task(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.inject_lost_response("/schedule$", method="POST", times=1)

    @flow
    def run() -> Any:
        return run_task(credentials, "core:text2text", {"input": "Hi"}, options=OPTIONS)

    finished = run()
    [task] = sandbox.tasks()
    assert finished.id == task.id
    assert finished.status == "STATUS_SUCCESSFUL"
    assert [r.delivered for r in sandbox.requests_to("POST", "/schedule$")] == [False]


def test_a_retried_flow_resumes_waiting_on_its_task(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()
    attempts: list[int] = []

    @flow(retries=1, retry_delay_seconds=0)
    def crash_after_scheduling() -> Any:
        scheduled = schedule_task(credentials, "core:text2text", {"input": "Hi"})
        attempts.append(scheduled.id)
        if len(attempts) == 1:
            raise RuntimeError("the worker died right after scheduling")
        sandbox.resume_processing()
        return wait_for_task(credentials, scheduled.id, options=OPTIONS)

    finished = crash_after_scheduling()
    [task] = sandbox.tasks()
    assert attempts == [task.id, task.id]
    assert finished.status == "STATUS_SUCCESSFUL"


def test_a_rerun_with_the_same_idempotency_key_adopts_the_task(sandbox: NextcloudSandbox) -> None:
    file_id = sandbox.upload("photo.png", sample_image_bytes())
    arguments = {"prompt": "What?", "image_file_ids": file_id, "credentials": sandbox.credentials}
    first = analyze_image(**arguments, idempotency_key="nightly-2026-11-24", **FAST)
    second = analyze_image(**arguments, idempotency_key="nightly-2026-11-24", **FAST)
    other = analyze_image(**arguments, idempotency_key="nightly-2026-11-25", **FAST)
    assert second.task_id == first.task_id
    assert other.task_id != first.task_id
    assert len(sandbox.tasks()) == 2


def test_separate_runs_and_repeated_calls_schedule_separate_tasks(
    sandbox: NextcloudSandbox,
) -> None:
    credentials = sandbox.credentials

    @flow
    def twice() -> list[int]:
        return [schedule_task(credentials, "core:text2text", {"input": "Hi"}).id for _ in "ab"]

    ids = twice() + twice()
    assert len(set(ids)) == 4
    assert len({task.custom_id for task in sandbox.tasks()}) == 4


def test_a_task_called_outside_a_flow_still_gets_a_custom_id(sandbox: NextcloudSandbox) -> None:
    scheduled = schedule_task(sandbox.credentials, "core:text2text", {"input": "Hi"})
    assert scheduled.custom_id is not None
    assert scheduled.custom_id.startswith("pfnc:task-")
