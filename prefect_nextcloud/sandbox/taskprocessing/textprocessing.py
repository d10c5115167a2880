r"""``TextProcessingApiController``: the deprecated ``/ocs/v2.php/textprocessing`` API (§10).

Task types are PHP class names (``OCP\TextProcessing\FreePromptTaskType``…), each served by the
fake provider of its TaskProcessing equivalent, as the server does since PR #49260. Tasks live
in a table of their own, with their own ids; their JSON has an integer ``status``.

Like ``IManager::runOrScheduleTask``, scheduling runs the task inside the request by default, so
the answer already carries status 3 (or 4) and the output. With ``run_inline`` off, tasks go
through the background workers like TaskProcessing tasks.
"""

from __future__ import annotations

import time
from dataclasses import KW_ONLY, dataclass
from typing import Any

from prefect_nextcloud.sandbox.http.phpcompat import to_int
from prefect_nextcloud.sandbox.ocs.dispatcher import (
    DataResult,
    OcsRequest,
    OcsRoute,
    message_result,
    required_string_param,
    string_param,
)
from prefect_nextcloud.sandbox.storage.records import Task, TaskStatus
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.processing import process_task
from prefect_nextcloud.sandbox.taskprocessing.providers import Registry
from prefect_nextcloud.sandbox.taskprocessing.validation import prepare_input

__all__ = ["LEGACY_TASK_TYPES", "LegacyTaskType", "TextProcessingController", "text_task_json"]

_ROOT = "/textprocessing"


@dataclass(frozen=True)
class LegacyTaskType:
    r"""An ``OCP\TextProcessing`` task type and the TaskProcessing type that serves it."""

    id: str
    name: str
    description: str
    task_type: str


LEGACY_TASK_TYPES = (
    LegacyTaskType(
        "OCP\\TextProcessing\\FreePromptTaskType",
        "Free prompt",
        "Runs an arbitrary prompt through the language model.",
        "core:text2text",
    ),
    LegacyTaskType(
        "OCP\\TextProcessing\\HeadlineTaskType",
        "Generate headline",
        "Generates a possible headline for a text.",
        "core:text2text:headline",
    ),
    LegacyTaskType(
        "OCP\\TextProcessing\\SummaryTaskType",
        "Summarize",
        "Summarizes text by reducing its length without losing key information.",
        "core:text2text:summary",
    ),
    LegacyTaskType(
        "OCP\\TextProcessing\\TopicsTaskType",
        "Extract topics",
        "Extracts topics from a text and outputs them separated by commas.",
        "core:text2text:topics",
    ),
)
_BY_CLASS = {legacy.id: legacy for legacy in LEGACY_TASK_TYPES}
_BY_TASK_TYPE = {legacy.task_type: legacy for legacy in LEGACY_TASK_TYPES}


def text_task_json(task: Task) -> dict[str, Any]:
    r"""Return ``OCP\TextProcessing\Task::jsonSerialize()`` for a stored task."""
    return {
        "id": task.id,
        "type": _BY_TASK_TYPE[task.type].id,
        "status": int(task.status),
        "userId": task.user_id,
        "appId": task.app_id,
        "input": task.input.get("input"),
        "output": None if task.output is None else task.output.get("output"),
        "identifier": task.custom_id,
        "completionExpectedAt": task.completion_expected_at,
    }


