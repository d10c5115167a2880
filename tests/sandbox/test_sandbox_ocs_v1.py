"""/ocs/v1.php, the /cloud endpoints, and anonymous access on 30 and 31."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from sandbox_helpers import TP, client_for, ocs_data

from prefect_nextcloud.sandbox import NextcloudSandbox

V1 = "/ocs/v1.php"
HEADERS = {"OCS-APIRequest": "true", "Accept": "application/json"}


def test_v1_success_is_statuscode_100(alice: httpx.Client) -> None:
    response = alice.get(f"{V1}/taskprocessing/tasktypes")
    assert response.status_code == 200
    meta = response.json()["ocs"]["meta"]
    assert meta == {
        "status": "ok",
        "statuscode": 100,
        "message": "OK",
        "totalitems": "",
        "itemsperpage": "",
    }
    assert "core:text2text" in ocs_data(response)["types"]


def test_v1_controller_errors_are_http_200(alice: httpx.Client) -> None:
    response = alice.get(f"{V1}/taskprocessing/task/999999")
    assert response.status_code == 200
    assert response.json()["ocs"] == {
        "meta": {
            "status": "failure",
            "statuscode": 404,
            "message": "",
            "totalitems": "",
            "itemsperpage": "",
        },
        "data": {"message": "Task not found"},
    }


def test_v1_schedule_validation_error(alice: httpx.Client) -> None:
    body = {"input": {}, "type": "core:text2text", "appId": "x"}
    response = alice.post(f"{V1}/taskprocessing/schedule", json=body)
    assert response.status_code == 200
    assert response.json()["ocs"]["meta"]["statuscode"] == 400
    assert ocs_data(response) == {"message": 'Missing key: "input"'}


def test_v1_not_logged_in_is_still_401(sb: NextcloudSandbox) -> None:
    response = httpx.get(f"{sb.base_url}{V1}/taskprocessing/tasks", headers=HEADERS)
    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997
    assert response.json()["ocs"]["meta"]["message"] == "Current user is not logged in"


def test_v1_unknown_route_keeps_998_with_http_200(alice: httpx.Client) -> None:
    response = alice.get(f"{V1}/nothing/here", params={"format": "json"})
    assert response.status_code == 200
    meta = response.json()["ocs"]["meta"]
    assert meta["statuscode"] == 998
    assert meta["message"].startswith("Invalid query, please check the syntax.")
    assert "totalitems" not in meta


def test_v1_xml_envelope(alice: httpx.Client) -> None:
    response = alice.get(f"{V1}/cloud/user", headers={"Accept": "application/xml"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.text.startswith(
        '<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>ok</status>\n'
        "  <statuscode>100</statuscode>\n  <message>OK</message>\n"
        "  <totalitems></totalitems>\n  <itemsperpage></itemsperpage>\n </meta>\n"
    )
    assert "  <id>alice</id>\n" in response.text


def test_v1_csrf_and_rate_limit_answers_are_not_rewritten(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{V1}/taskprocessing/tasks", auth=("alice", sb.app_password_of("alice"))
    )
    assert response.status_code == 412
    assert response.json() == {"message": "CSRF check failed"}


@pytest.mark.parametrize("entry", ["v1", "v2"])
def test_cloud_user(sb: NextcloudSandbox, alice: httpx.Client, entry: str) -> None:
    sb.upload("user-quota.bin", b"12345")
    user = ocs_data(alice.get(f"/ocs/{entry}.php/cloud/user"))
    assert user["id"] == "alice"
    assert user["display-name"] == user["displayname"] == "alice"
    assert user["email"] is None
    assert user["quota"]["used"] >= 5
    assert user["quota"]["quota"] == -3
    assert user["backendCapabilities"] == {"setDisplayName": True, "setPassword": True}


def test_cloud_user_needs_login(sb: NextcloudSandbox) -> None:
    response = httpx.get(f"{sb.base_url}/ocs/v2.php/cloud/user", headers=HEADERS)
    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


def test_capabilities_for_users(alice: httpx.Client) -> None:
    response = alice.get(f"{V1}/cloud/capabilities")
    data = ocs_data(response)
    assert data["version"]["major"] == 33
    capabilities = data["capabilities"]
    assert capabilities["core"]["pollinterval"] == 60
    assert capabilities["core"]["webdav-root"] == "remote.php/webdav"
    assert capabilities["dav"] == {"chunking": "1.0"}
    assert capabilities["files"]["bigfilechunking"] is True
    assert capabilities["files"]["forbidden_filename_characters"] == ["\\", "/"]
    assert capabilities["files"]["chunked_upload"] == {
        "max_size": 100 * 1024 * 1024,
        "max_parallel_count": 5,
    }
    # The trash bin and versions, as files_trashbin and files_versions announce them.
    assert capabilities["files"]["undelete"] is True
    assert capabilities["files"]["versioning"] is True
    assert response.headers["etag"].startswith('"')


@pytest.mark.parametrize("entry", ["/ocs/v1.php", "/ocs/v2.php"])
def test_capabilities_as_xml_are_well_formed(alice: httpx.Client, entry: str) -> None:
    response = alice.get(f"{entry}/cloud/capabilities", params={"format": "xml"})
    assert response.status_code == 200
    files = ET.fromstring(response.content).find("data/capabilities/files")
    assert files is not None
    assert [element.tag for element in files][:2] == ["blacklisted_files", "forbidden_filenames"]
    # BaseResponse::toXML writes the "$comment" key as an XML comment, indented like its siblings.
    assert (
        "   <files>\n"
        '    <!--"blacklisted_files" is deprecated as of Nextcloud 30, use "forbidden_filenames" '
        "instead-->\n"
        "    <blacklisted_files>\n"
    ) in response.text


def test_anonymous_capabilities_are_only_the_public_ones(sb: NextcloudSandbox) -> None:
    data = ocs_data(httpx.get(f"{sb.base_url}/ocs/v2.php/cloud/capabilities", headers=HEADERS))
    assert set(data["capabilities"]) == {"bruteforce"}
    assert data["version"]["string"] == "33.0.0"


def test_capabilities_by_version() -> None:
    with NextcloudSandbox(server_version=30) as sandbox, client_for(sandbox, "alice") as alice:
        files = ocs_data(alice.get("/ocs/v2.php/cloud/capabilities"))["capabilities"]["files"]
        assert files["forbidden_filenames"] == [".htaccess"]
        assert "chunked_upload" not in files
    with NextcloudSandbox(server_version=28) as sandbox, client_for(sandbox, "alice") as alice:
        files = ocs_data(alice.get("/ocs/v2.php/cloud/capabilities"))["capabilities"]["files"]
        assert "forbidden_filenames" not in files
        assert files["bigfilechunking"] is True


@pytest.mark.parametrize("version", [30, 31])
def test_anonymous_task_processing_on_30_and_31(version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox:
        anonymous = httpx.Client(base_url=sandbox.base_url, headers=HEADERS, timeout=5)
        with anonymous:
            assert "core:text2text" in ocs_data(anonymous.get(f"{TP}/tasktypes"))["types"]
            body = {"input": {"input": "hi"}, "type": "core:text2text", "appId": "anon"}
            task = ocs_data(anonymous.post(f"{TP}/schedule", json=body))["task"]
            assert task["userId"] is None
            sandbox.wait_for_status(task["id"], "SUCCESSFUL")
            fetched = ocs_data(anonymous.get(f"{TP}/task/{task['id']}"))["task"]
            assert fetched["status"] == "STATUS_SUCCESSFUL"
            # The anonymous limit: 5 schedules per 120 s, then an empty 429.
            statuses = [anonymous.post(f"{TP}/schedule", json=body).status_code for _ in range(5)]
            assert statuses == [200, 200, 200, 200, 429]
            # Listing stays for users only.
            assert anonymous.get(f"{TP}/tasks").status_code == 401
        with client_for(sandbox, "alice") as alice:
            # A user does not see anonymous tasks, and users keep their own, larger limit.
            assert alice.get(f"{TP}/task/{task['id']}").status_code == 404
            assert alice.post(f"{TP}/schedule", json=body).status_code == 200


def test_anonymous_callers_cannot_reference_files() -> None:
    with NextcloudSandbox(server_version=31) as sandbox:
        audio = sandbox.upload("a.wav", b"RIFF0000WAVE")
        body = {"input": {"input": audio}, "type": "core:audio2text", "appId": "a"}
        response = httpx.post(f"{sandbox.base_url}{TP}/schedule", json=body, headers=HEADERS)
        assert response.status_code == 401
        assert ocs_data(response) == {
            "message": "User does not have access to the files mentioned in the task input"
        }


@pytest.mark.parametrize(("version", "option"), [(32, None), (33, None), (30, False)])
def test_anonymous_access_is_off(version: int, option: bool | None) -> None:
    with NextcloudSandbox(server_version=version, anonymous_access=option) as sandbox:
        response = httpx.get(f"{sandbox.base_url}{TP}/tasktypes", headers=HEADERS)
        assert response.status_code == 401
        assert response.json()["ocs"]["meta"]["statuscode"] == 997
