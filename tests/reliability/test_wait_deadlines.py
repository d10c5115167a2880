"""A wait ends within a few seconds of timeout_seconds, whatever the server does."""

from __future__ import annotations

import time

import pytest
from flow_helpers import in_flow, run_batch, text_inputs

from prefect_nextcloud.client.errors import TaskTimeoutError
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import RunOptions, run_task, wait_for_task

pytestmark = pytest.mark.usefixtures("prefect_server")

TIMEOUT = 2.0
# The timeout, the grace for the look that ends it, and Prefect's own overhead.
BOUND = TIMEOUT + 5.0 + 8.0
OPTIONS = RunOptions(timeout_seconds=TIMEOUT, poll_interval_seconds=0.2)


def test_a_wait_through_an_outage_ends_near_its_timeout(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials  # retries passing failures for 120 s by default
    sandbox.hold_running()
    sandbox.inject_error("/tasks/app/", status=503, times=10_000)
    started = time.monotonic()
    with pytest.raises(TaskTimeoutError, match="could not be reached") as info:
        in_flow(lambda: run_task(credentials, "core:text2text", {"input": "Hi"}, options=OPTIONS))
    assert time.monotonic() - started < BOUND
    [task] = sandbox.tasks()
    assert info.value.task_id == task.id
    assert not info.value.cancelled
    assert f"Nextcloud task {task.id}" in info.value.message


def test_a_batch_through_an_outage_settles_every_item_near_its_timeout(
    sandbox: NextcloudSandbox,
) -> None:
    sandbox.hold_running()
    sandbox.inject_error("/tasks/app/", status=503, times=10_000)
    started = time.monotonic()
    results = run_batch(sandbox.credentials, "core:text2text", text_inputs(3), options=OPTIONS)
    assert time.monotonic() - started < BOUND
    assert [result.ok for result in results] == [False] * 3
    assert all(result.error and "could not be reached" in result.error for result in results)


def test_wait_for_task_through_an_outage_ends_near_its_timeout(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.hold_running()
    with credentials.get_client() as client:
        task = client.schedule_task("core:text2text", {"input": "Hi"})
    sandbox.wait_for_status(task.id, "STATUS_RUNNING")
    sandbox.inject_error(r"/task/\d+$", status=503, times=1, method="GET")
    sandbox.inject_drop(r"/task/\d+$", times=10_000)
    started = time.monotonic()
    with pytest.raises(TaskTimeoutError) as info:
        in_flow(lambda: wait_for_task(credentials, task.id, options=OPTIONS))
    assert time.monotonic() - started < BOUND
    assert info.value.task_id == task.id
