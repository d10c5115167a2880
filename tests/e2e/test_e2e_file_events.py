"""A file uploaded into the watched folder starts process-new-files, through the relay.

Set up as README's "Push: the relay" tells: the credentials block names the relay and its
secret, ``prefect-nextcloud relay --credentials nextcloud`` runs from it, and the calls that
``--listener-registration`` prints are run as they are, with an admin's login, against the
sandbox. The sandbox calls the relay on loopback, as a Nextcloud with
``allow_local_remote_servers`` does. The cron schedules are off (see :class:`Stack`), so a run
can only come from the deployment's trigger.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any
from uuid import UUID

import pytest
from e2e_stack import (
    Stack,
    assert_completed,
    prefect_api,
    saved_credentials,
    wait_for,
    wait_for_end,
)
from new_files_support import comments
from pydantic import SecretStr

from prefect_nextcloud.sandbox import sample_image_bytes

# Fixed, so that a leak into a log is found by searching for it.
RELAY_SECRET = "E2eRelaySecret-4kQ9vX2m-never-logged-Jt7Wc3Ns"
UPLOADED = "/Photos/uploaded-by-e2e.png"


@pytest.fixture(scope="module")
def listeners(stack: Stack) -> list[dict[str, Any]]:
    """The ``nextcloud`` block given a relay, the relay running from it, its listeners registered.

    The block keeps the relay afterwards, so later runs' tasks push their ends to it too.
    """
    credentials = saved_credentials(stack)
    with prefect_api(stack.api_url):
        credentials.model_copy(
            update={"relay_url": stack.relay_url, "relay_secret": SecretStr(RELAY_SECRET)}
        ).save("nextcloud", overwrite=True)
    stack.start_relay("nextcloud")
    printed = stack.cli(
        "prefect-nextcloud", "relay", "--credentials", "nextcloud", "--listener-registration"
    )
    calls = [line for line in printed.splitlines() if line.startswith("curl ")]
    assert len(calls) == 3, printed
    admin = {
        "NEXTCLOUD_ADMIN_USER": credentials.user_id,
        "NEXTCLOUD_ADMIN_PASSWORD": credentials.app_password.get_secret_value(),
    }
    registered = []
    for call in calls:
        answer = subprocess.run(
            ["bash", "-c", call], env={**stack.env, **admin},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        ocs = json.loads(answer.stdout)["ocs"]
        assert ocs["meta"]["statuscode"] == 200, answer.stdout
        registered.append(ocs["data"])
    return registered


def runs_started_by_automations(stack: Stack, deployment_id: UUID) -> list[Any]:
    """The deployment's flow runs that an automation (its trigger) created."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with prefect_api(stack.api_url) as client:
        flow_runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    return [run for run in flow_runs if run.created_by and run.created_by.type == "AUTOMATION"]


def test_an_uploaded_file_starts_one_run_that_comments_on_it(
    stack: Stack,
    deployed_twice: tuple[dict[str, Any], dict[str, Any]],
    listeners: list[dict[str, Any]],
) -> None:
    assert {listener["event"].rsplit("\\", 1)[-1] for listener in listeners} == {
        "NodeCreatedEvent",
        "NodeWrittenEvent",
        "NodeDeletedEvent",
    }
    _, deployments = deployed_twice
    deployment_id = UUID(deployments["process-new-files"]["id"])
    assert runs_started_by_automations(stack, deployment_id) == []
    credentials = saved_credentials(stack)
    with credentials.get_client() as client:
        file_id = client.upload_file(UPLOADED, sample_image_bytes())
    [started] = wait_for(
        "the trigger to start a process-new-files run",
        lambda: runs_started_by_automations(stack, deployment_id),
        timeout=120,
    )
    [flow_run] = wait_for_end(stack, [started.id])
    assert_completed(flow_run)
    [comment] = comments(credentials, file_id)
    assert comment.startswith("Image analysis (Prefect, Nextcloud task "), comment
    # The upload's second event (the file written after its creation) came within the
    # trigger's 30 s, so it started no run of its own.
    assert [run.id for run in runs_started_by_automations(stack, deployment_id)] == [started.id]
    assert RELAY_SECRET not in stack.log_tails(lines=10_000)
