"""Prefect events about Nextcloud tasks and files, for automations and batches to react to.

**Tasks.** Each task's changes of status become one event each: ``nextcloud.task.scheduled``,
``.running``, ``.succeeded``, ``.failed`` and ``.cancelled``. The batch engine emits them when an
attempt first sees a status (so a task that starts and ends between two looks goes straight
from ``scheduled`` to ``succeeded``), and ``prefect-nextcloud relay`` emits the last three when
Nextcloud pushes a task's end. The resource is ``nextcloud.task.<host>.<task id>``, labelled
with the task type (``nextcloud.task.type``), the Nextcloud user (``nextcloud.user``) and the
task's app id (``nextcloud.app-id``). Both emitters give an event the same id, derived from the
resource and the status (:func:`task_event_id`), so when both report one task's end Prefect
stores it and triggers on it once. The payload holds ids, status, type and app id, never the
task's input or output.

**Files.** ``nextcloud.file.created``, ``.changed`` and ``.deleted`` (emitted by the relay from
Nextcloud's ``webhook_listeners`` app) concern the resource ``nextcloud.file.<host>.<file id>``,
labelled ``nextcloud.user`` (whose home the file is in), ``nextcloud.file.path`` (below that
home, starting with ``/``) and ``nextcloud.file.folder`` (its parent folder).

An event that cannot be emitted is logged, never raised, by the batch engine.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from prefect.context import FlowRunContext, TaskRunContext
from prefect.events import emit_event
from prefect.events.related import object_as_related_resource
from prefect.events.schemas.events import RelatedResource

from prefect_nextcloud.client.models import Task, TaskStatus
from prefect_nextcloud.tasks.progress import run_logger

if TYPE_CHECKING:
    from prefect_nextcloud.blocks.credentials import NextcloudCredentials
    from prefect_nextcloud.tasks.batch.items import BatchItem

__all__ = [
    "ENDED_STATUSES",
    "EVENT_PREFIX",
    "FILE_EVENT_PREFIX",
    "FileChange",
    "NextcloudEvent",
    "emit_nextcloud_event",
    "emit_task_events",
    "event_status",
    "file_event",
    "file_resource_id",
    "task_event",
    "task_event_id",
    "task_resource_id",
]

EVENT_PREFIX = "nextcloud.task"
"""Every task event name starts with this, e.g. ``nextcloud.task.failed``."""
FILE_EVENT_PREFIX = "nextcloud.file"
"""Every file event name starts with this, e.g. ``nextcloud.file.created``."""
ENDED_STATUSES: Mapping[TaskStatus, str] = {
    TaskStatus.SUCCESSFUL: "succeeded",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "cancelled",
}
"""The event name suffix of each status a task ends with."""

# Fixed for good: every process, the batch engine's and the relay's, derives the same event ids.
_EVENT_ID_NAMESPACE = UUID("5b0f7c9e-3d1a-5e8b-9a64-2f7d0c1e4b38")


@dataclass(frozen=True)
class NextcloudEvent:
    """One event as it is handed to Prefect.

    Attributes:
        name: The event name, e.g. ``nextcloud.task.succeeded``.
        resource: The resource id (``prefect.resource.id``) and its labels.
        payload: Ids and status; never a task's input or output.
        id: Deterministic: the same report of the same change always has the same id.
    """

    name: str
    resource: dict[str, str]
    payload: dict[str, Any]
    id: UUID


@dataclass(frozen=True)
class FileChange:
    """What one file event of Nextcloud's ``webhook_listeners`` app reports.

    Attributes:
        kind: ``created``, ``changed`` or ``deleted``.
        file_id: The file (or folder) id.
        user_id: Whose home the file is in.
        path: The path below that home, starting with ``/``.
        time: When the event fired on the server (unix seconds).
        triggered_by: The user whose request caused it; None for background jobs and ``occ``.
    """

    kind: str
    file_id: int
    user_id: str
    path: str
    time: int
    triggered_by: str | None


def _host(base_url: str) -> str:
    """The server's host as resource ids name it: lower case, with the port if any."""
    return urlsplit(base_url).netloc.rpartition("@")[2].lower()


def task_resource_id(base_url: str, task_id: int) -> str:
    """The resource id of a Nextcloud task: ``nextcloud.task.<host>.<task id>``.

    The host keeps its port when the URL has one (``nextcloud.task.127.0.0.1:8080.42``).
    """
    return f"{EVENT_PREFIX}.{_host(base_url)}.{task_id}"


