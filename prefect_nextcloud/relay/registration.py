"""The admin calls that register the relay's listeners in Nextcloud's ``webhook_listeners``."""

from __future__ import annotations

import json
import shlex

from prefect_nextcloud.relay.app import FILE_EVENTS_PATH
from prefect_nextcloud.relay.config import RelayConfig
from prefect_nextcloud.relay.file_events import (
    FILE_EVENT_CLASSES,
    FILE_EVENTS_HEADER,
    file_events_token,
)

__all__ = ["LISTENERS_PATH", "USER_FILES_FILTER", "listener_registration_commands"]

LISTENERS_PATH = "/ocs/v2.php/apps/webhook_listeners/api/v1/webhooks"
"""The app's registration endpoint (admins only)."""
USER_FILES_FILTER = {"event.node.path": "/^\\/[^\\/]+\\/files\\//"}
"""Only files in users' homes: previews and other app data never reach the relay."""


def listener_registration_commands(config: RelayConfig) -> str:
    """One ``curl`` call per file event class, to run once as a Nextcloud admin.

    The admin's login comes from ``$NEXTCLOUD_ADMIN_USER`` and ``$NEXTCLOUD_ADMIN_PASSWORD``
    (an app password of an admin). Each call registers a listener that sends that event class to
    the relay's file path with the relay's header; the header's value is derived from the relay
    secret, so the output is as confidential as the secret itself.

    Args:
        config: The relay's settings; ``public_url`` is required.

    Returns:
        The shell commands, one per line.

    Raises:
        ValueError: The relay's public address is not configured.
    """
    if config.public_url is None:
        raise ValueError(
            "The relay's address as Nextcloud reaches it is not set: set relay_url in the "
            "credentials block, or NEXTCLOUD_RELAY_URL, e.g. https://relay.example.com."
        )
    token = file_events_token(config.secret.get_secret_value())
    lines = []
    for event_class in FILE_EVENT_CLASSES:
        body = {
            "httpMethod": "POST",
            "uri": config.public_url + FILE_EVENTS_PATH,
            "event": event_class,
            "eventFilter": USER_FILES_FILTER,
            "authMethod": "header",
            "authData": {FILE_EVENTS_HEADER: token},
        }
        lines.append(
            'curl -sS -u "$NEXTCLOUD_ADMIN_USER:$NEXTCLOUD_ADMIN_PASSWORD" '
            "-H 'OCS-APIRequest: true' -H 'Accept: application/json' "
            "-H 'Content-Type: application/json' "
            f"-X POST {shlex.quote(config.server_url + LISTENERS_PATH)} "
            f"--data {shlex.quote(json.dumps(body))}"
        )
    return "\n".join(lines)
