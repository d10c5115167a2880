"""What the overview shows, as the JSON it is served in, and the wording page and terminal share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from prefect_nextcloud.sandbox.storage.records import TaskRow

__all__ = [
    "AnswerSlot",
    "CommentView",
    "FileView",
    "Overview",
    "TaskView",
    "UserFiles",
    "answer_lines",
    "duration_text",
    "status_text",
    "time_text",
]


class CommentView(TypedDict):
    """A comment on a file, as a client reads it with ``REPORT``; ``created`` in Unix seconds."""

    id: int
    author: str | None
    created: int
    message: str


class FileView(TypedDict):
    """A file or folder (``path`` ending in ``/``) of a user, with its comments, newest first."""

    path: str
    file_id: int
    size: int
    modified: int
    etag: str
    comments: list[CommentView]


class UserFiles(TypedDict):
    """Everything in one user's storage, in path order."""

    user_id: str
    files: list[FileView]


class AnswerSlot(TypedDict):
    """One output slot of a task: its text values in full, or the ids of its output files."""

    slot: str
    texts: list[str]
    file_ids: list[int]


class TaskView(TaskRow):
    """A Task Processing task: its columns, how long it ran, and its answer."""

    duration_seconds: int | None
    answer: list[AnswerSlot]


class Overview(TypedDict):
    """The body of ``GET /sandbox/overview.json``; tasks newest first."""

    server_version: int
    users: list[UserFiles]
    tasks: list[TaskView]


def time_text(timestamp: int | None) -> str:
    """A Unix time as ``2025-01-31 12:00:00 UTC``, or ``-`` when unset."""
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(seconds: int | None) -> str:
    """How long a task ran, e.g. ``3 s`` or ``2 min 5 s``; ``-`` when it has not ended."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def status_text(task: TaskView) -> str:
    """The status without its ``STATUS_`` prefix, with the progress of a running task."""
    status = task["status"].removeprefix("STATUS_")
    if task["progress"] is not None and status == "RUNNING":
        return f"{status} {task['progress']:.0%}"
    return status


def answer_lines(slot: AnswerSlot) -> list[str]:
    """An output slot's values, one per entry: each text in full, each file by its id."""
    return [*slot["texts"], *(f"file {file_id}" for file_id in slot["file_ids"])]
