"""OpenAPI conformance: every response the sandbox gives must match Nextcloud's official schema.

The schema is ``nextcloud-openapi-taskprocessing.json`` next to this file: the official OpenAPI
subset of Nextcloud's ``core/openapi-full.json``, commit
``00c1b55b1488386f5e2a9029203bd3537b7de18d``, the 35 development line; see its ``x-subset-of``
block. It is a byte-identical copy; the documented exceptions below are applied to an in-memory
copy only (:func:`conformance_spec`).

Two kinds of tests run against one sandbox per module (``server_version=35``, a rate limit so
high that it never triggers):

* Schemathesis fuzzes the user-facing operations (schema-valid requests only, seeded and
  bounded) and checks status code, content type and body of every response.
* Hand-written cases cover each endpoint's happy path and documented errors, plus the places
  where the real server (reference ``nextcloud-api.md``, which is right when it disagrees with
  the schema) answers something the schema does not describe. Those are asserted as *known*
  exceptions, so a change on either side shows up.

Run only these tests with ``.venv/bin/pytest tests/conformance``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import JsonSchemaError, UndefinedContentType, UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for, sample_image_bytes

SPEC_PATH = Path(__file__).with_name("nextcloud-openapi-taskprocessing.json")
TP = "/ocs/v2.php/taskprocessing"
TXP = "/ocs/v2.php/textprocessing"
USERS = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
SEED = 20260722
APP_ID = "conformance"
FREE_PROMPT = "OCP\\TextProcessing\\FreePromptTaskType"
# Requests per schema-valid fuzzed operation; with the hand-written cases this keeps the whole
# module at a few seconds.
MAX_EXAMPLES = 15

# The response checks: "status code documented", "content type documented", "body matches the
# response schema" (and headers, which the subset never declares).
CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# The user-facing TaskProcessing operations. Left out on purpose: tasks_provider/* and
# tasks_consumer/* (ExApp only; a user gets 412 "ExApp required", reference §4), queue_stats
# (admin only), and GET tasks/{taskId}/queue_position (NC 35 dev, PR #62414): the sandbox does
# not implement that route yet, so it would answer the unknown-route 404.
READ_OPERATIONS = [
    f"GET {TP}/tasktypes",
    f"POST {TP}/schedule",
    f"GET {TP}/task/{{id}}",
    f"GET {TP}/tasks/app/{{appId}}",
    f"GET {TP}/tasks",
    f"GET {TP}/tasks/{{taskId}}/file/{{fileId}}",
]
# Fuzzed after the others so that the seeded tasks are still there while the lists are fuzzed.
DESTRUCTIVE_OPERATIONS = [
    f"DELETE {TP}/task/{{id}}",
    f"POST {TP}/tasks/{{taskId}}/cancel",
    f"DELETE {TXP}/task/{{id}}",
]
# The deprecated TextProcessing user routes, still in the NC 35 schema (reference §10).
TEXT_PROCESSING_OPERATIONS = [
    f"GET {TXP}/tasktypes",
    f"POST {TXP}/schedule",
    f"GET {TXP}/task/{{id}}",
    f"GET {TXP}/tasks/app/{{appId}}",
]


def conformance_spec() -> dict[str, Any]:
    """Return the official schema with the documented exceptions applied (in memory only).

    (a) ``preferStreaming`` is required on every Task by the NC 35 schema; the sandbox runs with
        ``server_version=35``, which emits it, so the schema is left as it is.
    (b) Task types carry ``isInternal`` (NC 33+, reference §5.2), which the schema does not list.
        ``TaskProcessingTaskType`` has no ``additionalProperties: false``, so it is accepted
        anyway; it is added here as a boolean so that its type is checked too (a tightening).
    (c) The 429 of the rate limit (empty body, reference §2) is not in the schema; the fuzzing
        sandbox's limit is far above what the tests send, and
        :func:`test_rate_limit_429_is_undocumented` pins the real behaviour.
    (d) The other differences are not patched but asserted as known exceptions in the
        hand-written tests: the wrong-credentials 401 in XML, the unwrapped CSRF 412, the
        generic 500 with ``data: []``, the unwrapped ExApp 412.
    """
    # A fresh parse each time: the file itself is never changed.
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    task_type = spec["components"]["schemas"]["TaskProcessingTaskType"]
    assert "additionalProperties" not in task_type  # (b): else isInternal would need to be allowed
    task_type["properties"]["isInternal"] = {"type": "boolean"}
    # Not an exception but test data: the examples phase also lists the seeded tasks' appId, so
    # the fuzzed list endpoint returns real tasks, not only empty lists.
    by_app = spec["paths"][f"{TP}/tasks/app/{{appId}}"]["get"]
    next(p for p in by_app["parameters"] if p["name"] == "appId")["example"] = APP_ID
    # Likewise a body with a real task type, so that the fuzzed schedule reaches the 400 of input
    # validation, not only the 412 of random type ids. No schema-valid body can reach 200: the
    # request schema types every input value as an object, while real inputs are strings,
    # numbers and lists (reference §5.2); schemathesis drops examples that break the schema.
    schedule = spec["paths"][f"{TP}/schedule"]["post"]["requestBody"]["content"]["application/json"]
    schedule["example"] = {"input": {"input": {}}, "type": "core:text2text", "appId": APP_ID}
    # For the deprecated TextProcessing API a schema-valid body can succeed (input is a string).
    text = spec["paths"][f"{TXP}/schedule"]["post"]["requestBody"]["content"]["application/json"]
    text["example"] = {"input": "Hi", "type": FREE_PROMPT, "appId": APP_ID}
    return spec


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                # Schema-valid requests only: invalid ones end in the generic 500 of ocs/v1.php,
                # which the schema does not describe (see test_uncaught_error_500).
                "mode": "positive",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Credentials come from the test, not from generated security parameters.
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )


SCHEMA = schemathesis.openapi.from_dict(conformance_spec(), config=_config())


@dataclass(frozen=True)
class Seeded:
    """The module's sandbox and the data created in it before the tests run."""

    sandbox: NextcloudSandbox
    image_id: int
    bob_image_id: int
    successful: int
    failed: int
    cancelled: int
    running: int
    scheduled: int


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ALICE_HEADERS = {"Authorization": _basic("alice", USERS["alice"]), "OCS-APIRequest": "true"}


