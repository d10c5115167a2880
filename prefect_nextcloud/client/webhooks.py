"""Task webhooks: the URL each task's completion is pushed to, and the check of its token.

Nextcloud (30+) calls a task's ``webhookUri`` once when the task succeeds, fails or is
cancelled, with ``{"task": {...}}`` as the body and no signature or authentication header
(``lib/private/TaskProcessing/Manager.php``, ``runWebhook``). So the URL itself carries the
proof: a token that is an HMAC-SHA256, under a secret only this package and the relay know, of
the user, app id and custom id of that one task. A token is worthless for any other task, and
the relay checks it against the task the body describes, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

__all__ = ["TASK_WEBHOOK_PATH", "task_token", "task_webhook_uri", "token_matches"]

TASK_WEBHOOK_PATH = "/nextcloud/task/"
"""The relay's path for task webhooks; the token follows it."""


def task_token(secret: str, user_id: str, app_id: str, custom_id: str) -> str:
    """The token of one task's webhook: 64 hex digits of HMAC-SHA256.

    Args:
        secret: The relay secret shared by this package and the relay.
        user_id: The Nextcloud user the task belongs to.
        app_id: The task's app id.
        custom_id: The task's custom id.
    """
    message = "\n".join(("nextcloud-task-webhook", user_id, app_id, custom_id)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def task_webhook_uri(relay_url: str, secret: str, user_id: str, app_id: str, custom_id: str) -> str:
    """The ``webhookUri`` of one task: the relay's task path and the task's token.

    Args:
        relay_url: The relay's address as Nextcloud reaches it, e.g. ``https://relay.example.com``.
        secret: The relay secret.
        user_id: The Nextcloud user the task belongs to.
        app_id: The task's app id.
        custom_id: The task's custom id.
    """
    token = task_token(secret, user_id, app_id, custom_id)
    return relay_url.rstrip("/") + TASK_WEBHOOK_PATH + quote(token)


def token_matches(token: str, secret: str, user_id: str, app_id: str, custom_id: str) -> bool:
    """Whether ``token`` is the token of that task, compared in constant time."""
    expected = task_token(secret, user_id, app_id, custom_id)
    return hmac.compare_digest(token.encode(), expected.encode())
