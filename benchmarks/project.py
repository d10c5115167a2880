"""prefect-nextcloud's side: ``run_tasks`` in a flow, or the shipped ``analyze_image`` flow."""

from __future__ import annotations

import os
import time
from typing import Any
from uuid import UUID

from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TaskRun
from pydantic import SecretStr
from workloads import PROMPT, TASK_TYPE, Workload

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.flows import analyze_image
from prefect_nextcloud.sandbox import DEFAULT_APP_PASSWORD, DEFAULT_USER_ID
from prefect_nextcloud.tasks import ItemResult, run_tasks

RECORDED_WITHIN_SECONDS = 60.0
"""How long Prefect may take to record a task run's last state (it records them from events)."""


def credentials_for(
    workload: Workload, base_url: str, relay_url: str | None
) -> NextcloudCredentials:
    """The sandbox user's credentials, at the workload's schedule limit, naming the relay if any.

    The relay secret is read from ``NEXTCLOUD_RELAY_SECRET``, as the relay reads it.
    """
    relay: dict[str, Any] = {}
    if relay_url is not None:
        relay = {
            "relay_url": relay_url,
            "relay_secret": SecretStr(os.environ["NEXTCLOUD_RELAY_SECRET"]),
        }
    return NextcloudCredentials(
        base_url=base_url,
        user_id=DEFAULT_USER_ID,
        app_password=SecretStr(DEFAULT_APP_PASSWORD),
        schedule_limit=workload.rate_limit,
        schedule_window_seconds=workload.window_seconds,
        **relay,
    )


class Answers:
    """An ``on_results`` callback that notes when each task's answer became known."""

    def __init__(self) -> None:
        self.known: dict[int, float] = {}

    def __call__(self, results: list[ItemResult]) -> None:
        """Note the time for each result's task, unless it was noted before."""
        now = time.time()
        for result in results:
            if result.task is not None:
                self.known.setdefault(result.task.id, now)


@flow(name="bench-warm-up")
def warm_up() -> None:
    """An empty flow: Prefect's one-time set-up in a process, done before measuring."""


def run_batch(credentials: NextcloudCredentials, tasks: int) -> dict[str, Any]:
    """Run a flow of one ``run_tasks`` (a task per text, at the default options) once.

    Returns:
        When each answer became known, how many succeeded or were lost, the flow run, and
        when it reached its final state.
    """
    answers = Answers()
    inputs = [{"input": f"Text {n}"} for n in range(tasks)]

    @flow(name="bench-batch")
    def batch() -> list[ItemResult]:
        return run_tasks(credentials, TASK_TYPE, inputs, on_results=answers)

    state = batch(return_state=True)
    ok = sum(result.ok for result in state.result())
    return {
        "known": answers.known,
        "ok": ok,
        "lost": tasks - ok,
        "flow_run_id": str(state.state_details.flow_run_id),
        "answered_at": state.timestamp.timestamp(),
    }


def run_analysis(credentials: NextcloudCredentials, file_id: int) -> dict[str, Any]:
    """Run the ``analyze_image`` flow once on one image, at its defaults.

    Returns:
        Its Nextcloud task, its flow run, and when the flow run reached its final state (when
        the task's answer was known is read from Prefect).
    """
    state = analyze_image(
        prompt=PROMPT, image_file_ids=[file_id], credentials=credentials, return_state=True
    )
    return {
        "task_id": state.result().task_id,
        "ok": 1,
        "lost": 0,
        "flow_run_id": str(state.state_details.flow_run_id),
        "answered_at": state.timestamp.timestamp(),
    }


def add_prefect_states(run: dict[str, Any]) -> None:
    """Add the run's Prefect task runs and state counts; for the analysis, when it was known.

    The ``analyze_image`` flow takes no ``on_results``: its answer is known when its
    ``analyze_images`` task run ends.
    """
    flow_run_id = UUID(run["flow_run_id"])
    with get_client(sync_client=True) as client:
        task_runs = _recorded_task_runs(client, flow_run_id)
        run["task_runs"] = len(task_runs)
        run["task_states"] = sum(len(client.read_task_run_states(t.id)) for t in task_runs)
        run["flow_states"] = len(client.read_flow_run_states(flow_run_id))
    if "task_id" in run:
        [analysis] = task_runs
        assert analysis.end_time is not None
        run["known"] = {run.pop("task_id"): analysis.end_time.timestamp()}


def _recorded_task_runs(client: SyncPrefectClient, flow_run_id: UUID) -> list[TaskRun]:
    """The flow run's task runs, once Prefect has recorded each one's final state."""
    runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + RECORDED_WITHIN_SECONDS
    while True:
        task_runs = client.read_task_runs(flow_run_filter=runs)
        if task_runs and all(t.state is not None and t.state.is_final() for t in task_runs):
            return task_runs
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"Prefect did not record the end of flow run {flow_run_id}'s task runs within "
                f"{RECORDED_WITHIN_SECONDS:g} s; is its server overloaded?"
            )
        time.sleep(0.2)  # the next look at what the server has recorded