def _schedule(client: httpx.Client, task_type: str, task_input: dict[str, Any]) -> int:
    body = {"input": task_input, "type": task_type, "appId": APP_ID, "customId": "seed"}
    response = client.post(f"{TP}/schedule", json=body)
    assert response.status_code == 200, response.text
    task_id: int = response.json()["ocs"]["data"]["task"]["id"]
    return task_id


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """One sandbox (NC 35) with tasks in every state: successful, failed, cancelled, running, scheduled."""
    with (
        NextcloudSandbox(users=USERS, server_version=35, rate_limit=10_000) as sandbox,
        httpx.Client(
            base_url=sandbox.base_url,
            headers=ALICE_HEADERS,
            params={"format": "json"},
            timeout=5,
        ) as client,
    ):
        image_id = sandbox.upload("conformance/photo.png", sample_image_bytes())
        bob_image_id = sandbox.upload("private.png", sample_image_bytes(), user_id="bob")
        successful = _schedule(
            client, "core:analyze-images", {"images": [image_id], "input": "What is this?"}
        )
        sandbox.wait_for_status(successful, "SUCCESSFUL")
        sandbox.set_failing("core:text2text:summary")
        failed = _schedule(client, "core:text2text:summary", {"input": "A long text."})
        sandbox.wait_for_status(failed, "FAILED")
        sandbox.set_failing("core:text2text:summary", failing=False)
        sandbox.pause_processing()
        cancelled = _schedule(client, "core:text2text", {"input": "Never mind."})
        assert client.post(f"{TP}/tasks/{cancelled}/cancel").status_code == 200
        # One worker: it holds the first task RUNNING, every later task stays SCHEDULED.
        sandbox.hold_running()
        running = _schedule(client, "core:text2text", {"input": "Still thinking."})
        sandbox.wait_for_status(running, "RUNNING")
        scheduled = _schedule(client, "core:text2text", {"input": "Waiting in line."})
        yield Seeded(
            sandbox, image_id, bob_image_id, successful, failed, cancelled, running, scheduled
        )