def file_resource_id(base_url: str, file_id: int) -> str:
    """The resource id of a Nextcloud file: ``nextcloud.file.<host>.<file id>``."""
    return f"{FILE_EVENT_PREFIX}.{_host(base_url)}.{file_id}"


def task_event_id(resource_id: str, status: str) -> UUID:
    """The id of the event that reports a task reaching a status.

    Args:
        resource_id: The task's resource id (:func:`task_resource_id`).
        status: The event name suffix, e.g. ``succeeded``.

    Returns:
        A UUID that depends only on both, so whoever reports the same task reaching the same
        status (the batch engine, the relay, a retried attempt) sends the same event.
    """
    return uuid5(_EVENT_ID_NAMESPACE, f"{resource_id}\n{status}")


def task_event(
    base_url: str, user_id: str, task: Task, status: str, error: str | None = None
) -> NextcloudEvent:
    """The event that reports ``task`` reaching ``status``.

    Args:
        base_url: The Nextcloud server's address.
        user_id: The user the task belongs to.
        task: The task as Nextcloud reported it.
        status: The event name suffix, e.g. ``succeeded``.
        error: Why the task failed, for the payload's ``error``.
    """
    resource_id = task_resource_id(base_url, task.id)
    payload: dict[str, Any] = {
        "task_id": task.id,
        "task_type": task.type,
        "status": task.status.value,
        "custom_id": task.custom_id,
        "app_id": task.app_id,
    }
    if error is not None:
        payload["error"] = error
    return NextcloudEvent(
        name=f"{EVENT_PREFIX}.{status}",
        resource={
            "prefect.resource.id": resource_id,
            "prefect.resource.name": f"Nextcloud task {task.id}",
            "nextcloud.task.type": task.type,
            "nextcloud.user": user_id,
            "nextcloud.app-id": task.app_id,
        },
        payload=payload,
        id=task_event_id(resource_id, status),
    )


def file_event(base_url: str, change: FileChange) -> NextcloudEvent:
    """The event that reports one change of a file.

    Its id derives from the file, the kind of change, the path and the time the server gave, so
    the same report delivered twice (a replay, two identical listeners) is one event.

    Args:
        base_url: The Nextcloud server's address.
        change: What changed.
    """
    resource_id = file_resource_id(base_url, change.file_id)
    folder = posixpath.dirname(change.path)
    return NextcloudEvent(
        name=f"{FILE_EVENT_PREFIX}.{change.kind}",
        resource={
            "prefect.resource.id": resource_id,
            "prefect.resource.name": change.path,
            "nextcloud.user": change.user_id,
            "nextcloud.file.path": change.path,
            "nextcloud.file.folder": folder,
        },
        payload={
            "file_id": change.file_id,
            "user_id": change.user_id,
            "path": change.path,
            "folder": folder,
            "time": change.time,
            "triggered_by": change.triggered_by,
        },
        id=uuid5(
            _EVENT_ID_NAMESPACE, f"{resource_id}\n{change.kind}\n{change.path}\n{change.time}"
        ),
    )


def emit_nextcloud_event(
    event: NextcloudEvent, related: Sequence[RelatedResource] | None = None
) -> bool:
    """Hand one event to Prefect's events worker, which sends it in the background.

    Args:
        event: The event.
        related: Related resources, e.g. the flow run.

    Returns:
        Whether Prefect took the event; False when events are off or Prefect could not build
        or queue it (Prefect logs why).

    Raises:
        Exception: Whatever ``prefect.events.emit_event`` raises (it is too large, ...).
    """
    emitted = emit_event(
        event=event.name,
        resource=event.resource,
        related=list(related) if related is not None else None,
        payload=event.payload,
        id=event.id,
    )
    return emitted is not None


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
        related = _related() if related is None else related
        reason = None if item.error is None else str(item.error)
        event = task_event(credentials.base_url, credentials.user_id, item.task, status, reason)
        try:
            emit_nextcloud_event(event, related)
        except Exception as error:  # an event must never fail the flow
            run_logger().warning(
                "Could not emit the event %s for Nextcloud task %s: %s",
                event.name,
                item.task.id,
                error,
            )
