"""Cancelling a real flow run while it waits cancels its Nextcloud task on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Cancelling
from runners import served

from prefect_nextcloud.sandbox import NextcloudSandbox

pytestmark = pytest.mark.usefixtures("prefect_server")

SERVED_FLOW = Path(__file__).with_name("served_flow.py")


@pytest.fixture(scope="module")
def runner(prefect_server: None) -> Iterator[list[str]]:
    """``served_flow.py`` served by a Prefect runner in its own process; yields its output."""
    with served(SERVED_FLOW) as output:
        yield output


def test_cancelling_a_waiting_flow_run_cancels_its_nextcloud_task(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.pause_processing()
    sandbox.credentials.save("cancellation-test", overwrite=True)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("wait-for-a-long-task/cancellation-test")
        flow_run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"credentials": "cancellation-test"}
        )
        sandbox.wait_for_requests("GET", r"/taskprocessing/tasks/app/", count=3, timeout=90)
        [task] = sandbox.tasks()
        assert task.status == "STATUS_SCHEDULED"
        client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        cancelled = sandbox.wait_for_status(task.id, "STATUS_CANCELLED", timeout=90)
    assert cancelled.custom_id.startswith(f"pfnc:{flow_run.id}:")


def test_cancelling_a_batch_cancels_every_pending_task_of_it(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.hold_running()  # one task runs (held), the others stay queued
    sandbox.credentials.save("cancellation-test", overwrite=True)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("wait-for-a-batch/cancellation-test")
        flow_run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"credentials": "cancellation-test", "size": 6}
        )
        sandbox.wait_for_requests("GET", r"/taskprocessing/tasks/app/", count=2, timeout=90)
        assert len(sandbox.tasks()) == 6
        client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        for task in sandbox.tasks():
            sandbox.wait_for_status(task.id, "STATUS_CANCELLED", timeout=90)
    assert {task.status for task in sandbox.tasks()} == {"STATUS_CANCELLED"}
