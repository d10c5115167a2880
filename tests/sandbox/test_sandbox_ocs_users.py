"""The provisioning API's user reads: ``cloud/users/{userId}`` and ``cloud/user``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import client_for, ocs_data

from prefect_nextcloud.sandbox import NextcloudSandbox


@pytest.fixture
def alice(admin_sandbox: NextcloudSandbox) -> Iterator[httpx.Client]:
    with client_for(admin_sandbox, "alice") as client:
        yield client


@pytest.fixture
def bob(admin_sandbox: NextcloudSandbox) -> Iterator[httpx.Client]:
    with client_for(admin_sandbox, "bob") as client:
        yield client


@pytest.mark.parametrize("entry", ["v1", "v2"])
def test_a_user_reads_themselves(alice: httpx.Client, entry: str) -> None:
    response = alice.get(f"/ocs/{entry}.php/cloud/users/alice")
    assert response.status_code == 200
    data = ocs_data(response)
    assert data == ocs_data(alice.get(f"/ocs/{entry}.php/cloud/user"))
    assert (data["id"], data["displayname"], data["display-name"]) == ("alice", "alice", "alice")
    assert (data["groups"], data["language"], data["email"]) == ([], "en", None)
    assert data["quota"]["quota"] == -3
    assert data["emailScope"] == "v2-federated"  # reading oneself adds the scopes
    assert "enabled" not in data  # only admins see it


def test_another_user_is_not_found_for_a_user(alice: httpx.Client) -> None:
    v2 = alice.get("/ocs/v2.php/cloud/users/bob")
    assert v2.status_code == 404
    assert v2.json()["ocs"]["meta"] == {"status": "failure", "statuscode": 998, "message": ""}
    v1 = alice.get("/ocs/v1.php/cloud/users/bob")
    assert v1.status_code == 200
    assert v1.json()["ocs"]["meta"]["statuscode"] == 998


def test_an_unknown_user_says_so(alice: httpx.Client) -> None:
    v2 = alice.get("/ocs/v2.php/cloud/users/carol")
    assert v2.status_code == 404
    assert v2.json()["ocs"]["meta"] == {
        "status": "failure",
        "statuscode": 404,
        "message": "User does not exist",
    }
    v1 = alice.get("/ocs/v1.php/cloud/users/carol")
    assert (v1.status_code, v1.json()["ocs"]["meta"]["statuscode"]) == (200, 404)


def test_an_admin_reads_anyone(bob: httpx.Client) -> None:
    data = ocs_data(bob.get("/ocs/v2.php/cloud/users/alice"))
    assert (data["id"], data["enabled"]) == ("alice", True)
    assert data["storageLocation"] == "/var/www/html/data/alice"
    assert not [key for key in data if key.endswith("Scope")]  # another user: no scopes
    assert ocs_data(bob.get("/ocs/v2.php/cloud/user"))["groups"] == ["admin"]


def test_admins_must_be_users() -> None:
    with pytest.raises(ValueError, match="carol"):
        NextcloudSandbox(admins=["carol"])
