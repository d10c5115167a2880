"""Task webhooks through the relay: each honest push is one event, nothing else is."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from prefect import flow
from prefect.events.clients import NullEventsClient
from prefect.events.worker import EventsWorker
from relay_helpers import (
    APP_ID,
    SECRET,
    RunningRelay,
    push_on_end,
    task_events_until,
    webhook_body,
)

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.client.webhooks import TASK_WEBHOOK_PATH, task_token
from prefect_nextcloud.relay import FILE_EVENTS_HEADER, FILE_EVENTS_PATH
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import ItemResult, RunOptions, run_tasks
from prefect_nextcloud.tasks.events import task_event_id, task_resource_id

pytestmark = pytest.mark.usefixtures("prefect_server")


def ended_task(sandbox: NextcloudSandbox, custom_id: str) -> Task:
    """A task that ended without a push, as Nextcloud describes it."""
    with sandbox.credentials.get_client() as client:
        task = client.schedule_task(
            "core:text2text", {"input": "quiet"}, app_id=APP_ID, custom_id=custom_id
        )
        sandbox.wait_for_status(task.id, "SUCCESSFUL")
        return client.get_task(task.id)


def task_url(relay: RunningRelay, token: str) -> str:
    return relay.url + TASK_WEBHOOK_PATH + token


def test_a_pushed_task_end_is_one_event_with_ids_and_labels(
    sandbox: NextcloudSandbox, relay_credentials: NextcloudCredentials
) -> None:
    task = push_on_end(relay_credentials, "job-1", task_input="a private question")

    [event] = task_events_until(sandbox, task)
    resource_id = task_resource_id(sandbox.base_url, task.id)
    assert event.event == "nextcloud.task.succeeded"
    assert event.id == task_event_id(resource_id, "succeeded")
    assert event.resource.id == resource_id
    assert event.resource["nextcloud.task.type"] == "core:text2text"
    assert event.resource["nextcloud.user"] == "alice"
    assert event.resource["nextcloud.app-id"] == APP_ID
    assert event.payload == {
        "task_id": task.id,
        "task_type": "core:text2text",
        "status": "STATUS_SUCCESSFUL",
        "custom_id": "job-1",
        "app_id": APP_ID,
    }
    assert "a private question" not in event.model_dump_json()


def test_failed_and_cancelled_tasks_are_pushed_as_such(
    sandbox: NextcloudSandbox, relay_credentials: NextcloudCredentials
) -> None:
    sandbox.set_failing("core:text2text")
    failed = push_on_end(relay_credentials, "fails")
    sandbox.wait_for_status(failed.id, "FAILED")
    sandbox.pause_processing()
    cancelled = push_on_end(relay_credentials, "cancelled")
    with relay_credentials.get_client() as client:
        client.cancel_task(cancelled.id)

    events = task_events_until(sandbox, cancelled)
    assert [(event.event, event.payload["task_id"]) for event in events] == [
        ("nextcloud.task.failed", failed.id),
        ("nextcloud.task.cancelled", cancelled.id),
    ]


def test_a_replayed_push_is_stored_once(
    sandbox: NextcloudSandbox, relay: RunningRelay, relay_credentials: NextcloudCredentials
) -> None:
    pushed = push_on_end(relay_credentials, "job-1")
    [first] = task_events_until(sandbox, pushed)
    with sandbox.credentials.get_client() as client:
        body = webhook_body(client.get_task(pushed.id))
    # Anyone who saw the push can send it again: the relay answers, Prefect keeps one event.
    token = task_token(SECRET, "alice", APP_ID, "job-1")
    assert httpx.post(task_url(relay, token), content=body).status_code == 202
    last = push_on_end(relay_credentials, "last")

    events = task_events_until(sandbox, last)
    assert [(event.id, event.payload["task_id"]) for event in events] == [
        (first.id, pushed.id),
        (task_event_id(task_resource_id(sandbox.base_url, last.id), "succeeded"), last.id),
    ]


def test_the_batch_and_the_relay_reporting_one_end_make_one_event(
    sandbox: NextcloudSandbox, relay: RunningRelay, relay_credentials: NextcloudCredentials
) -> None:
    credentials = relay_credentials

    @flow
    def batch() -> list[ItemResult]:
        options = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)
        return run_tasks(credentials, "core:text2text", [{"input": "hi"}], options=options)

    [result] = batch()
    assert result.task is not None
    task = result.task
    # The same end, pushed as Nextcloud pushes it.
    token = task_token(SECRET, "alice", task.app_id, task.custom_id or "")
    assert httpx.post(task_url(relay, token), content=webhook_body(task)).status_code == 202
    last = push_on_end(relay_credentials, "last")

    events = task_events_until(sandbox, last)
    ended = [event for event in events if event.event == "nextcloud.task.succeeded"]
    assert [event.payload["task_id"] for event in ended] == [task.id, last.id]
    assert ended[0].resource["nextcloud.app-id"] == task.app_id


def test_an_event_prefect_does_not_take_is_answered_503_and_logged(
    sandbox: NextcloudSandbox, relay: RunningRelay, caplog: pytest.LogCaptureFixture
) -> None:
    body = webhook_body(ended_task(sandbox, "job"))
    token = task_token(SECRET, "alice", APP_ID, "job")
    EventsWorker.set_client_override(NullEventsClient)  # Prefect with events turned off
    try:
        answered = httpx.post(task_url(relay, token), content=body)
    finally:
        EventsWorker.set_client_override(None)
    assert answered.status_code == 503
    assert answered.json() == {"error": "the event could not be handed to Prefect"}
    assert "Could not emit nextcloud.task.succeeded for nextcloud.task." in caplog.text


def _chunks() -> Iterator[bytes]:
    """A 70 KiB body sent in chunks, declaring no length."""
    for _ in range(70):
        yield b" " * 1024


def hostile_requests(sandbox: NextcloudSandbox, relay: RunningRelay) -> list[dict[str, Any]]:
    """Requests the relay must refuse, each with the status it answers."""
    body_a = webhook_body(ended_task(sandbox, "a"))
    body_b = webhook_body(ended_task(sandbox, "b"))
    token_a = task_token(SECRET, "alice", APP_ID, "a")
    padded = json.loads(body_a)
    padded["task"]["padding"] = "x" * 70_000
    file_event = json.dumps(
        {
            "event": {
                "node": {"id": 3, "path": "/alice/files/a.png"},
                "class": "OCP\\Files\\Events\\Node\\NodeCreatedEvent",
            },
            "user": None,
            "time": 1_700_000_000,
        }
    ).encode()
    file_url = relay.url + FILE_EVENTS_PATH

    def post(token: str, content: Any, status: int) -> dict[str, Any]:
        return {
            "method": "POST",
            "url": task_url(relay, token),
            "content": content,
            "status": status,
        }

    return [
        post(random.Random(7).randbytes(32).hex(), body_a, 403),  # forged
        post(token_a, body_b, 403),  # a genuine token, another task's body
        post(task_token(SECRET, "bob", APP_ID, "a"), body_a, 403),  # another user
        post(task_token(SECRET, "alice", "other-app", "a"), body_a, 403),  # another app id
        post(task_token("another-secret-" + "x" * 32, "alice", APP_ID, "a"), body_a, 403),
        post("not-a-token", body_a, 403),
        post(token_a, b'{"task": ', 400),
        post(token_a, b'{"tasks": []}', 400),
        post(token_a, json.dumps({"task": {"id": "one", "type": 3}}).encode(), 400),
        post(token_a, json.dumps(padded).encode(), 413),
        post(token_a, _chunks(), 413),
        {"method": "GET", "url": task_url(relay, token_a), "content": None, "status": 405},
        {"method": "PUT", "url": task_url(relay, token_a), "content": body_a, "status": 405},
        {"method": "POST", "url": file_url, "content": file_event, "status": 403},
        {
            "method": "POST",
            "url": file_url,
            "content": file_event,
            "headers": {FILE_EVENTS_HEADER: token_a},
            "status": 403,
        },
    ]


def test_hostile_requests_are_refused_and_emit_nothing(
    sandbox: NextcloudSandbox, relay: RunningRelay, relay_credentials: NextcloudCredentials
) -> None:
    requests = hostile_requests(sandbox, relay)
    with httpx.Client() as client:
        statuses = [
            client.request(
                item["method"], item["url"], content=item["content"], headers=item.get("headers")
            ).status_code
            for item in requests
        ]
    assert statuses == [item["status"] for item in requests]
    honest = push_on_end(relay_credentials, "honest")

    events = task_events_until(sandbox, honest)
    assert [(event.event, event.payload["task_id"]) for event in events] == [
        ("nextcloud.task.succeeded", honest.id)
    ]


def test_a_flood_of_forged_pushes_leaves_the_honest_one_through(
    sandbox: NextcloudSandbox, relay: RunningRelay, relay_credentials: NextcloudCredentials
) -> None:
    body = webhook_body(ended_task(sandbox, "target"))
    tokens = [random.Random(seed).randbytes(32).hex() for seed in range(500)]
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as client:

        def forge(token: str) -> int:
            return client.post(task_url(relay, token), content=body).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = pool.map(forge, tokens)
            honest = push_on_end(relay_credentials, "honest")
            refused = list(statuses)
    assert refused == [403] * 500

    events = task_events_until(sandbox, honest)
    assert [event.payload["task_id"] for event in events] == [honest.id]
