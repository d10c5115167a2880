"""``prefect-nextcloud sandbox ls|comments|tasks``: a running sandbox's overview, as text."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from prefect_nextcloud.sandbox.overview.endpoint import OVERVIEW_JSON_PATH
from prefect_nextcloud.sandbox.overview.views import (
    Overview,
    TaskView,
    answer_lines,
    duration_text,
    status_text,
    time_text,
)

if TYPE_CHECKING:
    from prefect_nextcloud.sandbox.upload import SandboxLogin

__all__ = [
    "VIEWS",
    "OverviewError",
    "comments_text",
    "fetch_overview",
    "files_text",
    "tasks_text",
]

_TIMEOUT_SECONDS = 10.0


class OverviewError(Exception):
    """The overview could not be read; the message says why and what to do."""


def fetch_overview(login: SandboxLogin, user: str | None = None) -> Overview:
    """Read the overview of a running sandbox from ``/sandbox/overview.json``.

    Args:
        login: The sandbox, and the login sent along for a sandbox that listens on more than
            loopback and asks for one.
        user: Only this user's files and tasks; all the sandbox shows when None.

    Returns:
        The overview.

    Raises:
        OverviewError: The sandbox could not be reached, refused, or is no sandbox.
    """
    address = login.url.rstrip("/") + OVERVIEW_JSON_PATH
    try:
        response = httpx.get(
            address,
            params={"user": user} if user else None,
            auth=(login.user_id, login.app_password),
            timeout=_TIMEOUT_SECONDS,
        )
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise OverviewError(
            f"Could not read {address}: {error}. Start a sandbox with 'prefect-nextcloud "
            "sandbox', or pass the address it printed with --url."
        ) from None
    return _read(response, address, login.user_id)


def _read(response: httpx.Response, address: str, login: str) -> Overview:
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if response.status_code == httpx.codes.UNAUTHORIZED:
        raise OverviewError(
            f"{address} asks for a login and refused user {login!r}: set NEXTCLOUD_USER and "
            "NEXTCLOUD_APP_PASSWORD to a sandbox user and that user's app password."
        )
    message = _field(data, "message")
    if isinstance(message, str):
        raise OverviewError(f"{address} answered {response.status_code}: {message}")
    if not response.is_success or _field(data, "tasks") is None:
        raise OverviewError(
            f"{address} answered {response.status_code} without a sandbox overview: is a "
            "prefect-nextcloud sandbox of this version listening there? (A real Nextcloud "
            "has no overview.)"
        )
    overview: Overview = data
    return overview


def _field(data: Any, name: str) -> Any:
    """A field of a JSON object; None when absent or when the JSON is no object."""
    return data.get(name) if isinstance(data, dict) else None


def files_text(overview: Overview) -> str:
    """Each user's files and folders: path, file id, size, modification time and etag."""
    parts = []
    for user in overview["users"]:
        if not user["files"]:
            parts.append(f"{user['user_id']}: no files\n")
            continue
        rows = [("PATH", "FILE ID", "SIZE", "MODIFIED", "ETAG")]
        rows += [
            (
                file["path"],
                str(file["file_id"]),
                str(file["size"]),
                time_text(file["modified"]),
                file["etag"],
            )
            for file in user["files"]
        ]
        parts.append(f"{user['user_id']}:\n{_table(rows, right_aligned=(1, 2))}")
    return "".join(parts)


def comments_text(overview: Overview) -> str:
    """Each user's commented files with their comments, newest first."""
    parts = []
    for user in overview["users"]:
        commented = [file for file in user["files"] if file["comments"]]
        if not commented:
            parts.append(f"{user['user_id']}: no comments\n")
            continue
        lines = [f"{user['user_id']}:"]
        for file in commented:
            lines.append(f"  {file['path']} (file {file['file_id']}):")
            for comment in file["comments"]:
                author = comment["author"] or "unknown"
                created = time_text(comment["created"])
                lines.append(f"    {author}, {created} (comment {comment['id']}):")
                lines += _indented(comment["message"], 6)
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


def tasks_text(overview: Overview) -> str:
    """The tasks, newest first: who and what, their times, and their answer or error."""
    if not overview["tasks"]:
        return "No tasks.\n"
    return "".join(_task_text(task) for task in overview["tasks"])


def _task_text(task: TaskView) -> str:
    lines = [
        f"Task {task['id']}  {task['type']}  {status_text(task)}",
        f"  user {task['user_id'] or '(anonymous)'}, app {task['app_id']}, "
        f"custom id {task['custom_id'] or '-'}",
        f"  scheduled {time_text(task['scheduled_at'])}",
        f"  started   {time_text(task['started_at'])}",
        f"  ended     {time_text(task['ended_at'])}",
        f"  took      {duration_text(task['duration_seconds'])}",
    ]
    for slot in task["answer"]:
        lines.append(f"  {slot['slot']}:")
        for value in answer_lines(slot):
            lines += _indented(value, 4)
    for label, message in (
        ("error", task["error_message"]),
        ("error shown to users", task["user_facing_error_message"]),
    ):
        if message:
            lines.append(f"  {label}:")
            lines += _indented(message, 4)
    return "\n".join(lines) + "\n"


def _indented(text: str, spaces: int) -> list[str]:
    return [" " * spaces + line for line in text.splitlines() or [""]]


def _table(rows: Sequence[Sequence[str]], *, right_aligned: Sequence[int]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if column in right_aligned else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


VIEWS: Mapping[str, Callable[[Overview], str]] = {
    "ls": files_text,
    "comments": comments_text,
    "tasks": tasks_text,
}
"""The text of each command, by its name."""
