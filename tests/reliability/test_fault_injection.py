"""A batch under a flaky network: every result back, no duplicate, nothing left running."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

from prefect_nextcloud.client import TaskTimeoutError
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import RunOptions, run_task

pytestmark = pytest.mark.usefixtures("prefect_server")

BATCH = 50


def test_a_batch_survives_a_flaky_network() -> None:
    with NextcloudSandbox(rate_limit=10_000, workers=4) as sandbox:
        credentials = sandbox.credentials
        prompts = [f"Prompt {number}" for number in range(BATCH)]
        sandbox.set_chaos(
            drop_rate=0.1,
            error_rate=0.15,
            lost_response_rate=0.1,
            seed=20261124,
            path_regex="/ocs/",
        )

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
        def batch() -> list[Any]:
            futures = run_task.map(
                unmapped(credentials),
                "core:text2text",
                [{"input": prompt} for prompt in prompts],
                options=RunOptions(timeout_seconds=120.0, poll_interval_seconds=0.05),
            )
            return [future.result() for future in futures]

        results = batch()
        sandbox.clear_chaos()
        faults = [r for r in sandbox.requests if r.fault is not None]
        tasks = sandbox.tasks()

    assert len(faults) > BATCH  # the network really was flaky
    assert [
        f"- Prompt: {p}\n" in r.output["output"] for r, p in zip(results, prompts, strict=True)
    ] == [True] * BATCH
    assert len(tasks) == BATCH  # no duplicates, though schedule answers were lost
    assert sorted(task.id for task in tasks) == sorted(result.id for result in results)
    assert {task.status for task in tasks} == {"STATUS_SUCCESSFUL"}


def test_timed_out_tasks_are_not_left_running() -> None:
    with NextcloudSandbox(rate_limit=10_000) as sandbox:
        credentials = sandbox.credentials
        sandbox.pause_processing()

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=5))
        def batch() -> list[TaskTimeoutError]:
            futures = run_task.map(
                unmapped(credentials),
                "core:text2text",
                [{"input": f"Prompt {n}"} for n in range(5)],
                options=RunOptions(timeout_seconds=1.0, poll_interval_seconds=0.2),
            )
            errors = []
            for future in futures:
                with pytest.raises(TaskTimeoutError) as info:
                    future.result()
                errors.append(info.value)
            return errors

        errors = batch()
        tasks = sandbox.tasks()
    assert len(tasks) == 5
    assert {task.status for task in tasks} == {"STATUS_CANCELLED"}
    assert all(error.cancelled for error in errors)
