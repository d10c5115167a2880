"""The project's top-level folders: the flow examples, the block script, a custom task."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefect import flow

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.flows import analyze_image, image_report, process_new_files
from prefect_nextcloud.sandbox import NextcloudSandbox

pytestmark = pytest.mark.usefixtures("prefect_server")

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
def test_each_flow_has_one_name_from_module_to_deployment(flow_object: object) -> None:
    name = flow_object.fn.__name__  # type: ignore[attr-defined]
    namespace = runpy.run_path(str(ROOT / "flows" / f"{name}.py"))
    assert namespace[name] is flow_object
    assert flow_object.fn.__module__ == f"prefect_nextcloud.flows.{name}"  # type: ignore[attr-defined]
    assert flow_object.name == name.replace("_", "-")  # type: ignore[attr-defined]
    deployments = yaml.safe_load((ROOT / "deployment.yaml").read_text())["deployments"]
    [deployment] = [d for d in deployments if d["name"] == flow_object.name]  # type: ignore[attr-defined]
    assert deployment["entrypoint"] == f"prefect_nextcloud.flows.{name}.{name}"


def test_save_credentials_script_saves_a_block_from_the_environment(
    sandbox: NextcloudSandbox,
) -> None:
    from prefect.settings import PREFECT_API_URL

    secret = sandbox.app_password
    environment = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEXTCLOUD_URL": sandbox.base_url,
        "NEXTCLOUD_USER": sandbox.user_id,
        "NEXTCLOUD_APP_PASSWORD": secret,
        "NEXTCLOUD_ALLOW_INSECURE_HTTP": "true",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "blocks" / "save_credentials.py"), "from-script"],
        env=environment, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    saved = NextcloudCredentials.load("from-script")
    assert saved.user_id == sandbox.user_id
    assert saved.app_password.get_secret_value() == secret


def test_custom_task_type_example_runs_in_a_flow() -> None:
    custom = runpy.run_path(str(ROOT / "tasks" / "custom_task_types.py"))

    @flow
    def improve(credentials: NextcloudCredentials) -> str:
        return str(custom["improve_text"](credentials, "hello wrld", "fix the spelling"))

    with NextcloudSandbox(server_version=35) as sandbox:
        answer = improve(sandbox.credentials)
    assert "hello wrld" in answer
