"""A server that echoes the credentials: what it says reaches no error, state, log or event.

The sandbox's credentials echo answers like a misconfigured proxy or debug page, quoting the
request's Authorization header, its base64 token, the password (raw and URL-encoded) and a URL
with ``user:password@``. Flows run against it on Prefect's test harness; then everything the
failure left (the error and its pickles, the states and logs the Prefect API stores, the
events emitted) is searched for the password in every form.
"""

from __future__ import annotations

import base64
import html
import json
import pickle
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus
from uuid import UUID
from xml.etree import ElementTree

import httpx
import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.events.clients import AssertingEventsClient
from prefect.events.schemas.events import Event
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from security_helpers import (
    SecretScanner,
    basic_forms,
    exception_surfaces,
    get_task_error,
    reachable_texts,
)

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    FilePermissionError,
    NextcloudClient,
    NextcloudError,
    NextcloudHTTPError,
    ServerError,
    TaskFailedError,
)
from prefect_nextcloud.client.redaction import REDACTED, Redactor, redact, secret_forms
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.sandbox.faults.effects import FaultAction
from prefect_nextcloud.tasks import RunOptions, run_task
from prefect_nextcloud.tasks.waiting import unsuccessful_error

USER = "dana"
# Every character here is one that some encoding writes differently.
PASSWORD = "Nc/p+ss&w<r>d%7E:9x"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
POLL_PATH = r"/taskprocessing/task/\d+$"
NO_RETRY = RetryPolicy(max_elapsed_seconds=0)
IMAGE: dict[str, Any] = {"input": "a red fox", "numberOfImages": 1}


def password_scanner() -> SecretScanner:
    """Searches for the password raw, URL-encoded, as base64 and as the Basic header."""
    return SecretScanner(
        {
            **basic_forms(USER, PASSWORD),
            "URL-encoded password": quote(PASSWORD, safe=""),
            "URL-encoded password, / kept": quote(PASSWORD),
        }
    )


@pytest.fixture
def echo_sandbox() -> Iterator[NextcloudSandbox]:
    """A sandbox whose only user has a password full of characters that encodings change."""
    with NextcloudSandbox(users={USER: PASSWORD}) as sandbox:
        yield sandbox


# -- the redaction step ------------------------------------------------------------------------

