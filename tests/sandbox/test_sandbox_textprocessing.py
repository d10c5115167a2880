"""The deprecated TextProcessing API, and what each server version offers."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import TP, client_for, ocs_data

from prefect_nextcloud.sandbox import NextcloudSandbox

TXP = "/ocs/v2.php/textprocessing"
FREE_PROMPT = "OCP\\TextProcessing\\FreePromptTaskType"
HEADLINE = "OCP\\TextProcessing\\HeadlineTaskType"
TEXT_TASK_KEYS = [
    "id",
    "type",
    "status",
    "userId",
    "appId",
    "input",
    "output",
    "identifier",
    "completionExpectedAt",
]


def _schedule(client: httpx.Client, task_type: str, text: object, **extra: str) -> httpx.Response:
    body = {"input": text, "type": task_type, "appId": "legacy", **extra}
    return client.post(f"{TXP}/schedule", json=body)


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, ocs_data(response)["message"]


def test_task_types_is_a_public_list(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TXP}/tasktypes",
        headers={"OCS-APIRequest": "true"},
        params={"format": "json"},
    )
    assert response.status_code == 200
    types = ocs_data(response)["types"]
    assert [t["id"] for t in types] == [
        FREE_PROMPT,
        HEADLINE,
        "OCP\\TextProcessing\\SummaryTaskType",
        "OCP\\TextProcessing\\TopicsTaskType",
    ]
    assert types[0] == {
        "id": FREE_PROMPT,
        "name": "Free prompt",
        "description": "Runs an arbitrary prompt through the language model.",
    }
    assert b'"id":"OCP\\\\TextProcessing\\\\FreePromptTaskType"' in response.content


def test_schedule_runs_inline(alice: httpx.Client) -> None:
    response = _schedule(alice, FREE_PROMPT, "Hello", identifier="job-1")
    assert response.status_code == 200
    task = ocs_data(response)["task"]
    assert list(task) == TEXT_TASK_KEYS
    assert task["status"] == 3
    assert task["output"] == (
        "This is a fake result: \n\n- Prompt: Hello\n- Model: model_2\n"
        "- Maximum number of words: 1234"
    )
    assert (task["type"], task["userId"], task["appId"]) == (FREE_PROMPT, "alice", "legacy")
    assert (task["input"], task["identifier"]) == ("Hello", "job-1")
    assert isinstance(task["completionExpectedAt"], int)
    fetched = ocs_data(alice.get(f"{TXP}/task/{task['id']}"))["task"]
    assert fetched == task
    headline = ocs_data(_schedule(alice, HEADLINE, "News"))["task"]
    assert headline["output"] == "This is a fake headline: News"
    assert headline["identifier"] == ""


def test_provider_failure_is_status_4(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.set_failing("core:text2text")
    response = _schedule(alice, FREE_PROMPT, "x")
    assert response.status_code == 200
    task = ocs_data(response)["task"]
    assert (task["status"], task["output"]) == (4, None)


def test_schedule_errors(alice: httpx.Client) -> None:
    assert _error(_schedule(alice, "OCP\\TextProcessing\\Nope", "x")) == (
        400,
        "Requested task type does not exist",
    )
    assert _schedule(alice, FREE_PROMPT, ["x"]).status_code == 500


def test_unavailable_provider() -> None:
    with (
        NextcloudSandbox(unavailable_task_types=["core:text2text"]) as sandbox,
        client_for(sandbox, "alice") as alice,
    ):
        types = ocs_data(alice.get(f"{TXP}/tasktypes"))["types"]
        assert FREE_PROMPT not in [t["id"] for t in types]
        assert _error(_schedule(alice, FREE_PROMPT, "x")) == (
            412,
            "Necessary language model provider is not available",
        )


def test_get_delete_and_list(sb: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client) -> None:
    first = ocs_data(_schedule(alice, FREE_PROMPT, "a", identifier="list-me"))["task"]
    second = ocs_data(_schedule(alice, HEADLINE, "b", identifier="other"))["task"]
    ocs_data(_schedule(alice, HEADLINE, "c", identifier="list-me", appId="elsewhere"))

    def ids(**params: str) -> list[int]:
        response = alice.get(f"{TXP}/tasks/app/legacy", params=params)
        return [task["id"] for task in ocs_data(response)["tasks"]]

    assert ids(identifier="list-me") == [first["id"]]
    assert {first["id"], second["id"]} <= set(ids())
    assert _error(bob.get(f"{TXP}/task/{first['id']}")) == (404, "Task not found")
    assert _error(bob.delete(f"{TXP}/task/{first['id']}")) == (404, "Task not found")
    deleted = alice.delete(f"{TXP}/task/{first['id']}")
    assert deleted.status_code == 200
    assert ocs_data(deleted)["task"] == first
    assert _error(alice.get(f"{TXP}/task/{first['id']}")) == (404, "Task not found")
    assert _error(alice.delete(f"{TXP}/task/{first['id']}")) == (404, "Task not found")
    # A table of its own: TaskProcessing never lists these tasks.
    assert all(t["appId"] != "legacy" for t in ocs_data(alice.get(f"{TP}/tasks"))["tasks"])


def test_login_required_except_for_task_types(sb: NextcloudSandbox) -> None:
    headers = {"OCS-APIRequest": "true", "Accept": "application/json"}
    response = httpx.post(
        f"{sb.base_url}{TXP}/schedule",
        headers=headers,
        json={"input": "x", "type": FREE_PROMPT, "appId": "a"},
    )
    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


def test_queued_when_not_inline() -> None:
    with (
        NextcloudSandbox(legacy_run_inline=False) as sandbox,
        client_for(sandbox, "alice") as alice,
    ):
        sandbox.pause_processing()
        task = ocs_data(_schedule(alice, FREE_PROMPT, "later"))["task"]
        assert (task["status"], task["output"]) == (1, None)
        assert sandbox.text_task(task["id"])["status"] == 1
        sandbox.complete_pending()
        done = ocs_data(alice.get(f"{TXP}/task/{task['id']}"))["task"]
        assert done["status"] == 3
        assert done["output"].startswith("This is a fake result: \n\n- Prompt: later")
        with pytest.raises(KeyError):
            sandbox.text_task(999)


def test_rate_limited_like_schedule() -> None:
    with NextcloudSandbox(rate_limit=1) as sandbox, client_for(sandbox, "alice") as alice:
        assert _schedule(alice, FREE_PROMPT, "1").status_code == 200
        refused = _schedule(alice, FREE_PROMPT, "2")
        assert (refused.status_code, refused.content) == (429, b"")


@pytest.mark.parametrize("version", [27, 28, 29])
def test_versions_before_task_processing(version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox, client_for(sandbox, "alice") as alice:
        missing = alice.get(f"{TP}/tasktypes", params={"format": "json"})
        assert missing.status_code == 404
        assert missing.json()["ocs"]["meta"]["message"].startswith("Invalid query")
        assert alice.get(f"{TXP}/tasktypes").status_code == 200
        scheduled = _schedule(alice, FREE_PROMPT, "x")
        assert scheduled.status_code == (404 if version == 27 else 200)
        if version > 27:
            assert ocs_data(scheduled)["task"]["status"] == 3


@pytest.mark.parametrize(
    ("version", "string"), [(27, "27.1.0"), (28, "28.0.0"), (30, "30.0.0"), (35, "35.0.0")]
)
def test_status_and_capabilities(version: int, string: str) -> None:
    with NextcloudSandbox(server_version=version) as sandbox:
        status = httpx.get(f"{sandbox.base_url}/status.php").json()
        assert status == {
            "installed": True,
            "maintenance": False,
            "needsDbUpgrade": False,
            "version": f"{string}.0",
            "versionstring": string,
            "edition": "",
            "productname": "Nextcloud",
            "extendedSupport": False,
        }
        capabilities = httpx.get(
            f"{sandbox.base_url}/ocs/v2.php/cloud/capabilities",
            headers={"OCS-APIRequest": "true", "Accept": "application/json"},
        )
        major, minor, micro = (int(part) for part in string.split("."))
        assert ocs_data(capabilities)["version"] == {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": string,
            "edition": "",
            "extendedSupport": False,
        }


@pytest.mark.parametrize("version", [30, 31, 32, 33, 34, 35])
def test_task_fields_by_version(version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox, client_for(sandbox, "alice") as alice:
        task = ocs_data(
            alice.post(
                f"{TP}/schedule",
                json={"input": {"input": "x"}, "type": "core:text2text", "appId": "a"},
            )
        )["task"]
        assert ("allowCleanup" in task) is (version >= 32)
        assert ("includeWatermark" in task) is (version >= 33)
        assert ("userFacingErrorMessage" in task) is (version >= 33)
        assert ("preferStreaming" in task) is (version >= 35)
        legacy = ocs_data(_schedule(alice, FREE_PROMPT, "x"))["task"]
        assert legacy["status"] == 3
