"""The one rule for which listed tasks are ours, and which of several twins to keep.

A task is scheduled at most once per custom id: a schedule whose answer was lost, a retried
run or a second run with the same idempotency key finds the task under its custom id in the
app's listing and adopts it. Only a task whose app id, user id and custom id all match what
we schedule (and whose type matches, where the caller knows it) is ours; a row of another app
or user that carries the same custom id is never adopted. When two runs could not coordinate
and both scheduled, the oldest task is the one every run keeps; the younger twins are
cancelled and deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prefect_nextcloud.client.models import Task, TaskStatus, UnreadableTask

__all__ = ["is_ours", "is_usable", "twins_of"]


def is_ours(
    task: Task | UnreadableTask,
    *,
    app_id: str,
    user_id: str,
    custom_id_matches: Callable[[str], bool],
    task_type: str | None = None,
) -> bool:
    """Whether a listed task (or an unreadable row) is one we scheduled.

    Args:
        task: A task, or a row of a listing that could not be read as one.
        app_id: The app id we scheduled under.
        user_id: The Nextcloud user we scheduled as.
        custom_id_matches: Whether a custom id is one of ours (one exact id, a set's
            ``__contains__``, or a prefix test).
        task_type: The task type we scheduled, when it is known.

    Returns:
        True only when app id, user id and custom id all match, and the type too if given.
    """
    if task.app_id != app_id or task.user_id != user_id:
        return False
    if task.custom_id is None or not custom_id_matches(task.custom_id):
        return False
    return task_type is None or task.type == task_type


def is_usable(task: Task) -> bool:
    """Whether a task is worth adopting: pending, or successful with its answer."""
    return task.status.is_pending or task.status is TaskStatus.SUCCESSFUL


def twins_of(tasks: Iterable[Task]) -> dict[str, tuple[Task, list[Task]]]:
    """Per custom id, the usable task to keep (the oldest) and its younger usable twins.

    Args:
        tasks: Tasks already known to be ours (see :func:`is_ours`).

    Returns:
        For each custom id that has a usable task: that oldest task, and the others, which
        are duplicates to cancel and delete.
    """
    grouped: dict[str, list[Task]] = {}
    for task in tasks:
        if task.custom_id and is_usable(task):
            grouped.setdefault(task.custom_id, []).append(task)
    kept: dict[str, tuple[Task, list[Task]]] = {}
    for custom_id, group in grouped.items():
        oldest, *younger = sorted(group, key=lambda task: task.id)
        kept[custom_id] = (oldest, younger)
    return kept
