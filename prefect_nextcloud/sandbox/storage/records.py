"""The stored records: files and folders, trash bin items, and tasks with their JSON form."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypedDict

__all__ = ["Node", "Task", "TaskRow", "TaskSnapshot", "TaskStatus", "TrashItem"]


class TaskStatus(IntEnum):
    """``Task::STATUS_*``; the API sends :attr:`label`."""

    UNKNOWN = 0
    SCHEDULED = 1
    RUNNING = 2
    SUCCESSFUL = 3
    FAILED = 4
    CANCELLED = 5

    @property
    def label(self) -> str:
        """The status string of the API, e.g. ``"STATUS_SCHEDULED"``."""
        return f"STATUS_{self.name}"

    @property
    def is_final(self) -> bool:
        """Whether the task has finished (successful, failed or cancelled)."""
        return self in (TaskStatus.SUCCESSFUL, TaskStatus.FAILED, TaskStatus.CANCELLED)

    @classmethod
    def parse(cls, value: TaskStatus | str) -> TaskStatus:
        """Accept a member, ``"STATUS_RUNNING"`` or ``"RUNNING"`` (any case)."""
        if isinstance(value, TaskStatus):
            return value
        return cls[value.upper().removeprefix("STATUS_")]


@dataclass
class Node:
    """A file or folder in a user's storage (``owner``), or in app data (``owner`` None).

    ``path`` is relative to the owner's home folder; the home folder itself has path ``""``.

    Attributes:
        checksum: The filecache ``checksum`` column, e.g. ``"SHA1:da39…"``; empty when unset.
        creation_time: ``creation_time`` of ``filecache_extended``; 0 when unknown.
        favorite: Whether the owner marked it as a favourite.
        dead_properties: WebDAV properties clients stored with ``PROPPATCH`` (the
            ``properties`` table), as XML content keyed by (namespace, name).
    """

    id: int
    owner: str | None
    path: str
    is_dir: bool
    mtime: int
    etag: str
    data: bytes = b""
    checksum: str = ""
    creation_time: int = 0
    favorite: bool = False
    dead_properties: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The last path segment."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class TrashItem:
    """A deleted file or folder in its owner's trash bin, with everything that was below it.

    The nodes keep their ids and the paths they had, so each ``path`` is its original location.

    Attributes:
        nodes: The deleted node first, then everything that was below it.
        deleted_at: When it was deleted (unix time).
    """

    nodes: list[Node]
    deleted_at: int

    @property
    def node(self) -> Node:
        """The deleted file or folder itself."""
        return self.nodes[0]

    @property
    def name(self) -> str:
        """Its name in the trash bin, ``<name>.d<deletion time>`` (``TrashFile::getName``)."""
        return f"{self.node.name}.d{self.deleted_at}"


@dataclass
class Task:
    """A task as stored in the ``oc_taskprocessing_tasks`` table."""

    id: int
    type: str
    user_id: str | None
    app_id: str
    input: dict[Any, Any]
    custom_id: str
    status: TaskStatus
    last_updated: int
    scheduled_at: int
    completion_expected_at: int
    eligible_at: float
    """Monotonic time from which a worker may pick the task up."""
    output: dict[Any, Any] | None = None
    progress: float | None = None
    started_at: int | None = None
    ended_at: int | None = None
    ended_at_precise: float | None = None
    """When a worker ended the task, in unix seconds with a fraction (the API has whole ones)."""
    allow_cleanup: bool = True
    include_watermark: bool = True
    prefer_streaming: bool = False
    user_facing_error_message: str | None = None
    error_message: str | None = None
    webhook_uri: str | None = None
    webhook_method: str | None = None
    legacy: bool = False
    """Whether this is a task of the deprecated TextProcessing API (its own table and ids)."""

    def to_json(self, server_version: int) -> dict[str, Any]:
        """Return ``Task::jsonSerialize()`` as the given Nextcloud major version emits it."""
        return {name: get(self) for name, since, get in _TASK_FIELDS if since <= server_version}

    def row(self) -> TaskRow:
        """Return the columns that a snapshot and the sandbox's overview both show."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "type": self.type,
            "status": self.status.label,
            "app_id": self.app_id,
            "custom_id": self.custom_id,
            "progress": self.progress,
            "scheduled_at": self.scheduled_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "error_message": self.error_message,
            "user_facing_error_message": self.user_facing_error_message,
        }

    def snapshot(self, server_version: int) -> TaskSnapshot:
        """Return an immutable copy for tests."""
        return TaskSnapshot(
            **self.row(),
            input=copy.deepcopy(self.input),
            output=copy.deepcopy(self.output),
            last_updated=self.last_updated,
            ended_at_precise=self.ended_at_precise,
            completion_expected_at=self.completion_expected_at,
            include_watermark=self.include_watermark,
            webhook_uri=self.webhook_uri,
            webhook_method=self.webhook_method,
            json=self.to_json(server_version),
        )


# Task::jsonSerialize() keys in emitted order with the major version that added each (§5.1);
# a version switch only has to filter this table.
_TASK_FIELDS: tuple[tuple[str, int, Callable[[Task], object]], ...] = (
    ("id", 30, lambda t: t.id),
    ("type", 30, lambda t: t.type),
    ("lastUpdated", 30, lambda t: t.last_updated),
    ("status", 30, lambda t: t.status.label),
    ("userId", 30, lambda t: t.user_id),
    ("appId", 30, lambda t: t.app_id),
    ("input", 30, lambda t: copy.deepcopy(t.input)),
    ("output", 30, lambda t: copy.deepcopy(t.output)),
    ("customId", 30, lambda t: t.custom_id),
    ("completionExpectedAt", 30, lambda t: t.completion_expected_at),
    ("progress", 30, lambda t: t.progress),
    ("scheduledAt", 30, lambda t: t.scheduled_at),
    ("startedAt", 30, lambda t: t.started_at),
    ("endedAt", 30, lambda t: t.ended_at),
    ("allowCleanup", 32, lambda t: t.allow_cleanup),
    ("includeWatermark", 33, lambda t: t.include_watermark),
    ("userFacingErrorMessage", 33, lambda t: t.user_facing_error_message),
    ("preferStreaming", 35, lambda t: t.prefer_streaming),
)


class TaskRow(TypedDict):
    """The columns a snapshot and the overview both show; ``status`` is the API's label."""

    id: int
    user_id: str | None
    type: str
    status: str
    app_id: str
    custom_id: str
    progress: float | None
    scheduled_at: int
    started_at: int | None
    ended_at: int | None
    error_message: str | None
    user_facing_error_message: str | None


@dataclass(frozen=True)
class TaskSnapshot:
    """A copy of a task at one moment, including what the API never shows.

    Attributes:
        status: The API status string, e.g. ``"STATUS_RUNNING"``.
        ended_at_precise: When a worker ended the task, in unix seconds with their fraction
            (``ended_at`` has whole seconds, as the API does); None until then.
        error_message: The internal failure reason (not serialised by the server).
        json: The task exactly as ``GET /task/{id}`` would return it.
    """

    id: int
    type: str
    status: str
    user_id: str | None
    app_id: str
    custom_id: str
    input: dict[Any, Any]
    output: dict[Any, Any] | None
    progress: float | None
    last_updated: int
    scheduled_at: int
    started_at: int | None
    ended_at: int | None
    ended_at_precise: float | None
    completion_expected_at: int
    include_watermark: bool
    user_facing_error_message: str | None
    error_message: str | None
    webhook_uri: str | None
    webhook_method: str | None
    json: dict[str, Any]
