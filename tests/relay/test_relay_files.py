"""File events through the relay: Nextcloud's webhook_listeners calls become file events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prefect.events.schemas.events import Event
from relay_helpers import (
    SECRET,
    RunningRelay,
    register_listeners,
    relay_config,
    stored_events,
)

from prefect_nextcloud.relay import FILE_EVENTS_HEADER, FILE_EVENTS_PATH, file_events_token
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks.events import file_resource_id

pytestmark = pytest.mark.usefixtures("prefect_server")

NODE = "OCP\\Files\\Events\\Node\\"


class SteppedClock:
    """The sandbox's wall clock, moved on by the test: each change gets its own second."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now

    def step(self) -> None:
        self.now += 1


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def sandbox(test_host: str, clock: SteppedClock) -> Iterator[NextcloudSandbox]:
    """A sandbox on the test's own host (see conftest.py), its time told by ``clock``."""
    with NextcloudSandbox(host=test_host, clock=clock) as running:
        yield running


def file_events_until(sandbox: NextcloudSandbox, name: str, path: str) -> list[Event]:
    """The sandbox's stored file events, once one called ``name`` about ``path`` is among them."""
    prefix = file_resource_id(sandbox.base_url, 1).removesuffix("1")
    return stored_events(
        prefix,
        lambda event: event.event == name and event.resource["nextcloud.file.path"] == path,
    )


def test_uploads_writes_and_deletions_become_file_events(
    sandbox: NextcloudSandbox, relay: RunningRelay, clock: SteppedClock
) -> None:
    register_listeners(sandbox, relay_config(sandbox, public_url=relay.url))
    with sandbox.credentials.get_client() as client:
        file_id = client.upload_file("/Photos/cat.png", b"one")
        clock.step()
        client.upload_file("/Photos/cat.png", b"two")
        clock.step()
        client.delete_file("/Photos/cat.png")

    events = file_events_until(sandbox, "nextcloud.file.deleted", "/Photos/cat.png")
    by_path = {
        path: [event.event for event in events if event.resource["nextcloud.file.path"] == path]
        for path in ("/Photos", "/Photos/cat.png")
    }
    # A new node is created, then written, as Nextcloud's file hooks fire.
    assert by_path == {
        "/Photos": ["nextcloud.file.created", "nextcloud.file.changed"],
        "/Photos/cat.png": [
            "nextcloud.file.created",
            "nextcloud.file.changed",
            "nextcloud.file.changed",
            "nextcloud.file.deleted",
        ],
    }
    deleted = events[-1]
    assert deleted.resource.id == file_resource_id(sandbox.base_url, file_id)
    assert deleted.resource["nextcloud.user"] == "alice"
    assert deleted.resource["nextcloud.file.folder"] == "/Photos"
    assert deleted.payload == {
        "file_id": file_id,
        "user_id": "alice",
        "path": "/Photos/cat.png",
        "folder": "/Photos",
        "time": 1_750_000_002,
        "triggered_by": "alice",
    }
    [folder_created] = [
        event
        for event in events
        if event.resource["nextcloud.file.path"] == "/Photos"
        and event.event == "nextcloud.file.created"
    ]
    assert folder_created.resource["nextcloud.file.folder"] == "/"


def file_event(path: str, event_class: str = "NodeCreatedEvent", node_id: int | None = 7) -> bytes:
    node: dict[str, Any] = {"path": path} if node_id is None else {"id": node_id, "path": path}
    body = {"event": {"node": node, "class": NODE + event_class}, "user": None, "time": 1}
    return json.dumps(body).encode()


def test_replays_are_one_event_and_other_events_are_ignored(
    sandbox: NextcloudSandbox, relay: RunningRelay
) -> None:
    headers = {FILE_EVENTS_HEADER: file_events_token(SECRET)}
    with httpx.Client(base_url=relay.url, headers=headers) as client:

        def post(body: bytes) -> httpx.Response:
            return client.post(FILE_EVENTS_PATH, content=body)

        first, replayed = (
            post(file_event("/alice/files/a.png")),
            post(file_event("/alice/files/a.png")),
        )
        ignored = [
            post(file_event("/appdata_oc1/preview/7/64-64.png")),
            post(file_event("/alice/files/a.png", "NodeTouchedEvent")),
            post(file_event("/alice/files/gone.png", "NodeDeletedEvent", node_id=None)),
        ]
        last = post(file_event("/alice/files/last.png", node_id=8))
    assert [first.status_code, replayed.status_code, last.status_code] == [202, 202, 202]
    assert first.json() == replayed.json()
    assert [(answer.status_code, set(answer.json())) for answer in ignored] == [
        (200, {"ignored"})
    ] * 3

    events = file_events_until(sandbox, "nextcloud.file.created", "/last.png")
    assert [(event.event, event.resource["nextcloud.file.path"]) for event in events] == [
        ("nextcloud.file.created", "/a.png"),
        ("nextcloud.file.created", "/last.png"),
    ]
    assert events[0].payload["triggered_by"] is None
