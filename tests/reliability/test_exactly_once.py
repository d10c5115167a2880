"""Exactly once when the server answers partially or wrongly: no twin task, no lost answer.

Each test counts the Nextcloud tasks the sandbox holds and checks the answers returned.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flow_helpers import OPTIONS, run_batch, text_inputs
from prefect import flow

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.client.errors import UnexpectedResponseError
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import ItemResult, run_task, run_tasks

pytestmark = pytest.mark.usefixtures("prefect_server")

LISTING = "/taskprocessing/tasks/app/"


def _rows(data: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = data["ocs"]["data"]["tasks"]
    return rows


def _answered_as_the_server_did(sandbox: NextcloudSandbox, results: list[ItemResult]) -> bool:
    """Whether each successful result's text is its task's answer on the server."""
    return all(
        result.task is not None
        and result.text == (sandbox.task(result.task.id).output or {}).get("output")
        for result in results
        if result.ok
    )


def _text_batch(credentials: NextcloudCredentials, size: int) -> list[ItemResult]:
    """Run ``size`` text tasks as one batch in a flow."""
    return run_batch(credentials, "core:text2text", text_inputs(size))


def _leave_out_first_listed_task(sandbox: NextcloudSandbox, then: Callable[[int], object]) -> None:
    """Every listing leaves out the first task it lists; ``then`` is called with its id."""

    def leave_out(data: Any) -> Any:
        rows = _rows(data)
        then(rows[0]["id"])
        data["ocs"]["data"]["tasks"] = rows[1:]
        return data

    sandbox.inject_rewrite(LISTING, leave_out, method="GET")


def _resume_after(sandbox: NextcloudSandbox, method: str, path_regex: str) -> threading.Thread:
    """Resume processing once a request has reached the sandbox (in a thread)."""

    def resume() -> None:
        sandbox.wait_for_requests(method, path_regex, timeout=60)
        sandbox.resume_processing()

    thread = threading.Thread(target=resume, daemon=True)
    thread.start()
    return thread


def test_a_lost_answer_then_a_failed_listing_never_schedules_twice(
    sandbox: NextcloudSandbox,
) -> None:
    # No retry inside a call: the lost answer and the failed listing reach the batch as they
    # are, and end the first attempt of the flow run.
    credentials = sandbox.credentials.model_copy(update={"retry_seconds": 0.0})
    sandbox.inject_lost_response("/schedule$", method="POST")
    sandbox.inject_error(LISTING, 503, method="GET")

    @flow(retries=1, retry_delay_seconds=0)
    def batch() -> list[ItemResult]:
        return run_tasks(credentials, "core:text2text", [{"input": "once"}], options=OPTIONS)

    [result] = batch()
    assert result.ok
    assert result.text is not None
    assert "once" in result.text
    assert len(sandbox.tasks()) == 1
    listings = sandbox.requests_to("GET", LISTING)
    assert [request.status for request in listings][:2] == [503, 200]


def test_a_task_missing_from_one_listing_is_asked_for_not_given_up(
    sandbox: NextcloudSandbox,
) -> None:
    left_out: list[int] = []
    _leave_out_first_listed_task(sandbox, left_out.append)

    results = _text_batch(sandbox.credentials, 3)
    assert [result.ok for result in results] == [True, True, True]
    assert _answered_as_the_server_did(sandbox, results)
    assert len(sandbox.tasks()) == 3
    assert sandbox.requests_to("GET", f"/taskprocessing/task/{left_out[0]}$")


def test_a_task_deleted_from_the_server_ends_as_gone(sandbox: NextcloudSandbox) -> None:
    deleted: list[int] = []

    def delete(task_id: int) -> None:
        deleted.append(task_id)
        sandbox.cleanup_task(task_id)

    _leave_out_first_listed_task(sandbox, delete)

    results = _text_batch(sandbox.credentials, 2)
    [gone] = [result for result in results if not result.ok]
    [kept] = [result for result in results if result.ok]
    assert gone.error is not None
    assert "gone from the server" in gone.error
    assert str(deleted[0]) in gone.error
    assert _answered_as_the_server_did(sandbox, [kept])
    assert len(sandbox.tasks()) == 1


def test_one_unreadable_row_fails_only_its_own_item(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()

    def spoil(data: Any) -> Any:
        rows = _rows(data)
        bad = next(row for row in rows if row["customId"].endswith(":2"))
        bad["input"] = 42  # not a map of slots
        foreign = {**copy.deepcopy(rows[0]), "appId": "another-app", "id": "x", "status": []}
        rows.append(foreign)
        return data

    sandbox.inject_rewrite(LISTING, spoil, method="GET")
    resumer = _resume_after(sandbox, "POST", "/cancel$")

    results = _text_batch(credentials, 5)
    resumer.join()
    assert [result.ok for result in results] == [True, True, False, True, True]
    assert _answered_as_the_server_did(sandbox, results)
    error = results[2].error
    assert error is not None
    assert "cannot read" in error
    assert "input" in error
    assert len(sandbox.tasks()) == 5
    statuses = sorted(task.status for task in sandbox.tasks())
    assert statuses == ["STATUS_CANCELLED"] + ["STATUS_SUCCESSFUL"] * 4


def test_rows_of_another_user_or_app_are_never_adopted(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials

    @flow
    def keyed(idempotency_key: str) -> Task:
        return run_task(credentials, "core:text2text", {"input": "mine"}, options=OPTIONS)

    # A first run with the key shows its app id and custom id; its task is then removed.
    first = keyed("forgery")
    sandbox.cleanup_task(first.id)

    def forge(data: Any) -> Any:
        # The re-run's first look finds no task of its own, only strangers' answered rows
        # that carry its custom id, newer than anything it could schedule.
        stranger = {
            **first.model_dump(mode="json", by_alias=True, exclude={"output_files"}),
            "id": 10**9,
            "userId": "bob",
            "output": {"output": "forged answer"},
        }
        _rows(data).extend([stranger, {**stranger, "id": 10**9 + 1, "appId": "another-app"}])
        return data

    sandbox.inject_rewrite(LISTING, forge, method="GET")
    second = keyed("forgery")
    assert second.id not in (10**9, 10**9 + 1)
    assert second.output == first.output
    assert second.user_id == "alice"
    assert len(sandbox.tasks()) == 1


def test_twins_under_one_custom_id_keep_the_oldest_and_drop_the_others(
    sandbox: NextcloudSandbox,
) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()
    with credentials.get_client() as client:
        twins = [
            client.schedule_task(
                "core:text2text",
                {"input": "twin"},
                app_id="pfnc-twins",
                custom_id="report:1",
                adopt_existing=False,
            )
            for _ in range(2)
        ]
    oldest, younger = sorted(twins, key=lambda task: task.id)
    resumer = _resume_after(sandbox, "POST", f"/tasks/{younger.id}/cancel$")

    @flow
    def single() -> Task:
        return run_task(
            credentials,
            "core:text2text",
            {"input": "twin"},
            custom_id="report:1",
            app_id="pfnc-twins",
            options=OPTIONS,
        )

    task = single()
    resumer.join()
    assert task.id == oldest.id
    assert [snapshot.id for snapshot in sandbox.tasks()] == [oldest.id]


def test_a_batch_that_fails_leaves_no_task_running(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.pause_processing()

    def garble(data: Any) -> Any:
        data["ocs"]["data"]["tasks"] = "not a list"
        return data

    sandbox.inject_rewrite(LISTING, garble, method="GET")

    with pytest.raises(UnexpectedResponseError, match="list of tasks"):
        _text_batch(credentials, 3)
    assert [task.status for task in sandbox.tasks()] == ["STATUS_CANCELLED"] * 3
