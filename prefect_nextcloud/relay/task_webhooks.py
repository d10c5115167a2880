"""Task webhooks: the body Nextcloud sends when a task ends, checked against the URL's token.

Nextcloud calls a task's ``webhookUri`` once, when the task succeeds, fails or is cancelled,
with ``{"task": {...}}`` and no signature (``Manager::runWebhook``). The token in the URL is an
HMAC of the task's user, app id and custom id under the relay secret
(:mod:`prefect_nextcloud.client.webhooks`), so only a body describing that task passes.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from prefect_nextcloud.client.models import Task
from prefect_nextcloud.client.webhooks import token_matches
from prefect_nextcloud.relay.answers import Ignored, Refused
from prefect_nextcloud.relay.config import RelayConfig
from prefect_nextcloud.tasks.events import ENDED_STATUSES, NextcloudEvent, task_event

__all__ = ["check_token_form", "read_task", "task_webhook_event"]

_TOKEN = re.compile(r"[0-9a-f]{64}\Z")
_FORGED = "the token in the path does not belong to this task's user, app id and custom id"


def check_token_form(token: str) -> None:
    """Refuse a path whose token cannot be one (64 hex digits) before reading the body.

    Raises:
        Refused: 403.
    """
    if not _TOKEN.match(token):
        raise Refused(403, _FORGED)


def read_task(body: Any) -> Task:
    """The task of a webhook body, ``{"task": {...}}`` as Nextcloud sends it.

    Raises:
        Refused: 400 when the body has another shape; the reason names the fields, never their
            values (a task's input may be private).
    """
    if not isinstance(body, dict) or not isinstance(body.get("task"), dict):
        raise Refused(400, 'the body is not {"task": {...}} as Nextcloud sends it')
    try:
        return Task.model_validate(body["task"])
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
        raise Refused(400, f"the task is not valid: {', '.join(fields)}") from None


def task_webhook_event(config: RelayConfig, token: str, body: Any) -> NextcloudEvent:
    """The event a task webhook reports, once its token proves it genuine.

    Args:
        config: The relay's settings.
        token: The token from the webhook's path.
        body: The decoded body.

    Returns:
        ``nextcloud.task.succeeded``, ``.failed`` or ``.cancelled`` for the task.

    Raises:
        Refused: 400 for a body of another shape, 403 when the token is not the task's (or the
            task has no user, so no token can be its own).
        Ignored: The task has not ended; Nextcloud pushes only ends.
    """
    task = read_task(body)
    secret = config.secret.get_secret_value()
    custom_id = task.custom_id or ""
    if task.user_id is None or not token_matches(
        token, secret, task.user_id, task.app_id, custom_id
    ):
        raise Refused(403, _FORGED)
    status = ENDED_STATUSES.get(task.status)
    if status is None:
        raise Ignored(f"task {task.id} has not ended ({task.status.value})")
    return task_event(config.server_url, task.user_id, task, status)
