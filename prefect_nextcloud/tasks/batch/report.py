"""The result table a batch leaves when it ends: one row per item, files named by path.

Each row names the item's files (as links that open them in Nextcloud's Files app), its
status and Nextcloud task, how long the task ran (from the task's own start and end times)
and its whole answer or error. An answer too long for a table row is cut there, with a link
to its section below the table, which holds it whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from prefect_nextcloud.tasks.batch.inputs import item_files
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem
from prefect_nextcloud.tasks.markdown import cell, escape, quoted, reference_link, table

__all__ = ["LONG_ANSWER_CHARS", "leave_result_table", "result_table"]

LONG_ANSWER_CHARS = 1000
"""Answers longer than this are cut in the table and shown whole below it."""

_CUT_CHARS = 300
_HEADER = ("#", "file", "status", "Nextcloud task", "duration", "answer or error")


def leave_result_table(
    batch: Batch, server_url: str, file_paths: Mapping[int, str] | None = None
) -> None:
    """Leave the batch's result table as a markdown artifact, when it has an artifact key.

    Args:
        batch: The ended batch.
        server_url: The Nextcloud server's address, for the links to files.
        file_paths: The paths of files given by id, to name them without a lookup.
    """
    if batch.progress.artifact_key is not None:
        batch.progress.finish(result_table(batch, server_url, file_paths or {}))


def result_table(batch: Batch, server_url: str, file_paths: Mapping[int, str]) -> str:
    """The batch's results as markdown: the table, then each long answer whole."""
    rows, long_answers = [], []
    for item in batch.items:
        answer = str(item.error) if item.error is not None else item.text or ""
        if len(answer) > LONG_ANSWER_CHARS:
            long_answers += [f"### Answer {item.index}", "", *quoted(answer), ""]
            shown = f"{cell(answer[:_CUT_CHARS])} … [whole answer below](#answer-{item.index})"
        else:
            shown = cell(answer)
        task = item.task
        rows.append(
            [
                str(item.index),
                _files(batch, item, server_url, file_paths),
                item.status,
                "" if task is None else f"{task.id} ({task.status.name.lower()})",
                _duration(item),
                shown,
            ]
        )
    title = f"{len(batch.items)} {escape(batch.task_type)} tasks"
    return "\n".join([f"## {title}", "", *table(_HEADER, rows), "", *long_answers])


def _files(batch: Batch, item: BatchItem, server_url: str, file_paths: Mapping[int, str]) -> str:
    """The item's files, each named by its path and linked to Nextcloud when it stays there."""
    if batch.declared is None:
        return ""
    return "<br>".join(
        reference_link(server_url, reference, file_id, file_paths)
        for reference, file_id in item_files(batch.declared, item)
    )


def _duration(item: BatchItem) -> str:
    """How long the item's Nextcloud task ran, by the server's own clock."""
    task = item.task
    if task is None or task.started_at is None or task.ended_at is None:
        return ""
    seconds = max(task.ended_at - task.started_at, 0)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
