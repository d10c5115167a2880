"""The credentials block: Prefect's block standards, URL handling, the TLS warning, environment."""

from __future__ import annotations

import warnings

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from prefect_nextcloud import NextcloudCredentials

SECRET = "Sk9Wq-Ee3Rr-Tt6Yy-Uu1Ii-Oo2Pp"


class TestBlockStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self) -> type[NextcloudCredentials]:
        return NextcloudCredentials

    def test_has_a_valid_image(self, block: type[NextcloudCredentials]) -> None:
        pytest.skip(
            "Prefect's standard downloads the block's logo; the block has none, since a Prefect "
            "server without internet access would show a remote logo broken."
        )


def make(base_url: str = "https://cloud.example.com", **fields: object) -> NextcloudCredentials:
    return NextcloudCredentials(base_url=base_url, user_id="alice", app_password=SECRET, **fields)


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://cloud.example.com", "https://cloud.example.com"),
        ("https://cloud.example.com/", "https://cloud.example.com"),
        ("https://cloud.example.com/index.php", "https://cloud.example.com"),
        ("https://cloud.example.com/index.php/", "https://cloud.example.com"),
        ("https://example.com/nextcloud/", "https://example.com/nextcloud"),
        ("https://example.com/nextcloud/index.php", "https://example.com/nextcloud"),
        ("  http://127.0.0.1:8080//  ", "http://127.0.0.1:8080"),
    ],
)
def test_base_url_is_normalised_to_the_server_root(given: str, root: str) -> None:
    assert make(given).base_url == root


@pytest.mark.parametrize(
    "bad", ["cloud.example.com", "ftp://cloud.example.com", "https://", "https://host/?a=1"]
)
def test_base_url_that_is_not_http_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="Nextcloud URL"):
        make(bad)


def test_turning_tls_verification_off_warns_once_per_server() -> None:
    credentials = make("https://insecure.example.com", verify_tls=False)
    with pytest.warns(UserWarning, match="verification is OFF"):
        credentials.get_client().close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        credentials.get_client().close()


def test_from_env_reads_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTCLOUD_URL", "https://cloud.example.com/index.php")
    monkeypatch.setenv("NEXTCLOUD_USER", "alice")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", SECRET)
    monkeypatch.setenv("NEXTCLOUD_VERIFY_TLS", "false")
    monkeypatch.setenv("NEXTCLOUD_TIMEOUT_SECONDS", "12.5")
    credentials = NextcloudCredentials.from_env()
    assert credentials.base_url == "https://cloud.example.com"
    assert credentials.user_id == "alice"
    assert credentials.app_password.get_secret_value() == SECRET
    assert credentials.verify_tls is False
    assert credentials.timeout_seconds == 12.5


def test_from_env_names_each_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEXTCLOUD_URL", "NEXTCLOUD_USER", "NEXTCLOUD_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEXTCLOUD_USER", "alice")
    with pytest.raises(ValueError, match="NEXTCLOUD_URL is not set") as info:
        NextcloudCredentials.from_env()
    assert "NEXTCLOUD_APP_PASSWORD is not set" in str(info.value)
    assert "NEXTCLOUD_USER is not set" not in str(info.value)


def test_from_env_reports_invalid_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTCLOUD_URL", "https://cloud.example.com")
    monkeypatch.setenv("NEXTCLOUD_USER", "alice")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", SECRET)
    monkeypatch.setenv("NEXTCLOUD_TIMEOUT_SECONDS", "soon")
    with pytest.raises(ValueError, match="NEXTCLOUD_TIMEOUT_SECONDS is invalid"):
        NextcloudCredentials.from_env()
