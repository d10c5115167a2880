"""Answers acted on as they come: ``on_results`` hears of each item as soon as it is known."""

from __future__ import annotations

import logging

import pytest
from flow_helpers import run_batch, text_inputs

from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import ItemResult, RunOptions

pytestmark = pytest.mark.usefixtures("prefect_server")

OPTIONS = RunOptions(timeout_seconds=60.0, poll_interval_seconds=1.0)


def test_each_answer_is_handed_over_while_later_tasks_still_run() -> None:
    # One worker, one second per task: the tasks end one after another, a second apart.
    with NextcloudSandbox(run_seconds=1.0, workers=1) as sandbox:
        credentials = sandbox.credentials
        heard: list[tuple[ItemResult, int]] = []

        def on_results(results: list[ItemResult]) -> None:
            unfinished = [
                t for t in sandbox.tasks() if t.status in ("STATUS_SCHEDULED", "STATUS_RUNNING")
            ]
            heard.extend((result, len(unfinished)) for result in results)

        results = run_batch(
            credentials, "core:text2text", text_inputs(3), options=OPTIONS, on_results=on_results
        )

    assert sorted(result.index for result, _ in heard) == [0, 1, 2]  # each once
    assert {result.index: result for result, _ in heard} == {r.index: r for r in results}
    assert all(result.ok for result in results)
    # The first answer was acted on while the other tasks were still on the server.
    assert heard[0][1] >= 1


def test_a_failing_on_result_is_logged_and_spoils_nothing(
    sandbox: NextcloudSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    credentials = sandbox.credentials
    heard: list[int] = []

    def on_results(results: list[ItemResult]) -> None:
        heard.extend(result.index for result in results)
        raise RuntimeError("the comment could not be posted")

    with caplog.at_level(logging.WARNING):
        results = run_batch(credentials, "core:text2text", text_inputs(3), on_results=on_results)

    assert [result.ok for result in results] == [True, True, True]
    assert sorted(heard) == [0, 1, 2]
    warnings = [r.getMessage() for r in caplog.records if "on_results failed" in r.getMessage()]
    assert warnings
    assert all("RuntimeError: the comment could not be posted" in w for w in warnings)
