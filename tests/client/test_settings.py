"""One settings model for the block, both clients and the environment."""

from __future__ import annotations

import asyncio

import pytest

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import AsyncNextcloudClient, NextcloudClient
from prefect_nextcloud.client.settings import ClientSettings

ACCOUNT = {"base_url": "https://cloud.example.invalid", "user_id": "u", "app_password": "p"}


def test_the_block_form_is_the_account_the_relay_then_every_setting() -> None:
    assert list(NextcloudCredentials.model_fields) == [
        "base_url",
        "user_id",
        "app_password",
        "relay_url",
        "relay_secret",
        *ClientSettings.model_fields,
    ]


@pytest.mark.parametrize("face", [NextcloudClient, AsyncNextcloudClient])
def test_a_client_takes_its_settings_as_one_value(face: type) -> None:
    client = face(*ACCOUNT.values(), settings=ClientSettings(timeout_seconds=5))
    assert client.timeout_seconds == 5
    with pytest.raises(TypeError):
        face(*ACCOUNT.values(), timeout_seconds=5)


def test_an_invalid_setting_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="timeout_seconds"):
        ClientSettings(timeout_seconds=0)


def test_the_block_hands_its_account_and_every_setting_to_both_clients() -> None:
    credentials = NextcloudCredentials(
        **ACCOUNT, timeout_seconds=7, max_download_bytes=10, retry_seconds=3, schedule_limit=4
    )
    async_client = credentials.get_async_client()
    asyncio.run(async_client.aclose())
    assert isinstance(async_client, AsyncNextcloudClient)
    with credentials.get_client() as client:
        assert isinstance(client, NextcloudClient)
    for built in (client, async_client):
        assert (built.base_url, built.user_id) == (ACCOUNT["base_url"], ACCOUNT["user_id"])
        assert (built.timeout_seconds, built.max_download_bytes) == (7, 10)
        assert built.schedule_pacer.limit == 4


def test_from_env_reads_any_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTCLOUD_URL", ACCOUNT["base_url"])
    monkeypatch.setenv("NEXTCLOUD_USER", "u")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", "p")
    monkeypatch.setenv("NEXTCLOUD_RETRY_SECONDS", "9")
    monkeypatch.setenv("NEXTCLOUD_SCHEDULE_LIMIT", "0")
    with pytest.raises(ValueError, match="NEXTCLOUD_SCHEDULE_LIMIT is invalid"):
        NextcloudCredentials.from_env()
    monkeypatch.setenv("NEXTCLOUD_SCHEDULE_LIMIT", "5")
    credentials = NextcloudCredentials.from_env()
    assert (credentials.retry_seconds, credentials.schedule_limit) == (9, 5)
