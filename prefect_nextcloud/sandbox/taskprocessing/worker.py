"""Background processing of scheduled tasks, like ``SynchronousBackgroundJob`` workers (§9).

Each worker thread takes the oldest scheduled task once its pickup delay has passed, prepares
its input (a vanished or foreign file fails the task while still scheduled, as upstream), marks
it running, waits its run time (reporting progress 0.5 halfway), runs the provider and stores
the result unless the task was cancelled or deleted meanwhile. All waits are on the store's
condition, so cancellation, mode changes and shutdown wake the workers at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prefect_nextcloud.sandbox.http.phpcompat import to_string
from prefect_nextcloud.sandbox.storage.records import Task, TaskStatus
from prefect_nextcloud.sandbox.storage.store import ProcessingMode, Store
from prefect_nextcloud.sandbox.taskprocessing.processing import process_task
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    AvailableTaskType,
    InputFile,
    Registry,
)
from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunTimes
from prefect_nextcloud.sandbox.taskprocessing.validation import resolve_file_id
from prefect_nextcloud.sandbox.taskprocessing.webhooks import WebhookSender

__all__ = ["WorkerPool"]


class _InputError(Exception):
    pass


class WorkerPool:
    """Threads that process scheduled tasks.

    Args:
        store: The shared state.
        registry: Where each task's provider is found.
        webhooks: Delivers webhooks when tasks end.
        workers: Number of threads.
        run_times: How long each task stays running before its result is stored.
        server_version: Nextcloud major version for webhook payloads.
    """

    def __init__(
        self,
        store: Store,
        registry: Registry,
        webhooks: WebhookSender,
        *,
        workers: int,
        run_times: RunTimes,
        server_version: int,
    ) -> None:
        self._store = store
        self._registry = registry
        self._webhooks = webhooks
        self._run_times = run_times
        self._server_version = server_version
        self._threads = [
            threading.Thread(target=self._loop, name=f"sandbox-worker-{n}", daemon=True)
            for n in range(workers)
        ]

    def start(self) -> None:
        """Start the worker threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads; a task in progress is left as it is."""
        with self._store.condition:
            self._store.closed = True
            self._store.condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def _loop(self) -> None:
        while (claimed := self._claim()) is not None:
            task, task_type, prepared = claimed
            if self._wait_while_running(task):
                self._end(task, **process_task(self._store, task, task_type, prepared))

    def _claim(self) -> tuple[Task, AvailableTaskType, dict[str, Any]] | None:
        store = self._store
        with store.condition:
            while not store.closed:
                timeout = None
                if store.mode is not ProcessingMode.PAUSE:
                    now = time.monotonic()
                    for task in store.pending_tasks():
                        if task.status is not TaskStatus.SCHEDULED:
                            continue
                        if task.eligible_at > now:
                            wait = task.eligible_at - now
                            timeout = wait if timeout is None else min(timeout, wait)
                            continue
                        claimed = self._start(task)
                        if claimed is not None:
                            return claimed
                store.condition.wait(timeout)
            return None

    def _start(self, task: Task) -> tuple[Task, AvailableTaskType, dict[str, Any]] | None:
        store = self._store
        task_type = self._registry.get(task.type)
        assert task_type is not None, "tasks are only scheduled for available task types"
        try:
            prepared = _prepare_input(store, task, task_type)
        except _InputError as error:
            # processTask(): input preparation fails before the task ever runs.
            self._end(task, status=TaskStatus.FAILED, error_message=str(error))
            return None
        store.update_task(task, status=TaskStatus.RUNNING, started_at=store.now())
        return task, task_type, prepared

    def _wait_while_running(self, task: Task) -> bool:
        """Wait out the run time (and any hold); return False if the result would be discarded."""
        store = self._store
        run_seconds = self._run_times.for_task(task.id, legacy=task.legacy)
        start = time.monotonic()
        halfway, deadline = start + run_seconds / 2, start + run_seconds
        reported = run_seconds <= 0
        with store.condition:
            while True:
                if store.closed or not store.holds(task):
                    return False
                if task.status is not TaskStatus.RUNNING:
                    return False
                now = time.monotonic()
                if not reported and now >= halfway:
                    store.update_task(task, progress=0.5)
                    reported = True
                if now >= deadline and store.mode is not ProcessingMode.HOLD:
                    return True
                timeout = None
                if now < deadline:
                    timeout = (deadline if reported else halfway) - now
                store.condition.wait(timeout)

    def _end(self, task: Task, *, status: TaskStatus, **changes: Any) -> None:
        """Store a result (``setTaskResult``), unless the task was cancelled or deleted."""
        store = self._store
        with store.condition:
            if not store.holds(task) or task.status is TaskStatus.CANCELLED:
                return
            ended = store.clock()
            store.update_task(
                task, status=status, ended_at=int(ended), ended_at_precise=ended, **changes
            )
            payload = task.to_json(self._server_version)
        self._webhooks.submit(task.webhook_uri, task.webhook_method, payload)


def _prepare_input(store: Store, task: Task, task_type: AvailableTaskType) -> dict[str, Any]:
    """Return the task input with every file id replaced by an :class:`InputFile`."""
    prepared: dict[str, Any] = {}
    for key, shape in task_type.input_slots.items():
        if task.input.get(key) is None:
            continue
        value = task.input[key]
        if not shape.type.is_file:
            prepared[key] = value
        elif shape.type.is_list:
            items = value.values() if isinstance(value, dict) else value
            prepared[key] = [_input_file(store, task, item) for item in items]
        else:
            prepared[key] = _input_file(store, task, value)
    return prepared


def _input_file(store: Store, task: Task, value: object) -> InputFile:
    file_id = resolve_file_id(value)
    node = None if file_id is None else store.node_by_id(file_id)
    if node is None or node.is_dir:
        raise _InputError(f"Could not find file {to_string(value)}")
    if node.owner != task.user_id:
        raise _InputError(f"User {task.user_id} does not have access to file {node.id}")
    return InputFile(id=node.id, name=node.name, data=node.data)
