"""File events of Nextcloud's ``webhook_listeners`` app, checked by the header they carry.

A registered listener sends, from a background job, ``{"event": {"node": {"id", "path"},
"class"}, "user": {"uid", "displayName"} | null, "time"}`` with the headers given at
registration (``WebhookCall``). The relay's listeners are registered with one header whose
value is derived from the relay secret (:func:`file_events_token`), so one secret is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prefect_nextcloud.relay.answers import Ignored, Refused
from prefect_nextcloud.relay.config import RelayConfig
from prefect_nextcloud.tasks.events import FileChange, NextcloudEvent, file_event

__all__ = [
    "FILE_EVENTS_HEADER",
    "FILE_EVENT_CLASSES",
    "check_file_events_header",
    "file_change",
    "file_events_event",
    "file_events_token",
]

FILE_EVENTS_HEADER = "X-Relay-Token"
"""The header the relay's listeners are registered with (``authMethod: header``)."""
FILE_EVENT_CLASSES = {
    "OCP\\Files\\Events\\Node\\NodeCreatedEvent": "created",
    "OCP\\Files\\Events\\Node\\NodeWrittenEvent": "changed",
    "OCP\\Files\\Events\\Node\\NodeDeletedEvent": "deleted",
}
"""The event classes the relay relays, and the event name suffix of each."""

# Nextcloud's internal path of a user's file: /<uid>/files/<path below the home>.
_USER_FILE = re.compile(r"/([^/]+)/files(/.*)?\Z", re.DOTALL)


def file_events_token(secret: str) -> str:
    """The value of :data:`FILE_EVENTS_HEADER`: 64 hex digits of HMAC-SHA256 of the secret.

    Derived from the relay secret under a label of its own, so it differs from every task's
    token and does not reveal the secret.
    """
    return hmac.new(secret.encode(), b"nextcloud-file-events", hashlib.sha256).hexdigest()


def check_file_events_header(value: str | None, secret: str) -> None:
    """Refuse a file event without the registered header, comparing in constant time.

    Raises:
        Refused: 403.
    """
    expected = file_events_token(secret)
    if value is None or not hmac.compare_digest(value.encode(), expected.encode()):
        raise Refused(403, f"the {FILE_EVENTS_HEADER} header is missing or wrong")


_FileId = Annotated[int, Field(strict=True, ge=1)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: _FileId | None = None
    path: str


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    class_name: str = Field(alias="class")
    node: _Node | None = None


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uid: str


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event: _Event
    user: _User | None = None
    time: Annotated[int, Field(strict=True)]


def file_change(body: Any) -> FileChange:
    """What a ``webhook_listeners`` file event reports.

    Raises:
        Refused: 400 when the body is not such an event; the reason names the fields.
        Ignored: Another event class, a node without an id, or a path outside every user's
            files (app data, previews, trash).
    """
    try:
        payload = _Payload.model_validate(body)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
        raise Refused(400, f"the body is not a file event: {', '.join(fields)}") from None
    kind = FILE_EVENT_CLASSES.get(payload.event.class_name.lstrip("\\"))
    node = payload.event.node
    if kind is None or node is None:
        raise Ignored(f"{payload.event.class_name} is not a file event the relay relays")
    if node.id is None:
        raise Ignored("the event names no file id")
    match = _USER_FILE.match(node.path)
    if match is None:
        raise Ignored("the file is outside every user's files")
    return FileChange(
        kind=kind,
        file_id=node.id,
        user_id=match[1],
        path=match[2] or "/",
        time=payload.time,
        triggered_by=None if payload.user is None else payload.user.uid,
    )


def file_events_event(config: RelayConfig, body: Any) -> NextcloudEvent:
    """The event a file event reports (see :func:`file_change` for what is refused)."""
    return file_event(config.server_url, file_change(body))
