"""The sandbox's ``webhook_listeners`` app: admins register listeners, file changes call them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import client_for, ocs_data

from prefect_nextcloud.sandbox import NextcloudSandbox, RecordedRequest

API = "/ocs/v2.php/apps/webhook_listeners/api/v1/webhooks"
NODE = "OCP\\Files\\Events\\Node\\"
HOOK = r"^/hook$"


def register(sandbox: NextcloudSandbox, user_id: str = "alice", **fields: Any) -> Any:
    body = {"httpMethod": "POST", "uri": sandbox.base_url + "/hook", **fields}
    with client_for(sandbox, user_id) as client:
        return client.post(API, json=body)


def registered(sandbox: NextcloudSandbox, **fields: Any) -> dict[str, Any]:
    response = register(sandbox, **fields)
    assert response.status_code == 200, response.text
    listener: dict[str, Any] = ocs_data(response)
    return listener


def calls(sandbox: NextcloudSandbox, count: int) -> list[RecordedRequest]:
    """The calls the listeners made, once there are ``count``."""
    return sandbox.wait_for_requests("POST", HOOK, count=count)


def payload(request: RecordedRequest) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(request.body)
    return decoded


def test_an_admin_registers_lists_updates_and_deletes_listeners(sandbox: NextcloudSandbox) -> None:
    listener = registered(
        sandbox,
        event="\\" + NODE + "NodeCreatedEvent",
        headers={"X-Extra": "1"},
        authMethod="header",
        authData={"X-Relay-Token": "clear-value"},
    )
    assert listener["id"] == 1
    assert {key: listener[key] for key in ("appId", "userId", "event", "userIdFilter")} == {
        "appId": None,
        "userId": "alice",
        "event": NODE + "NodeCreatedEvent",
        "userIdFilter": "",
    }
    assert listener["eventFilter"] == []
    assert listener["authMethod"] == "header"
    assert "clear-value" not in json.dumps(listener)  # stored and shown encrypted
    with client_for(sandbox, "alice") as client:
        assert ocs_data(client.get(API)) == [listener]
        assert ocs_data(client.get(API, params={"uri": "https://elsewhere"})) == []
        assert ocs_data(client.get(f"{API}/1")) == listener
        updated = client.post(
            f"{API}/1",
            json={
                "httpMethod": "PUT",
                "uri": "https://elsewhere",
                "event": NODE + "NodeDeletedEvent",
            },
        )
        assert ocs_data(updated)["httpMethod"] == "PUT"
        assert ocs_data(updated)["authData"] is None
        assert ocs_data(client.delete(f"{API}/1")) is True
        assert ocs_data(client.delete(f"{API}/1")) is False
        missing = client.get(f"{API}/1")
        assert missing.status_code == 404
        assert ocs_data(client.delete(f"{API}/byappid/some-app")) == 0


def test_other_users_are_refused_before_anything_is_stored(sandbox: NextcloudSandbox) -> None:
    response = register(sandbox, "bob", event=NODE + "NodeCreatedEvent")
    assert response.status_code == 403
    assert response.json() == {
        "message": "Logged in account must be an admin, a sub admin or gotten special right "
        "to access this setting"
    }
    with client_for(sandbox, "alice") as client:
        assert ocs_data(client.get(API)) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"event": "OCP\\Nothing"}, "OCP\\Nothing is not an event class compatible with webhooks"),
        (
            {"event": NODE + "NodeCreatedEvent", "authMethod": "basic"},
            "This auth method does not exist",
        ),
        (
            {"event": NODE + "NodeCreatedEvent", "authMethod": "header"},
            "Header auth method needs an associative array of headers as auth data",
        ),
        (
            {"event": NODE + "NodeCreatedEvent", "eventFilter": {"time": {"$gt": 1}}},
            "The sandbox evaluates eventFilter only as dot paths with plain values or /regex/ "
            "strings, not the value of time",
        ),
    ],
)
def test_invalid_registrations_are_bad_requests(
    sandbox: NextcloudSandbox, fields: dict[str, Any], message: str
) -> None:
    response = register(sandbox, **fields)
    assert response.status_code == 400
    assert response.json()["ocs"]["meta"]["message"] == message
    assert response.json()["ocs"]["data"] == []


def test_file_changes_call_the_listeners_of_their_events(sandbox: NextcloudSandbox) -> None:
    for event in ("NodeCreatedEvent", "NodeWrittenEvent", "NodeDeletedEvent"):
        registered(
            sandbox,
            event=NODE + event,
            headers={"X-Extra": "1"},
            authMethod="header",
            authData={"X-Relay-Token": "the-value"},
        )
    with sandbox.credentials.get_client() as client:
        file_id = client.upload_file("/Photos/cat.png", b"one")
        client.upload_file("/Photos/cat.png", b"two")
        client.delete_file("/Photos/cat.png")

    # The new folder: created, then written, as the server's hooks fire for any new node.
    made = calls(sandbox, 6)
    folder = [payload(request)["event"] for request in made[:2]]
    assert folder == [
        {
            "node": {"id": folder[0]["node"]["id"], "path": "/alice/files/Photos"},
            "class": NODE + event,
        }
        for event in ("NodeCreatedEvent", "NodeWrittenEvent")
    ]
    made = made[2:]
    classes = [payload(request)["event"]["class"] for request in made]
    assert classes == [
        NODE + "NodeCreatedEvent",
        NODE + "NodeWrittenEvent",
        NODE + "NodeWrittenEvent",
        NODE + "NodeDeletedEvent",
    ]
    first = made[0]
    assert first.headers["x-relay-token"] == "the-value"
    assert first.headers["x-extra"] == "1"
    assert "content-type" not in first.headers
    assert b'"path":"\\/alice\\/files\\/Photos\\/cat.png"' in first.body  # json_encode escapes /
    body = payload(first)
    assert body["event"]["node"] == {"id": file_id, "path": "/alice/files/Photos/cat.png"}
    assert body["user"] == {"uid": "alice", "displayName": "alice"}
    assert isinstance(body["time"], int)
    assert payload(made[3])["event"]["node"]["id"] == file_id  # the deleted node keeps its id


def test_filters_choose_the_changes_a_listener_hears_of(sandbox: NextcloudSandbox) -> None:
    registered(
        sandbox,
        event=NODE + "NodeCreatedEvent",
        eventFilter={"event.node.path": "/^\\/[^\\/]+\\/files\\/Photos\\//"},
    )
    registered(sandbox, event=NODE + "NodeCreatedEvent", userIdFilter="bob")
    sandbox.upload("Other/a.txt", b"a")  # alice, outside Photos: neither
    sandbox.upload("Photos/b.txt", b"b")  # alice, in Photos: the first
    sandbox.upload("Other/c.txt", b"c", user_id="bob")  # bob, outside Photos: the second
    made = calls(sandbox, 3)
    paths = [payload(request)["event"]["node"]["path"] for request in made]
    # Bob's new folder too; Alice's "Photos" folder itself is not below "Photos/".
    assert paths == ["/alice/files/Photos/b.txt", "/bob/files/Other", "/bob/files/Other/c.txt"]


def test_servers_before_30_have_no_webhook_listeners() -> None:
    with NextcloudSandbox(server_version=29) as sandbox:
        response = register(sandbox, event=NODE + "NodeCreatedEvent")
    assert response.status_code == 404
