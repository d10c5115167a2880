"""The end-to-end stack, started once for ``python3 dev.py e2e``.

Every test in this folder is marked ``e2e``, which the default pytest run deselects
(``-m "not e2e"`` in pyproject.toml). Processes are stopped at the end of the session, even
after a failure; their logs stay in ``.artifacts/e2e/`` and a failing test's report shows
their last lines.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import ARTIFACTS, ROOT, Stack, prefect_api

POOL = "nextcloud"
_stacks: list[Stack] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _stacks:
        report.sections.append(("e2e process logs (last lines)", _stacks[0].log_tails()))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``.artifacts/e2e/``, emptied at the start of the run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def stack(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A Prefect server, the sandbox (saving the ``nextcloud`` block), the pool and a worker."""
    stack = Stack(home=tmp_path_factory.mktemp("prefect-home"), logs=artifacts)
    _stacks.append(stack)
    # A CI timeout's SIGTERM becomes a Ctrl-C, after which pytest still tears this down.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start_prefect_server()
        # Tasks start at once and take half a second, so the runs end in seconds. Each step
        # below starts a Python process that imports Prefect, so they overlap where they can.
        sandbox_ready = stack.start_sandbox(
            "--pickup-delay", "0", "--run-seconds", "0.5", "--workers", "4"
        )  # fmt: skip
        stack.cli("prefect", "work-pool", "create", POOL, "--type", "process")
        worker_ready = stack.start_worker(POOL)
        sandbox_ready()
        worker_ready()
        yield stack
    finally:
        stack.stop_all()
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def deployed_twice(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deployments after a first and after a second ``prefect deploy`` of the same file."""
    return deploy(stack), deploy(stack)


def deploy(stack: Stack) -> dict[str, dict[str, Any]]:
    """``prefect deploy`` of deployment.yaml, then the deployments as the API returns them."""
    output = stack.cli(
        "prefect", "--no-prompt", "deploy", "--prefect-file", "deployment.yaml", "--all", cwd=ROOT
    )
    for name in ("analyze-image", "image-report", "process-new-files"):
        assert f"{name}/{name}" in output, output
    with prefect_api(stack.api_url) as client:
        deployments = client.read_deployments()
        return {
            d.name: {**d.model_dump(mode="json"), "schedules": _schedules(client, d.id)}
            for d in deployments
        }


def _schedules(client: Any, deployment_id: Any) -> list[dict[str, Any]]:
    return [
        schedule.model_dump(mode="json", exclude={"created", "updated"})
        for schedule in client.read_deployment_schedules(deployment_id)
    ]
