"""Many Nextcloud tasks in one Prefect task: results, adoption, pacing, quiet waits."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flow_helpers import (
    IMAGES_ONE_REFUSED,
    OPTIONS,
    in_flow,
    run_batch,
    stored_task_run_states,
    text_inputs,
)
from prefect import flow, unmapped
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.context import get_run_context
from prefect.exceptions import ObjectNotFound
from prefect.logging.handlers import APILogHandler

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client.references import LocalFile
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import (
    BatchFailedError,
    ItemResult,
    RunOptions,
    analyze_image_batch,
    run_tasks,
    schedule_task,
    summarize,
)
from prefect_nextcloud.tasks.global_limit import SCHEDULE_RATE_LIMIT
from prefect_nextcloud.tasks.polling import AWAITING_NEXTCLOUD

pytestmark = pytest.mark.usefixtures("prefect_server")


def schedules(sandbox: NextcloudSandbox) -> list[int | None]:
    return [r.status for r in sandbox.requests_to("POST", "/taskprocessing/schedule$")]


def test_results_come_in_input_order_with_failures_kept_apart(sandbox: NextcloudSandbox) -> None:
    first, failed, third = run_batch(sandbox.credentials, "core:text2image", IMAGES_ONE_REFUSED)
    assert [first.index, failed.index, third.index] == [0, 1, 2]
    assert first.ok
    assert third.ok
    assert not failed.ok
    assert first.task is not None
    assert third.task is not None
    assert [f.content[:8] for f in third.task.output_files["images"]] == [b"\x89PNG\r\n\x1a\n"] * 2
    assert failed.task is not None
    assert failed.error is not None
    assert f"Nextcloud task {failed.task.id}" in failed.error
    assert "Cannot generate more than 12 images" in failed.error
    assert first.task.input["input"] == "a red fox"
    assert len(sandbox.tasks()) == 3


def test_raise_on_failure_raises_only_after_every_item_settled(sandbox: NextcloudSandbox) -> None:
    inputs = [{"input": "x", "numberOfImages": 13}] + [{"input": f"ok {n}"} for n in range(3)]
    with pytest.raises(BatchFailedError, match="1 of 4 core:text2image tasks") as info:
        run_batch(sandbox.credentials, "core:text2image", inputs, raise_on_failure=True)
    assert [result.ok for result in info.value.results] == [False, True, True, True]
    assert {task.status for task in sandbox.tasks()} == {"STATUS_FAILED", "STATUS_SUCCESSFUL"}


def test_a_batch_costs_about_one_request_per_task(sandbox: NextcloudSandbox) -> None:
    texts = [f"Text number {n}." for n in range(20)]
    results = run_batch(
        sandbox.credentials,
        "core:text2text:summary",
        [{"input": text} for text in texts],
        options=RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.2),
    )
    assert [result.ok for result in results] == [True] * 20
    # Each result is its own input's task (schedules go out concurrently, ids in any order).
    answers = {task.id: task.output["output"] for task in sandbox.tasks()}
    assert [result.task.input["input"] for result in results if result.task] == texts
    assert [result.text for result in results] == [
        answers[result.task.id] for result in results if result.task
    ]
    requests = Counter("list" if "/tasks/app/" in r.path else r.method for r in sandbox.requests)
    assert requests["POST"] == 20
    # No request per task besides its schedule: the whole batch is looked at in one request.
    assert not sandbox.requests_to("GET", r"/taskprocessing/task/\d+$")
    assert requests["list"] <= 3
    # A current server is never asked its version: the task types' answer shows its API.
    assert not sandbox.requests_to("GET", "/status.php$")
    assert sum(requests.values()) <= 20 + 3 + 1  # + task types


def test_an_empty_batch_sends_nothing(sandbox: NextcloudSandbox) -> None:
    assert run_batch(sandbox.credentials, "core:text2text", []) == []
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"input": "not a list"}, "inputs must be a list"),
        ("text", "inputs must be a list"),
        ([{"input": "fine"}, "not a mapping"], "Item 1 of inputs is a str"),
        ([{"input": "fine"}, {"input": "fine"}, {"inptu": "typo"}], "Item 2 of inputs"),
        ([{"input": "fine"}, {"input": 42}], "Item 1 of inputs"),
    ],
)
def test_a_bad_item_is_refused_by_index_before_anything_is_sent(
    sandbox: NextcloudSandbox, inputs: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_batch(sandbox.credentials, "core:text2text", inputs)
    assert schedules(sandbox) == []
    assert not sandbox.requests_to("PUT", ".")


def test_a_missing_local_file_in_one_item_uploads_and_schedules_nothing(
    sandbox: NextcloudSandbox, tmp_path: Any
) -> None:
    credentials = sandbox.credentials
    images = [LocalFile(name="a.png", data=sample_image_bytes()), tmp_path / "missing.png"]

    @flow
    def batch() -> list[ItemResult]:
        return analyze_image_batch(credentials, "What?", images, options=OPTIONS)

    with pytest.raises(ValueError, match="Item 1 of inputs"):
        batch()
    assert schedules(sandbox) == []
    assert not sandbox.requests_to("PUT", ".")


def test_local_files_are_staged_once_and_removed_and_a_missing_path_fails_its_item(
    sandbox: NextcloudSandbox,
) -> None:
    credentials = sandbox.credentials
    photo = sandbox.upload("Photos/photo.png", sample_image_bytes())
    images: list[Any] = [
        photo,
        LocalFile(name="local.png", data=sample_image_bytes()),
        "nc:/Photos/gone.png",
    ]

    @flow
    def batch() -> list[ItemResult]:
        return analyze_image_batch(credentials, "What is it?", images, options=OPTIONS)

    in_nextcloud, local, gone = batch()
    assert in_nextcloud.ok
    assert local.ok
    assert not gone.ok
    assert gone.error is not None
    assert "/Photos/gone.png" in gone.error
    [upload] = sandbox.requests_to("PUT", r"/prefect-nextcloud/uploads/[0-9a-f]+-local\.png$")
    assert sandbox.requests_to("DELETE", upload.path)
    assert len(sandbox.tasks()) == 2


def test_a_lost_schedule_answer_is_adopted_not_repeated(sandbox: NextcloudSandbox) -> None:
    sandbox.inject_lost_response("/schedule$", method="POST", times=2)
    results = run_batch(sandbox.credentials, "core:text2text", text_inputs(5))
    assert [result.ok for result in results] == [True] * 5
    assert len(sandbox.tasks()) == 5
    assert len({result.task.id for result in results if result.task}) == 5


def test_a_retried_flow_adopts_the_tasks_its_first_attempt_scheduled(
    sandbox: NextcloudSandbox,
) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()
    attempts: list[int] = []

    @flow(retries=1, retry_delay_seconds=0)
    def batch() -> list[ItemResult]:
        first = not attempts
        attempts.append(1)
        if not first:
            sandbox.resume_processing()
        # The first attempt gives up while the tasks are still queued, and leaves them there.
        return run_tasks(
            credentials,
            "core:text2text",
            text_inputs(4),
            options=RunOptions(
                timeout_seconds=0.5 if first else 30.0,
                poll_interval_seconds=0.05,
                cancel_on_timeout=False,
            ),
            raise_on_failure=True,
        )

    results = batch()
    assert len(attempts) == 2
    assert [result.ok for result in results] == [True] * 4
    assert len(sandbox.tasks()) == 4
    assert schedules(sandbox) == [200] * 4


def test_schedules_keep_within_the_servers_window() -> None:
    with NextcloudSandbox(rate_limit=5, rate_limit_period_seconds=1.0) as sandbox:
        results = run_batch(sandbox.credentials, "core:text2text", text_inputs(12))
        assert [result.ok for result in results] == [True] * 12
        assert schedules(sandbox) == [200] * 12  # not one 429
        assert len(sandbox.tasks()) == 12


def test_each_window_of_schedules_costs_one_retry() -> None:
    with NextcloudSandbox(rate_limit=5, rate_limit_period_seconds=1.0) as sandbox:
        flow_run_ids = []

        @flow
        def batch() -> list[ItemResult]:
            flow_run_ids.append(get_run_context().flow_run.id)  # type: ignore[union-attr]
            options = RunOptions(timeout_seconds=60.0, poll_interval_seconds=5.0)
            return run_tasks(
                sandbox.credentials, "core:text2text", text_inputs(12), options=options
            )

        results = batch()
        assert [result.ok for result in results] == [True] * 12
        assert schedules(sandbox) == [200] * 12  # not one 429
    [states] = stored_task_run_states(flow_run_ids[0]).values()
    # Three windows (5, 5 and 2 schedules): a retry to wait for each of the next two, whose
    # attempt schedules all of its window, and one to look at the last two tasks.
    assert [state.name for state in states].count(AWAITING_NEXTCLOUD) == 3


def test_single_helpers_and_batches_share_one_window() -> None:
    with NextcloudSandbox(rate_limit=3, rate_limit_period_seconds=1.0) as sandbox:
        credentials = sandbox.credentials

        @flow
        def mixed() -> list[str]:
            batch = run_tasks.submit(
                credentials,
                "core:text2text",
                text_inputs(4),
                options=OPTIONS,
            )
            singles = summarize.map(
                unmapped(credentials), [f"text {n}" for n in range(4)], options=OPTIONS
            )
            return [r.text or "" for r in batch.result()] + [s.text for s in singles.result()]

        assert len(mixed()) == 8
        assert schedules(sandbox) == [200] * 8


def test_a_successful_wait_reads_as_a_wait(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()
    flow_run_ids: list[Any] = []

    @flow
    def summarize_later() -> str:
        flow_run_ids.append(get_run_context().flow_run.id)  # type: ignore[union-attr]
        future = summarize.submit(credentials, "Long text.", options=OPTIONS)
        sandbox.wait_for_requests("GET", "/tasks/app/", count=4, timeout=30)
        sandbox.resume_processing()
        return future.result().text

    assert summarize_later()
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids))
        )
    task_runs = stored_task_run_states(flow_run_ids[0])
    states = [state for each in task_runs.values() for state in each]
    info = [log.message for log in logs if log.level >= logging.INFO]
    assert not [line for line in info if "failed" in line.lower() or "Retry" in line]
    assert any("is scheduled" in line for line in info)
    assert any("is successful" in line for line in info)
    [awaited] = [line for line in info if line.startswith("Awaiting Nextcloud:")]  # not per poll
    assert "1 core:text2text:summary task(s), until 20" in awaited
    assert len(task_runs) == 1  # one Prefect task run for the Nextcloud task
    names = [state.name for state in states]
    assert set(names) == {"Pending", "Running", AWAITING_NEXTCLOUD, "Completed"}
    assert names.count(AWAITING_NEXTCLOUD) >= 3  # the polls, each a wait
    waits = [state for state in states if state.name == AWAITING_NEXTCLOUD]
    assert all(state.is_scheduled() and state.state_details.scheduled_time for state in waits)
    assert "is scheduled" in (waits[0].message or "")


def test_a_batch_works_on_the_older_textprocessing_api() -> None:
    with NextcloudSandbox(server_version=28) as sandbox:
        inputs = [{"input": f"Paragraph {n}."} for n in range(3)]
        results = run_batch(sandbox.credentials, "core:text2text:summary", inputs)
    assert [result.ok for result in results] == [True] * 3
    assert all(result.text for result in results)
    # Only a server without the Task Processing API pays for asking its version, once.
    assert len(sandbox.requests_to("GET", "/taskprocessing/tasktypes$")) == 1
    assert len(sandbox.requests_to("GET", "/status.php$")) == 1


@pytest.fixture
def schedule_rate_limit() -> Iterator[Callable[[int, float], None]]:
    """Creates the ``nextcloud-schedule`` global rate limit when called; gone after the test."""

    def create(limit: int, slot_decay_per_second: float) -> None:
        with get_client(sync_client=True) as client:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=SCHEDULE_RATE_LIMIT,
                    limit=limit,
                    slot_decay_per_second=slot_decay_per_second,
                )
            )

    yield create
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
        client.delete_global_concurrency_limit_by_name(SCHEDULE_RATE_LIMIT)


@pytest.mark.parametrize(
    ("schedule", "count"),
    [
        pytest.param(
            lambda credentials: schedule_task(credentials, "core:text2text", {"input": "Hi"}),
            1,
            id="single",
        ),
        pytest.param(
            lambda credentials: run_tasks(
                credentials, "core:text2text", text_inputs(7), options=OPTIONS
            ),
            7,
            id="batch",
        ),
    ],
)
def test_every_schedule_takes_a_slot_of_the_global_rate_limit(
    sandbox: NextcloudSandbox,
    schedule_rate_limit: Callable[[int, float], None],
    schedule: Callable[[NextcloudCredentials], object],
    count: int,
) -> None:
    schedule_rate_limit(10, 0.01)  # slots decay after minutes: every one taken is still taken
    in_flow(lambda: schedule(sandbox.credentials))
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(SCHEDULE_RATE_LIMIT)
    assert len(sandbox.tasks()) == count
    assert limit.active_slots == count


def test_a_batch_larger_than_the_global_rate_limit_waits_for_its_slots(
    sandbox: NextcloudSandbox, schedule_rate_limit: Callable[[int, float], None]
) -> None:
    schedule_rate_limit(3, 4.0)  # three at once, then one every 0.25 s
    results = run_batch(sandbox.credentials, "core:text2text", text_inputs(7))
    assert [result.ok for result in results] == [True] * 7
    assert len(sandbox.tasks()) == 7
    sent = [r.answered_at for r in sandbox.requests_to("POST", "/taskprocessing/schedule$")]
    assert len(sent) == 7
    # The last four waited for slots to decay: a second after the first three, less a margin.
    assert sent[-1] - sent[0] >= 0.75
