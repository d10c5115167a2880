"""Operations that take more than one request, written once for both client faces.

A plan is a generator: it yields each :class:`Call` it needs, receives the call's result (or
has the call's error thrown into it), and returns the operation's result. The sync client
drives plans with blocking sends, the async client with awaited ones.

Plans also carry what a client learns about its server and keeps for a while, shared by all
clients of the same server and user in this process: the server's version (to route the four
text task types to the TextProcessing API on Nextcloud 27.1-29) and the offered task types
(the server itself caches them for 60 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from prefect_nextcloud.client import endpoints, textprocessing
from prefect_nextcloud.client.endpoints import Call
from prefect_nextcloud.client.errors import (
    EndpointNotFoundError,
    NextcloudError,
    TaskNotFoundError,
    TaskTypeUnavailableError,
    UnexpectedResponseError,
)
from prefect_nextcloud.client.models import Task, TaskType
from prefect_nextcloud.client.validation import FileCheck, is_file_id, validate_input
from prefect_nextcloud.client.versions import ServerVersion, needs_newer_server, parse_status

__all__ = ["Plan", "ServerMemory"]

T = TypeVar("T")
Plan = Generator[Call[Any], Any, T]

VERSION_TTL_SECONDS = 3600.0
_ASSUMED_VERSION = ServerVersion(30)


@dataclass
class _Entry:
    value: Any
    expires: float


class ServerMemory:
    """What clients learned about one server as one user, kept for a limited time.

    Args:
        key: Identifies the server and user, e.g. ``(base_url, user_id)``.
        task_types_ttl_seconds: How long the list of task types is reused.
    """

    _entries: dict[tuple[object, str], _Entry] = {}  # noqa: RUF012 - shared on purpose
    _lock = threading.Lock()

    def __init__(self, key: object, *, task_types_ttl_seconds: float = 30.0) -> None:
        self.key = key
        self.task_types_ttl_seconds = task_types_ttl_seconds

    def get(self, name: str) -> Any:
        """The remembered value, or ``None`` when absent or expired."""
        with self._lock:
            entry = self._entries.get((self.key, name))
            return entry.value if entry and entry.expires > time.monotonic() else None

    def put(self, name: str, value: Any, ttl_seconds: float) -> None:
        """Remember ``value`` for ``ttl_seconds``."""
        with self._lock:
            self._entries[(self.key, name)] = _Entry(value, time.monotonic() + ttl_seconds)

    @classmethod
    def forget_all(cls) -> None:
        """Drop everything remembered about every server (e.g. between tests)."""
        with cls._lock:
            cls._entries.clear()

    # -- plans ---------------------------------------------------------------------------

    def server_version(self) -> Plan[ServerVersion]:
        """The server's version, from ``/status.php``; Nextcloud 30 is assumed if it is hidden."""
        version = self.get("version")
        if version is None:
            try:
                version = yield Call("GET", "/status.php", parse_status)
            except (EndpointNotFoundError, TaskNotFoundError, UnexpectedResponseError):
                version = _ASSUMED_VERSION  # a proxy may hide status.php
            self.put("version", version, VERSION_TTL_SECONDS)
        return version  # type: ignore[no-any-return]

    def _api(self) -> Plan[Any]:
        version = yield from self.server_version()
        return endpoints if version.has_task_processing else textprocessing

    def task_types(self, *, refresh: bool = False) -> Plan[dict[str, TaskType]]:
        """The task types offered to this user, reused for ``task_types_ttl_seconds``."""
        types = None if refresh else self.get("task_types")
        if types is None:
            api = yield from self._api()
            types = yield api.get_task_types()
            self.put("task_types", types, self.task_types_ttl_seconds)
        return types  # type: ignore[no-any-return]

    def task_type(self, task_type: str) -> Plan[TaskType]:
        """The offered task type ``task_type``, or an error listing what is offered."""
        types = yield from self.task_types()
        if task_type not in types:
            types = yield from self.task_types(refresh=True)
        if task_type in types:
            return types[task_type]
        version = yield from self.server_version()
        offered = ", ".join(sorted(types)) or "none"
        reason = needs_newer_server(task_type, version) or (
            "An admin must install and enable a provider app for it (e.g. an LLM integration)."
        )
        raise TaskTypeUnavailableError(
            f"The server does not offer the task type {task_type!r}. {reason} "
            f"Offered to this user: {offered}.",
            endpoint="GET /tasktypes",
        )

    def schedule(
        self,
        task_type: str,
        input: Mapping[str, Any],
        *,
        validate: bool,
        file_check: FileCheck = is_file_id,
        **options: Any,
    ) -> Plan[Task]:
        """Check the input against the task type (unless told not to), then schedule."""
        call = endpoints.schedule_task(task_type, input, **options)  # checks the arguments
        if validate:
            declared = yield from self.task_type(task_type)
            validate_input(declared, input, file_check=file_check)
        version = yield from self.server_version()
        if not version.has_task_processing:
            legacy = {key: options[key] for key in ("app_id", "custom_id") if key in options}
            extra = sorted(k for k, v in options.items() if v is not None and k not in legacy)
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} need Nextcloud 30+; this server runs {version}."
                )
            call = textprocessing.schedule_task(task_type, input, **legacy)
        scheduled: Task = yield call
        return scheduled

    def _routed(self, call: Call[T], legacy: Call[T] | None, what: str) -> Plan[T]:
        """Send ``call``, or on Nextcloud 27.1-29 its TextProcessing twin ``legacy``."""
        version = yield from self.server_version()
        if not version.has_task_processing:
            if legacy is None:
                raise NextcloudError(f"{what} needs Nextcloud 30+; this server runs {version}.")
            call = legacy
        result: T = yield call
        return result

    def get_task(self, task_id: int) -> Plan[Task]:
        """One task, through the API the server has."""
        call = endpoints.get_task(task_id)
        return (yield from self._routed(call, textprocessing.get_task(task_id), "get_task"))

    def delete_task(self, task_id: int) -> Plan[None]:
        """Delete a task; a task that is already gone is not an error on any version."""
        call = endpoints.delete_task(task_id)
        try:
            yield from self._routed(call, textprocessing.delete_task(task_id), "delete_task")
        except TaskNotFoundError:
            return

    def list_tasks_by_app(self, app_id: str, custom_id: str | None) -> Plan[list[Task]]:
        """This user's tasks under ``app_id``, through the API the server has."""
        call = endpoints.list_tasks_by_app(app_id, custom_id=custom_id)
        legacy = textprocessing.list_tasks_by_app(app_id, custom_id=custom_id)
        return (yield from self._routed(call, legacy, "list_tasks_by_app"))

    def task_processing_only(self, call: Call[T]) -> Plan[T]:
        """Send a call that the TextProcessing API of Nextcloud 27.1-29 has no twin of."""
        return (yield from self._routed(call, None, call.endpoint))


def run_sync(send: Any, plan: Plan[T]) -> T:
    """Drive ``plan`` with the blocking ``send(call)`` of a sync client."""
    try:
        call = next(plan)
        while True:
            try:
                result = send(call)
            except NextcloudError as error:
                call = plan.throw(error)
            else:
                call = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(send: Any, plan: Plan[T]) -> T:
    """Drive ``plan`` with the awaitable ``send(call)`` of an async client."""
    try:
        call = next(plan)
        while True:
            try:
                result = await send(call)
            except NextcloudError as error:
                call = plan.throw(error)
            else:
                call = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
