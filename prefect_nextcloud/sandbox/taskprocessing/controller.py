"""``TaskProcessingApiController``: the user endpoints of ``/ocs/v2.php/taskprocessing`` (§3)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_bool, to_int
from prefect_nextcloud.sandbox.ocs.dispatcher import (
    DataResult,
    OcsRequest,
    OcsRoute,
    ServerError,
    message_result,
    required_string_param,
    string_param,
)
from prefect_nextcloud.sandbox.storage.filetypes import mime_type_for_name, sniff_mime_type
from prefect_nextcloud.sandbox.storage.records import Task, TaskStatus
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.processing import task_file_ids
from prefect_nextcloud.sandbox.taskprocessing.providers import Registry
from prefect_nextcloud.sandbox.taskprocessing.validation import (
    FileAccessError,
    InputValidationError,
    prepare_input,
)
from prefect_nextcloud.sandbox.taskprocessing.webhooks import WebhookSender

__all__ = ["TaskProcessingController"]

_ROOT = "/taskprocessing"

# #[ExAppRequired] routes by the Nextcloud version that added them; a user always gets 412.
_EXAPP_ROUTES = {
    30: (
        ("GET", "/tasks_provider/next"),
        ("GET", "/tasks_provider/{taskId}/file/{fileId}"),
        ("POST", "/tasks_provider/{taskId}/file"),
        ("POST", "/tasks_provider/{taskId}/progress"),
        ("POST", "/tasks_provider/{taskId}/result"),
    ),
    33: (
        ("GET", "/tasks_provider/next_batch"),
        ("GET", "/tasks_consumer/tasktypes"),
        ("POST", "/tasks_consumer/schedule"),
        ("GET", "/tasks_consumer/task/{id}"),
        ("DELETE", "/tasks_consumer/task/{id}"),
        ("POST", "/tasks_consumer/tasks/{taskId}/cancel"),
    ),
    35: (("POST", "/tasks_provider/{taskId}/stream-result"),),
}

# VARCHAR lengths of the task table. Nothing checks them before the INSERT, whose failure (on
# PostgreSQL and strict MySQL) is an OCP\DB\Exception the controller does not catch (§3.2).
_COLUMN_LENGTHS = {"app_id": 32, "custom_id": 255, "webhook_uri": 4000, "webhook_method": 64}


def _check_column_lengths(columns: Mapping[str, str | None]) -> None:
    """Fail as the INSERT of a task does when a value is longer than its column.

    Raises:
        ServerError: A value is too long; the answer is the generic 500 of ``ocs/v1.php``.
    """
    for column, value in columns.items():
        limit = _COLUMN_LENGTHS[column]
        if value is not None and len(value) > limit:
            raise ServerError(
                f"Value too long for column {column}: {len(value)} characters, at most {limit}"
            )


@dataclass(frozen=True)
class TaskProcessingController:
    """The controller methods, each turning an :class:`OcsRequest` into a result.

    Attributes:
        store: Shared state.
        registry: Available task types.
        webhooks: Fired when a task is cancelled.
        server_version: Nextcloud major version (task JSON fields and routes).
        pickup_delay_seconds: Delay before a new task may be picked up by a worker.
        anonymous_access: Whether ``tasktypes``, ``schedule`` and ``GET task/{id}`` are
            ``#[PublicPage]``, as on 30 and 31 before PR #54690 (``schedule`` then also carries
            ``#[AnonRateLimit]``).
    """

    store: Store
    registry: Registry
    webhooks: WebhookSender
    _: KW_ONLY
    server_version: int
    pickup_delay_seconds: float
    anonymous_access: bool = False

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes in registration order."""
        routes = [
            OcsRoute("GET", f"{_ROOT}/tasktypes", self.task_types, public=self.anonymous_access),
            OcsRoute(
                "POST",
                f"{_ROOT}/schedule",
                self.schedule,
                rate_limited=True,
                public=self.anonymous_access,
                anon_rate_limited=self.anonymous_access,
            ),
            OcsRoute("GET", f"{_ROOT}/task/{{id}}", self.get_task, public=self.anonymous_access),
            OcsRoute("DELETE", f"{_ROOT}/task/{{id}}", self.delete_task),
            OcsRoute("GET", f"{_ROOT}/tasks/app/{{appId}}", self.list_tasks_by_app),
            OcsRoute("GET", f"{_ROOT}/tasks", self.list_tasks),
            OcsRoute(
                "GET", f"{_ROOT}/tasks/{{taskId}}/file/{{fileId}}", self.file_contents, csrf=False
            ),
            OcsRoute("POST", f"{_ROOT}/tasks/{{taskId}}/cancel", self.cancel_task),
        ]
        routes += [
            OcsRoute(method, _ROOT + template, None)
            for since, added in _EXAPP_ROUTES.items()
            if since <= self.server_version
            for method, template in added
        ]
        return routes

    def _json(self, task: Task) -> dict[str, Any]:
        return task.to_json(self.server_version)

    def task_types(self, request: OcsRequest) -> DataResult:
        """``GET /tasktypes``: a map keyed by type id (PHP ``[]`` when empty)."""
        types = {item.spec.id: item.to_json(self.server_version) for item in self.registry.all()}
        return DataResult({"types": types})

    def schedule(self, request: OcsRequest) -> DataResult:
        """``POST /schedule``: validate, normalise and store a task (§3.2, §6.1)."""
        params = request.params
        raw_input = params.get("input")
        if not isinstance(raw_input, dict | list):
            raise ServerError("Argument input must be of type array")
        task_type_id = required_string_param(params, "type")
        columns = {
            "app_id": required_string_param(params, "appId"),
            "custom_id": string_param(params, "customId") or "",
            "webhook_uri": string_param(params, "webhookUri"),
            "webhook_method": string_param(params, "webhookMethod"),
        }
        task_type = self.registry.get(task_type_id)
        if task_type is None:
            return message_result("The given provider is not available", 412)
        try:
            task_input = prepare_input(raw_input, task_type, self.store, request.user_id)
        except InputValidationError as error:
            return message_result(str(error), 400)
        except FileAccessError:
            return message_result(
                "User does not have access to the files mentioned in the task input", 401
            )
        _check_column_lengths(columns)
        now = self.store.now()
        options: dict[str, Any] = {}
        if self.server_version >= 33:
            options["include_watermark"] = to_bool(params.get("includeWatermark", True))
        if self.server_version >= 35:
            options["prefer_streaming"] = to_bool(params.get("preferStreaming", False))
        task = self.store.tasks.add(
            type=task_type_id,
            user_id=request.user_id,
            input=task_input,
            status=TaskStatus.SCHEDULED,
            last_updated=now,
            scheduled_at=now,
            completion_expected_at=now + task_type.provider.expected_runtime,
            eligible_at=time.monotonic() + self.pickup_delay_seconds,
            **columns,
            **options,
        )
        return DataResult({"task": self._json(task)})

    def get_task(self, request: OcsRequest) -> DataResult:
        """``GET /task/{id}``: another user's or a missing task is 404 "Task not found"."""
        task = self.store.tasks.owned(to_int(request.params["id"]), request.user_id)
        if task is None:
            return message_result("Task not found", 404)
        return DataResult({"task": self._json(task)})

    def delete_task(self, request: OcsRequest) -> DataResult:
        """``DELETE /task/{id}``: always 200 with ``data: null`` (§3.4)."""
        task = self.store.tasks.owned(to_int(request.params["id"]), request.user_id)
        if task is not None:
            self.store.tasks.delete(task.id)
        return DataResult(None)

    def list_tasks(self, request: OcsRequest) -> DataResult:
        """``GET /tasks?taskType=&customId=``: the user's tasks in id order."""
        return self._tasks(request, task_type=string_param(request.params, "taskType"))

    def list_tasks_by_app(self, request: OcsRequest) -> DataResult:
        """``GET /tasks/app/{appId}?customId=``."""
        return self._tasks(request, app_id=required_string_param(request.params, "appId"))

    def _tasks(
        self, request: OcsRequest, *, task_type: str | None = None, app_id: str | None = None
    ) -> DataResult:
        """The user's tasks that match the filters and the ``customId`` parameter."""
        tasks = self.store.find_tasks(
            request.user_id,
            task_type=task_type,
            app_id=app_id,
            custom_id=string_param(request.params, "customId"),
        )
        return DataResult({"tasks": [self._json(task) for task in tasks]})

    def file_contents(self, request: OcsRequest) -> Response | DataResult:
        """``GET /tasks/{taskId}/file/{fileId}``: raw bytes of a file in the task's file slots."""
        task = self.store.tasks.owned(to_int(request.params["taskId"]), request.user_id)
        task_type = None if task is None else self.registry.get(task.type)
        file_id = to_int(request.params["fileId"])
        if task is None or task_type is None or file_id not in task_file_ids(task, task_type):
            return message_result("Not found", 404)
        node = self.store.node_by_id(file_id)
        if node is None or node.is_dir or node.owner not in (task.user_id, None):
            return message_result("Not found", 404)
        return Response(
            node.data,
            headers={
                "Content-Disposition": f'attachment; filename="{node.name}"',
                "Content-Type": sniff_mime_type(node.data) or mime_type_for_name(node.name),
            },
        )

    def cancel_task(self, request: OcsRequest) -> DataResult:
        """``POST /tasks/{taskId}/cancel``: a no-op on finished tasks; 404 "Not found"."""
        task = self.store.tasks.owned(to_int(request.params["taskId"]), request.user_id)
        if task is None:
            return message_result("Not found", 404)
        if self.store.cancel_task(task):
            self.webhooks.submit(task.webhook_uri, task.webhook_method, self._json(task))
        return DataResult({"task": self._json(task)})