@dataclass(frozen=True)
class TextProcessingController:
    """The controller methods of the TextProcessing API.

    Attributes:
        store: Shared state.
        registry: Providers of the TaskProcessing equivalents.
        server_version: 27 offers only ``tasktypes``; 28 and later the whole API.
        pickup_delay_seconds: Delay before a worker may pick up a task that is not run inline.
        run_inline: Run tasks inside the schedule request (``runOrScheduleTask``).
    """

    store: Store
    registry: Registry
    _: KW_ONLY
    server_version: int
    pickup_delay_seconds: float
    run_inline: bool

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes for the emulated version."""
        routes = [OcsRoute("GET", f"{_ROOT}/tasktypes", self.task_types, public=True)]
        if self.server_version >= 28:
            routes += [
                OcsRoute("POST", f"{_ROOT}/schedule", self.schedule, rate_limited=True),
                OcsRoute("GET", f"{_ROOT}/task/{{id}}", self.get_task),
                OcsRoute("DELETE", f"{_ROOT}/task/{{id}}", self.delete_task),
                OcsRoute("GET", f"{_ROOT}/tasks/app/{{appId}}", self.list_tasks_by_app),
            ]
        return routes

    def task_types(self, request: OcsRequest) -> DataResult:
        """``GET /tasktypes``: a list (not a map) of ``{id, name, description}``."""
        types = [
            {"id": legacy.id, "name": legacy.name, "description": legacy.description}
            for legacy in LEGACY_TASK_TYPES
            if self.registry.get(legacy.task_type) is not None
        ]
        return DataResult({"types": types})

    def schedule(self, request: OcsRequest) -> DataResult:
        """``POST /schedule``: run the task at once, or queue it (see the module docstring)."""
        params = request.params
        text = required_string_param(params, "input")
        class_name = required_string_param(params, "type")
        app_id = required_string_param(params, "appId")
        identifier = string_param(params, "identifier") or ""
        legacy = _BY_CLASS.get(class_name)
        if legacy is None:
            return message_result("Requested task type does not exist", 400)
        task_type = self.registry.get(legacy.task_type)
        if task_type is None:
            return message_result("Necessary language model provider is not available", 412)
        task_input = prepare_input({"input": text}, task_type, self.store, request.user_id)
        now = self.store.now()
        fields: dict[str, Any] = {
            "type": legacy.task_type,
            "user_id": request.user_id,
            "app_id": app_id,
            "input": task_input,
            "custom_id": identifier,
            "last_updated": now,
            "scheduled_at": now,
            "completion_expected_at": now + task_type.provider.expected_runtime,
            "eligible_at": time.monotonic() + self.pickup_delay_seconds,
        }
        if not self.run_inline:
            task = self.store.text_tasks.add(status=TaskStatus.SCHEDULED, **fields)
            return DataResult({"task": text_task_json(task)})
        task = self.store.text_tasks.add(status=TaskStatus.RUNNING, started_at=now, **fields)
        # A failure (TaskFailureException) is swallowed: the answer says status 4.
        outcome = process_task(self.store, task, task_type, dict(task.input))
        self.store.update_task(task, ended_at=self.store.now(), **outcome)
        return DataResult({"task": text_task_json(task)})

    def get_task(self, request: OcsRequest) -> DataResult:
        """``GET /task/{id}``: another user's or a missing task is 404 "Task not found"."""
        task = self.store.text_tasks.owned(to_int(request.params["id"]), request.user_id)
        if task is None:
            return message_result("Task not found", 404)
        return DataResult({"task": text_task_json(task)})

    def delete_task(self, request: OcsRequest) -> DataResult:
        """``DELETE /task/{id}``: 200 with the deleted task, 404 when there is none (§10)."""
        task = self.store.text_tasks.owned(to_int(request.params["id"]), request.user_id)
        if task is None:
            return message_result("Task not found", 404)
        self.store.text_tasks.delete(task.id)
        return DataResult({"task": text_task_json(task)})

    def list_tasks_by_app(self, request: OcsRequest) -> DataResult:
        """``GET /tasks/app/{appId}?identifier=``: the user's tasks of one app, in id order."""
        app_id = required_string_param(request.params, "appId")
        identifier = string_param(request.params, "identifier")
        tasks = [
            text_task_json(task)
            for task in self.store.text_tasks.all()
            if task.user_id == request.user_id
            and task.app_id == app_id
            and (identifier is None or task.custom_id == identifier)
        ]
        return DataResult({"tasks": tasks})
