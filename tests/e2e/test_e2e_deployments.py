"""deployment.yaml end to end: deployed twice, then each deployment run by a real worker.

The runs go through the process work pool: the worker, started in a temporary directory with
no variable naming this checkout, starts each flow run in a new process in a directory of its
own, which imports the flow from the installed package.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_stack import (
    ROOT,
    Stack,
    artifact_of,
    assert_completed,
    prefect_api,
    saved_credentials,
    wait_for_end,
)
from new_files_support import comments

from prefect_nextcloud.flows.process_new_files import default_state_file

FAST = {"timeout_seconds": 120, "poll_interval_seconds": 1}
PHOTOS = ["sample.png", "dawn.png", "meadow.png", "harbour.png"]

# Each deployment, with parameters for the sandbox (its four images in /Photos).
RUNS: dict[str, dict[str, Any]] = {
    "analyze-image": {
        "prompt": "What colours does it have?",
        "image_file_ids": ["nc:/Photos/sample.png"],
        **FAST,
    },
    "image-report": {"report_path": "/Reports/e2e-report.md", **FAST},
    "process-new-files": {"report_path": "/Reports/e2e-new-files.md", **FAST},
}


def test_deploying_twice_changes_nothing(
    deployed_twice: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    first, second = deployed_twice
    assert sorted(first) == ["analyze-image", "image-report", "process-new-files"]
    for name, deployment in first.items():
        again = second[name]
        for key in ("id", "parameters", "schedules", "pull_steps", "entrypoint", "path",
                    "work_pool_name", "work_queue_name", "concurrency_limit", "tags",
                    "parameter_openapi_schema", "job_variables", "description"):  # fmt: skip
            assert again[key] == deployment[key], (name, key)
        # Nothing ties a run to the deploying machine: no pull step, no path, a module path.
        assert deployment["pull_steps"] == [], name
        assert deployment["path"] is None, name
        assert deployment["entrypoint"].startswith("prefect_nextcloud.flows."), name
        assert str(ROOT) not in str(deployment), name
    assert [s["schedule"]["cron"] for s in first["image-report"]["schedules"]] == ["0 6 * * *"]
    assert [s["schedule"]["cron"] for s in first["process-new-files"]["schedules"]] == [
        "*/15 * * * *"
    ]


@pytest.fixture(scope="session")
def flow_runs(
    stack: Stack, deployed_twice: tuple[dict[str, Any], dict[str, Any]]
) -> dict[str, Any]:
    """One run of each deployment, started through the API at once, once all have ended."""
    _, deployments = deployed_twice
    with prefect_api(stack.api_url) as client:
        started = {
            name: client.create_flow_run_from_deployment(
                deployments[name]["id"], parameters=parameters
            ).id
            for name, parameters in RUNS.items()
        }
    ended = wait_for_end(stack, list(started.values()))
    return dict(zip(started, ended, strict=True))


def test_analyze_image_runs_on_the_worker(stack: Stack, flow_runs: dict[str, Any]) -> None:
    flow_run = flow_runs["analyze-image"]
    assert_completed(flow_run)
    credentials = saved_credentials(stack)
    with credentials.get_client() as client:
        sample_id = client.get_file_id("/Photos/sample.png")
        tasks = [t for t in client.list_tasks() if t.input.get("images") == [sample_id]]
    assert tasks, "no Nextcloud task for /Photos/sample.png in the sandbox"
    artifact = artifact_of(stack, flow_run, "image-analysis")
    assert "What colours does it have?" in artifact
    assert any(f"Nextcloud task:** {task.id}" in artifact for task in tasks), artifact


def test_image_report_is_written_to_nextcloud(stack: Stack, flow_runs: dict[str, Any]) -> None:
    flow_run = flow_runs["image-report"]
    assert_completed(flow_run)
    with saved_credentials(stack).get_client() as client:
        report = client.download_file("/Reports/e2e-report.md").decode()
    for name in PHOTOS:
        assert name in report, report
    artifact = artifact_of(stack, flow_run, "image-report")
    for name in PHOTOS:
        assert name in artifact, artifact


def test_process_new_files_comments_on_each_file(stack: Stack, flow_runs: dict[str, Any]) -> None:
    flow_run = flow_runs["process-new-files"]
    assert_completed(flow_run)
    credentials = saved_credentials(stack)
    with credentials.get_client() as client:
        report = client.download_file("/Reports/e2e-new-files.md").decode()
        state = client.download_file(default_state_file("/Photos", "image-analysis"))
        file_ids = {name: client.get_file_id(f"/Photos/{name}") for name in PHOTOS}
    for name, file_id in file_ids.items():
        [comment] = comments(credentials, file_id)
        assert comment.startswith("Image analysis (Prefect, Nextcloud task "), comment
        assert name in report, report
        assert str(file_id) in state.decode(), state
    artifact = artifact_of(stack, flow_run, "process-new-files")
    for name in PHOTOS:
        assert name in artifact, artifact
