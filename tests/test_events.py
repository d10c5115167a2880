"""Prefect events for Nextcloud tasks: one per status change, read back from the Prefect server."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import yaml
from flow_helpers import IMAGES_ONE_REFUSED, batch_flow, run_batch
from prefect.automations import Automation
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import get_client
from prefect.events.actions import SendNotification
from prefect.events.filters import EventFilter, EventRelatedFilter, EventResourceFilter
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.events.schemas.events import Event
from prefect.events.schemas.labelling import LabelDiver
from prefect.events.worker import EventsWorker
from prefect.server.utilities.user_templates import render_user_template_sync
from readme_examples import readme_example

from prefect_nextcloud.client.errors import TaskFailedError
from prefect_nextcloud.client.models import Task, TaskStatus
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks.batch import BatchItem
from prefect_nextcloud.tasks.events import event_status, task_resource_id

pytestmark = pytest.mark.usefixtures("prefect_server")

# The server stores events in batches (every 5 s by default): wait for them, within a bound.
STORED_WITHIN_SECONDS = 60.0


def stored_events(flow_run_id: UUID, expected: int) -> list[Event]:
    """The flow run's Nextcloud task events, once ``expected`` of them are stored."""
    EventsWorker.drain_all()
    query = EventFilter(
        resource=EventResourceFilter(id_prefix=["nextcloud.task."]),
        related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            events = client.read_events(filter=query, limit=50).events
            if len(events) >= expected or time.monotonic() > deadline:
                return sorted(events, key=lambda event: event.occurred)
            time.sleep(0.5)  # the persister's flush, which no client call can await


def test_each_status_change_is_one_event_with_labels_and_runs(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    state = batch_flow(credentials, "core:text2image", IMAGES_ONE_REFUSED)(return_state=True)
    results = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    # Each task: scheduled, perhaps running, then how it ended.
    events = stored_events(flow_run_id, expected=6)
    by_task: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_task[event.resource.id].append(event)
    ended = {True: "nextcloud.task.succeeded", False: "nextcloud.task.failed"}
    assert len(by_task) == 3
    for result in results:
        assert result.task is not None
        resource_id = task_resource_id(credentials.base_url, result.task.id)
        names = [event.event for event in by_task[resource_id]]
        assert names[0] == "nextcloud.task.scheduled"
        assert names[-1] == ended[result.ok]
        assert len(names) == len(set(names)), names  # once per transition
        assert set(names) <= {
            "nextcloud.task.scheduled",
            "nextcloud.task.running",
            ended[result.ok],
        }
        for event in by_task[resource_id]:
            assert event.resource["nextcloud.task.type"] == "core:text2image"
            assert event.resource["nextcloud.user"] == credentials.user_id
            assert event.payload["task_id"] == result.task.id
            roles = {related.role: related.id for related in event.related}
            assert roles["flow-run"] == f"prefect.flow-run.{flow_run_id}"
            assert roles["task-run"].startswith("prefect.task-run.")
    [failed] = [event for event in events if event.event == "nextcloud.task.failed"]
    assert "Cannot generate more than 12 images" in failed.payload["error"]
    host = credentials.base_url.split("://", 1)[1].rstrip("/")
    assert all(event.resource.id.startswith(f"nextcloud.task.{host}.") for event in events)


def test_an_event_that_cannot_be_emitted_never_fails_the_flow(
    sandbox: NextcloudSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []

    def broken(**event: Any) -> None:
        tried.append(event["event"])
        raise RuntimeError("events are down")

    monkeypatch.setattr("prefect_nextcloud.tasks.events.emit_event", broken)
    [result] = run_batch(sandbox.credentials, "core:text2text", [{"input": "hello"}])
    assert result.ok
    assert result.text
    assert tried[0] == "nextcloud.task.scheduled"
    assert tried[-1] == "nextcloud.task.succeeded"


def _item(status: TaskStatus, *, settled: bool = False, error: bool = False) -> BatchItem:
    item = BatchItem(0, {}, "custom", task=Task(id=7, type="core:text2text", status=status))
    if settled:
        failure = TaskFailedError("failed", task_id=7) if error else None
        item.settle(item.task, failure)
    return item


def test_status_names() -> None:
    assert event_status(BatchItem(0, {}, "custom")) is None
    assert event_status(_item(TaskStatus.SCHEDULED)) == "scheduled"
    assert event_status(_item(TaskStatus.RUNNING)) == "running"
    assert event_status(_item(TaskStatus.SUCCESSFUL, settled=True)) == "succeeded"
    assert event_status(_item(TaskStatus.FAILED, settled=True, error=True)) == "failed"
    assert event_status(_item(TaskStatus.CANCELLED, settled=True, error=True)) == "cancelled"
    assert task_resource_id("https://Cloud.Example.com/nextcloud", 42) == (
        "nextcloud.task.cloud.example.com.42"
    )


def test_readme_stuck_task_alert_is_created_on_the_server() -> None:
    code = readme_example("stuck-task-alert")
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    block_id = SlackWebhook(url="https://hooks.slack.com/services/T0/B0/x").save(
        "ops-alerts", overwrite=True
    )
    created = namespace["create_stuck_task_alert"](block_id, minutes=7)
    try:
        stored = Automation.read(id=created.id)
        trigger = stored.trigger
        assert isinstance(trigger, EventTrigger)
        assert trigger.posture == Posture.Proactive
        assert trigger.after == {"nextcloud.task.scheduled"}
        assert "nextcloud.task.running" in trigger.expect
        assert trigger.for_each == {"prefect.resource.id"}
        assert trigger.within == timedelta(minutes=7)
        [action] = stored.actions
        assert isinstance(action, SendNotification)
        # It names the task, the likely cause, the fix and where to look.
        body = render_user_template_sync(
            action.body,
            {"labels": LabelDiver({"prefect.resource.id": "nextcloud.task.cloud.example.com.42"})},
        )
        assert body.startswith("The task nextcloud.task.cloud.example.com.42 has waited more")
        assert "more than 7 minutes" in body
        assert (
            "occ background-job:worker -t 60 'OC\\TaskProcessing\\SynchronousBackgroundJob'" in body
        )
        assert "occ taskprocessing:worker" in body
        assert "Artificial intelligence (/settings/admin/ai)" in body
        assert "/ocs/v2.php/taskprocessing/task/<task id>" in body
    finally:
        created.delete()


def test_readme_chained_deployment_trigger_is_valid() -> None:
    snippet = readme_example("chained-deployment")
    [deployment] = yaml.safe_load(snippet)
    [trigger] = [DeploymentEventTrigger.model_validate(t) for t in deployment["triggers"]]
    assert trigger.expect == {"prefect.flow-run.Completed"}
    assert trigger.posture == Posture.Reactive
