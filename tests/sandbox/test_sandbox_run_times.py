"""Task run times: a fixed number, or a seeded draw from a (min, max) range per task."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sandbox_helpers import client_for, schedule_ok

from prefect_nextcloud import cli
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunTimes, parse_run_seconds


def test_a_fixed_run_time_is_the_same_for_every_task() -> None:
    times = RunTimes(1.5, seed=3)
    assert {times.for_task(task_id) for task_id in range(1, 50)} == {1.5}


def test_range_draws_stay_in_bounds_and_repeat_with_the_seed() -> None:
    first = [RunTimes((2, 30), seed=7).for_task(task_id) for task_id in range(1, 200)]
    again = [RunTimes((2, 30), seed=7).for_task(task_id) for task_id in range(1, 200)]
    other_seed = [RunTimes((2, 30), seed=8).for_task(task_id) for task_id in range(1, 200)]
    assert first == again
    assert first != other_seed
    assert all(2 <= seconds <= 30 for seconds in first)
    assert len(set(first)) == len(first)
    assert min(first) < 8
    assert max(first) > 24


def test_a_draw_depends_on_the_task_not_on_the_order_of_asking() -> None:
    times = RunTimes((0, 10), seed=1)
    forward = {task_id: times.for_task(task_id) for task_id in range(1, 20)}
    backward = {task_id: times.for_task(task_id) for task_id in reversed(range(1, 20))}
    assert forward == backward
    assert times.for_task(4) != times.for_task(4, legacy=True)


@pytest.mark.parametrize("bad", [-1, (3, 1), (-1, 2), float("nan"), (0, float("inf"))])
def test_invalid_run_seconds_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="run_seconds"):
        NextcloudSandbox(run_seconds=bad)


@pytest.mark.parametrize(
    ("text", "value"), [("2", 2.0), ("0.25", 0.25), ("2-30", (2.0, 30.0)), (" 1.5-2 ", (1.5, 2.0))]
)
def test_parse_run_seconds(text: str, value: object) -> None:
    assert parse_run_seconds(text) == value


@pytest.mark.parametrize("text", ["", "x", "30-2", "-3", "1-2-3"])
def test_parse_run_seconds_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="run_seconds"):
        parse_run_seconds(text)


def test_each_task_runs_at_least_its_drawn_time() -> None:
    bounds, seed = (0.1, 0.4), 11
    expected = RunTimes(bounds, seed=seed)
    with (
        NextcloudSandbox(run_seconds=bounds, seed=seed, workers=3) as sandbox,
        client_for(sandbox, "alice") as alice,
    ):
        started = time.monotonic()
        ids = [schedule_ok(alice, "core:text2text", {"input": str(n)})["id"] for n in range(3)]
        for task_id in ids:
            done = sandbox.wait_for_status(task_id, "SUCCESSFUL")
            assert time.monotonic() - started >= expected.for_task(task_id)
            # completionExpectedAt stays scheduledAt + the provider estimate, as on a real server.
            assert done.completion_expected_at == done.scheduled_at + 1


def test_the_cli_passes_its_flags_to_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    received: dict[str, Any] = {}
    monkeypatch.setattr(
        "prefect_nextcloud.sandbox.serve_forever", lambda **kwargs: received.update(kwargs)
    )
    argv = ["sandbox", "--port", "0", "--server-version", "31", "--pickup-delay", "0.5"]
    argv += ["--run-seconds", "2-30", "--workers", "4", "--seed", "9"]
    argv += ["--fail", "core:text2text:summary", "--fail", "core:text2text"]
    assert cli.main(argv) == 0
    assert received == {
        "port": 0,
        "save_block": None,
        "server_version": 31,
        "pickup_delay_seconds": 0.5,
        "run_seconds": (2.0, 30.0),
        "workers": 4,
        "failing_task_types": ["core:text2text:summary", "core:text2text"],
        "seed": 9,
    }


def test_the_cli_refuses_a_bad_run_time(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sandbox", "--run-seconds", "30-2"])
    assert exit_info.value.code == 2
    assert "0 <= min <= max, got (30.0, 2.0)" in capsys.readouterr().err


@pytest.mark.parametrize(("run_seconds", "estimate"), [(0.0, 1), (2.0, 2), ((2.0, 30.0), 16)])
def test_providers_estimate_the_run_time_in_completion_expected_at(
    run_seconds: Any, estimate: int
) -> None:
    with NextcloudSandbox(run_seconds=run_seconds) as sandbox:
        sandbox.pause_processing()
        with client_for(sandbox, "alice") as client:
            task = schedule_ok(client, "core:text2text", {"input": "Hi"})
    assert task["completionExpectedAt"] - task["scheduledAt"] == estimate


def test_a_task_records_its_precise_end_outside_the_api() -> None:
    with (
        NextcloudSandbox(run_seconds=0.2) as sandbox,
        client_for(sandbox, "alice") as alice,
    ):
        before = time.time()
        task_id = schedule_ok(alice, "core:text2text", {"input": "Hi"})["id"]
        done = sandbox.wait_for_status(task_id, "SUCCESSFUL")
        after = time.time()
        shown = alice.get(f"/ocs/v2.php/taskprocessing/task/{task_id}?format=json").json()
    assert done.ended_at_precise is not None
    assert before + 0.2 <= done.ended_at_precise <= after
    assert int(done.ended_at_precise) == done.ended_at
    # The API keeps its whole seconds and its fields.
    assert shown["ocs"]["data"]["task"] == done.json
