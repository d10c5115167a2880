"""The Prefect behaviour the workarounds in ``prefect_nextcloud._compat`` rely on.

Each test fails when Prefect changes it: then the workaround needs another way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flow_helpers import stored_task_run_states
from prefect import Task, flow
from prefect.client.schemas.objects import State, TaskRun

from prefect_nextcloud._compat import (
    PREFECT_TASK_RUN_LOGGER,
    AttemptRetryDelays,
    QuietRetries,
    name_retry_waits,
)

pytestmark = pytest.mark.usefixtures("prefect_server")


class Again(Exception):
    """An attempt's "try again later", asking for its own delay."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"again in {delay} s")
        self.delay = delay


def _retry_on_again(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except Again:
        return True
    except BaseException:
        return False
    return False


def _retry_on_again_named(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """The same rule, as the rule of tasks whose retry waits are named."""
    return _retry_on_again(task, task_run, state)


def _twice(
    raised: list[Again],
    asked: list[BaseException],
    retry_condition: Callable[[Task[..., Any], TaskRun, State[Any]], bool] = _retry_on_again,
) -> Task[[], str]:
    """A task whose first attempt raises ``Again(0.1)``; the delay list records what it saw."""

    def attempt() -> str:
        if not raised:
            raised.append(Again(0.1))
            raise raised[0]
        return "done"

    def delay_of(error: BaseException) -> float | None:
        asked.append(error)
        return error.delay if isinstance(error, Again) else None

    return Task(
        attempt,
        name="twice",
        retries=1,
        retry_delay_seconds=AttemptRetryDelays(delay_of, fallback=30.0),
        retry_condition_fn=retry_condition,
        persist_result=False,
    )


def test_prefect_takes_the_retry_delay_while_handling_the_attempts_exception() -> None:
    raised: list[Again] = []
    asked: list[BaseException] = []
    task = _twice(raised, asked)

    @flow
    def run() -> str:
        return task.submit().result()

    finished = run(return_state=True)
    assert finished.result() == "done"
    assert asked == raised  # the very exception of the failed attempt, once
    [states] = stored_task_run_states(finished.state_details.flow_run_id).values()
    [waiting] = [state for state in states if state.name == "AwaitingRetry"]
    assert waiting.state_details.scheduled_time is not None
    delay = (waiting.state_details.scheduled_time - waiting.timestamp).total_seconds()
    assert 0 < delay < 5  # the attempt's 0.1 s, not the fallback's 30 s


def test_prefect_logs_a_retry_at_info_with_the_exception_as_its_second_argument(
    task_run_records: list[logging.LogRecord],
) -> None:
    raised: list[Again] = []
    task = _twice(raised, [])

    @flow
    def run() -> str:
        return task()

    assert run() == "done"
    [line] = [r for r in task_run_records if "Retry" in r.getMessage()]
    assert line.levelno == logging.INFO
    assert isinstance(line.args, tuple)
    assert line.args[1] is raised[0]


@pytest.mark.usefixtures("task_run_records")  # the task-run logger at DEBUG, then restored
def test_quiet_retries_turn_only_their_exceptions_retry_line_into_debug() -> None:
    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            PREFECT_TASK_RUN_LOGGER,
            logging.INFO,
            __file__,
            1,
            "Task run failed with %s: %r - Retry %s/%s will start %s",
            ("exception", error, 1, 5, "0.1 second(s) from now"),
            None,
        )

    quiet = QuietRetries(Again)
    mine, other = record(Again(0.1)), record(ValueError("bad"))
    assert quiet.filter(mine)
    assert (mine.levelno, mine.getMessage()) == (logging.DEBUG, "Polling again: again in 0.1 s")
    assert quiet.filter(other)
    assert other.levelno == logging.INFO
    logging.getLogger(PREFECT_TASK_RUN_LOGGER).setLevel(logging.INFO)
    assert not quiet.filter(record(Again(0.1)))  # no DEBUG: the line is dropped


def test_prefect_builds_a_retry_wait_with_the_awaiting_retry_the_engine_imported() -> None:
    name_retry_waits(_retry_on_again_named, "AwaitingSomething")
    name_retry_waits(_retry_on_again_named, "AwaitingSomething")  # installed once
    named, plain = _twice([], [], _retry_on_again_named), _twice([], [])

    @flow
    def run() -> list[str]:
        return [named.submit().result(), plain.submit().result()]

    finished = run(return_state=True)
    assert finished.result() == ["done", "done"]
    runs = stored_task_run_states(finished.state_details.flow_run_id).values()
    assert {tuple(state.name for state in states) for states in runs} == {
        ("Pending", "Running", "AwaitingSomething", "Running", "Completed"),
        ("Pending", "Running", "AwaitingRetry", "Retrying", "Completed"),
    }
    [named_wait] = [
        state for states in runs for state in states if state.name == "AwaitingSomething"
    ]
    assert named_wait.is_scheduled()
    assert named_wait.message == "again in 0.1 s"  # the exception the attempt raised
    assert named_wait.state_details.scheduled_time is not None
