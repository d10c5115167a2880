"""A password written into the server URL never shows in an error, in any form or piece of it.

The block, ``from_env()`` and the clients refuse such URLs; pydantic repeats a refused input
in ``str()``, ``repr()`` and ``errors()``, and those texts end up in flow-run state messages
and logs. Every surface of every error (the chain included) is searched for the password, its
percent-encoded form and every 4-character piece of either.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import ValidationError
from security_helpers import SecretScanner, exception_chain

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import AsyncNextcloudClient, NextcloudClient
from prefect_nextcloud.flows import analyze_image

# Characters that URLs treat specially, so that every way of writing the URL is tried.
PASSWORD = "Zk9Q/w:Ry4T?p#Vb2N@m Lc8H%Jd6G"
LONG_PASSWORD = "Mv3Xy" * 60
ENCODED = quote(PASSWORD, safe="")


def url_forms(password: str) -> list[str]:
    encoded = quote(password, safe="")
    return [
        f"https://carol:{password}@cloud.example.invalid",
        f"https://carol:{encoded}@cloud.example.invalid",
        f"https://:{encoded}@cloud.example.invalid/nextcloud",
        f"https://{encoded}@cloud.example.invalid",
        f"http://carol:{encoded}@[::1]:8443/nextcloud/index.php",
        f"https://carol:{encoded}@[fe80::1%25eth0]/",
        f"https://carol:{encoded}@[::1",  # a broken IPv6 host
        f"carol:{encoded}@cloud.example.invalid",  # no scheme
        f"https://carol:{encoded}@cloud.example.invalid/" + "a" * 400,  # very long
        f"  HTTPS://carol:{encoded}@cloud.example.invalid:99999/?q=1#f  ",
    ]


URLS = url_forms(PASSWORD) + url_forms(LONG_PASSWORD)


def scanner() -> SecretScanner:
    secrets: dict[str, str] = {}
    for name, secret in [
        ("password", PASSWORD),
        ("encoded password", ENCODED),
        ("long password", LONG_PASSWORD),
    ]:
        secrets[name] = secret
        for start in range(len(secret) - 3):
            secrets[f"{name}[{start}:{start + 4}]"] = secret[start : start + 4]
    return SecretScanner(secrets)


def scan_error(found: SecretScanner, where: str, error: BaseException) -> None:
    found.scan(f"{where} format_exception", "".join(traceback.format_exception(error)))
    for depth, link in enumerate(exception_chain(error)):
        name = f"{where} {type(link).__name__}#{depth}"
        found.scan(f"{name} str", str(link))
        found.scan(f"{name} repr", repr(link))
        found.scan(f"{name} args", repr(link.args))
        found.scan(f"{name} __dict__", repr(vars(link)))
        with contextlib.suppress(TypeError, pickle.PicklingError):  # not every error pickles
            found.scan(f"{name} pickle", pickle.dumps(link))
        if isinstance(link, ValidationError):
            found.scan(f"{name} errors()", repr(link.errors()))
            found.scan(f"{name} json()", link.json())
            for item in link.errors():
                found.scan(f"{name} input", repr(item.get("input")))
                found.scan(f"{name} ctx", repr(item.get("ctx")))


def raised(build: Callable[[], Any]) -> ValueError:
    with pytest.raises(ValueError, match=r"(?i)url|user_id") as info:
        build()
    return info.value


WAYS: dict[str, Callable[[str], Any]] = {
    "block": lambda url: NextcloudCredentials(base_url=url, user_id="carol", app_password="x"),
    "block with a missing field": lambda url: NextcloudCredentials(
        base_url=url, app_password=PASSWORD
    ),
    "model_validate": lambda url: NextcloudCredentials.model_validate(
        {"base_url": url, "user_id": "carol", "app_password": PASSWORD}
    ),
    "model_validate_json": lambda url: NextcloudCredentials.model_validate_json(
        json.dumps({"base_url": url, "user_id": "carol", "app_password": PASSWORD})
    ),
    "sync client": lambda url: NextcloudClient(url, "carol", PASSWORD),
    "async client": lambda url: AsyncNextcloudClient(url, "carol", PASSWORD),
}


@pytest.mark.parametrize("way", WAYS)
def test_no_error_shows_a_password_from_the_url(way: str) -> None:
    found = scanner()
    for index, url in enumerate(URLS):
        error = raised(lambda url=url: WAYS[way](url))  # type: ignore[misc]
        scan_error(found, f"URL form {index}", error)
    assert found.scanned > 0
    found.assert_clean()


def test_no_error_of_from_env_shows_a_password_from_nextcloud_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = scanner()
    monkeypatch.setenv("NEXTCLOUD_USER", "carol")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", PASSWORD)
    for index, url in enumerate(URLS):
        monkeypatch.setenv("NEXTCLOUD_URL", url)
        error = raised(NextcloudCredentials.from_env)
        assert "NEXTCLOUD_URL is invalid" in str(error)
        scan_error(found, f"URL form {index}", error)
    found.assert_clean()


def test_the_refusal_says_what_to_do() -> None:
    error = raised(lambda: NextcloudCredentials(base_url=URLS[0], user_id="c", app_password="x"))
    assert "must not contain a user name or password" in str(error)
    assert "app_password" in str(error)


@pytest.mark.usefixtures("prefect_server")
def test_a_flow_run_state_shows_no_password_from_nextcloud_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXTCLOUD_URL", URLS[1])
    monkeypatch.setenv("NEXTCLOUD_USER", "carol")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", "an-app-password")
    state = analyze_image(prompt="?", image_file_ids=1, return_state=True)
    assert state.is_failed()
    found = scanner()
    found.scan("state message", state.message)
    with pytest.raises(ValueError, match="NEXTCLOUD_URL is invalid") as info:
        state.result()
    scan_error(found, "state result", info.value)
    found.assert_clean()
