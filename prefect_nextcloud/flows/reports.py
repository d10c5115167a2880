"""The markdown pieces the flows' reports share: an answer quoted, a section on one file."""

from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.tasks.markdown import code, escape, quoted

__all__ = ["file_section", "quoted"]


def file_section(
    path: NextcloudPath, task_id: int | None, body: list[str], *, url: str | None = None
) -> list[str]:
    """A report's section on one file: its name, its path and task, then ``body``.

    Args:
        path: The file.
        task_id: The Nextcloud task that processed it; ``None`` when none was scheduled.
        body: What became of it: its answer (see :func:`quoted`), or what went wrong.
        url: Where the file opens in Nextcloud (see
            :func:`~prefect_nextcloud.tasks.markdown.file_url`); the path links there.
    """
    task = f"Nextcloud task {task_id}" if task_id is not None else "not scheduled"
    shown = code(path) if url is None else f"[{code(path)}]({url})"
    return [f"## {escape(path.name)}", "", f"{shown} ({task})", "", *body, ""]
