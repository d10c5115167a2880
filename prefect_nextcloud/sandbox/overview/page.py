"""The overview as one server-rendered HTML page: no scripts, every value escaped."""

from __future__ import annotations

from html import escape

from prefect_nextcloud.sandbox.overview.views import (
    FileView,
    Overview,
    TaskView,
    UserFiles,
    answer_lines,
    duration_text,
    status_text,
    time_text,
)

__all__ = ["error_page", "overview_page"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; }
tr.below td { border-top: none; background: #fafafa; }
pre { white-space: pre-wrap; margin: 0.25rem 0; font-family: inherit; }
.failed { color: #a00; }
"""
_FILE_COLUMNS = ("Path", "File id", "Size (bytes)", "Modified", "ETag")
_TASK_COLUMNS = (
    "Id",
    "User",
    "Type",
    "Status",
    "App",
    "Custom id",
    "Scheduled",
    "Started",
    "Ended",
    "Took",
)


def overview_page(overview: Overview, json_url: str) -> str:
    """Render the overview as a complete HTML document.

    Args:
        overview: What to show.
        json_url: Where the same overview is served as JSON (linked from the page).

    Returns:
        The HTML.
    """
    users = overview["users"]
    links = [
        f'<li><a href="#files-{number}">Files of {escape(user["user_id"])}</a> '
        f"({len(user['files'])})</li>"
        for number, user in enumerate(users, 1)
    ]
    links.append(f'<li><a href="#tasks">Tasks</a> ({len(overview["tasks"])})</li>')
    links.append(f'<li><a href="{escape(json_url)}">The same as JSON</a></li>')
    sections = [_user_section(number, user) for number, user in enumerate(users, 1)]
    return _document(
        "Nextcloud sandbox",
        f"<p>An emulation of Nextcloud {overview['server_version']} for tests and demos, not a "
        f"real Nextcloud. Reload the page to see what changed.</p>\n"
        f"<nav><ul>{''.join(links)}</ul></nav>\n"
        + "\n".join(sections)
        + _tasks_section(overview["tasks"]),
    )


def error_page(title: str, message: str) -> str:
    """Render a short HTML document that explains why the overview is not shown."""
    return _document(title, f"<p>{escape(message)}</p>")


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _header(columns: tuple[str, ...]) -> str:
    return "<thead><tr>" + "".join(f"<th>{name}</th>" for name in columns) + "</tr></thead>"


def _user_section(number: int, user: UserFiles) -> str:
    heading = f'<section id="files-{number}">\n<h2>Files of {escape(user["user_id"])}</h2>\n'
    if not user["files"]:
        return heading + "<p>No files.</p>\n</section>\n"
    rows = "".join(_file_rows(file) for file in user["files"])
    return f"{heading}<table>{_header(_FILE_COLUMNS)}<tbody>\n{rows}</tbody></table>\n</section>\n"


def _file_rows(file: FileView) -> str:
    row = (
        f'<tr><td>{escape(file["path"])}</td><td class="number">{file["file_id"]}</td>'
        f'<td class="number">{file["size"]}</td><td>{time_text(file["modified"])}</td>'
        f"<td>{escape(file['etag'])}</td></tr>\n"
    )
    if not file["comments"]:
        return row
    comments = "".join(
        f"<li>{escape(comment['author'] or 'unknown')}, {time_text(comment['created'])} "
        f"(comment {comment['id']}):"
        f"<pre>{escape(comment['message'])}</pre></li>"
        for comment in file["comments"]
    )
    return row + _row_below(_FILE_COLUMNS, f"Comments, newest first:<ul>{comments}</ul>")


def _tasks_section(tasks: list[TaskView]) -> str:
    heading = '<section id="tasks">\n<h2>Tasks, newest first</h2>\n'
    if not tasks:
        return heading + "<p>No tasks.</p>\n</section>\n"
    rows = "".join(_task_rows(task) for task in tasks)
    return f"{heading}<table>{_header(_TASK_COLUMNS)}<tbody>\n{rows}</tbody></table>\n</section>\n"


def _task_rows(task: TaskView) -> str:
    cells = (
        str(task["id"]),
        escape(task["user_id"] or "(anonymous)"),
        escape(task["type"]),
        escape(status_text(task)),
        escape(task["app_id"]),
        escape(task["custom_id"]),
        time_text(task["scheduled_at"]),
        time_text(task["started_at"]),
        time_text(task["ended_at"]),
        duration_text(task["duration_seconds"]),
    )
    row = "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>\n"
    details = [
        f"{escape(slot['slot'])}:"
        + "".join(f"<pre>{escape(line)}</pre>" for line in answer_lines(slot))
        for slot in task["answer"]
    ]
    for label, message in (
        ("Error", task["error_message"]),
        ("Error shown to users", task["user_facing_error_message"]),
    ):
        if message:
            details.append(f'<span class="failed">{label}:</span><pre>{escape(message)}</pre>')
    if not details:
        return row
    return row + _row_below(_TASK_COLUMNS, "".join(details))


def _row_below(columns: tuple[str, ...], content: str) -> str:
    """A row across the whole table, for what belongs to the row above."""
    return f'<tr class="below"><td colspan="{len(columns)}">{content}</td></tr>\n'
