"""Flows served by a Prefect runner (``flow.serve()``) run to completion.

The runner sends a served flow by value to a child process; only what travels with the
function exists there, so every name its parameter annotations use must travel too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.flow_runs import wait_for_flow_run
from runners import served

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

pytestmark = pytest.mark.usefixtures("prefect_server")

SERVED_FLOWS = Path(__file__).with_name("served_flows.py")
FAST = {"timeout_seconds": 60.0, "poll_interval_seconds": 0.2}


@pytest.fixture(scope="module")
def runner(prefect_server: None) -> Iterator[list[str]]:
    """``served_flows.py`` served by a Prefect runner in its own process; yields its output."""
    with served(SERVED_FLOWS) as output:
        yield output


def run_deployment(name: str, parameters: dict[str, Any], output: list[str]) -> FlowRun:
    """Start a run of a served deployment and wait until it has finished."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"{name}/served")
        flow_run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    finished = asyncio.run(wait_for_flow_run(UUID(str(flow_run.id)), timeout=180))
    assert finished.state is not None
    log = "".join(output[-40:])
    assert finished.state.is_completed(), f"{name}: {finished.state.message}\n{log}"
    return finished


def test_served_analyze_image_runs_to_completion(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.credentials.save("served-analyze", overwrite=True)
    file_id = sandbox.upload("Photos/a.png", sample_image_bytes())
    run_deployment(
        "analyze-image",
        {
            "prompt": "What is in it?",
            "image_file_ids": [str(file_id)],
            "credentials": "served-analyze",
        }
        | FAST,
        runner,
    )
    [task] = sandbox.tasks()
    assert (task.type, task.status, task.input["images"]) == (
        "core:analyze-images",
        "STATUS_SUCCESSFUL",
        [file_id],
    )


def test_served_image_report_runs_to_completion(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    sandbox.credentials.save("served-report", overwrite=True)
    sandbox.upload("Photos/a.png", sample_image_bytes())
    run_deployment(
        "image-report",
        {"folder": "/Photos", "report_path": "/Reports/served.md", "credentials": "served-report"}
        | FAST,
        runner,
    )
    with sandbox.credentials.get_client() as client:
        report = client.download_file("/Reports/served.md").decode()
    assert "## a.png" in report
    assert "## Summary" in report


def test_served_flow_written_like_the_readme_runs_to_completion(
    sandbox: NextcloudSandbox, runner: list[str]
) -> None:
    block_id = sandbox.credentials.save("served-readme", overwrite=True)
    sandbox.upload("Photos/a.png", sample_image_bytes())
    run_deployment(
        "describe-and-summarize",
        {"credentials": {"$ref": {"block_document_id": str(block_id)}}, "photo": "/Photos/a.png"},
        runner,
    )
    assert [task.type for task in sandbox.tasks()] == [
        "core:analyze-images",
        "core:text2text:summary",
    ]
    assert all(task.status == "STATUS_SUCCESSFUL" for task in sandbox.tasks())
