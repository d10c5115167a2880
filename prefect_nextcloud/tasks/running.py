"""Run Nextcloud tasks from start to finish: one, or a whole batch in one Prefect task.

Both go through :func:`~prefect_nextcloud.tasks.batch.reconcile_batch`, the one path every
typed helper takes too: check the input, stage files, schedule within the user's schedule
window, wait with Prefect retries as the polling loop, fetch output files, tidy up.
:func:`run_one` is the body of every single-task helper, and :func:`run_batch` that of every
batch helper: each helper hands it its input (built with :func:`input_slots` where some slots
are optional), its :class:`~prefect_nextcloud.tasks.options.RunOptions` and its ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.tasks.batch import ItemResult, reconcile_batch
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import polling_task

__all__ = ["BatchFailedError", "input_slots", "run_batch", "run_one", "run_task", "run_tasks"]

DEFAULT_BATCH_ARTIFACT_KEY = "nextcloud-batch"


class BatchFailedError(NextcloudError):
    """Some items of a batch did not succeed (raised after every item has settled).

    Attributes:
        results: Every item's result, in input order.
    """

    def __init__(self, message: str, *, results: list[ItemResult]) -> None:
        super().__init__(message)
        self.results = results


def input_slots(required: Mapping[str, Any], optional: Mapping[str, Any]) -> dict[str, Any]:
    """A task's input: the ``required`` slots, then those of ``optional`` that are not ``None``.

    A slot left out takes the provider's default.

    Args:
        required: The slots always sent.
        optional: The slots sent only when set.
    """
    return {**required, **{slot: value for slot, value in optional.items() if value is not None}}


def run_one(
    credentials: NextcloudCredentials,
    task_type: str,
    task_input: Mapping[str, Any],
    options: RunOptions,
    *,
    custom_id: str | None = None,
    app_id: str | None = None,
) -> Task:
    """One attempt at one task: the body of ``run_task`` and of every typed helper.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id.
        task_input: The task's input.
        options: How to wait and tidy up.
        custom_id: The task's custom id; derived from the run and the input when omitted.
        app_id: The app id the task is filed under; unique to the run when omitted.

    Returns:
        The successful task, with its output files.

    Raises:
        TaskStillRunning: Not finished yet; the polling task looks again.
        NextcloudError: The server refused the task, or it failed, was cancelled or timed out.
    """
    [item] = reconcile_batch(
        credentials,
        task_type,
        [task_input],
        options,
        custom_ids=None if custom_id is None else [custom_id],
        app_id=app_id,
    )
    if item.error is not None:
        raise item.error
    assert item.task is not None
    return item.task


def run_batch(
    credentials: NextcloudCredentials,
    task_type: str,
    inputs: Sequence[Mapping[str, Any]],
    options: RunOptions,
    custom_ids: Sequence[str | None] | None,
    app_id: str | None,
    artifact_key: str | None,
    on_results: Callable[[list[ItemResult]], None] | None = None,
    *,
    file_paths: Mapping[int, str] | None = None,
) -> list[ItemResult]:
    """One attempt at a whole batch: the body of ``run_tasks`` and of every batch helper.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id of every task.
        inputs: One input per task.
        options: How to wait and tidy up.
        custom_ids: One custom id per input; derived from the run and the inputs when omitted.
        app_id: The app id the tasks are filed under; unique to the run when omitted.
        artifact_key: Key of the progress and result-table artifacts; ``None`` for none.
        on_results: Called with the results that became known together, as soon as they are;
            each item once.
        file_paths: The paths of files given by id, to name them in the result table.

    Returns:
        One result per input, in input order.

    Raises:
        ValueError: An argument or an item is invalid; nothing was sent.
        TaskStillRunning: Some task has not settled yet; the polling task looks again.
    """
    items = reconcile_batch(
        credentials,
        task_type,
        inputs,
        options,
        custom_ids=custom_ids,
        app_id=app_id,
        artifact_key=artifact_key,
        on_results=on_results,
        file_paths=file_paths,
    )
    return [item.result() for item in items]


@polling_task(name="run_task")
def run_task(
    credentials: NextcloudCredentials,
    task_type: str,
    input: Mapping[str, Any],
    custom_id: str | None = None,
    app_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> Task:
    """Run a Nextcloud task of any type and return it finished, with its output files.

    The input is checked against the task type the server declares before anything is sent.
    File slots take a file id, a Nextcloud path (``NextcloudPath("/a.jpg")`` or ``"nc:/a.jpg"``),
    a local file (``pathlib.Path`` or ``"file:/abs/a.jpg"``) or ``LocalFile``/``(name, bytes)``;
    local data is uploaded to ``options.staging_folder`` and removed once the task has ended.
    Files of file-typed output slots are downloaded right after success into
    ``Task.output_files``. One Prefect task run covers it all: its retries are the polls.

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id, e.g. ``core:text2text:summary``.
        input: Slot name to value, as the task type's input shape asks.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retried task or flow adopts the
            task already scheduled instead of creating a second one.
        app_id: The app id the task is filed under; by default one unique to the flow run.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The successful task, with its output and downloaded output files.

    Raises:
        ValueError: An argument or the input is invalid; nothing was sent or uploaded.
        NextcloudError: The server refused the task, or it failed, was cancelled or timed out.
    """
    return run_one(credentials, task_type, input, options, custom_id=custom_id, app_id=app_id)


@polling_task(name="run_tasks")
def run_tasks(
    credentials: NextcloudCredentials,
    task_type: str,
    inputs: Sequence[Mapping[str, Any]],
    raise_on_failure: bool = False,
    custom_ids: Sequence[str | None] | None = None,
    app_id: str | None = None,
    artifact_key: str | None = DEFAULT_BATCH_ARTIFACT_KEY,
    options: RunOptions = RunOptions(),
    on_results: Callable[[list[ItemResult]], None] | None = None,
) -> list[ItemResult]:
    """Run one Nextcloud task per input, all in one Prefect task, and return every result.

    Each attempt makes one request that lists every task of the batch, adopts tasks already
    scheduled for it (after a lost answer or a retry), schedules what is missing as far as
    the user's schedule window allows, reads what has finished and raises the still-running
    signal while anything is pending, so Prefect's retries are the loop. Every input is
    checked, and local files staged, before the first schedule: a bad item is a ``ValueError``
    naming its index, and nothing is scheduled.

    Example:
        ```python
        results = run_tasks(credentials, "core:text2text:summary",
                            [{"input": text} for text in texts])
        summaries = [result.text for result in results if result.ok]
        ```

    Args:
        credentials: Where and as whom to connect.
        task_type: The task type id of every task, e.g. ``core:analyze-images``.
        inputs: One input per task, each as ``run_task`` takes it (file references included).
        raise_on_failure: Raise :class:`BatchFailedError` when any item did not succeed, after
            every item has settled; otherwise failed items are results with ``ok=False``.
        custom_ids: One custom id per input (at most 255 characters each): a later call with
            the same ids and ``app_id`` adopts the tasks already scheduled under them instead
            of scheduling new ones. Derived from the flow run and the inputs when omitted.
        app_id: The app id the tasks are filed under; by default one unique to the flow run.
        artifact_key: Show a progress artifact while the batch runs and a table of every item
            at the end under this key (lowercase letters, digits, dashes); ``None`` for none.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).
        on_results: Called with the results that became known together (one look's worth),
            as soon as they are, in the process that runs the task: a flow can act on each
            answer at once (post it, record it) instead of after the slowest. Each item is
            handed over once per task run, also when a later item fails; what it raises is
            logged, not raised.

    Returns:
        One result per input, in input order: ``ok``, the finished ``task`` (with output
        files) and the ``text`` answer, or ``error`` naming the task and what went wrong.

    Raises:
        ValueError: An argument or an item is invalid; nothing was sent or uploaded.
        BatchFailedError: With ``raise_on_failure``, some items did not succeed.
    """
    results = run_batch(
        credentials, task_type, inputs, options, custom_ids, app_id, artifact_key, on_results
    )
    failed = [result for result in results if not result.ok]
    if raise_on_failure and failed:
        details = "; ".join(f"item {result.index}: {result.error}" for result in failed[:5])
        raise BatchFailedError(
            f"{len(failed)} of {len(results)} {task_type} tasks did not succeed ({details}"
            + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
            + ").",
            results=results,
        )
    return results
