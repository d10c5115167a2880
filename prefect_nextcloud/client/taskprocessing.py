"""The Task Processing endpoints, described without doing any I/O.

Each function checks its arguments, then returns a :class:`~prefect_nextcloud.client.calls.Call`:
what to send and how to read the answer. The sync and async clients only send calls, so both
faces share one path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from prefect_nextcloud.client.calls import Call
from prefect_nextcloud.client.checks import check_id, check_json, check_text, check_unicode
from prefect_nextcloud.client.errors import TaskFileNotFoundError, UnexpectedResponseError
from prefect_nextcloud.client.models import (
    Task,
    TaskFile,
    TaskListing,
    TaskType,
    UnreadableTask,
)
from prefect_nextcloud.client.ocs import expect_dict, ocs_call, unwrap

__all__ = [
    "TASKPROCESSING",
    "cancel_task",
    "delete_task",
    "get_task",
    "get_task_file",
    "get_task_types",
    "list_tasks",
    "list_tasks_by_app",
    "schedule_task",
]

TASKPROCESSING = "/ocs/v2.php/taskprocessing"
WEBHOOK_METHOD = re.compile(r"^(HTTP:(GET|POST|PUT|DELETE)|AppAPI:[^:]+:(GET|POST|PUT|DELETE))$")
MAX_APP_ID_LENGTH = 32
MAX_CUSTOM_ID_LENGTH = 255
MAX_WEBHOOK_URI_LENGTH = 4000


def _check_length(name: str, value: str, limit: int) -> str:
    """Return ``value`` if it fits the server's column of ``limit`` characters.

    Nextcloud checks no length before it stores a task: a longer value fails the insert, and
    the schedule answers a bare 500 (``core/Migrations/Version30000Date20240429122720.php``).
    """
    if len(value) > limit:
        raise ValueError(
            f"{name} may have at most {limit} characters (the server's column), this one has "
            f"{len(value)}; shorten it."
        )
    return value


def _server_time(response: httpx.Response) -> float | None:
    date = response.headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def _model_error(endpoint: str, response: httpx.Response, error: ValidationError) -> Exception:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return UnexpectedResponseError(
        f"The answer to {endpoint} ({response.status_code}) does not have the shape of the "
        f"Task Processing API: {where}: {first['msg']}.",
        endpoint=endpoint,
        status_code=response.status_code,
    )


def _misplaced(
    endpoint: str, response: httpx.Response, raw: Any, what: str
) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"The answer to {endpoint} ({response.status_code}) has a {type(raw).__name__} "
        f"where {what} belongs.",
        endpoint=endpoint,
        status_code=response.status_code,
    )


def _read_task(response: httpx.Response, endpoint: str) -> Task:
    raw = expect_dict(unwrap(response, endpoint), "task", response, endpoint)
    try:
        task = Task.model_validate(raw)
    except ValidationError as error:
        raise _model_error(endpoint, response, error) from None
    return task.with_server_time(_server_time(response))


def _read_tasks(response: httpx.Response, endpoint: str) -> TaskListing:
    raw = expect_dict(unwrap(response, endpoint), "tasks", response, endpoint)
    if not isinstance(raw, list):
        raise _misplaced(endpoint, response, raw, "the list of tasks")
    now = _server_time(response)
    tasks: list[Task] = []
    unreadable: list[UnreadableTask] = []
    for row in raw:
        try:
            tasks.append(Task.model_validate(row).with_server_time(now))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the row"
            unreadable.append(UnreadableTask.of_row(row, f"{where}: {first['msg']}"))
    return TaskListing(tasks=tasks, unreadable=unreadable)


def _read_task_types(response: httpx.Response, endpoint: str) -> dict[str, TaskType]:
    raw = expect_dict(unwrap(response, endpoint), "types", response, endpoint)
    if raw == []:
        return {}
    if not isinstance(raw, dict):
        raise _misplaced(endpoint, response, raw, "the map of task types")
    try:
        return {
            key: TaskType.model_validate({**value, "id": key})
            if isinstance(value, dict)
            else TaskType.model_validate(value)
            for key, value in raw.items()
        }
    except ValidationError as error:
        raise _model_error(endpoint, response, error) from None


def _read_nothing(response: httpx.Response, endpoint: str) -> None:
    unwrap(response, endpoint)


def get_task_types() -> Call[dict[str, TaskType]]:
    """``GET /tasktypes``: the task types this user may schedule, keyed by id."""
    return ocs_call("GET", f"{TASKPROCESSING}/tasktypes", _read_task_types)


def schedule_task(
    task_type: str,
    input: Mapping[str, Any],
    *,
    app_id: str,
    custom_id: str | None = None,
    webhook_uri: str | None = None,
    webhook_method: str | None = None,
    include_watermark: bool | None = None,
) -> Call[Task]:
    """``POST /schedule``: create a task. Not idempotent: a repeat creates a second task."""
    check_text("task_type", task_type)
    _check_length("app_id", check_text("app_id", app_id), MAX_APP_ID_LENGTH)
    if not isinstance(input, Mapping):
        raise ValueError(f"input must be a mapping of slot names to values, got {input!r}.")
    for slot, value in input.items():
        check_json(f"Input slot {slot!r}", value)
    body: dict[str, Any] = {"input": dict(input), "type": task_type, "appId": app_id}
    if custom_id is not None:
        if not isinstance(custom_id, str):
            raise ValueError(f"custom_id must be a string, got {type(custom_id).__name__}.")
        body["customId"] = _check_length(
            "custom_id", check_unicode("custom_id", custom_id), MAX_CUSTOM_ID_LENGTH
        )
    if (webhook_uri is None) != (webhook_method is None):
        raise ValueError("webhook_uri and webhook_method must be given together.")
    if webhook_uri is not None and webhook_method is not None:
        if not WEBHOOK_METHOD.match(webhook_method):
            raise ValueError(
                "webhook_method must be HTTP:GET, HTTP:POST, HTTP:PUT, HTTP:DELETE or "
                f"AppAPI:<appId>:<METHOD>, got {webhook_method!r}; the server would ignore it."
            )
        body["webhookUri"] = _check_length(
            "webhook_uri", check_text("webhook_uri", webhook_uri), MAX_WEBHOOK_URI_LENGTH
        )
        body["webhookMethod"] = webhook_method
    if include_watermark is not None:
        body["includeWatermark"] = include_watermark
    return ocs_call("POST", f"{TASKPROCESSING}/schedule", _read_task, json=body, idempotent=False)


def get_task(task_id: int) -> Call[Task]:
    """``GET /task/{id}``: the task's current state."""
    return ocs_call("GET", f"{TASKPROCESSING}/task/{check_id('task_id', task_id)}", _read_task)


