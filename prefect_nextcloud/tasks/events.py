"""Prefect events for the Nextcloud tasks this package schedules, for automations to react to.

Each task's changes of status become one event each: ``nextcloud.task.scheduled``,
``.running``, ``.succeeded``, ``.failed`` and ``.cancelled``. The resource is
``nextcloud.task.<host>.<task id>``, labelled with the task type (``nextcloud.task.type``) and
the Nextcloud user (``nextcloud.user``); the flow run and task run are related resources
(Prefect adds the flow, deployment and tags). A status is emitted when an attempt of the batch
engine first sees it, so a task that starts and ends between two looks goes straight from
``scheduled`` to ``succeeded``. An event that cannot be emitted is logged, never raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prefect.context import FlowRunContext, TaskRunContext
from prefect.events import emit_event
from prefect.events.related import object_as_related_resource
from prefect.events.schemas.events import RelatedResource

from prefect_nextcloud.client.models import TaskStatus
from prefect_nextcloud.tasks.progress import run_logger

if TYPE_CHECKING:
    from prefect_nextcloud.blocks.credentials import NextcloudCredentials
    from prefect_nextcloud.tasks.batch.items import BatchItem

__all__ = ["EVENT_PREFIX", "emit_task_events", "event_status", "task_resource_id"]

EVENT_PREFIX = "nextcloud.task"
"""Every event name starts with this, e.g. ``nextcloud.task.failed``."""


def task_resource_id(base_url: str, task_id: int) -> str:
    """The resource id of a Nextcloud task: ``nextcloud.task.<host>.<task id>``.

    The host keeps its port when the URL has one (``nextcloud.task.127.0.0.1:8080.42``).
    """
    host = urlsplit(base_url).netloc.rpartition("@")[2].lower()
    return f"{EVENT_PREFIX}.{host}.{task_id}"


def event_status(item: BatchItem) -> str | None:
    """The item's status as an event name suffix, or ``None`` while it has no task."""
    task = item.task
    if task is None:
        return None
    if item.settled:
        if item.error is None:
            return "succeeded"
        return "cancelled" if task.status is TaskStatus.CANCELLED else "failed"
    return "running" if task.status is TaskStatus.RUNNING else "scheduled"


def _related() -> list[RelatedResource]:
    """The flow run and task run of the current context, as Prefect names runs."""
    related: list[RelatedResource] = []
    flow_context = FlowRunContext.get()
    task_context = TaskRunContext.get()
    if flow_context is not None and flow_context.flow_run is not None:
        related.append(object_as_related_resource("flow-run", "flow-run", flow_context.flow_run))
    elif task_context is not None and task_context.task_run.flow_run_id is not None:
        flow_run_id = task_context.task_run.flow_run_id
        related.append(
            RelatedResource(
                {
                    "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                    "prefect.resource.role": "flow-run",
                }
            )
        )
    if task_context is not None:
        related.append(object_as_related_resource("task-run", "task-run", task_context.task_run))
    return related


def emit_task_events(credentials: NextcloudCredentials, items: Sequence[BatchItem]) -> None:
    """Emit one event for each item whose task's status changed since the last call.

    Args:
        credentials: The server and user the tasks belong to.
        items: The batch's items; each remembers the status last emitted for it.
    """
    related: list[RelatedResource] | None = None
    for item in items:
        status = event_status(item)
        if status is None or status == item.reported_status or item.task is None:
            continue
        item.reported_status = status
        task = item.task
        related = _related() if related is None else related
        payload: dict[str, Any] = {
            "task_id": task.id,
            "task_type": task.type,
            "status": task.status.value,
            "custom_id": task.custom_id,
            "app_id": task.app_id,
        }
        if item.error is not None:
            payload["error"] = str(item.error)
        try:
            emit_event(
                event=f"{EVENT_PREFIX}.{status}",
                resource={
                    "prefect.resource.id": task_resource_id(credentials.base_url, task.id),
                    "prefect.resource.name": f"Nextcloud task {task.id}",
                    "nextcloud.task.type": task.type,
                    "nextcloud.user": credentials.user_id,
                },
                related=related,
                payload=payload,
            )
        except Exception as error:  # an event must never fail the flow
            run_logger().warning(
                "Could not emit the event %s.%s for Nextcloud task %s: %s",
                EVENT_PREFIX,
                status,
                task.id,
                error,
            )
