"""The pull step for deployments of your own flow files, run as a worker's flow run runs it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.deployments.steps.core import StepExecutionError
from prefect.flows import load_flow_from_flow_run
from readme_examples import readme_example

pytestmark = pytest.mark.usefixtures("prefect_server")

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "MY_FLOWS_DIR"
# A deployment of a flow file, as a user's own prefect.yaml would have it.
ENTRYPOINT = "flows/analyze_image.py:analyze_image"
# The README's pull step for them, as printed.
PULL_STEPS = yaml.safe_load(readme_example("own-flows-pull-step"))["pull"]


def load_deployed_flow() -> Flow[..., object]:
    """Deploy the flow file with the pull step, start a run, and load its flow as a worker does."""

    async def load() -> Flow[..., object]:
        async with get_client() as client:
            flow_id = await client.create_flow_from_name("analyze-image")
            deployment_id = await client.create_deployment(
                flow_id=flow_id,
                name=f"own-files-{uuid4().hex[:8]}",
                entrypoint=ENTRYPOINT,
                pull_steps=PULL_STEPS,
            )
            flow_run = await client.create_flow_run_from_deployment(deployment_id)
        return await load_flow_from_flow_run(flow_run)

    return asyncio.run(load())


@pytest.fixture
def run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of the flow run's own, away from the flow code, as a process worker gives."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_flow_file_loads_from_the_folder_the_variable_names(
    run_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, str(ROOT))
    loaded = load_deployed_flow()
    assert loaded.name == "analyze-image"
    assert Path.cwd() == ROOT


@pytest.mark.parametrize(
    ("value", "error", "says"),
    [
        (None, ValueError, f"found no {VARIABLE} in the environment"),
        ("", ValueError, f"found no {VARIABLE} in the environment"),
        ("flows", ValueError, f"{VARIABLE} is 'flows', a relative path"),
        ("/nowhere/flows", NotADirectoryError, f"{VARIABLE} is '/nowhere/flows', which is not"),
    ],
    ids=["unset", "empty", "relative", "missing"],
)
def test_a_run_without_a_usable_folder_fails_naming_the_variable(
    run_directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    error: type[Exception],
    says: str,
) -> None:
    if value is None:
        monkeypatch.delenv(VARIABLE, raising=False)
    else:
        monkeypatch.setenv(VARIABLE, value)
    with pytest.raises(StepExecutionError) as raised:
        load_deployed_flow()
    cause = raised.value.__cause__
    assert isinstance(cause, error), repr(cause)
    assert says in str(cause)
    assert f"set {VARIABLE} in the worker's environment" in str(cause)
    assert os.getcwd() == str(run_directory)
