"""Deadlines and durations come from this machine's clock, never from the server's clocks."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from prefect import flow

from prefect_nextcloud.client.errors import TaskTimeoutError
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import RunOptions, run_task, summarize

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.mark.parametrize("skew_seconds", [-3600.0, 3600.0])
def test_a_healthy_task_is_not_timed_out_when_the_servers_clock_is_off(
    skew_seconds: float,
) -> None:
    # The PHP host's clock (the task timestamps) is an hour off from the HTTP Date header.
    with NextcloudSandbox(clock=lambda: time.time() + skew_seconds, run_seconds=1.0) as sandbox:
        credentials = sandbox.credentials

        @flow
        def short() -> str:
            return summarize(
                credentials,
                "A short text.",
                options=RunOptions(timeout_seconds=5, poll_interval_seconds=0.1),
            ).text

        assert short()
        [task] = sandbox.tasks()
        assert task.status == "STATUS_SUCCESSFUL"
        assert not sandbox.requests_to("POST", r"/cancel$")


def test_a_timeout_message_never_shows_a_negative_duration() -> None:
    with NextcloudSandbox(clock=lambda: time.time() - 3600) as sandbox:
        credentials = sandbox.credentials
        sandbox.hold_running()

        @flow
        def too_long() -> Any:
            return run_task(
                credentials,
                "core:text2text",
                {"input": "Hi"},
                options=RunOptions(timeout_seconds=0.5, poll_interval_seconds=0.05),
            )

        started = time.monotonic()
        with pytest.raises(TaskTimeoutError) as info:
            too_long()
        elapsed = time.monotonic() - started
        assert re.search(r"-\s*\d", info.value.message) is None
        assert info.value.queued_seconds >= 0
        assert info.value.running_seconds >= 0
        assert info.value.cancelled
        assert elapsed < 30
