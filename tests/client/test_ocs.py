"""Unit tests of reading OCS answers: envelopes, odd bodies, and the error each status maps to."""

from __future__ import annotations

import json

import httpx
import pytest

from prefect_nextcloud.client import errors
from prefect_nextcloud.client.ocs import raise_for_status, server_message, unwrap
from prefect_nextcloud.client.taskprocessing import get_task, get_task_file, get_task_types

ENDPOINT = "GET /ocs/v2.php/taskprocessing/task/7"

UNAUTHORISED_XML = (
    b'<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>failure</status>\n'
    b"  <statuscode>997</statuscode>\n  <message>Unauthorised</message>\n"
    b"  <totalitems></totalitems>\n  <itemsperpage></itemsperpage>\n </meta>\n <data/>\n</ocs>\n"
)


def envelope(status: int, data: object, message: str = "", statuscode: int | None = None) -> bytes:
    meta = {
        "status": "ok" if status < 300 else "failure",
        "statuscode": statuscode or status,
        "message": message,
    }
    return json.dumps({"ocs": {"meta": meta, "data": data}}).encode()


def response(status: int, content: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers=headers)


def test_unwrap_returns_data_of_an_envelope() -> None:
    answer = response(200, envelope(200, {"task": {"id": 1}}, "OK"))
    assert unwrap(answer, ENDPOINT) == {"task": {"id": 1}}


def test_unwrap_reads_php_escaped_json() -> None:
    body = b'{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"a":"\\u003Cb\\u003E \\/ \\u00e9"}}}'
    assert unwrap(response(200, body), ENDPOINT) == {"a": "<b> / é"}


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Bad gateway</body></html>", b'{"ocs": 3}', b"[1, 2]", b'{"ocs":{"da'],
    ids=["empty", "html", "ocs-not-a-map", "list", "truncated"],
)
def test_unwrap_refuses_bodies_that_are_not_an_envelope(body: bytes) -> None:
    with pytest.raises(errors.UnexpectedResponseError, match="Expected an OCS JSON answer") as info:
        unwrap(response(200, body), ENDPOINT)
    assert info.value.endpoint == ENDPOINT
    assert info.value.status_code == 200


def test_server_message_prefers_data_message_over_empty_meta_message() -> None:
    answer = response(404, envelope(404, {"message": "Task not found"}))
    assert server_message(answer) == "Task not found"


def test_server_message_reads_plain_json_and_xml() -> None:
    assert server_message(response(412, b'{"message":"CSRF check failed"}')) == "CSRF check failed"
    assert server_message(response(401, UNAUTHORISED_XML)) == "Unauthorised"
    assert server_message(response(429)) is None


@pytest.mark.parametrize(
    ("answer", "error_class", "message"),
    [
        (
            response(401, envelope(401, [], "Current user is not logged in", 997)),
            errors.AuthenticationError,
            "did not accept the login",
        ),
        (
            response(401, UNAUTHORISED_XML, **{"WWW-Authenticate": 'Basic realm="x"'}),
            errors.AuthenticationError,
            "'Unauthorised'",
        ),
        (
            response(
                401,
                envelope(
                    401,
                    {
                        "message": "User does not have access to the files mentioned in the task input"
                    },
                ),
            ),
            errors.FileAccessDeniedError,
            "No access to a file",
        ),
        (
            response(400, envelope(400, {"message": 'Missing key: "input"'})),
            errors.InvalidInputError,
            'Missing key: \\\\"input\\\\"|Missing key',
        ),
        (
            response(412, envelope(412, {"message": "The given provider is not available"})),
            errors.TaskTypeUnavailableError,
            "provider app",
        ),
        (
            response(412, b'{"message":"CSRF check failed"}'),
            errors.CSRFCheckFailedError,
            "OCS-APIRequest",
        ),
        (
            response(404, envelope(404, {"message": "Task not found"})),
            errors.TaskNotFoundError,
            "cleaned up",
        ),
        (
            response(404, envelope(404, [], "Invalid query, please check the syntax.", 998)),
            errors.EndpointNotFoundError,
            "Nextcloud 30 or newer",
        ),
        (response(429), errors.RateLimitedError, "brute-force protection"),
        (
            response(
                503,
                envelope(503, [], "Service unavailable"),
                **{"X-Nextcloud-Maintenance-Mode": "1"},
            ),
            errors.MaintenanceModeError,
            "maintenance",
        ),
        (
            response(502, b"<html>Bad Gateway</html>", **{"Content-Type": "text/html"}),
            errors.ServerError,
            "24-byte text/html body",
        ),
        (
            response(500, envelope(500, {"message": "Internal error"})),
            errors.ServerError,
            "Internal error",
        ),
        (
            response(301, Location="https://cloud.example.com/ocs"),
            errors.NextcloudHTTPError,
            "https://cloud.example.com/ocs",
        ),
        (
            response(403, envelope(403, [], "Logged in account must be an admin")),
            errors.NextcloudHTTPError,
            "must be an admin",
        ),
    ],
    ids=[
        "401-not-logged-in",
        "401-wrong-password-xml",
        "401-file-access",
        "400",
        "412-type",
        "412-csrf",
        "404-task",
        "404-route",
        "429",
        "503-maintenance",
        "502-html",
        "500",
        "301",
        "403",
    ],
)
def test_each_answer_maps_to_its_error(
    answer: httpx.Response, error_class: type[errors.NextcloudHTTPError], message: str
) -> None:
    with pytest.raises(error_class, match=message) as info:
        raise_for_status(answer, ENDPOINT)
    assert type(info.value) is error_class
    assert info.value.status_code == answer.status_code
    assert info.value.endpoint == ENDPOINT
    assert ENDPOINT in str(info.value)


