"""Run a Nextcloud task from start to finish: check, stage files, schedule, wait, fetch, tidy up.

This is the one generic path every typed helper goes through.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect import task
from prefect.logging import get_run_logger

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.client import DEFAULT_APP_ID, NextcloudClient
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task, TaskFile, TaskType
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.client.staging import DEFAULT_STAGING_FOLDER, stage_files
from prefect_nextcloud.client.validation import validate_input
from prefect_nextcloud.tasks.idempotency import derive_custom_id
from prefect_nextcloud.tasks.operations import schedule_task
from prefect_nextcloud.tasks.waiting import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    check_wait_arguments,
    raise_if_unsuccessful,
    wait_for_task,
)

__all__ = ["run_task"]


def is_file_reference(value: object) -> bool:
    """Whether ``value`` is any accepted form of a file reference (see ``NextcloudPath``)."""
    try:
        parse_file_reference(value)
    except ValueError:
        return False
    return True


def _file_slots(declared: TaskType, task_input: Mapping[str, Any]) -> dict[str, bool]:
    """The input's file slots, each with whether it holds a list."""
    shapes = {**declared.optional_input_shape, **declared.input_shape}
    slots = {}
    for name in task_input:
        shape_type = shapes[name].shape_type
        if shape_type is not None and shape_type.is_file and task_input[name] is not None:
            slots[name] = shape_type.is_list
    return slots


def _output_files(
    client: NextcloudClient, declared: TaskType, finished: Task
) -> dict[str, list[TaskFile]]:
    """Download every file of the task's file-typed output slots."""
    shapes = {**declared.optional_output_shape, **declared.output_shape}
    files: dict[str, list[TaskFile]] = {}
    for name, value in (finished.output or {}).items():
        shape_type = shapes[name].shape_type if name in shapes else None
        if shape_type is None or not shape_type.is_file or value is None:
            continue
        ids = value if isinstance(value, list) else [value]
        files[name] = [client.get_task_file(finished.id, int(file_id)) for file_id in ids]
    return files


def _save(client: NextcloudClient, finished: Task, destination: str) -> None:
    """Save the downloaded output files to a Nextcloud folder or a local folder."""
    folder = parse_file_reference(destination)
    if not isinstance(folder, NextcloudPath | Path):
        raise ValueError(
            f"save_outputs_to must be 'nc:/Folder' or 'file:/local/folder', got {destination!r}."
        )
    for slot, files in finished.output_files.items():
        for index, output in enumerate(files):
            extension = mimetypes.guess_extension(output.content_type or "") or ""
            name = f"task-{finished.id}-{slot}-{index + 1}{extension}"
            if isinstance(folder, NextcloudPath):
                client.upload_file(folder / name, output.content)
            else:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(output.content)


@task
def run_task(
    credentials: NextcloudCredentials,
    task_type: str,
    input: Mapping[str, Any],
    custom_id: str | None = None,
    app_id: str = DEFAULT_APP_ID,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    cancel_on_timeout: bool = True,
    delete_after: bool = False,
    staging_folder: str = DEFAULT_STAGING_FOLDER,
    keep_staged_files: bool = False,
    save_outputs_to: str | None = None,
) -> Task:
    """Run a Nextcloud task of any type and return it finished, with its output files.

    The input is checked against the task type the server declares before anything is sent.
    File slots take a file id, a Nextcloud path (``NextcloudPath("/a.jpg")`` or ``"nc:/a.jpg"``),
    a local file (``pathlib.Path`` or ``"file:/abs/a.jpg"``) or ``LocalFile``/``(name, bytes)``;
    local data is uploaded to ``staging_folder`` and removed once the task has ended. Files of
    file-typed output slots are downloaded right after success into ``Task.output_files``.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id, e.g. ``core:text2text:summary``.
        input: Slot name to value, as the task type's input shape asks.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retried task or flow adopts the task
            already scheduled instead of creating a second one.
        app_id: The app id the task is filed under.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        cancel_on_timeout: Cancel the Nextcloud task when the timeout is reached.
        delete_after: Delete the task on the server once its result and output files have been
            read.
        staging_folder: The Nextcloud folder local files are uploaded to.
        keep_staged_files: Keep the uploaded local files instead of removing them.
        save_outputs_to: Also save output files to ``"nc:/Folder"`` or ``"file:/local/folder"``.

    Returns:
        The successful task, with its output and downloaded output files.

    Raises:
        ValueError: An argument or the input is invalid; nothing was sent or uploaded.
        NextcloudError: The server refused the task, or it failed, was cancelled or timed out.
    """
    check_wait_arguments(timeout_seconds, poll_interval_seconds)
    if save_outputs_to is not None:
        parse_file_reference(save_outputs_to)
    if custom_id is None:
        custom_id = derive_custom_id(task_type, input)
    with credentials.get_client() as client:
        declared = client.get_task_type(task_type)
        validate_input(declared, input, file_check=is_file_reference)
        slots = _file_slots(declared, input)
        references = [
            reference
            for name, is_list in slots.items()
            for reference in (input[name] if is_list else [input[name]])
        ]
        with stage_files(
            client, references, staging_folder=staging_folder, keep=keep_staged_files
        ) as ids:
            resolved = dict(input)
            remaining = iter(ids)
            for name, is_list in slots.items():
                count = len(input[name]) if is_list else 1
                chosen = [next(remaining) for _ in range(count)]
                resolved[name] = chosen if is_list else chosen[0]
            scheduled = schedule_task(
                credentials, task_type, resolved, custom_id=custom_id, app_id=app_id
            )
            finished: Task = scheduled
            if scheduled.status.is_pending:
                finished = wait_for_task(
                    credentials,
                    scheduled.id,
                    timeout_seconds=timeout_seconds,
                    poll_interval_seconds=poll_interval_seconds,
                    cancel_on_timeout=cancel_on_timeout,
                )
            else:  # the TextProcessing API may run the task inside the schedule request
                raise_if_unsuccessful(scheduled)
        finished = finished.model_copy(
            update={"output_files": _output_files(client, declared, finished)}
        )
        if save_outputs_to is not None:
            _save(client, finished, save_outputs_to)
        if delete_after:
            try:
                client.delete_task(finished.id)
            except NextcloudError as error:
                get_run_logger().warning(
                    "Nextcloud task %s finished but could not be deleted: %s", finished.id, error
                )
    return finished
