"""The ``webhook_listeners`` app (Nextcloud 30+): admins register listeners, file changes call them.

Registration (``apps/webhook_listeners/lib/Controller/WebhooksController.php``): OCS routes
below ``/apps/webhook_listeners/api/v1/webhooks`` to list (``?uri=``), show, create, update and
delete listeners, and to delete an ExApp's; all ``#[AuthorizedAdminSetting]``, so other users
get the security middleware's plain JSON 403 before the CSRF check. A listener's ``authData``
is stored encrypted and shown only encrypted (``WebhookListener::jsonSerialize``).

Firing (``WebhooksEventListener``, ``BackgroundJobs/WebhookCall``): each file change is offered
to the listeners of its event class (and of its user, for a ``userIdFilter``); those whose
``eventFilter`` matches the payload get one queued call, sent once by the delivery thread
without the cron delay: the registration's method and URI, ``json_encode`` of
``{"event": {"node": {"id", "path"}, "class"}, "user", "time"}`` as the body, and the
registration's headers with the auth headers merged over them (no ``Content-Type`` unless
registered). As the server's file hooks do (``View``, ``HookConnector``), a new file or folder
fires ``NodeCreatedEvent`` and then ``NodeWrittenEvent``, new content ``NodeWrittenEvent`` and a
deletion ``NodeDeletedEvent`` (with the id: the hook keeps the deleted node's file info).

Differences: the sandbox has no sessions, so a change's ``user`` (and what ``userIdFilter``
compares) is the owner of the file, as when the owner works through WebDAV; only the file events
above fire, though every compatible class can be registered; and ``eventFilter`` supports the
dot paths with plain values (equality) or ``/regex/`` strings, refusing other operators at
registration.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_int
from prefect_nextcloud.sandbox.ocs.dispatcher import (
    DataResult,
    OcsRequest,
    OcsRoute,
    ServerError,
    required_string_param,
    string_param,
)
from prefect_nextcloud.sandbox.ocs.envelope import php_json, plain_json_response
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.webhooks import WebhookSender

__all__ = ["WebhookListenersController"]

_API = "/apps/webhook_listeners/api/v1/webhooks"
_NODE_EVENTS = "OCP\\Files\\Events\\Node\\"
# What each change of the store fires, in the server's order.
_FIRED = {
    "created": (f"{_NODE_EVENTS}NodeCreatedEvent", f"{_NODE_EVENTS}NodeWrittenEvent"),
    "written": (f"{_NODE_EVENTS}NodeWrittenEvent",),
    "deleted": (f"{_NODE_EVENTS}NodeDeletedEvent",),
}
# The core classes implementing IWebhookCompatibleEvent that a listener may be registered for.
_COMPATIBLE_EVENTS = frozenset(
    {
        *(
            _NODE_EVENTS + name
            for name in (
                "NodeCreatedEvent",
                "NodeWrittenEvent",
                "NodeTouchedEvent",
                "NodeDeletedEvent",
                "NodeCopiedEvent",
                "NodeRenamedEvent",
                "BeforeNodeCreatedEvent",
                "BeforeNodeWrittenEvent",
                "BeforeNodeTouchedEvent",
                "BeforeNodeDeletedEvent",
                "BeforeNodeCopiedEvent",
                "BeforeNodeRenamedEvent",
                "BeforeNodeReadEvent",
            )
        ),
        "OCA\\Files_Trashbin\\Events\\NodeRestoredEvent",
        "OCA\\Files_Trashbin\\Events\\BeforeNodeRestoredEvent",
        "OCP\\SystemTag\\TagAssignedEvent",
        "OCP\\SystemTag\\TagUnassignedEvent",
    }
)
_NOT_ADMIN = (
    "Logged in account must be an admin, a sub admin or gotten special right to access this setting"
)
_REGEX = re.compile(r"/(.*)/([imsx]*)\Z", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


@dataclass(frozen=True)
class _Listener:
    id: int
    user_id: str
    http_method: str
    uri: str
    event: str
    event_filter: dict[str, Any]
    user_id_filter: str
    headers: dict[str, Any] | None
    auth_method: str
    auth_data: dict[str, Any] | None
    sealed_auth_data: str | None

    def to_json(self) -> dict[str, Any]:
        """``WebhookListener::jsonSerialize``: every column, ``authData`` encrypted."""
        return {
            "id": self.id,
            "appId": None,
            "userId": self.user_id,
            "httpMethod": self.http_method,
            "uri": self.uri,
            "event": self.event,
            "eventFilter": self.event_filter,
            "userIdFilter": self.user_id_filter,
            "headers": self.headers,
            "authMethod": self.auth_method,
            "authData": self.sealed_auth_data,
        }

    def request_headers(self) -> dict[str, str]:
        """The headers of a call: the registered ones, the auth headers merged over them."""
        merged = {**(self.headers or {}), **(self.auth_data or {})}
        return {str(name): str(value) for name, value in merged.items()}


class WebhookListenersController:
    """The registration API, and the calls that file changes make.

    Args:
        store: The files; its node changes are hooked here.
        sender: Delivers the calls, each once.
        admins: The users allowed to manage listeners.
        clock: Unix seconds for the payload's ``time``.
    """

    def __init__(
        self,
        store: Store,
        sender: WebhookSender,
        admins: frozenset[str],
        clock: Callable[[], float],
    ) -> None:
        self._sender = sender
        self._admins = admins
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: dict[int, _Listener] = {}
        self._next_id = 1
        store.on_node_change = self.node_changed

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes."""
        return [
            OcsRoute("GET", _API, self._admin_only(self.index)),
            OcsRoute("GET", f"{_API}/{{id}}", self._admin_only(self.show)),
            OcsRoute("POST", _API, self._admin_only(self.create)),
            OcsRoute("POST", f"{_API}/{{id}}", self._admin_only(self.update)),
            OcsRoute("DELETE", f"{_API}/byappid/{{appid}}", self._admin_only(self.delete_by_app)),
            OcsRoute("DELETE", f"{_API}/{{id}}", self._admin_only(self.destroy)),
        ]

    def _admin_only(
        self, handler: Callable[[OcsRequest], DataResult]
    ) -> Callable[[OcsRequest], DataResult | Response]:
        def checked(request: OcsRequest) -> DataResult | Response:
            if request.user_id not in self._admins:
                return plain_json_response({"message": _NOT_ADMIN}, 403)
            return handler(request)

        return checked

    # -- registration ----------------------------------------------------------------------

    def index(self, request: OcsRequest) -> DataResult:
        """``GET``: every listener, or those of one ``uri``."""
        uri = string_param(request.params, "uri")
        with self._lock:
            found = [item for item in self._listeners.values() if uri in (None, item.uri)]
        return DataResult([item.to_json() for item in found])

    def show(self, request: OcsRequest) -> DataResult:
        """``GET /{id}``: one listener; 404 when there is none."""
        with self._lock:
            listener = self._listeners.get(to_int(request.params["id"]))
        if listener is None:
            return _not_found()
        return DataResult(listener.to_json())

    def create(self, request: OcsRequest) -> DataResult:
        """``POST``: register a listener (``addWebhookListener``)."""
        with self._lock:
            result = self._save(self._next_id, request)
            if result.status == 200:
                self._next_id += 1
        return result

    def update(self, request: OcsRequest) -> DataResult:
        """``POST /{id}``: replace a listener's settings."""
        listener_id = to_int(request.params["id"])
        with self._lock:
            if listener_id not in self._listeners:
                return _not_found()
            return self._save(listener_id, request)

    def destroy(self, request: OcsRequest) -> DataResult:
        """``DELETE /{id}``: ``true`` when a listener was deleted, else ``false``."""
        with self._lock:
            return DataResult(self._listeners.pop(to_int(request.params["id"]), None) is not None)

    def delete_by_app(self, request: OcsRequest) -> DataResult:
        """``DELETE /byappid/{appid}``: the sandbox has no ExApps, so none is deleted."""
        return DataResult(0)

    def _save(self, listener_id: int, request: OcsRequest) -> DataResult:
        params = request.params
        http_method = required_string_param(params, "httpMethod")
        uri = required_string_param(params, "uri")
        event = required_string_param(params, "event").lstrip("\\")
        event_filter = _map_param(params, "eventFilter") or {}
        headers = _map_param(params, "headers")
        auth_data = _map_param(params, "authData")
        auth_method = string_param(params, "authMethod") or "none"
        if auth_method not in ("none", "header"):
            return _bad_request("This auth method does not exist")
        if event not in _COMPATIBLE_EVENTS:
            return _bad_request(f"{event} is not an event class compatible with webhooks")
        if auth_method == "header" and auth_data is None:
            return _bad_request(
                "Header auth method needs an associative array of headers as auth data"
            )
        unsupported = _unsupported_filter(event_filter)
        if unsupported is not None:
            return _bad_request(
                f"The sandbox evaluates eventFilter only as dot paths with plain values or "
                f"/regex/ strings, not {unsupported}"
            )
        listener = _Listener(
            id=listener_id,
            user_id=request.user_id or "",
            http_method=http_method,
            uri=uri,
            event=event,
            event_filter=event_filter,
            user_id_filter=string_param(params, "userIdFilter") or "",
            headers=headers,
            auth_method=auth_method,
            auth_data=auth_data,
            sealed_auth_data=None if auth_data is None else _sealed(),
        )
        self._listeners[listener_id] = listener
        return DataResult(listener.to_json())

    # -- firing ----------------------------------------------------------------------------

    def node_changed(self, change: str, node: Node) -> None:
        """Queue a call to each listener of the events this change of a user's node fires."""
        owner = node.owner or ""
        path = f"/{owner}/files/{node.path}" if node.path else f"/{owner}/files"
        with self._lock:
            listeners = list(self._listeners.values())
        for event_class in _FIRED[change]:
            payload = {
                "event": {"node": {"id": node.id, "path": path}, "class": event_class},
                "user": {"uid": owner, "displayName": owner},
                "time": int(self._clock()),
            }
            for listener in listeners:
                if (
                    listener.event == event_class
                    and listener.user_id_filter in ("", owner)
                    and _matches(listener.event_filter, payload)
                ):
                    body = php_json(payload, hex_tag=False)
                    self._sender.deliver(
                        listener.http_method, listener.uri, body, listener.request_headers()
                    )