def _validate(case: schemathesis.Case, response: Any) -> None:
    case.validate_response(response, checks=CONFORMANCE_CHECKS)


def _call(
    case: schemathesis.Case,
    seeded: Seeded,
    *,
    headers: dict[str, str] | None = None,
    fmt: str | None = "json",
) -> Any:
    return case.call(
        base_url=seeded.sandbox.base_url,
        headers=ALICE_HEADERS if headers is None else headers,
        params={} if fmt is None else {"format": fmt},
        timeout=5,
    )


# -- hand-written cases ----------------------------------------------------------------------


def _case(label: str, **kwargs: Any) -> schemathesis.Case:
    method, path = label.split(" ", 1)
    return SCHEMA[path][method].Case(**kwargs)


def _send(
    seeded: Seeded,
    label: str,
    *,
    headers: dict[str, str] | None = None,
    fmt: str | None = "json",
    **kwargs: Any,
) -> tuple[schemathesis.Case, Any]:
    case = _case(label, **kwargs)
    return case, _call(case, seeded, headers=headers, fmt=fmt)


def _conforming(seeded: Seeded, label: str, status: int, **kwargs: Any) -> Any:
    """Send a hand-made request, check the status and that the response conforms; return it."""
    case, response = _send(seeded, label, **kwargs)
    assert response.status_code == status, response.text
    _validate(case, response)
    return response


def _known_failures(case: schemathesis.Case, response: Any) -> set[type[Exception]]:
    """The kinds of conformance failure of a response the schema is known not to describe."""
    with pytest.raises(FailureGroup) as info:
        _validate(case, response)
    return {type(failure) for failure in info.value.exceptions}


def _header(response: Any, name: str) -> str | None:
    """A header of a Schemathesis response (lower-cased names, lists of values)."""
    values = response.headers.get(name.lower())
    return None if values is None else str(values[0])


def _data(response: Any) -> Any:
    return response.json()["ocs"]["data"]


def _fresh_task(seeded: Seeded) -> int:
    body = {"input": {"input": "Scratch."}, "type": "core:text2text", "appId": APP_ID}
    return int(_data(_conforming(seeded, f"POST {TP}/schedule", 200, body=body))["task"]["id"])


def test_task_types(seeded: Seeded) -> None:
    types = _data(_conforming(seeded, f"GET {TP}/tasktypes", 200))["types"]
    assert {"core:text2text", "core:analyze-images"} <= set(types)
    # (b) isInternal is sent although the schema does not list it (reference §5.2).
    assert all(isinstance(task_type["isInternal"], bool) for task_type in types.values())


def test_schedule(seeded: Seeded) -> None:
    body = {"input": {"input": "Hi"}, "type": "core:text2text", "appId": APP_ID}
    response = _conforming(
        seeded, f"POST {TP}/schedule", 200, body={**body, "preferStreaming": True}
    )
    task = _data(response)["task"]
    assert (task["status"], task["preferStreaming"]) == ("STATUS_SCHEDULED", True)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(
            {"input": {}, "type": "core:text2text", "appId": APP_ID},
            400,
            'Missing key: "input"',
            id="400-validation",
        ),
        pytest.param(
            {"input": {"input": "x"}, "type": "core:nonexistent", "appId": APP_ID},
            412,
            "The given provider is not available",
            id="412-unknown-type",
        ),
    ],
)
def test_schedule_errors(seeded: Seeded, body: dict[str, Any], status: int, message: str) -> None:
    response = _conforming(seeded, f"POST {TP}/schedule", status, body=body)
    assert _data(response) == {"message": message}


