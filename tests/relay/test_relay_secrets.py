"""The relay secret, the task tokens and the file events' header value stay out of sight."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx
import pytest
from relay_helpers import (
    SECRET,
    RunningRelay,
    push_on_end,
    register_listeners,
    relay_config,
    stored_events,
    task_events_until,
    webhook_body,
)

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.relay import FILE_EVENTS_HEADER, FILE_EVENTS_PATH, file_events_token
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks.events import file_resource_id

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_no_log_answer_or_event_holds_the_secret_or_a_token(
    sandbox: NextcloudSandbox,
    relay: RunningRelay,
    relay_credentials: NextcloudCredentials,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("prefect_nextcloud", "uvicorn", "prefect"):
        caplog.set_level(logging.DEBUG, logger=name)
    # The access log back on, as a logging configuration could turn it: its paths are redacted.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    header_value = file_events_token(SECRET)
    register_listeners(sandbox, relay_config(sandbox, public_url=relay.url))
    task = push_on_end(relay_credentials, "job-1")
    uri = relay_credentials.task_webhook_uri("alice", "relay-tests", "job-1")
    assert uri is not None
    path = urlsplit(uri).path
    token = path.rsplit("/", 1)[1]
    near_miss = path[:-1] + ("1" if path.endswith("0") else "0")
    sandbox.wait_for_status(task.id, "SUCCESSFUL")
    with sandbox.credentials.get_client() as client:
        body = webhook_body(client.get_task(task.id))
    with httpx.Client(base_url=relay.url) as client:
        answers = [
            client.post(near_miss, content=body),
            client.post(path, content=b"x" * 70_000),
            client.post(path, content=b"{"),
            client.post(FILE_EVENTS_PATH, content=b"{}", headers={FILE_EVENTS_HEADER: token}),
        ]
    with sandbox.credentials.get_client() as client:
        client.upload_file("/Photos/cat.png", b"one")
    task_events = task_events_until(sandbox, task)
    file_events = stored_events(
        file_resource_id(sandbox.base_url, 1).removesuffix("1"),
        lambda event: event.resource.get("nextcloud.file.path") == "/Photos/cat.png",
    )

    assert [answer.status_code for answer in answers] == [403, 413, 400, 403]
    assert file_events
    captured = capfd.readouterr()
    # The senders' HTTP client (the sandbox, standing in for Nextcloud, and this test) logs the
    # URLs it calls; every other record, the relay's and uvicorn's, is searched.
    relay_logs = [record for record in caplog.records if not record.name.startswith("httpx")]
    seen = {
        "logs": "\n".join(record.getMessage() for record in relay_logs),
        "output": captured.out + captured.err,
        "answers": "\n".join(answer.text for answer in answers),
        "events": "\n".join(event.model_dump_json() for event in task_events + file_events),
    }
    assert "Refused a task webhook (403)" in seen["logs"]  # the logs were captured
    assert '"POST /nextcloud/task/<token> HTTP/1.1" 403' in seen["logs"]
    for secret in (SECRET, token, header_value):
        assert [where for where, text in seen.items() if secret in text] == []
