"""Push-aware waiting: a batch wakes when the relay reports its tasks' ends; polling is the net.

Each test runs real processes' parts: the sandbox (which calls each task's ``webhookUri``), the
relay (which turns the call into a Prefect event) and the Prefect test server (whose event
stream the batch listens to).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.context import get_run_context
from pydantic import SecretStr
from relay_helpers import RunningRelay, with_relay

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import ItemResult, RunOptions, run_tasks
from prefect_nextcloud.tasks.polling import AWAITING_NEXTCLOUD

pytestmark = pytest.mark.usefixtures("prefect_server")

TEXTS = [f"Text {n}" for n in range(5)]


def _batch(
    credentials: NextcloudCredentials, options: RunOptions
) -> tuple[list[ItemResult], list[str]]:
    """Run a batch in a flow; return its results and its task run's state names."""

    @flow
    def batch() -> tuple[list[ItemResult], str]:
        results = run_tasks(
            credentials, "core:text2text", [{"input": t} for t in TEXTS], options=options
        )
        return results, str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    results, flow_run_id = batch()
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        [task_run] = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
        states = [state.name for state in client.read_task_run_states(task_run.id)]
    return results, states


def _answered(sandbox: NextcloudSandbox, results: list[ItemResult]) -> bool:
    answers = {task.id: task.output["output"] for task in sandbox.tasks()}
    return all(r.ok and r.task is not None and r.text == answers[r.task.id] for r in results)


def test_pushes_end_the_wait_within_one_attempt(
    sandbox: NextcloudSandbox, relay_credentials: NextcloudCredentials
) -> None:
    # Due-time looks would come a whole poll interval (10 minutes) past the expected end:
    # only the pushes can end this batch in a single attempt.
    options = RunOptions(timeout_seconds=1200.0, poll_interval_seconds=600.0)
    results, states = _batch(relay_credentials, options)

    assert _answered(sandbox, results)
    assert AWAITING_NEXTCLOUD not in states
    assert states[-1] == "Completed"
    # Every task asked Nextcloud to push its end to the relay, and the sandbox did.
    assert len(sandbox.requests_to("POST", "/taskprocessing/schedule$")) == len(TEXTS)
    assert len(sandbox.tasks()) == len(TEXTS)
    # A look per push at most: never one per poll.
    assert len(sandbox.requests_to("GET", "/tasks/app/")) <= len(TEXTS) + 1


@pytest.mark.parametrize("fault", ["relay down", "pushes refused"])
def test_without_pushes_due_time_looks_find_every_task(
    sandbox: NextcloudSandbox, relay: RunningRelay, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    credentials = with_relay(sandbox.credentials, relay.url)
    if fault == "relay down":  # Nextcloud's calls reach nothing
        credentials = with_relay(sandbox.credentials, "http://127.0.0.1:9")
    else:  # a secret the relay does not share: it answers each call 403 and emits nothing
        credentials = credentials.model_copy(update={"relay_secret": SecretStr("x" * 40)})
    options = RunOptions(timeout_seconds=60.0, poll_interval_seconds=0.5)
    with caplog.at_level(logging.INFO, logger="prefect_nextcloud.relay"):
        results, states = _batch(credentials, options)
        assert _answered(sandbox, results)
        assert states[-1] == "Completed"
        assert len(sandbox.tasks()) == len(TEXTS)
        if fault == "pushes refused":  # the pushes were sent, and refused
            assert _wait_for(lambda: caplog.text.count("Refused") == len(TEXTS))


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether ``condition`` holds within ``seconds`` (the sandbox pushes from its own thread)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True