def test_schedule_file_without_access(seeded: Seeded) -> None:
    body = {
        "input": {"images": [seeded.bob_image_id], "input": "Whose?"},
        "type": "core:analyze-images",
        "appId": APP_ID,
    }
    response = _conforming(seeded, f"POST {TP}/schedule", 401, body=body)
    # The controller's own 401 keeps statuscode 401 (not the 997 of "not logged in", §3.2).
    assert response.json()["ocs"]["meta"]["statuscode"] == 401
    assert _data(response) == {
        "message": "User does not have access to the files mentioned in the task input"
    }


@pytest.mark.parametrize(
    ("attribute", "status"),
    [
        ("successful", "STATUS_SUCCESSFUL"),
        ("failed", "STATUS_FAILED"),
        ("cancelled", "STATUS_CANCELLED"),
        ("running", "STATUS_RUNNING"),
        ("scheduled", "STATUS_SCHEDULED"),
    ],
)
def test_get_task_in_every_state(seeded: Seeded, attribute: str, status: str) -> None:
    task_id = getattr(seeded, attribute)
    response = _conforming(seeded, f"GET {TP}/task/{{id}}", 200, path_parameters={"id": task_id})
    assert _data(response)["task"]["status"] == status


def test_get_missing_task(seeded: Seeded) -> None:
    response = _conforming(seeded, f"GET {TP}/task/{{id}}", 404, path_parameters={"id": 987654})
    assert _data(response) == {"message": "Task not found"}


def test_list_tasks(seeded: Seeded) -> None:
    tasks = _data(_conforming(seeded, f"GET {TP}/tasks", 200))["tasks"]
    assert {seeded.successful, seeded.failed, seeded.running} <= {task["id"] for task in tasks}
    filtered = _conforming(
        seeded,
        f"GET {TP}/tasks",
        200,
        query={"taskType": "core:analyze-images", "customId": "seed"},
    )
    assert [task["id"] for task in _data(filtered)["tasks"]] == [seeded.successful]
    by_app = _conforming(
        seeded, f"GET {TP}/tasks/app/{{appId}}", 200, path_parameters={"appId": APP_ID}
    )
    assert seeded.scheduled in {task["id"] for task in _data(by_app)["tasks"]}


def test_file_contents(seeded: Seeded) -> None:
    label = f"GET {TP}/tasks/{{taskId}}/file/{{fileId}}"
    response = _conforming(
        seeded, label, 200, path_parameters={"taskId": seeded.successful, "fileId": seeded.image_id}
    )
    assert response.content == sample_image_bytes()
    # A file the task does not reference: 404 "Not found".
    response = _conforming(
        seeded,
        label,
        404,
        path_parameters={"taskId": seeded.successful, "fileId": seeded.bob_image_id},
    )
    assert _data(response) == {"message": "Not found"}


def test_cancel(seeded: Seeded) -> None:
    label = f"POST {TP}/tasks/{{taskId}}/cancel"
    task_id = _fresh_task(seeded)  # stays scheduled: the only worker holds the running task
    response = _conforming(seeded, label, 200, path_parameters={"taskId": task_id})
    assert _data(response)["task"]["status"] == "STATUS_CANCELLED"
    # A finished task: a silent no-op, still 200 (§3.8).
    response = _conforming(seeded, label, 200, path_parameters={"taskId": seeded.successful})
    assert _data(response)["task"]["status"] == "STATUS_SUCCESSFUL"
    response = _conforming(seeded, label, 404, path_parameters={"taskId": 987654})
    assert _data(response) == {"message": "Not found"}


def test_delete(seeded: Seeded) -> None:
    label = f"DELETE {TP}/task/{{id}}"
    # Existing or not: 200 with data null (§3.4).
    task_id = _fresh_task(seeded)
    for existing_or_not in (task_id, 987654):
        response = _conforming(seeded, label, 200, path_parameters={"id": existing_or_not})
        assert _data(response) is None
    _conforming(seeded, f"GET {TP}/task/{{id}}", 404, path_parameters={"id": task_id})


