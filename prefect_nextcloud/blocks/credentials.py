"""The Prefect block that stores how to reach a Nextcloud server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from prefect.blocks.abstract import CredentialsBlock
from prefect.utilities.asyncutils import run_coro_as_sync
from pydantic import (
    BaseModel,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from prefect_nextcloud.client.config import (
    URL_NOT_SHOWN,
    may_hold_credentials,
    normalize_base_url,
)
from prefect_nextcloud.client.nextcloud_client import AsyncNextcloudClient, NextcloudClient
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.client.webhooks import task_webhook_uri

__all__ = [
    "RELAY_SECRET_MIN_LENGTH",
    "NextcloudCredentials",
    "check_relay_secret",
    "check_relay_url",
    "ensure_block_or_name",
    "resolve_credentials",
]

# The block fields whose environment variable is not NEXTCLOUD_ and their name in capitals.
_ENV_NAMES = {"base_url": "NEXTCLOUD_URL", "user_id": "NEXTCLOUD_USER"}


_NOT_SHOWN = "<not shown>"
RELAY_SECRET_MIN_LENGTH = 32


class _EnvironmentSettings(BaseSettings, ClientSettings):
    """The ``NEXTCLOUD_*`` environment variables (and a ``.env`` file, if present)."""

    model_config = SettingsConfigDict(env_prefix="NEXTCLOUD_", env_file=".env", extra="ignore")

    url: str
    user: str
    app_password: SecretStr
    relay_url: str | None = None
    relay_secret: SecretStr | None = None


class _Account(BaseModel):
    """The server and the login: the first fields of the block's form."""

    base_url: str = Field(
        title="Server URL",
        description=(
            "The address of the Nextcloud server, e.g. https://cloud.example.com or "
            "https://example.com/nextcloud; a trailing /index.php is removed."
        ),
    )
    user_id: str = Field(title="User", description="The Nextcloud login name of the user.")
    app_password: SecretStr = Field(
        title="App password",
        description="An app password of that user (Personal settings > Security).",
    )


