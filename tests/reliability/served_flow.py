"""A flow that waits on a Nextcloud task, served by a runner for the cancellation test."""

from __future__ import annotations

from prefect import flow

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.tasks import cancel_outstanding_tasks, run_task


@flow(on_cancellation=[cancel_outstanding_tasks], on_crashed=[cancel_outstanding_tasks])
def wait_for_a_long_task(credentials: str) -> None:
    run_task(
        resolve_credentials(credentials),
        "core:text2text",
        {"input": "Take your time"},
        timeout_seconds=600.0,
        poll_interval_seconds=0.2,
    )


if __name__ == "__main__":
    wait_for_a_long_task.serve(name="cancellation-test")
