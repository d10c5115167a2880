"""The client's settings, each written once: the block's form, the clients and the environment."""

from __future__ import annotations

from pydantic import BaseModel, Field

from prefect_nextcloud.client.pacing import DEFAULT_SCHEDULE_LIMIT, DEFAULT_SCHEDULE_WINDOW_SECONDS
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.streams import DEFAULT_MAX_DOWNLOAD_BYTES

__all__ = ["ClientSettings"]


class ClientSettings(BaseModel):
    """How a client talks to its server: TLS, time limits, retries, download cap and pacing.

    The fields of :class:`~prefect_nextcloud.NextcloudCredentials` beyond the address and the
    login, the keyword arguments of both clients, and ``NEXTCLOUD_*`` variables of
    ``NextcloudCredentials.from_env()``.
    """

    verify_tls: bool = Field(
        default=True,
        title="Verify TLS",
        description="Whether to check the server's TLS certificate; turn off only for tests.",
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description="Path to a PEM file of trusted certificate authorities, for private CAs.",
    )
    timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        title="HTTP timeout (seconds)",
        description=(
            "How long a single HTTP request may take in all: connecting, sending and the whole "
            "answer (raise it for large files)."
        ),
    )
    allow_insecure_http: bool = Field(
        default=False,
        title="Allow plain HTTP",
        description=(
            "Allow http:// to hosts other than this machine; the password then travels in "
            "clear text."
        ),
    )

    max_download_bytes: int = Field(
        default=DEFAULT_MAX_DOWNLOAD_BYTES,
        gt=0,
        title="Download limit (bytes)",
        description="The largest answer or file a download may bring; larger ones are cut off.",
    )
    retry_seconds: float = Field(
        default=120.0,
        ge=0,
        allow_inf_nan=False,
        title="Retry for (seconds)",
        description=(
            "How long a call that fails for a passing reason (network, 502, 503, 504) is retried, "
            "with growing waits."
        ),
    )
    retry_initial_delay_seconds: float = Field(
        default=1.0,
        gt=0,
        allow_inf_nan=False,
        title="First retry after (seconds)",
        description="The first wait before a retry; each further wait doubles, up to 30 s.",
    )
    rate_limit_wait_seconds: float = Field(
        default=360.0,
        ge=0,
        allow_inf_nan=False,
        title="Wait out rate limits for (seconds)",
        description=(
            "How long to keep waiting out Nextcloud's schedule rate limit (20 per user in 120 s) "
            "before failing."
        ),
    )

    schedule_limit: int = Field(
        default=DEFAULT_SCHEDULE_LIMIT,
        ge=1,
        title="Schedule limit",
        description=(
            "How many tasks this user may schedule per window: the server's rate limit "
            "(Nextcloud: 20). Every flow in a process keeps within it together."
        ),
    )
    schedule_window_seconds: float = Field(
        default=DEFAULT_SCHEDULE_WINDOW_SECONDS,
        gt=0,
        allow_inf_nan=False,
        title="Schedule window (seconds)",
        description="The sliding window of the schedule limit (Nextcloud: 120 s).",
    )

    def client_settings(self) -> ClientSettings:
        """These settings alone, as a client takes them (a block holds more fields)."""
        return ClientSettings.model_validate(
            {name: getattr(self, name) for name in ClientSettings.model_fields}
        )

    def retry_policy(self) -> RetryPolicy:
        """The retry policy these settings describe."""
        return RetryPolicy(
            max_elapsed_seconds=self.retry_seconds,
            initial_delay_seconds=self.retry_initial_delay_seconds,
            rate_limit_seconds=self.rate_limit_wait_seconds,
        )
