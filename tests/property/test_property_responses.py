"""Property tests of response parsing: any answer reads as the result or as our own error.

Whatever a server, a proxy or a broken connection sends (any status, random bytes, arbitrary
JSON, OCS envelopes of the wrong shape, truncated bodies, HTML, XML, huge or deeply nested
bodies), ``Call.parse`` returns a value of the right type or raises a ``NextcloudError`` that
names the endpoint and the status; never a ``KeyError``, ``TypeError`` or ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from property_strategies import (
    BIG_INT_TEXT,
    MULTISTATUS,
    PROPERTY,
    dumps,
    envelope,
    responses,
    valid_legacy_task,
    valid_task,
)

from prefect_nextcloud.client import taskprocessing, textprocessing, webdav
from prefect_nextcloud.client.calls import Api, Call
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task, TaskFile, TaskListing, TaskType
from prefect_nextcloud.client.streams import MemorySink
from prefect_nextcloud.client.versions import ServerVersion, parse_status


def _is_task_listing(value: object) -> bool:
    return isinstance(value, TaskListing) and all(isinstance(item, Task) for item in value.tasks)


def _is_type_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(item, TaskType) for key, item in value.items()
    )


def _is_task(value: object) -> bool:
    return isinstance(value, Task)


def _is_none(value: object) -> bool:
    return value is None


# Every OCS call builder, with a check of what a successful read must return.
OCS_CALLS: dict[str, tuple[Call[Any], Callable[[object], bool]]] = {
    "get_task_types": (taskprocessing.get_task_types(), _is_type_map),
    "schedule_task": (
        taskprocessing.schedule_task("core:text2text", {"input": "Hi"}, app_id="prefect"),
        _is_task,
    ),
    "get_task": (taskprocessing.get_task(7), _is_task),
    "delete_task": (taskprocessing.delete_task(7), _is_none),
    "cancel_task": (taskprocessing.cancel_task(7), _is_task),
    "list_tasks": (taskprocessing.list_tasks(task_type="core:text2text"), _is_task_listing),
    "list_tasks_by_app": (taskprocessing.list_tasks_by_app("prefect"), _is_task_listing),
    "get_task_file": (
        taskprocessing.get_task_file(7, 9),
        lambda value: isinstance(value, TaskFile),
    ),
    "legacy_get_task_types": (textprocessing.get_task_types(), _is_type_map),
    "legacy_schedule_task": (
        textprocessing.schedule_task("core:text2text", {"input": "Hi"}, app_id="prefect"),
        _is_task,
    ),
    "legacy_get_task": (textprocessing.get_task(7), _is_task),
    "legacy_delete_task": (textprocessing.delete_task(7), _is_none),
    "legacy_list_tasks_by_app": (textprocessing.list_tasks_by_app("prefect"), _is_task_listing),
}

DAV_CALLS: dict[str, tuple[Call[Any], Callable[[object], bool]]] = {
    "get_file_info": (
        webdav.get_file_info("alice", "/a.txt"),
        lambda value: isinstance(value, webdav.FileInfo),
    ),
    "find_file_info": (
        webdav.find_file_info("alice", "/a.txt"),
        lambda value: value is None or isinstance(value, webdav.FileInfo),
    ),
    "make_folder": (webdav.make_folder("alice", "/Photos"), lambda value: isinstance(value, bool)),
    "put_file": (
        webdav.put_file("alice", "/a.txt", b"abc"),
        lambda value: value is None or (isinstance(value, int) and value > 0),
    ),
    "get_file": (webdav.get_file("alice", "/a.txt", MemorySink("/a.txt", None)), _is_none),
    "delete": (webdav.delete("alice", "/a.txt", missing_ok=True), _is_none),
}


def check_parse(
    call: Call[Any], is_result: Callable[[object], bool], response: httpx.Response
) -> None:
    """``call.parse(response)`` gives the right type or a NextcloudError naming the call."""
    error: NextcloudError | None = None
    try:
        result = call.parse(response)
    except NextcloudError as caught:
        error = caught
    if error is not None:
        assert error.endpoint == call.endpoint
        assert error.status_code == response.status_code
        assert str(response.status_code) in str(error)
        # OCS errors name the endpoint; WebDAV ones the method and the Nextcloud path.
        assert (call.endpoint if call.api is Api.OCS else call.method) in str(error)
        return
    assert 200 <= response.status_code < 300 or call.api is Api.WEBDAV
    assert is_result(result), f"{call.endpoint} read {result!r}"


def _response(status: int, body: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


@pytest.mark.parametrize("name", sorted(OCS_CALLS))
@PROPERTY
@given(response=responses())
# Deep nesting: json.loads raised RecursionError.
@example(response=_response(200, b"[" * 100_000 + b"]" * 100_000))
@example(response=_response(500, b'{"a":' * 50_000 + b"1" + b"}" * 50_000))
# Wrong shapes of the task list and type map: the message lacked the status.
@example(response=_response(200, dumps(envelope({"tasks": {}, "types": [1]}))))
# An unhashable status made the status validator raise TypeError.
@example(response=_response(200, dumps(envelope({"task": {**valid_task(), "status": []}}))))
@example(response=_response(200, dumps(envelope({"tasks": [{**valid_task(), "status": {}}]}))))
# TextProcessing: unhashable status (TypeError) and fields of the wrong type (ValidationError).
@example(response=_response(200, dumps(envelope({"task": {**valid_legacy_task(), "status": [3]}}))))
@example(response=_response(200, dumps(envelope({"task": {**valid_legacy_task(), "userId": 5}}))))
@example(
    response=_response(
        200, dumps(envelope({"tasks": [{**valid_legacy_task(), "completionExpectedAt": "x"}]}))
    )
)
# XML with an unknown encoding= name: ElementTree raised LookupError.
@example(response=_response(401, b'<?xml version="1.0" encoding="nonsense"?><a/>'))
# An XML error body whose statuscode int() cannot convert (non-ASCII digit, too many digits).
@example(
    response=_response(
        401, b'<?xml version="1.0"?><ocs><meta><statuscode>\xc2\xb2</statuscode></meta></ocs>'
    )
)
@example(
    response=_response(
        401,
        b'<?xml version="1.0"?><ocs><meta><statuscode>'
        + BIG_INT_TEXT.encode()
        + b"</statuscode></meta></ocs>",
    )
)
def test_ocs_calls_parse_any_response(name: str, response: httpx.Response) -> None:
    call, is_result = OCS_CALLS[name]
    check_parse(call, is_result, response)


@pytest.mark.parametrize("name", sorted(DAV_CALLS))
@PROPERTY
@given(
    response=responses(
        status=st.sampled_from([200, 201, 204, 207, 403, 404, 405, 409, 423, 503, 507])
    )
)
@example(response=_response(207, MULTISTATUS))
def test_webdav_calls_parse_any_response(name: str, response: httpx.Response) -> None:
    call, is_result = DAV_CALLS[name]
    check_parse(call, is_result, response)


FORMER_WEBDAV_CRASHES = {
    # ElementTree raises LookupError, not ParseError, for an unknown encoding= name.
    "propfind_unknown_encoding": (
        "get_file_info",
        _response(207, b'<?xml version="1.0" encoding="nonsense"?><a/>'),
    ),
    "error_unknown_encoding": (
        "get_file",
        _response(423, b'<?xml version="1.0" encoding="nonsense"?><a/>'),
    ),
    # _int_or_none: int() refuses more than 4300 digits (ValueError).
    "propfind_huge_fileid": (
        "get_file_info",
        _response(207, MULTISTATUS.replace(b">42<", b">" + BIG_INT_TEXT.encode() + b"<")),
    ),
    # put_file's reader: the same for the OC-FileId header.
    "put_huge_fileid": (
        "put_file",
        httpx.Response(201, headers=[("oc-fileid", BIG_INT_TEXT + "oc1")]),
    ),
}


@pytest.mark.parametrize("case", sorted(FORMER_WEBDAV_CRASHES))
def test_former_webdav_crashes(case: str) -> None:
    name, response = FORMER_WEBDAV_CRASHES[case]
    call, is_result = DAV_CALLS[name]
    check_parse(call, is_result, response)


@PROPERTY
@given(response=responses())
@example(response=_response(200, b'{"version": "' + BIG_INT_TEXT.encode() + b'"}'))
@example(response=_response(200, b"[" * 100_000 + b"]" * 100_000))
@example(response=_response(200, b'{"version": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"))
@example(response=_response(200, b'{"version": "31.0.4.1", "installed": true}'))
def test_parse_status_reads_a_version_or_raises_our_error(response: httpx.Response) -> None:
    endpoint = "GET /status.php"
    error: NextcloudError | None = None
    try:
        version = parse_status(response, endpoint)
    except NextcloudError as caught:
        error = caught
    if error is not None:
        assert error.endpoint == endpoint
        assert endpoint in str(error)
        assert str(response.status_code) in str(error)
        return
    assert isinstance(version, ServerVersion)
    assert min(version.major, version.minor, version.micro) >= 0


@pytest.mark.parametrize("name", sorted(OCS_CALLS))
@PROPERTY
@given(data=st.data())
def test_valid_answers_still_parse(name: str, data: st.DataObject) -> None:
    """The defensive reading does not reject what the server really sends."""
    call, is_result = OCS_CALLS[name]
    legacy = name.startswith("legacy_")
    task = valid_legacy_task(data.draw(st.integers(1, 10**9))) if legacy else valid_task()
    if "types" in name:
        body: Any = {"types": []}
    elif "list" in name:
        body = {"tasks": [task] * data.draw(st.integers(0, 3))}
    elif name.endswith("get_task_file"):
        body = None
    else:
        body = {"task": task}
    content = data.draw(st.binary(max_size=50)) if body is None else dumps(envelope(body))
    result = call.parse(_response(200, content))
    assert is_result(result)
