"""What the tests of the process-new-files flow share: running it, and reading what it left."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.flows import NewFilesRun, process_new_files
from prefect_nextcloud.flows.process_new_files import default_state_file
from prefect_nextcloud.sandbox import NextcloudSandbox

FAST: dict[str, Any] = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}
STATE = default_state_file("/Photos", "image-analysis")
PROMPT = "Describe this image in one sentence."
OC = "{http://owncloud.org/ns}"


def run(sandbox: NextcloudSandbox, **parameters: Any) -> NewFilesRun:
    """Run the flow against the sandbox, as its first user unless ``credentials`` is given."""
    parameters.setdefault("credentials", sandbox.credentials)
    result: NewFilesRun = process_new_files(**FAST, **parameters)
    return result


def schedules(sandbox: NextcloudSandbox) -> int:
    """How many schedule calls the sandbox received since its log was last cleared."""
    return len(sandbox.requests_to("POST", "/taskprocessing/schedule$"))


def comments(credentials: NextcloudCredentials, file_id: int) -> list[str]:
    """The comments on a file, newest first, read without the client under test."""
    login = (credentials.user_id, credentials.app_password.get_secret_value())
    with httpx.Client(base_url=credentials.base_url, auth=login) as dav:
        answer = dav.request(
            "REPORT",
            f"/remote.php/dav/comments/files/{file_id}",
            content=(
                '<?xml version="1.0"?><oc:filter-comments xmlns:oc="http://owncloud.org/ns">'
                "<oc:limit>50</oc:limit><oc:offset>0</oc:offset></oc:filter-comments>"
            ),
        )
    assert answer.status_code == 207, answer.text
    return [element.text or "" for element in ET.fromstring(answer.content).iter(f"{OC}message")]


def read_state(sandbox: NextcloudSandbox, path: str = STATE) -> dict[str, Any]:
    """The state file's record."""
    with sandbox.credentials.get_client() as client:
        data: dict[str, Any] = json.loads(client.download_file(path))
    return data


def write_state(sandbox: NextcloudSandbox, record: dict[str, Any], path: str = STATE) -> None:
    """Replace the state file's record."""
    with sandbox.credentials.get_client() as client:
        client.write_text(path, json.dumps(record))


def past_due(sandbox: NextcloudSandbox, *file_ids: int, path: str = STATE) -> None:
    """Move failed files' next try into the past, as if their wait were over."""
    record = read_state(sandbox, path)
    for file_id in file_ids:
        record["files"][str(file_id)]["next_try"] = "2000-01-01T00:00:00Z"
    write_state(sandbox, record, path)