# TextProcessing's tasktypes is still #[PublicPage] (reference §10): no 401 there.
@pytest.mark.parametrize(
    "label", READ_OPERATIONS + DESTRUCTIVE_OPERATIONS + TEXT_PROCESSING_OPERATIONS[1:]
)
def test_not_logged_in(seeded: Seeded, label: str) -> None:
    # No credentials: 401 with the 997 envelope (§2), the schema's second 401 body.
    params = {"id": 1, "taskId": 1, "fileId": 1, "appId": APP_ID}
    operation = SCHEMA[label.split(" ", 1)[1]][label.split(" ", 1)[0]]
    names = {parameter.name for parameter in operation.path_parameters}
    path_parameters = {name: value for name, value in params.items() if name in names}
    body = {"input": {}, "type": "core:text2text", "appId": APP_ID}
    kwargs: dict[str, Any] = {"body": body} if label.endswith("/schedule") else {}
    response = _conforming(
        seeded,
        label,
        401,
        headers={"OCS-APIRequest": "true"},
        path_parameters=path_parameters,
        **kwargs,
    )
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


def test_text_processing(seeded: Seeded) -> None:
    """The deprecated TextProcessing API (reference §10): a list of types, integer statuses."""
    types = _data(_conforming(seeded, f"GET {TXP}/tasktypes", 200))["types"]
    assert FREE_PROMPT in {task_type["id"] for task_type in types}
    body = {"input": "Hi", "type": FREE_PROMPT, "appId": APP_ID, "identifier": "txt"}
    task = _data(_conforming(seeded, f"POST {TXP}/schedule", 200, body=body))["task"]
    unknown = {**body, "type": "OCP\\TextProcessing\\NoSuchTaskType"}
    _conforming(seeded, f"POST {TXP}/schedule", 400, body=unknown)
    by_id = {"id": task["id"]}
    _conforming(seeded, f"GET {TXP}/task/{{id}}", 200, path_parameters=by_id)
    listed = _conforming(
        seeded, f"GET {TXP}/tasks/app/{{appId}}", 200, path_parameters={"appId": APP_ID}
    )
    assert task["id"] in {item["id"] for item in _data(listed)["tasks"]}
    # DELETE returns the deleted task, then 404 (unlike TaskProcessing's 200/null).
    _conforming(seeded, f"DELETE {TXP}/task/{{id}}", 200, path_parameters=by_id)
    _conforming(seeded, f"DELETE {TXP}/task/{{id}}", 404, path_parameters=by_id)
    _conforming(seeded, f"GET {TXP}/task/{{id}}", 404, path_parameters=by_id)


# -- documented exceptions: real server behaviour that the schema does not describe ----------


def test_wrong_credentials_401(seeded: Seeded) -> None:
    """(d) Wrong credentials are answered by ocs/v1.php itself (reference §2, §13.6).

    That branch passes no format, so the body is XML (``text/xml``) even when JSON is asked
    for, a content type the schema does not list.
    """
    wrong = {"Authorization": _basic("alice", "wrong-password"), "OCS-APIRequest": "true"}
    for fmt in (None, "json"):
        case, response = _send(seeded, f"GET {TP}/tasks", headers=wrong, fmt=fmt)
        assert response.status_code == 401
        assert _header(response, "WWW-Authenticate") == 'Basic realm="Authorisation Required"'
        assert _header(response, "Content-Type") == "text/xml; charset=UTF-8"
        assert "<statuscode>997</statuscode>" in response.text
        assert _known_failures(case, response) == {UndefinedContentType}


def test_csrf_412(seeded: Seeded) -> None:
    """(d) Without ``OCS-APIRequest: true`` (reference §1): 412 with a plain, unwrapped body.

    412 is not documented on most operations; where it is (schedule), the body lacks the
    envelope the schema requires.
    """
    no_csrf = {"Authorization": ALICE_HEADERS["Authorization"]}
    case, response = _send(seeded, f"GET {TP}/tasks", headers=no_csrf)
    assert (response.status_code, response.json()) == (412, {"message": "CSRF check failed"})
    assert _known_failures(case, response) == {UndefinedStatusCode}
    body = {"input": {"input": "x"}, "type": "core:text2text", "appId": APP_ID}
    case, response = _send(seeded, f"POST {TP}/schedule", headers=no_csrf, body=body)
    assert (response.status_code, response.json()) == (412, {"message": "CSRF check failed"})
    assert _known_failures(case, response) == {JsonSchemaError}


