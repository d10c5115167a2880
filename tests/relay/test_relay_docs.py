"""What deployment.yaml and the README say about the relay holds."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from prefect.events.schemas.automations import Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.events.schemas.events import Resource
from pydantic import SecretStr
from relay_helpers import SECRET

from prefect_nextcloud.relay import RelayConfig, file_events_token, listener_registration_commands
from prefect_nextcloud.tasks.events import FileChange, file_event

ROOT = Path(__file__).resolve().parents[2]


def process_new_files() -> dict[str, Any]:
    deployments: list[dict[str, Any]] = yaml.safe_load((ROOT / "deployment.yaml").read_text())[
        "deployments"
    ]
    [deployment] = [item for item in deployments if item["name"] == "process-new-files"]
    return deployment


def test_new_or_changed_files_in_the_watched_folder_start_process_new_files() -> None:
    deployment = process_new_files()
    [trigger] = [DeploymentEventTrigger.model_validate(item) for item in deployment["triggers"]]
    assert trigger.posture == Posture.Reactive
    assert trigger.within == timedelta(seconds=30)
    folder = deployment["parameters"]["folder"]

    def starts_a_run(path: str, kind: str = "created") -> bool:
        change = FileChange(kind, 7, "alice", path, 1_750_000_000, "alice")
        event = file_event("https://cloud.example.com", change)
        return event.name in trigger.expect and trigger.match.matches(Resource(event.resource))

    assert starts_a_run(f"{folder}/cat.png")
    assert starts_a_run(f"{folder}/cat.png", "changed")
    assert not starts_a_run(f"{folder}/cat.png", "deleted")
    assert not starts_a_run(f"{folder}/2024/cat.png")  # the flow lists the folder itself only
    # The run's own writes (its report, its state file) start no run.
    assert not starts_a_run(deployment["parameters"]["report_path"])
    assert not starts_a_run("/Prefect/process-new-files/Photos--image-analysis.json")


def test_the_readmes_registration_call_is_the_one_printed() -> None:
    readme = (ROOT / "README.md").read_text()
    [shown] = re.findall(r"^curl .*NodeCreatedEvent.*$", readme, flags=re.MULTILINE)
    config = RelayConfig(
        server_url="https://cloud.example.com",
        secret=SecretStr(SECRET),
        public_url="https://relay.example.com",
    )
    printed = listener_registration_commands(config).splitlines()[0]
    assert shown == printed.replace(file_events_token(SECRET), "<derived from the relay secret>")
