"""Running test code in Prefect flows, and reading back what a flow run left on the server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from prefect import Flow, flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import Artifact, State
from prefect.events.worker import EventsWorker

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.tasks import ItemResult, RunOptions, run_tasks

T = TypeVar("T")

STORED_WITHIN_SECONDS = 60.0
"""How long the Prefect server may take to store what a flow run sent as events."""

OPTIONS = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)
"""Fast polling, and time enough for a loaded machine."""

IMAGES_ONE_REFUSED: list[dict[str, Any]] = [
    {"input": "a red fox", "numberOfImages": 1},
    {"input": "too many", "numberOfImages": 13},  # the provider refuses more than 12
    {"input": "a blue bird", "numberOfImages": 2},
]
"""Inputs of three ``core:text2image`` tasks, of which the sandbox fails the second."""


def text_inputs(count: int) -> list[dict[str, Any]]:
    """Inputs of ``count`` distinct ``core:text2text`` tasks."""
    return [{"input": f"{n}"} for n in range(count)]


def in_flow(body: Callable[[], T], face: str = "sync") -> T:
    """Run ``body`` inside a sync or an async Prefect flow and return what it returns."""
    if face == "sync":
        return flow(name="sync-test-flow")(body)()

    async def async_body() -> T:
        return body()

    return asyncio.run(flow(name="async-test-flow")(async_body)())


def batch_flow(
    credentials: NextcloudCredentials,
    task_type: str,
    inputs: list[Any],
    **keywords: Any,
) -> Flow[[], list[ItemResult]]:
    """A flow that runs ``run_tasks`` on ``inputs``; ``keywords`` go to ``run_tasks``.

    Polls fast (``OPTIONS``) unless ``options`` is given.
    """
    keywords.setdefault("options", OPTIONS)

    @flow
    def batch() -> list[ItemResult]:
        return run_tasks(credentials, task_type, inputs, **keywords)

    return batch


def run_batch(
    credentials: NextcloudCredentials, task_type: str, inputs: list[Any], **keywords: Any
) -> list[ItemResult]:
    """Run ``batch_flow(credentials, task_type, inputs, **keywords)`` and return its results."""
    return batch_flow(credentials, task_type, inputs, **keywords)()


def stored_task_run_states(flow_run_id: UUID | None) -> dict[UUID, list[State]]:
    """Each task run of the flow run with its states, once the server stored every final one.

    Task runs and their states reach the Prefect server as events, which it stores in batches
    a moment after the flow has returned; this waits for them, a minute at the most, and
    returns what is stored by then.
    """
    assert flow_run_id is not None
    EventsWorker.drain_all()
    of_the_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=of_the_run)
            states = {run.id: client.read_task_run_states(run.id) for run in runs}
            ended = [any(state.is_final() for state in each) for each in states.values()]
            if (ended and all(ended)) or time.monotonic() > deadline:
                return states
            time.sleep(0.2)  # the server's next batch, which no client call can await


def artifact_of(flow_run_id: UUID | None, key: str) -> Artifact:
    """The artifact with ``key`` that the flow run created."""
    assert flow_run_id is not None
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_key = {artifact.key: artifact for artifact in artifacts}
    assert key in by_key, f"the flow run created no artifact {key!r}: {sorted(map(str, by_key))}"
    return by_key[key]
