"""Runs that share an idempotency key never destroy each other's Nextcloud tasks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler
from prefect.states import Cancelled, Completed, Crashed, Running

from prefect_nextcloud.client.models import Task
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import cancel_outstanding_tasks
from prefect_nextcloud.tasks.idempotency import _scopes, app_id_for

pytestmark = pytest.mark.usefixtures("prefect_server")

BLOCK = "shared-keys-test"


@pytest.fixture
def runs(sandbox: NextcloudSandbox) -> Iterator[Any]:
    """Make flow runs of one flow on the Prefect server, with the sandbox's saved block."""
    sandbox.credentials.save(BLOCK, overwrite=True)
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("shared-keys")

        def make(key: str | None) -> Any:
            parameters: dict[str, Any] = {"credentials": BLOCK}
            if key is not None:
                parameters["idempotency_key"] = key
            run = client.create_flow_run(
                flow=_named("shared-keys"), parameters=parameters, state=Running()
            )
            assert run.flow_id == flow_id
            return run

        yield make, client


def _named(name: str) -> Any:
    from prefect import flow

    @flow(name=name)
    def placeholder() -> None: ...

    return placeholder


def _task_of(sandbox: NextcloudSandbox, flow_run: Any) -> Task:
    """A pending Nextcloud task scheduled the way the run would have scheduled it."""
    scope = _scopes(flow_run, flow_run.parameters)[0]
    with sandbox.credentials.get_client() as client:
        return client.schedule_task(
            "core:text2text",
            {"input": "Hi"},
            app_id=app_id_for(scope),
            custom_id=f"{scope}digest:0",
        )


def test_a_cancelled_run_leaves_a_shared_task_to_the_live_run(
    sandbox: NextcloudSandbox, runs: Any
) -> None:
    make, client = runs
    sandbox.pause_processing()
    first, second = make("nightly"), make("nightly")
    task = _task_of(sandbox, first)
    cancel_outstanding_tasks(None, first, Cancelled())
    assert sandbox.task(task.id).status == "STATUS_SCHEDULED"
    # Once no other run with the key is live, a cancellation cancels.
    client.set_flow_run_state(second.id, Completed(), force=True)
    cancel_outstanding_tasks(None, first, Cancelled())
    assert sandbox.task(task.id).status == "STATUS_CANCELLED"
    # What the hook did is in the run's own logs, though a runner, not the run, calls it.
    APILogHandler().flush()
    logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[first.id])))
    said = [log.message for log in logs]
    assert any(f"left to flow run {second.id}" in line for line in said), said
    assert any(f"Cancelled Nextcloud task {task.id} of flow run" in line for line in said), said


@pytest.mark.parametrize(
    ("key", "final", "status"),
    [
        pytest.param("backfill-2026-12-01", Crashed, "STATUS_SCHEDULED", id="crash-with-key"),
        pytest.param(None, Crashed, "STATUS_CANCELLED", id="crash-without-key"),
        pytest.param(None, Cancelled, "STATUS_CANCELLED", id="cancel-without-key"),
    ],
)
def test_only_a_crashed_run_with_a_key_leaves_its_task_for_the_rerun(
    sandbox: NextcloudSandbox, runs: Any, key: str | None, final: Any, status: str
) -> None:
    make, _ = runs
    sandbox.pause_processing()
    run = make(key)
    task = _task_of(sandbox, run)
    cancel_outstanding_tasks(None, run, final())
    assert sandbox.task(task.id).status == status