FORMS = {
    "raw": PASSWORD,
    "URL-encoded": quote(PASSWORD, safe=""),
    "URL-encoded, lowercase escapes": re.sub(
        "%[0-9A-F]{2}", lambda escape: escape.group().lower(), quote(PASSWORD, safe="")
    ),
    "URL-encoded, / kept": quote(PASSWORD),
    "form-encoded": quote_plus(PASSWORD),
    "JSON-escaped": json.dumps(PASSWORD)[1:-1],
    "PHP JSON-escaped": json.dumps(PASSWORD)[1:-1].replace("/", "\\/"),
    "HTML-escaped": html.escape(PASSWORD),
    "base64 user:password": TOKEN,
    "URL-safe base64 user:password": base64.urlsafe_b64encode(f"{USER}:{PASSWORD}".encode())
    .decode()
    .rstrip("="),
    "base64 password": base64.b64encode(PASSWORD.encode()).decode(),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_encoding_of_the_password_is_redacted(form: str) -> None:
    text = f"Upstream said: <{form}> (request rejected)"
    assert (
        redact(text, secret_forms(USER, PASSWORD))
        == f"Upstream said: <{REDACTED}> (request rejected)"
    )


UNKNOWN = {
    "an Authorization header": (
        "Authorization: Basic Ym9iOmh1bnRlcjI=, retry",
        f"Authorization: {REDACTED}, retry",
    ),
    "a quoted header of a dict": (
        "{'authorization': 'Bearer eyJhbGciOi.J9xY.z', 'host': 'x'}",
        f"{{'authorization': '{REDACTED}', 'host': 'x'}}",
    ),
    "PHP's server variables": (
        "[HTTP_AUTHORIZATION] => Basic Ym9iOmh1bnRlcjI=\n[PHP_AUTH_PW] => hunter2\n[X] => y",
        f"[HTTP_AUTHORIZATION] => {REDACTED}\n[PHP_AUTH_PW] => {REDACTED}\n[X] => y",
    ),
    "a Basic token alone": ("got Basic Ym9iOmh1bnRlcjI= here", f"got Basic {REDACTED} here"),
    "a URL with user:password@": (
        "retry at https://bob:hunter2@cloud.example.com/remote.php",
        f"retry at https://bob:{REDACTED}@cloud.example.com/remote.php",
    ),
}


@pytest.mark.parametrize(("text", "expected"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_credentials_of_unknown_logins_are_redacted_too(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication failed for this user",
        "Authorization failed",
        "see https://cloud.example.com:8443/index.php?user=bob@example.com",
        "mailto bob@example.com, port 8080",
    ],
)
def test_text_without_credentials_is_left_alone(text: str) -> None:
    assert redact(text, secret_forms(USER, PASSWORD)) == text


def test_a_redacted_error_keeps_its_kind_and_facts_and_survives_pickling() -> None:
    said = f"Authorization: Basic {TOKEN} password={PASSWORD}"
    error = ServerError(
        f"The server failed (502 on GET /x). The server said: {said!r}.",
        endpoint="GET /x",
        status_code=502,
        server_message=said,
    )
    error.add_note(f"while fetching as {USER}:{PASSWORD}")
    # A parser's error may hold the whole body it read.
    error.__cause__ = error.__context__ = ValueError(f"not JSON: {said}")

    redacted = Redactor(USER, PASSWORD).error(error)

    assert redacted is error
    assert redacted.server_message == f"Authorization: {REDACTED} password={REDACTED}"
    assert redacted.args == (redacted.message,)
    assert REDACTED in redacted.message
    assert redacted.__cause__ is None
    assert redacted.__context__ is None
    copy = pickle.loads(pickle.dumps(redacted))
    assert (type(copy), copy.status_code, copy.endpoint) == (ServerError, 502, "GET /x")
    assert copy.server_message == redacted.server_message
    scanner = password_scanner()
    for where, surface in exception_surfaces(redacted).items():
        scanner.scan(where, surface)
    scanner.assert_clean()


# -- the sandbox's echo really quotes the credentials ------------------------------------------


def test_the_echo_quotes_the_credentials_in_ocs_and_sabre_bodies(
    echo_sandbox: NextcloudSandbox,
) -> None:
    echo_sandbox.inject_credentials_echo(POLL_PATH, status=502)
    echo_sandbox.inject_credentials_echo(r"/remote.php/dav/files/", status=403)
    with httpx.Client(base_url=echo_sandbox.base_url, auth=(USER, PASSWORD)) as http:
        ocs = http.get("/ocs/v2.php/taskprocessing/task/1", params={"format": "json"})
        dav = http.request("PROPFIND", f"/remote.php/dav/files/{USER}/Photos")
    ocs_message = ocs.json()["ocs"]["meta"]["message"]
    dav_message = ElementTree.fromstring(dav.content).findtext("{http://sabredav.org/ns}message")
    assert (ocs.status_code, dav.status_code) == (502, 403)
    for message in (ocs_message, dav_message):
        assert message is not None
        assert f"Authorization: Basic {TOKEN}" in message
        assert f"PHP_AUTH_PW={PASSWORD} " in message
        assert f"https://{USER}:{quote(PASSWORD, safe='')}@" in message
    echoed = [r for r in echo_sandbox.requests if r.fault is FaultAction.ECHO_CREDENTIALS]
    assert len(echoed) == 2


# -- the client redacts what the server said ---------------------------------------------------


def _deep_scan(error: BaseException) -> list[str]:
    scanner = password_scanner()
    for path, text in reachable_texts(error):
        scanner.scan(path, text)
    for where, surface in exception_surfaces(error).items():
        scanner.scan(where, surface)
    return scanner.hits


@pytest.mark.parametrize("face", ["sync", "async"])
def test_both_faces_raise_the_echo_redacted(echo_sandbox: NextcloudSandbox, face: str) -> None:
    echo_sandbox.inject_credentials_echo(POLL_PATH, status=502)
    error = get_task_error(face, echo_sandbox.base_url, USER, PASSWORD)
    assert isinstance(error, ServerError)
    assert error.server_message is not None
    assert f"Authorization: {REDACTED} | credentials {REDACTED}" in error.server_message
    assert f"retry at https://{USER}:{REDACTED}@cloud.example.invalid" in error.server_message
    assert error.server_message in error.message
    assert _deep_scan(error) == []


def test_a_redirect_to_a_url_with_the_password_is_reported_redacted(
    echo_sandbox: NextcloudSandbox,
) -> None:
    echo_sandbox.inject_credentials_echo(POLL_PATH, status=302)
    with (
        NextcloudClient(echo_sandbox.base_url, USER, PASSWORD) as client,
        pytest.raises(NextcloudHTTPError) as info,
    ):
        client.get_task(1)
    assert f"redirected GET /ocs/v2.php/taskprocessing/task/1 to https://{USER}:{REDACTED}@" in (
        info.value.message
    )
    assert _deep_scan(info.value) == []


def test_a_task_error_message_that_quotes_the_header_comes_back_redacted() -> None:
    # The sandbox's providers fail with fixed messages, so this answer is made up here.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status.php":
            return httpx.Response(200, json={"installed": True, "version": "31.0.0.0"})
        quoted = f"provider got {request.headers['authorization']} for {PASSWORD}"
        task = {
            "id": 7,
            "type": "core:text2text",
            "status": "STATUS_FAILED",
            "input": {"input": "Hi"},
            "userFacingErrorMessage": quoted,
        }
        return httpx.Response(
            200, json={"ocs": {"meta": {"statuscode": 200}, "data": {"task": task}}}
        )

    transport = httpx.MockTransport(answer)
    with NextcloudClient(
        "https://cloud.example.invalid", USER, PASSWORD, transport=transport
    ) as client:
        task = client.get_task(7)
    assert task.user_facing_error_message == f"provider got Basic {REDACTED} for {REDACTED}"
    error = unsuccessful_error(task)
    assert isinstance(error, TaskFailedError)
    assert _deep_scan(error) == []


def test_listed_task_error_messages_come_back_redacted(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with credentials.get_client() as client:
        scheduled = client.schedule_task("core:text2text", {"input": "Hi"}, custom_id="echo")
    header = basic_forms(sandbox.user_id, sandbox.app_password)[
        f"'Basic' header of {sandbox.user_id}"
    ]

    def echo(data: Any) -> Any:
        for row in data["ocs"]["data"]["tasks"]:
            row["userFacingErrorMessage"] = f"provider got {header} for {sandbox.app_password}"
        return data

    sandbox.inject_rewrite("/tasks/app/", echo, method="GET", times=2)
    with credentials.get_client() as client:
        listing = client.task_listing(scheduled.app_id)
        listed = client.list_tasks_by_app(scheduled.app_id)
    for task in (*listing.tasks, *listed):
        assert task.user_facing_error_message == f"provider got Basic {REDACTED} for {REDACTED}"


# -- flows on the Prefect test harness ---------------------------------------------------------


@flow(name="redaction-image")
def image_flow(credentials: NextcloudCredentials, save_outputs_to: str | None = None) -> Any:
    return run_task(
        credentials,
        "core:text2image",
        IMAGE,
        options=RunOptions(
            timeout_seconds=30.0, poll_interval_seconds=0.05, save_outputs_to=save_outputs_to
        ),
    )


def _emitted() -> list[Event]:
    EventsWorker.drain_all()
    return [event for client in AssertingEventsClient.all for event in client.events]


@pytest.fixture
def emitted_events() -> Iterator[Callable[[], list[Event]]]:
    """Every event the process emits meanwhile, kept here instead of sent to the server."""
    EventsWorker.drain_all()
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        yield _emitted
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()


def _api_texts(flow_run_id: UUID) -> tuple[str, list[str], list[str]]:
    """The final state message, every state and every log the Prefect API stored for a run."""
    APILogWorker.drain_all(timeout=30)
    with get_client(sync_client=True) as api:
        flow_run = api.read_flow_run(flow_run_id)
        states = [state.model_dump_json() for state in api.read_flow_run_states(flow_run_id)]
        for task_run in api.read_task_runs():
            if task_run.flow_run_id == flow_run_id:
                states += [s.model_dump_json() for s in api.read_task_run_states(task_run.id)]
        logs = api.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200
        )
    assert flow_run.state is not None
    return flow_run.state.message or "", states, [log.message for log in logs]


SCENARIOS = {
    # A proxy in front of the OCS API fails the download of the output image.
    "OCS": (r"/taskprocessing/tasks/\d+/file/\d+", "GET", 502, ServerError, None),
    # Saving the output image: the PROPFIND on the target folder answers Sabre's XML error.
    "WebDAV": (
        r"/remote.php/dav/files/dana/Generated",
        "PROPFIND",
        403,
        FilePermissionError,
        "nc:/Generated",
    ),
}


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize(
    ("path", "method", "status", "expected", "save_outputs_to"),
    SCENARIOS.values(),
    ids=SCENARIOS.keys(),
)
def test_a_flow_failed_by_the_echo_leaks_the_password_nowhere(
    echo_sandbox: NextcloudSandbox,
    emitted_events: Callable[[], list[Event]],
    path: str,
    method: str,
    status: int,
    expected: type[NextcloudError],
    save_outputs_to: str | None,
) -> None:
    credentials = NextcloudCredentials(
        base_url=echo_sandbox.base_url, user_id=USER, app_password=PASSWORD, retry_seconds=0
    )
    echo_sandbox.inject_credentials_echo(path, status=status, method=method)

    state = image_flow(credentials, save_outputs_to, return_state=True)

    assert state.is_failed()
    with pytest.raises(expected) as info:
        state.result()
    error = info.value
    assert f"Authorization: {REDACTED}" in str(error)  # the server's text is there, redacted
    echoed = [r for r in echo_sandbox.requests if r.fault is FaultAction.ECHO_CREDENTIALS]
    assert [(r.method, r.status) for r in echoed] == [(method, status)]
    assert len(echo_sandbox.tasks()) == 1

    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    final_message, states, logs = _api_texts(flow_run_id)
    assert f"Authorization: {REDACTED}" in final_message
    assert any(expected.__name__ in message for message in logs)

    events = emitted_events()
    failed = [event for event in events if event.event == "nextcloud.task.failed"]
    assert len(failed) == 1
    assert f"Authorization: {REDACTED}" in failed[0].payload["error"]

    scanner = password_scanner()
    scanner.scan_all("raised error", exception_surfaces(error).values())
    scanner.scan("final state message", final_message)
    scanner.scan_all("stored state", states)
    scanner.scan_all("stored log", logs)
    scanner.scan_all("emitted event", (event.model_dump_json() for event in events))
    assert scanner.scanned > 20
    scanner.assert_clean()
