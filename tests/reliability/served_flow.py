"""Flows that wait on Nextcloud tasks, served by a runner for the cancellation tests."""

from __future__ import annotations

from prefect import flow, serve

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.flows import process_new_files
from prefect_nextcloud.tasks import (
    RunOptions,
    WaitOptions,
    cancel_outstanding_tasks,
    run_task,
    run_tasks,
    schedule_task,
    wait_for_task,
)


@flow(on_cancellation=[cancel_outstanding_tasks], on_crashed=[cancel_outstanding_tasks])
def wait_for_a_long_task(credentials: str) -> None:
    run_task(
        resolve_credentials(credentials),
        "core:text2text",
        {"input": "Take your time"},
        options=RunOptions(timeout_seconds=600.0, poll_interval_seconds=0.2),
    )


@flow(on_cancellation=[cancel_outstanding_tasks], on_crashed=[cancel_outstanding_tasks])
def wait_for_a_batch(credentials: str, size: int) -> None:
    run_tasks(
        resolve_credentials(credentials),
        "core:text2text",
        [{"input": f"Take your time, {n}"} for n in range(size)],
        options=RunOptions(timeout_seconds=600.0, poll_interval_seconds=0.2),
    )


@flow(on_cancellation=[cancel_outstanding_tasks], on_crashed=[cancel_outstanding_tasks])
def schedule_then_wait(credentials: str) -> None:
    resolved = resolve_credentials(credentials)
    task = schedule_task(resolved, "core:text2text", {"input": "Take your time"})
    wait_for_task(resolved, task.id, WaitOptions(timeout_seconds=600.0, poll_interval_seconds=0.2))


if __name__ == "__main__":
    serve(
        wait_for_a_long_task.to_deployment(name="cancellation-test"),
        wait_for_a_batch.to_deployment(name="cancellation-test"),
        schedule_then_wait.to_deployment(name="cancellation-test"),
        process_new_files.to_deployment(name="cancellation-test"),
    )
