"""What the relay needs to know: the Nextcloud server it serves and the secret it shares."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from prefect_nextcloud.blocks.credentials import (
    check_relay_secret,
    check_relay_url,
    resolve_credentials,
)
from prefect_nextcloud.client.config import normalize_base_url

__all__ = ["RelayConfig", "load_relay_config"]


@dataclass(frozen=True)
class RelayConfig:
    """The relay's settings.

    Attributes:
        server_url: The Nextcloud server whose pushes the relay takes; its host names the
            events' resources, as in the events the batch engine emits.
        secret: The relay secret: each task's webhook token and the file events' header value
            are derived from it.
        public_url: The relay's address as Nextcloud reaches it (the block's ``relay_url``),
            needed only to print the listener registration.
    """

    server_url: str
    secret: SecretStr
    public_url: str | None = None


class _RelayEnvironment(BaseSettings):
    """The ``NEXTCLOUD_*`` variables the relay reads; it never needs the app password."""

    model_config = SettingsConfigDict(env_prefix="NEXTCLOUD_", env_file=".env", extra="ignore")

    url: str | None = None
    relay_secret: SecretStr | None = None
    relay_url: str | None = None


def load_relay_config(credentials_name: str | None) -> RelayConfig:
    """Read the relay's settings from a saved credentials block or the environment.

    Args:
        credentials_name: The name of a saved "Nextcloud Credentials" block, or None to read
            ``NEXTCLOUD_URL``, ``NEXTCLOUD_RELAY_SECRET`` and ``NEXTCLOUD_RELAY_URL`` (the
            relay never calls Nextcloud, so it needs no user or app password).

    Returns:
        The settings.

    Raises:
        ValueError: The server address or the relay secret is missing or invalid; the message
            says where to set it and never repeats the secret.
    """
    if credentials_name is not None:
        credentials = resolve_credentials(credentials_name)
        return _checked(
            f"The credentials block {credentials_name!r}",
            "its relay_secret field",
            credentials.base_url,
            credentials.relay_secret,
            credentials.relay_url,
        )
    environment = _RelayEnvironment()
    return _checked(
        "The environment",
        "NEXTCLOUD_RELAY_SECRET",
        environment.url,
        environment.relay_secret,
        environment.relay_url,
    )


def _checked(
    source: str,
    secret_name: str,
    server_url: str | None,
    secret: SecretStr | None,
    public_url: str | None,
) -> RelayConfig:
    if not server_url:
        raise ValueError(f"{source} does not name the Nextcloud server: set NEXTCLOUD_URL.")
    if secret is None:
        raise ValueError(
            f"{source} has no relay secret: set {secret_name} (at least 32 characters, the "
            "value the flows' credentials block holds)."
        )
    try:
        check_relay_secret(secret)
    except ValueError as error:
        raise ValueError(f"{source}: {secret_name} is too short; {error}") from None
    return RelayConfig(
        server_url=normalize_base_url(server_url),
        secret=secret,
        public_url=None if public_url is None else check_relay_url(public_url),
    )
