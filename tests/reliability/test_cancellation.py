"""Cancelling a real flow run while it waits: a cancellation, not a crash.

Its Nextcloud tasks still pending are cancelled on the server, the answers that had arrived
are kept, and the run, its task runs and its logs say it was cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flow_helpers import artifact_of
from new_files_support import comments, read_state
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import StateType
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from prefect.events.worker import EventsWorker
from prefect.flow_runs import wait_for_flow_run
from prefect.states import Cancelling
from runners import served

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks.events import task_resource_id

T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("prefect_server")

SERVED_FLOW = Path(__file__).with_name("served_flow.py")


@pytest.fixture(scope="module")
def runner(prefect_server: None) -> Iterator[list[str]]:
    """``served_flow.py`` served by a Prefect runner in its own process; yields its output."""
    with served(SERVED_FLOW) as output:
        yield output


def start(client: Any, sandbox: NextcloudSandbox, deployment: str, **parameters: Any) -> Any:
    """A run of a served deployment with a credentials block of its own (named after it).

    The flow's cancellation hook runs in the runner once the run's process has ended, possibly
    during the next test, and reads the block: each test's block must stay its own.
    """
    block = f"cancellation-{deployment.split('/', maxsplit=1)[0]}"
    sandbox.credentials.save(block, overwrite=True)
    deployment_id = client.read_deployment_by_name(deployment).id
    return client.create_flow_run_from_deployment(
        deployment_id, parameters={"credentials": block, **parameters}
    )


def test_cancelling_a_waiting_flow_run_cancels_its_nextcloud_task(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.pause_processing()
    with get_client(sync_client=True) as client:
        flow_run = start(client, sandbox, "wait-for-a-long-task/cancellation-test")
        sandbox.wait_for_requests("POST", r"/taskprocessing/schedule$", count=1, timeout=90)
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
    with get_client(sync_client=True) as client:
        flow_run = start(client, sandbox, "wait-for-a-batch/cancellation-test", size=6)
        sandbox.wait_for_requests("POST", r"/taskprocessing/schedule$", count=6, timeout=90)
        sandbox.wait_for_requests("GET", r"/taskprocessing/tasks/app/", count=2, timeout=90)
        assert len(sandbox.tasks()) == 6
        client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        for task in sandbox.tasks():
            sandbox.wait_for_status(task.id, "STATUS_CANCELLED", timeout=90)
    assert {task.status for task in sandbox.tasks()} == {"STATUS_CANCELLED"}


def test_a_cancelled_wait_for_task_ends_cancelled_and_the_hook_cancels_the_task(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.pause_processing()
    with get_client(sync_client=True) as client:
        flow_run = start(client, sandbox, "schedule-then-wait/cancellation-test")
        sandbox.wait_for_requests("GET", r"/taskprocessing/task/1$", count=2, timeout=90)
        client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        ended = asyncio.run(wait_for_flow_run(flow_run.id, timeout=90))
        states = {
            task_run.name.split("-")[0]: task_run.state_type
            for task_run in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
            )
        }
        sandbox.wait_for_status(1, "STATUS_CANCELLED", timeout=90)
    assert ended.state is not None
    assert ended.state.is_cancelled(), ended.state
    assert states == {"schedule_task": StateType.COMPLETED, "wait_for_task": StateType.CANCELLED}


# With this seed, sandbox tasks 1 and 2 run for 0.9 s and 0.2 s, tasks 3 and 4 for about 97 s.
SEED, RUN_SECONDS = 69532, (0.1, 120.0)
# Logs and events reach the server in batches: wait for them, within a bound.
STORED_WITHIN_SECONDS = 60.0


def own_host(request: pytest.FixtureRequest) -> str:
    """A loopback address of the test's own: event ids derive from host, port and task id."""
    digest = hashlib.sha256(request.node.nodeid.encode()).digest()
    return f"127.{digest[0]}.{digest[1]}.{max(digest[2], 2)}"


def stored(read: Callable[[], list[T]], enough: Callable[[list[T]], bool]) -> list[T]:
    """What ``read`` returns once it is ``enough``, or after STORED_WITHIN_SECONDS."""
    EventsWorker.drain_all()
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    while not enough(found := read()) and time.monotonic() < deadline:
        time.sleep(0.5)  # the server's flush, which no client call can await
    return found


def test_a_cancelled_run_of_process_new_files_ends_cancelled_and_keeps_its_answers(
    request: pytest.FixtureRequest, runner: list[str]
) -> None:
    sandbox = NextcloudSandbox(
        host=own_host(request), run_seconds=RUN_SECONDS, seed=SEED, workers=4
    )
    with sandbox, get_client(sync_client=True) as client:
        files = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "abcd"]
        flow_run = start(
            client, sandbox, "process-new-files/cancellation-test", poll_interval_seconds=30.0
        )
        sandbox.wait_for_requests("POST", r"/taskprocessing/schedule$", count=4, timeout=90)
        answered = [sandbox.wait_for_status(n, "STATUS_SUCCESSFUL", timeout=30) for n in (1, 2)]
        client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        ended = asyncio.run(wait_for_flow_run(flow_run.id, timeout=90))
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        )
        logs = stored(
            lambda: client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
            ),
            lambda found: any("The flow run was cancelled:" in log.message for log in found),
        )
        events = stored(
            lambda: (
                client.read_events(
                    filter=EventFilter(
                        event=EventNameFilter(name=["nextcloud.task.cancelled"]),
                        related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run.id}"]),
                    ),
                    limit=50,
                ).events
            ),
            lambda found: len(found) >= 2,
        )
        statuses = {task.id: task.status for task in sandbox.tasks()}
        kept = {task.input["images"][0] for task in answered}
        said = {file_id: comments(sandbox.credentials, file_id) for file_id in files}
        record = read_state(sandbox)["files"]
    assert ended.state is not None
    assert ended.state.is_cancelled(), ended.state
    states = {run.name.rsplit("-", 1)[0]: run.state_type for run in task_runs}
    assert states["analyze_image_batch"] == StateType.CANCELLED, states
    assert StateType.CRASHED not in states.values(), states
    assert [log.message for log in logs if log.level >= logging.ERROR] == []
    assert [log.message for log in logs if "The flow run was cancelled:" in log.message] == [
        "The flow run was cancelled: 2 pending core:analyze-images task(s) cancelled in "
        "Nextcloud (3, 4); 2 answer(s) that had arrived kept."
    ]
    assert statuses == {
        1: "STATUS_SUCCESSFUL",
        2: "STATUS_SUCCESSFUL",
        3: "STATUS_CANCELLED",
        4: "STATUS_CANCELLED",
    }
    base_url = sandbox.credentials.base_url
    assert sorted(event.resource.id for event in events) == [
        task_resource_id(base_url, 3),
        task_resource_id(base_url, 4),
    ]
    # The answers that had arrived are kept: commented, recorded, and in the result table.
    assert {file_id for file_id, posted in said.items() if posted} == kept
    assert {int(key) for key, entry in record.items() if entry["status"] == "done"} == kept
    table = artifact_of(flow_run.id, "process-new-files-tasks").data or ""
    rows = [
        line.split(" | ") for line in table.splitlines() if line.startswith("| ") and "/f/" in line
    ]
    assert sorted(row[2] for row in rows) == ["failed", "failed", "succeeded", "succeeded"]
