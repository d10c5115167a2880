"""The Prefect behaviour the workarounds in ``prefect_nextcloud._compat`` rely on.

Each test fails when Prefect changes it: then the workaround needs another way.
"""

from __future__ import annotations

import logging

import pytest
from flow_helpers import stored_task_run_states
from prefect import Task, flow
from prefect.client.schemas.objects import State

from prefect_nextcloud._compat import awaiting

pytestmark = pytest.mark.usefixtures("prefect_server")


def _twice(attempts: list[int]) -> Task[[], str | State[None]]:
    """A task whose first attempt asks to be run again 0.1 s later, in a state of its own."""

    def attempt() -> str | State[None]:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            return awaiting("AwaitingSomething", "not yet", 0.1)
        return "done"

    return Task(attempt, name="twice", persist_result=False)


def test_prefect_runs_a_task_again_at_the_time_of_the_scheduled_state_it_returned(
    task_run_records: list[logging.LogRecord],
) -> None:
    attempts: list[int] = []
    task = _twice(attempts)

    @flow
    def run() -> str | State[None]:
        return task.submit().result()

    finished = run(return_state=True)
    assert finished.result() == "done"
    assert attempts == [1, 2]
    [states] = stored_task_run_states(finished.state_details.flow_run_id).values()
    names = [state.name for state in states]
    assert names == ["Pending", "Running", "AwaitingSomething", "Running", "Completed"]
    waiting = states[2]
    assert waiting.is_scheduled()
    assert waiting.message == "not yet"
    assert waiting.state_details.scheduled_time is not None
    delay = (waiting.state_details.scheduled_time - waiting.timestamp).total_seconds()
    assert 0 < delay < 5
    assert not [r for r in task_run_records if "Retry" in r.getMessage()]