def test_file_contents_needs_no_csrf_header(seeded: Seeded) -> None:
    """``#[NoCSRFRequired]`` (reference §3.7), although the schema marks the header required."""
    case, response = _send(
        seeded,
        f"GET {TP}/tasks/{{taskId}}/file/{{fileId}}",
        headers={"Authorization": ALICE_HEADERS["Authorization"]},
        path_parameters={"taskId": seeded.successful, "fileId": seeded.image_id},
    )
    assert response.status_code == 200
    _validate(case, response)


def test_uncaught_error_500(seeded: Seeded) -> None:
    """(d) A required argument missing: PHP's TypeError, the generic 500 (reference §1, §2).

    §1 says "most likely ends in a 500"; ocs/v1.php answers it with ``data: []``, while the
    schema's 500 describes the controller's own ``{"message": ...}``.
    """
    case, response = _send(
        seeded, f"POST {TP}/schedule", body={"input": {"input": "x"}, "appId": APP_ID}
    )
    assert response.status_code == 500
    assert _data(response) == []
    assert _known_failures(case, response) == {JsonSchemaError}


def test_rate_limit_429_is_undocumented() -> None:
    """(c) One schedule call over the limit: 429 with an empty body (reference §2, §3.2).

    The schema lists no 429; the fuzzing sandbox's limit (10 000) is never reached.
    """
    with NextcloudSandbox(users=USERS, server_version=35, rate_limit=1) as sandbox:
        seeded = Seeded(sandbox, 0, 0, 0, 0, 0, 0, 0)
        body = {"input": {"input": "x"}, "type": "core:text2text", "appId": APP_ID}
        _conforming(seeded, f"POST {TP}/schedule", 200, body=body)
        case, response = _send(seeded, f"POST {TP}/schedule", body=body)
        assert (response.status_code, response.content) == (429, b"")
        assert _header(response, "Retry-After") is None
        assert _known_failures(case, response) == {UndefinedStatusCode}


def test_exapp_route_412(seeded: Seeded) -> None:
    """(d) ExApp-only routes answer a user 412 "ExApp required", unwrapped (reference §4).

    The schema lists only 200/204/401/403 there; these routes are not fuzzed.
    """
    case, response = _send(
        seeded,
        f"GET {TP}/tasks_provider/next",
        query={"providerIds[]": ["p"], "taskTypeIds[]": ["core:text2text"]},
    )
    assert (response.status_code, response.json()) == (412, {"message": "ExApp required"})
    assert _known_failures(case, response) == {UndefinedStatusCode}


# -- regressions -----------------------------------------------------------------------------


def test_line_feed_in_app_id_reaches_the_route(seeded: Seeded) -> None:
    """A line feed (%0A) inside a path parameter reaches the route, as in the real router."""
    label = f"GET {TP}/tasks/app/{{appId}}"
    response = _conforming(seeded, label, 200, path_parameters={"appId": "a\nb"})
    assert _data(response) == {"tasks": []}  # the listing of an app without tasks, not a 404


# -- fuzzing (last in the module: pytest runs tests in file order, and the hand-written cases
# above expect the seeded tasks; the destructive operations come last of all) ----------------


def _fuzz(case: schemathesis.Case, seeded: Seeded) -> None:
    _validate(case, _call(case, seeded))


@SCHEMA.include(name=READ_OPERATIONS).parametrize()
def test_fuzz_user_operations(case: schemathesis.Case, seeded: Seeded) -> None:
    _fuzz(case, seeded)


@SCHEMA.include(name=TEXT_PROCESSING_OPERATIONS).parametrize()
def test_fuzz_text_processing_operations(case: schemathesis.Case, seeded: Seeded) -> None:
    _fuzz(case, seeded)


@SCHEMA.include(name=DESTRUCTIVE_OPERATIONS).parametrize()
def test_fuzz_destructive_user_operations(case: schemathesis.Case, seeded: Seeded) -> None:
    _fuzz(case, seeded)