def test_429_on_schedule_names_the_schedule_limit() -> None:
    with pytest.raises(errors.RateLimitedError, match="20 schedule calls"):
        raise_for_status(response(429), "POST /ocs/v2.php/taskprocessing/schedule")


def test_task_file_404_says_the_output_is_gone() -> None:
    call = get_task_file(7, 9)
    with pytest.raises(errors.TaskFileNotFoundError, match="no longer on the server"):
        call.parse(response(404, envelope(404, {"message": "Not found"})))


def test_task_types_accept_php_empty_list_and_empty_shape_lists() -> None:
    call = get_task_types()
    assert call.parse(response(200, envelope(200, {"types": []}, "OK"))) == {}
    types = call.parse(
        response(
            200,
            envelope(
                200,
                {
                    "types": {
                        "core:text2text": {
                            "name": "Free prompt",
                            "description": "d",
                            "inputShape": {
                                "input": {"name": "Prompt", "description": "", "type": "Text"}
                            },
                            "optionalInputShape": [],
                            "inputShapeDefaults": [],
                            "outputShape": {
                                "output": {"name": "Out", "description": "", "type": "Text"}
                            },
                            "futureField": 1,
                        }
                    }
                },
                "OK",
            ),
        )
    )
    task_type = types["core:text2text"]
    assert task_type.id == "core:text2text"
    assert task_type.optional_input_shape == {}
    assert task_type.input_shape["input"].type == "Text"


def test_task_with_wrong_shape_is_a_clear_error() -> None:
    call = get_task(7)
    body = envelope(200, {"task": {"id": "seven", "type": "x", "status": "STATUS_RUNNING"}}, "OK")
    with pytest.raises(errors.UnexpectedResponseError, match="id"):
        call.parse(response(200, body))
    with pytest.raises(errors.UnexpectedResponseError, match="no 'task'"):
        call.parse(response(200, envelope(200, [], "OK")))


def test_unknown_status_and_extra_fields_are_tolerated() -> None:
    body = envelope(
        200,
        {
            "task": {
                "id": 7,
                "type": "x",
                "status": "STATUS_PAUSED",
                "input": [],
                "preferStreaming": False,
                "queuePosition": 3,
            }
        },
        "OK",
    )
    task = get_task(7).parse(response(200, body, Date="Tue, 24 Nov 2026 01:00:00 GMT"))
    assert task.status.value == "STATUS_UNKNOWN"
    assert task.input == {}
    assert task.model_extra == {"queuePosition": 3}
    assert task.server_time == 1795482000.0


@pytest.mark.parametrize(
    ("error", "idempotent", "transient"),
    [
        (errors.NextcloudConnectionError("x"), True, True),
        (errors.RateLimitedError("x", status_code=429), False, True),
        (errors.ServerError("x", status_code=502), False, True),
        (errors.ServerError("x", status_code=500), True, True),
        (errors.ServerError("x", status_code=500), False, False),
        (errors.MaintenanceModeError("x", status_code=503), False, True),
        (errors.AuthenticationError("x", status_code=401), True, False),
        (errors.TaskNotFoundError("x", status_code=404), True, False),
        (errors.TaskTypeUnavailableError("x", status_code=412), True, False),
        (errors.UnexpectedResponseError("x", status_code=502), True, False),
        (ValueError("x"), True, False),
    ],
)
def test_transient_classification(error: Exception, idempotent: bool, transient: bool) -> None:
    assert errors.is_transient(error, idempotent=idempotent) is transient


def test_errors_survive_pickling_with_their_attributes() -> None:
    import pickle

    error = errors.TaskTimeoutError(
        "late", task_id=3, queued_seconds=1.0, running_seconds=2.0, cancelled=True
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.task_id, copy.queued_seconds, copy.cancelled, str(copy)) == (3, 1.0, True, "late")