def check_relay_url(value: str) -> str:
    """Check the relay's address and return it without a trailing slash.

    Raises:
        ValueError: It is not an http(s) address, or it carries a login, query or fragment.
    """
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("relay_url must be an http:// or https:// address.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("relay_url must not carry a login, a query or a fragment.")
    return value.rstrip("/")


def check_relay_secret(value: SecretStr) -> SecretStr:
    """Check that the relay secret is long enough; the error never repeats it.

    Raises:
        ValueError: It has fewer than :data:`RELAY_SECRET_MIN_LENGTH` characters.
    """
    if len(value.get_secret_value()) < RELAY_SECRET_MIN_LENGTH:
        raise ValueError(
            f"relay_secret must have at least {RELAY_SECRET_MIN_LENGTH} characters; "
            "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


class _Relay(BaseModel):
    """Where Nextcloud pushes task completion: optional fields, after the login."""

    relay_url: str | None = Field(
        default=None,
        title="Relay URL",
        description=(
            "The address at which Nextcloud reaches `prefect-nextcloud relay`, e.g. "
            "https://relay.example.com. When set (with the relay secret), each task asks "
            "Nextcloud to push its completion there, so answers are known at once; polling "
            "stays the fallback."
        ),
    )
    relay_secret: SecretStr | None = Field(
        default=None,
        title="Relay secret",
        description=(
            "The secret the relay shares (at least 32 characters); each task's webhook URL "
            "carries a token made from it that is worthless for any other task."
        ),
    )

    @field_validator("relay_url")
    @classmethod
    def _check_relay_url(cls, value: str | None) -> str | None:
        return None if value is None else check_relay_url(value)

    @field_validator("relay_secret")
    @classmethod
    def _check_relay_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else check_relay_secret(value)

    def task_webhook_uri(self, user_id: str, app_id: str, custom_id: str) -> str | None:
        """The ``webhookUri`` for one task, or ``None`` when no relay is configured.

        Args:
            user_id: The Nextcloud user the task belongs to.
            app_id: The task's app id.
            custom_id: The task's custom id.
        """
        if self.relay_url is None or self.relay_secret is None:
            return None
        secret = self.relay_secret.get_secret_value()
        return task_webhook_uri(self.relay_url, secret, user_id, app_id, custom_id)


class NextcloudCredentials(CredentialsBlock, ClientSettings, _Relay, _Account):
    """How to reach a Nextcloud server: its address, a user and an app password.

    Create the app password in Nextcloud under Personal settings > Security > Devices &
    sessions; a normal login password fails when two-factor authentication is on.

    Example:
        Load saved credentials and list the task types the server offers:
        ```python
        from prefect_nextcloud import NextcloudCredentials

        credentials = NextcloudCredentials.load("BLOCK_NAME")
        with credentials.get_client() as client:
            print(sorted(client.get_task_types()))
        ```
    """

    _block_type_name = "Nextcloud Credentials"
    # No _logo_url: Prefect only takes a remote image, which shows broken on offline servers.
    _documentation_url = HttpUrl(
        "https://docs.nextcloud.com/server/latest/developer_manual/client_apis/OCS/"
        "ocs-taskprocessing-api.html"
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_secrets_out_of_errors(cls, data: Any) -> Any:
        # Validation errors repeat their input (in str(), repr(), errors() and pickles), and
        # they end up in flow-run state messages and logs. A URL that may carry a password is
        # replaced before its check; when a field is missing, the error repeats all the input,
        # so the app password is replaced too (validation fails anyway).
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if "base_url" in data and may_hold_credentials(data["base_url"]):
            data["base_url"] = URL_NOT_SHOWN
        required = [name for name, field in cls.model_fields.items() if field.is_required()]
        if not all(name in data for name in required):
            for secret in ("app_password", "relay_secret"):
                if data.get(secret) is not None:
                    data[secret] = _NOT_SHOWN
        relay_secret = data.get("relay_secret")
        if isinstance(relay_secret, SecretStr):
            relay_secret = relay_secret.get_secret_value()
        if isinstance(relay_secret, str) and len(relay_secret) < RELAY_SECRET_MIN_LENGTH:
            data["relay_secret"] = _NOT_SHOWN  # too short: its own error must not repeat it
        return data

    @field_validator("base_url")
    @classmethod
    def _normalize_base_url(cls, value: str) -> str:
        return normalize_base_url(value)

    @classmethod
    def from_env(cls) -> NextcloudCredentials:
        """Build credentials from ``NEXTCLOUD_*`` environment variables.

        Reads ``NEXTCLOUD_URL``, ``NEXTCLOUD_USER`` and ``NEXTCLOUD_APP_PASSWORD``, and
        optionally any setting in capitals, e.g. ``NEXTCLOUD_VERIFY_TLS``,
        ``NEXTCLOUD_CA_BUNDLE``, ``NEXTCLOUD_TIMEOUT_SECONDS`` or
        ``NEXTCLOUD_ALLOW_INSECURE_HTTP``.

        Returns:
            The credentials.

        Raises:
            ValueError: A variable is missing or invalid; the message names each one.
        """
        try:
            settings = _EnvironmentSettings()
            credentials = cls(
                base_url=settings.url,
                user_id=settings.user,
                app_password=settings.app_password,
                relay_url=settings.relay_url,
                relay_secret=settings.relay_secret,
                **settings.client_settings().model_dump(),
            )
        except ValidationError as error:
            # Only the messages: the inputs may hold the password (see above).
            problems = []
            for item in error.errors():
                field = str(item["loc"][0]) if item["loc"] else ""
                name = _ENV_NAMES.get(field, f"NEXTCLOUD_{field.upper()}")
                message = item["msg"].removeprefix("Value error, ").rstrip(".")
                reason = "is not set" if item["type"] == "missing" else f"is invalid: {message}"
                problems.append(f"{name} {reason}")
            raise ValueError(
                "Cannot build Nextcloud credentials from the environment: "
                + "; ".join(problems)
                + ". Set NEXTCLOUD_URL, NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD."
            ) from None
        return credentials

    def _client_arguments(self) -> dict[str, Any]:
        # The only place where the app password is unwrapped.
        return {
            "base_url": self.base_url,
            "user_id": self.user_id,
            "app_password": self.app_password.get_secret_value(),
            "settings": self.client_settings(),
        }

    def get_client(self) -> NextcloudClient:
        """Return a new synchronous client; use it as a context manager.

        Returns:
            A :class:`~prefect_nextcloud.client.NextcloudClient` with its own connection pool.
        """
        return NextcloudClient(**self._client_arguments())

    def get_async_client(self) -> AsyncNextcloudClient:
        """Return a new asynchronous client; use it as an async context manager.

        Returns:
            An :class:`~prefect_nextcloud.client.AsyncNextcloudClient`.
        """
        return AsyncNextcloudClient(**self._client_arguments())


def ensure_block_or_name(credentials: object) -> NextcloudCredentials | str | None:
    """Check that credentials are given as a block, a saved block's name or ``None``.

    A flow run's parameters are stored in Prefect, readable by anyone who can read the run, so
    the block's fields written out (a ``dict`` holding the app password) are refused.

    Args:
        credentials: What a flow or a task was given as its credentials.

    Returns:
        The credentials, unchanged.

    Raises:
        TypeError: They are anything else. The message names only their type, never their
            content.
    """
    if credentials is None or isinstance(credentials, NextcloudCredentials | str):
        return credentials
    raise TypeError(
        "credentials must be a Nextcloud Credentials block or the name of a saved one, not a "
        f"value of type {type(credentials).__name__}: a flow run's parameters are stored in "
        "Prefect, readable by anyone who can read the run, and must not hold the app password. "
        "Save the credentials once, with NextcloudCredentials(base_url=..., user_id=..., "
        'app_password=...).save("nextcloud") or `prefect block create nextcloud-credentials`, '
        'then pass the block or its name ("nextcloud").'
    )


def resolve_credentials(credentials: NextcloudCredentials | str | None) -> NextcloudCredentials:
    """Turn a flow's ``credentials`` parameter into credentials.

    Args:
        credentials: A block, the name of a saved block, or ``None`` to read the
            ``NEXTCLOUD_*`` environment variables.

    Returns:
        The credentials.

    Raises:
        TypeError: ``credentials`` is none of these, e.g. the block's fields as a ``dict``
            (see :func:`ensure_block_or_name`).
    """
    credentials = ensure_block_or_name(credentials)
    if isinstance(credentials, NextcloudCredentials):
        return credentials
    if isinstance(credentials, str):
        # Block.load returns a coroutine in async contexts; aload, run to its end, works in any.
        return cast(NextcloudCredentials, run_coro_as_sync(NextcloudCredentials.aload(credentials)))
    return NextcloudCredentials.from_env()
