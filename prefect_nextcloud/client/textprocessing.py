"""The deprecated TextProcessing API of Nextcloud 27.1-29, spoken in Task Processing terms.

On those servers the clients route the four text task types here: ``core:text2text`` and its
``:headline``, ``:summary`` and ``:topics`` variants map to the legacy PHP class names, the
integer statuses map to :class:`TaskStatus`, and the legacy task is returned as a
:class:`Task` with ``{"input": …}`` and ``{"output": …}`` maps (reference §10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from prefect_nextcloud.client.calls import Call
from prefect_nextcloud.client.checks import check_id, check_text
from prefect_nextcloud.client.errors import UnexpectedResponseError
from prefect_nextcloud.client.models import (
    ShapeDescriptor,
    ShapeType,
    Task,
    TaskListing,
    TaskStatus,
    TaskType,
    UnreadableTask,
)
from prefect_nextcloud.client.ocs import expect_dict, ocs_call, unwrap
from prefect_nextcloud.client.versions import LEGACY_TEXT_TYPES

__all__ = [
    "TEXTPROCESSING",
    "delete_task",
    "get_task",
    "get_task_types",
    "list_tasks_by_app",
    "schedule_task",
]

TEXTPROCESSING = "/ocs/v2.php/textprocessing"

_STATUSES = {
    1: TaskStatus.SCHEDULED,
    2: TaskStatus.RUNNING,
    3: TaskStatus.SUCCESSFUL,
    4: TaskStatus.FAILED,
}
_CORE_IDS = {legacy: core for core, legacy in LEGACY_TEXT_TYPES.items()}


def _unexpected(endpoint: str, response: httpx.Response, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"The answer to {endpoint} ({response.status_code}) is not a TextProcessing {what}.",
        endpoint=endpoint,
        status_code=response.status_code,
    )


def _task(raw: Any, response: httpx.Response, endpoint: str) -> Task:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise _unexpected(endpoint, response, "task")
    code = raw.get("status")
    # Only an int can be a legacy status; a list or map here is not even hashable.
    status = (
        _STATUSES.get(code, TaskStatus.UNKNOWN) if isinstance(code, int) else TaskStatus.UNKNOWN
    )
    legacy_type = raw.get("type")
    output = raw.get("output")
    try:
        return Task(
            id=raw["id"],
            type=_CORE_IDS.get(legacy_type, legacy_type) if isinstance(legacy_type, str) else None,
            status=status,
            user_id=raw.get("userId"),
            app_id=raw.get("appId") or "",
            input={"input": raw.get("input")},
            output={"output": output} if status is TaskStatus.SUCCESSFUL else None,
            custom_id=raw.get("identifier"),
            completion_expected_at=raw.get("completionExpectedAt"),
        )
    except ValidationError:
        raise _unexpected(endpoint, response, "task") from None


def _read_task(response: httpx.Response, endpoint: str) -> Task:
    return _task(
        expect_dict(unwrap(response, endpoint), "task", response, endpoint), response, endpoint
    )


def _read_tasks(response: httpx.Response, endpoint: str) -> TaskListing:
    raw = expect_dict(unwrap(response, endpoint), "tasks", response, endpoint)
    if not isinstance(raw, list):
        raise _unexpected(endpoint, response, "task list")
    tasks: list[Task] = []
    unreadable: list[UnreadableTask] = []
    for row in raw:
        try:
            tasks.append(_task(row, response, endpoint))
        except UnexpectedResponseError:
            problem = "not a TextProcessing task"
            unreadable.append(UnreadableTask.of_row(row, problem, custom_id_key="identifier"))
    return TaskListing(tasks=tasks, unreadable=unreadable)


_TEXT_IN = {"input": ShapeDescriptor(name="Input", description="The text", type=ShapeType.TEXT)}
_TEXT_OUT = {
    "output": ShapeDescriptor(name="Output", description="The result", type=ShapeType.TEXT)
}


def _read_task_types(response: httpx.Response, endpoint: str) -> dict[str, TaskType]:
    raw = expect_dict(unwrap(response, endpoint), "types", response, endpoint)
    if not isinstance(raw, list):
        raise _unexpected(endpoint, response, "list of task types")
    types = {}
    for item in raw:
        core_id = _CORE_IDS.get(str(item.get("id"))) if isinstance(item, dict) else None
        if core_id is not None:
            types[core_id] = TaskType(
                id=core_id,
                name=str(item.get("name") or core_id),
                description=str(item.get("description") or ""),
                input_shape=_TEXT_IN,
                output_shape=_TEXT_OUT,
            )
    return types


def _read_deleted(response: httpx.Response, endpoint: str) -> None:
    unwrap(response, endpoint)


def get_task_types() -> Call[dict[str, TaskType]]:
    """``GET /textprocessing/tasktypes``, keyed by the Task Processing ids they map to."""
    return ocs_call("GET", f"{TEXTPROCESSING}/tasktypes", _read_task_types)


def schedule_task(
    task_type: str, input: Mapping[str, Any], *, app_id: str, custom_id: str | None = None
) -> Call[Task]:
    """``POST /textprocessing/schedule``; the answer may already carry the finished task."""
    legacy_type = LEGACY_TEXT_TYPES.get(task_type)
    if legacy_type is None:
        raise ValueError(f"{task_type} has no TextProcessing equivalent; it needs Nextcloud 30+.")
    text = input.get("input") if isinstance(input, Mapping) else None
    if not isinstance(text, str):
        raise ValueError("The TextProcessing API takes one text slot, input, as a string.")
    body = {"input": text, "type": legacy_type, "appId": check_text("app_id", app_id)}
    if custom_id is not None:
        body["identifier"] = custom_id
    return ocs_call("POST", f"{TEXTPROCESSING}/schedule", _read_task, json=body, idempotent=False)


def get_task(task_id: int) -> Call[Task]:
    """``GET /textprocessing/task/{id}``."""
    return ocs_call("GET", f"{TEXTPROCESSING}/task/{check_id('task_id', task_id)}", _read_task)


def delete_task(task_id: int) -> Call[None]:
    """``DELETE /textprocessing/task/{id}``; unlike Task Processing it answers 404 when absent."""
    return ocs_call(
        "DELETE", f"{TEXTPROCESSING}/task/{check_id('task_id', task_id)}", _read_deleted
    )


def list_tasks_by_app(app_id: str, *, custom_id: str | None = None) -> Call[TaskListing]:
    """``GET /textprocessing/tasks/app/{appId}``, filtered by ``identifier``."""
    params = {} if custom_id is None else {"identifier": custom_id}
    path = f"{TEXTPROCESSING}/tasks/app/{quote(check_text('app_id', app_id), safe='')}"
    return ocs_call("GET", path, _read_tasks, params=params)
