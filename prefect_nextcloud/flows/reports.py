"""The markdown pieces the flows' reports share: an answer quoted, a section on one file."""

from prefect_nextcloud.client.paths import NextcloudPath

__all__ = ["file_section", "quoted"]


def quoted(text: str) -> list[str]:
    """The lines of ``text`` as a markdown quote; an empty text is one empty quote line."""
    return [f"> {line}" for line in text.splitlines() or [""]]


def file_section(path: NextcloudPath, task_id: int | None, body: list[str]) -> list[str]:
    """A report's section on one file: its name, its path and task, then ``body``.

    Args:
        path: The file.
        task_id: The Nextcloud task that processed it; ``None`` when none was scheduled.
        body: What became of it: its answer (see :func:`quoted`), or what went wrong.
    """
    task = f"Nextcloud task {task_id}" if task_id is not None else "not scheduled"
    return [f"## {path.name}", "", f"`{path}` ({task})", "", *body, ""]