def delete_task(task_id: int) -> Call[None]:
    """``DELETE /task/{id}``: the server answers 200 even when there was nothing to delete."""
    path = f"{TASKPROCESSING}/task/{check_id('task_id', task_id)}"
    return ocs_call("DELETE", path, _read_nothing)


def cancel_task(task_id: int) -> Call[Task]:
    """``POST /tasks/{id}/cancel``: a no-op on a finished task, which is returned unchanged."""
    path = f"{TASKPROCESSING}/tasks/{check_id('task_id', task_id)}/cancel"
    return ocs_call("POST", path, _read_task)


def list_tasks(*, task_type: str | None = None, custom_id: str | None = None) -> Call[TaskListing]:
    """``GET /tasks``: this user's tasks, optionally filtered by type and custom id."""
    params = {}
    if task_type is not None:
        params["taskType"] = check_text("task_type", task_type)
    if custom_id is not None:
        params["customId"] = check_unicode("custom_id", custom_id)
    return ocs_call("GET", f"{TASKPROCESSING}/tasks", _read_tasks, params=params)


def list_tasks_by_app(app_id: str, *, custom_id: str | None = None) -> Call[TaskListing]:
    """``GET /tasks/app/{appId}``: this user's tasks scheduled under one app id."""
    check_text("app_id", app_id)
    params = {} if custom_id is None else {"customId": check_unicode("custom_id", custom_id)}
    path = f"{TASKPROCESSING}/tasks/app/{quote(app_id, safe='')}"
    return ocs_call("GET", path, _read_tasks, params=params)


def get_task_file(task_id: int, file_id: int) -> Call[TaskFile]:
    """``GET /tasks/{id}/file/{fileId}``: raw bytes of a file in the task's input or output."""
    check_id("task_id", task_id)
    check_id("file_id", file_id)

    def read(response: httpx.Response, endpoint: str) -> TaskFile:
        disposition = response.headers.get("content-disposition", "")
        match = re.search(r'filename="([^"]*)"', disposition)
        return TaskFile(
            task_id=task_id,
            file_id=file_id,
            content=response.content,
            filename=match.group(1) if match else None,
            content_type=response.headers.get("content-type"),
        )

    return ocs_call(
        "GET",
        f"{TASKPROCESSING}/tasks/{task_id}/file/{file_id}",
        read,
        not_found=TaskFileNotFoundError,
        not_found_hint=(
            f"File {file_id} is not part of task {task_id}, or the task or its output is no "
            "longer on the server (finished tasks and their output files are cleaned up "
            "after a while). Fetch output files right after the task succeeds."
        ),
    )