def _map_param(params: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A ``?array`` argument: a JSON object, ``[]`` for an empty one, or absent.

    Raises:
        ServerError: Any other value (a PHP ``TypeError``).
    """
    value = params.get(name)
    if value is None or value == []:
        return None if value is None else {}
    if not isinstance(value, dict):
        raise ServerError(f"Argument {name} must be of type ?array")
    return value


def _bad_request(message: str) -> DataResult:
    """``OCSBadRequestException``: empty data, the text in ``meta.message``."""
    return DataResult([], 400, message=message)


def _not_found() -> DataResult:
    """``OCSNotFoundException`` with the mapper's ``DoesNotExistException`` text."""
    return DataResult([], 404, message="Did expect one result but found none when executing")


def _sealed() -> str:
    """What ``ICrypto::encrypt`` stores: ciphertext, IV and HMAC in hex, and the version."""
    return f"{secrets.token_hex(48)}|{secrets.token_hex(8)}|{secrets.token_hex(64)}|3"


def _unsupported_filter(event_filter: Mapping[str, Any]) -> str | None:
    """The first part of a filter the sandbox cannot evaluate, or None."""
    for key, value in event_filter.items():
        if key.startswith("$"):
            return key
        if isinstance(value, dict | list):
            return f"the value of {key}"
    return None


def _matches(event_filter: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """Whether every dot path of the filter holds its value, or matches its ``/regex/``."""
    for path, expected in event_filter.items():
        actual: Any = payload
        for part in path.split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
        regex = _REGEX.match(expected) if isinstance(expected, str) else None
        if regex is not None:
            flags = 0
            for letter in regex[2]:
                flags |= _REGEX_FLAGS[letter]
            if not isinstance(actual, str) or re.search(regex[1], actual, flags) is None:
                return False
        elif actual != expected:
            return False
    return True
