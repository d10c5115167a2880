"""Settling a finished item: its error, or its output files downloaded (and saved when asked).

Output files are downloaded before anything is deleted, so a tidy-up never loses them. Each
settled item's result is handed once to the caller's ``on_results``, as soon as it is known.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.localfiles import save_in_allowed_folder
from prefect_nextcloud.client.models import Task, TaskFile, TaskType
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.tasks.batch.items import Batch, BatchItem, ItemResult
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.progress import run_logger
from prefect_nextcloud.tasks.waiting import unsuccessful_error

__all__ = ["deliver", "settle_finished"]


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
    for slot, files in finished.output_files.items():
        for index, output in enumerate(files):
            extension = mimetypes.guess_extension(output.content_type or "") or ""
            name = f"task-{finished.id}-{slot}-{index + 1}{extension}"
            if isinstance(folder, NextcloudPath):
                client.upload_file(folder / name, output.content)
            else:
                assert isinstance(folder, Path)
                save_in_allowed_folder(folder, name, output.content)


def settle_finished(
    client: NextcloudClient, batch: Batch, item: BatchItem, task: Task, options: RunOptions
) -> None:
    """Settle an item whose task has ended: read its output files, or keep its error."""
    error = unsuccessful_error(task)
    if error is not None:
        item.settle(task, error)
        return
    assert batch.declared is not None
    try:
        finished = task.model_copy(
            update={"output_files": _output_files(client, batch.declared, task)}
        )
        if options.save_outputs_to is not None:
            _save(client, finished, options.save_outputs_to)
    except NextcloudError as failure:
        item.settle(task, failure)
        return
    except (OSError, ValueError) as failure:  # a local folder that refuses the files
        item.settle(
            task,
            ValueError(
                f"The output files of Nextcloud task {task.id} could not be saved to "
                f"{options.save_outputs_to}: {failure}"
            ),
        )
        return
    item.settle(finished, None)


def deliver(batch: Batch, on_results: Callable[[list[ItemResult]], None] | None) -> None:
    """Hand the items settled since the last call to ``on_results``, each once, in input order.

    An exception ``on_results`` raises is logged with the items' indexes; their results
    stand, and later items are still handed over.
    """
    fresh = [item for item in batch.items if item.settled and not item.delivered]
    for item in fresh:
        item.delivered = True
    if not fresh or on_results is None:
        return
    try:
        on_results([item.result() for item in fresh])
    except Exception as error:
        run_logger().warning(
            "on_results failed for items %s: %s: %s",
            ", ".join(str(item.index) for item in fresh),
            type(error).__name__,
            error,
        )
