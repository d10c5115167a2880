"""Operations that take more than one request, written once for both client faces.

A plan is a generator: it yields each :class:`Call` it needs (or a :class:`Sleep`), receives
the call's result (or has the call's error thrown into it), and returns the operation's
result. The sync client drives plans with blocking sends and sleeps, the async client with
awaited ones. So retries, rate-limit waits and idempotent scheduling live here, once.

What a client learns about its server is kept for a while in :class:`ServerMemory`, shared by
all clients of the same server and user in this process: whether the server has the Task
Processing API (learned from its task types' answer; only a server that answers 404 there is
asked its version, to route the four text task types to the TextProcessing API on Nextcloud
27.1-29) and the offered task types (the server itself caches them for 60 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, ClassVar, TypeVar

import anyio

from prefect_nextcloud._cache import BoundedCache
from prefect_nextcloud.client import taskprocessing, textprocessing, webdav
from prefect_nextcloud.client.adoption import is_ours, twins_of
from prefect_nextcloud.client.calls import Call, UploadBody
from prefect_nextcloud.client.errors import (
    EndpointNotFoundError,
    MaintenanceModeError,
    NextcloudError,
    NextcloudHTTPError,
    RateLimitedError,
    ScheduleDeferredError,
    TaskNotFoundError,
    TaskTypeUnavailableError,
    UnexpectedResponseError,
)
from prefect_nextcloud.client.models import Task, TaskListing, TaskType
from prefect_nextcloud.client.ocs import ocs_call
from prefect_nextcloud.client.pacing import SchedulePacer
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.retrying import RetryPolicy, Sleep
from prefect_nextcloud.client.validation import FileCheck, is_file_id, validate_input
from prefect_nextcloud.client.versions import ServerVersion, needs_newer_server, parse_status

__all__ = ["Plan", "Planner", "ServerMemory", "run_async", "run_sync"]

T = TypeVar("T")
Plan = Generator[Call[Any] | Sleep, Any, T]

VERSION_TTL_SECONDS = 3600.0
MAX_REMEMBERED = 256
"""The most values :class:`ServerMemory` keeps over all servers and users of the process."""
_ASSUMED_VERSION = ServerVersion(30)

logger = logging.getLogger("prefect_nextcloud")


class ServerMemory:
    """What clients learned about one server as one user, kept for a limited time.

    Shared by every client of the process, and bounded: expired values are dropped, and past
    :data:`MAX_REMEMBERED` values the least recently used go first.

    Args:
        key: Identifies the server and user, e.g. ``(base_url, user_id)``.
    """

    _entries: ClassVar[BoundedCache[tuple[object, str], Any]] = BoundedCache(MAX_REMEMBERED)

    def __init__(self, key: object) -> None:
        self.key = key

    def get(self, name: str) -> Any:
        """The remembered value, or ``None`` when absent or expired."""
        return self._entries.get((self.key, name))

    def put(self, name: str, value: Any, ttl_seconds: float) -> None:
        """Remember ``value`` for ``ttl_seconds``."""
        self._entries.put((self.key, name), value, ttl_seconds=ttl_seconds)

    @classmethod
    def size(cls) -> int:
        """How many values are remembered now, over all servers and users."""
        return len(cls._entries)

    @classmethod
    def forget_all(cls) -> None:
        """Drop everything remembered about every server (e.g. between tests)."""
        cls._entries.clear()


class Planner:
    """Builds the plans of one client, with its memory of the server and its retry policy.

    Args:
        user_id: The Nextcloud user the client acts as.
        memory: What is known about the server, shared with other clients.
        policy: When to retry failed calls.
        task_types_ttl_seconds: How long the list of task types is reused.
        pacer: The schedule window of this server and user; a private one when omitted.
    """

    def __init__(
        self,
        user_id: str,
        memory: ServerMemory,
        policy: RetryPolicy,
        *,
        task_types_ttl_seconds: float,
        pacer: SchedulePacer | None = None,
    ) -> None:
        self.user_id = user_id
        self.memory = memory
        self.policy = policy
        self.task_types_ttl_seconds = task_types_ttl_seconds
        self.pacer = pacer or SchedulePacer()

    def send(self, call: Call[T], *, repeat: Call[T] | None = None) -> Plan[T]:
        """Send ``call``; after a passing failure, send it again while the retry policy allows.

        This is how every call but a schedule is sent. Only a call that is
        :attr:`~Call.repeatable` (idempotent, with a body that can be read again) is sent
        again; any other is sent once. A transient failure of an idempotent call whose body
        reads only once (an upload of a one-shot stream) raises with a message saying so.

        Args:
            call: The call.
            repeat: What to send on later tries, when a repeat must read the answer otherwise
                (a DELETE repeated after a lost answer finds nothing there).
        """
        backoff = self.policy.backoff()
        attempt = call
        while True:
            try:
                result: T = yield attempt
            except NextcloudError as error:
                delay = backoff.delay_after(error, idempotent=call.idempotent)
                if delay is None or not call.repeatable:
                    if delay is not None and call.idempotent:
                        _explain_read_once(error)
                    raise
                _log_retry(error, call.endpoint, delay)
                yield Sleep(delay)
                attempt = repeat or call
            else:
                return result

    def server_version(self) -> Plan[ServerVersion]:
        """The server's version, from ``/status.php``; Nextcloud 30 is assumed if it is hidden."""
        version = self.memory.get("version")
        if version is None:
            try:
                version = yield from self.send(ocs_call("GET", "/status.php", parse_status))
            except (EndpointNotFoundError, TaskNotFoundError, UnexpectedResponseError):
                version = _ASSUMED_VERSION  # a proxy may hide status.php
            self.memory.put("version", version, VERSION_TTL_SECONDS)
        return version  # type: ignore[no-any-return]

    def task_processing(self) -> Plan[bool]:
        """Whether the server has the Task Processing API (Nextcloud 30+).

        Learned from the answer to the task types (reused for a while), so that a current
        server is never asked its version; only a server that answers 404 there is.
        """
        known = self._known_task_processing()
        if known is None:
            yield from self.task_types()
            known = self._known_task_processing()
        return bool(known)

    def _known_task_processing(self) -> bool | None:
        known = self.memory.get("task_processing")
        if known is None and (version := self.memory.get("version")) is not None:
            known = version.has_task_processing
        return known  # type: ignore[no-any-return]

    def _routed(self, call: Call[T], legacy: Call[T] | None, what: str) -> Plan[T]:
        """Send ``call``, or on Nextcloud 27.1-29 its TextProcessing twin ``legacy``.

        While it is not known which API the server has, ``call`` goes first: a 404 from the
        OCS router then asks ``/status.php`` whether the server is older.
        """
        known = self._known_task_processing()
        if known is not False:
            try:
                result = yield from self.send(call)
            except EndpointNotFoundError as missing:
                if known is not None:
                    raise
                version = yield from self.server_version()
                self.memory.put("task_processing", version.has_task_processing, VERSION_TTL_SECONDS)
                if version.has_task_processing:
                    raise missing from None
            else:
                if known is None:
                    self.memory.put("task_processing", True, VERSION_TTL_SECONDS)
                return result
        if legacy is None:
            version = yield from self.server_version()
            raise NextcloudError(f"{what} needs Nextcloud 30+; this server runs {version}.")
        return (yield from self.send(legacy))

    def task_types(self, *, refresh: bool = False) -> Plan[dict[str, TaskType]]:
        """The task types offered to this user, reused for ``task_types_ttl_seconds``."""
        types = None if refresh else self.memory.get("task_types")
        if types is None:
            types = yield from self._routed(
                taskprocessing.get_task_types(), textprocessing.get_task_types(), "get_task_types"
            )
            self.memory.put("task_types", types, self.task_types_ttl_seconds)
        return types

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
        app_id: str,
        custom_id: str | None,
        file_check: FileCheck = is_file_id,
        adopt_existing: bool = True,
        wait_for_slot: bool = True,
        **options: Any,
    ) -> Plan[Task]:
        """Schedule a task at most once per ``custom_id``, within the user's schedule window.

        With a ``custom_id``, a task that already exists under it (scheduled, running or
        successful) is adopted instead of creating a second one: before the first try and
        after a failure that may have created it (lost connection, 5xx). With
        ``adopt_existing`` off the caller lists for itself: such a failure is raised, and the
        caller schedules again only after a listing shows no task under the custom id.

        Every call takes a slot of the pacer first; when none is free it waits (or, without
        ``wait_for_slot``, raises :class:`ScheduleDeferredError` at once). Maintenance answers
        created nothing and are waited out like other passing failures.
        """
        call = taskprocessing.schedule_task(
            task_type, input, app_id=app_id, custom_id=custom_id, **options
        )
        if validate:
            declared = yield from self.task_type(task_type)
            validate_input(declared, input, file_check=file_check)
        call = yield from self._schedule_routed(call, task_type, input, app_id, custom_id, options)
        if (
            adopt_existing
            and custom_id
            and (existing := (yield from self.find_task(app_id, custom_id, task_type)))
        ):
            return existing
        backoff = self.policy.backoff()
        waited = 0.0
        while True:
            hold = self.pacer.reserve()
            refused: RateLimitedError | None = None
            if hold == 0:
                try:
                    scheduled = yield from self._send_paced(call)
                except RateLimitedError as error:
                    refused, hold = error, self.pacer.refused()
                except NextcloudError as error:
                    certainly_not_created = isinstance(error, MaintenanceModeError)
                    # Without a custom id, or when the caller lists for itself, a failure that
                    # may have created the task is the caller's to resolve.
                    safe = certainly_not_created or bool(custom_id and adopt_existing)
                    delay = backoff.delay_after(error, idempotent=safe) if safe else None
                    if delay is None:
                        raise
                    _log_retry(error, call.endpoint, delay)
                    yield Sleep(delay)
                    if (
                        custom_id
                        and not certainly_not_created
                        and (
                            existing := (
                                yield from self.find_task(app_id, str(custom_id), task_type)
                            )
                        )
                    ):
                        return existing
                    continue
                else:
                    return scheduled
            if not wait_for_slot or waited + hold > self.policy.rate_limit_seconds:
                if refused is not None and wait_for_slot:
                    raise refused
                raise ScheduleDeferredError(
                    _deferred_message(self.pacer, refused is not None, hold),
                    retry_after=hold,
                    refused=refused is not None,
                    endpoint=call.endpoint,
                )
            if refused is not None:
                _log_retry(refused, call.endpoint, hold)
            waited += hold
            yield Sleep(hold)

    def _send_paced(self, call: Call[Task]) -> Plan[Task]:
        """Send a schedule call that holds a slot of the pacer; give the pacer its outcome.

        A 429 is left to the caller, which gives the slot back with ``refused``.
        """
        try:
            scheduled: Task = yield call
        except RateLimitedError:
            raise
        except BaseException:
            self.pacer.unanswered()  # an answer lost, or the plan closed: it may have arrived
            raise
        self.pacer.accepted()
        return scheduled

    def _schedule_routed(
        self,
        call: Call[Task],
        task_type: str,
        input: Mapping[str, Any],
        app_id: str,
        custom_id: str | None,
        options: Mapping[str, Any],
    ) -> Plan[Call[Task]]:
        """``call``, or on Nextcloud 27.1-29 the TextProcessing API's schedule call."""
        if (yield from self.task_processing()):
            return call
        version = yield from self.server_version()
        return _legacy_schedule(version, task_type, input, app_id, custom_id, options)

    def find_task(self, app_id: str, custom_id: str, task_type: str) -> Plan[Task | None]:
        """The task to adopt under ``custom_id``, if any: see :mod:`.adoption`.

        Of several usable twins (scheduled by runs that could not coordinate) the oldest is
        adopted; the batch engine cancels the others.
        """
        listing = yield from self.list_tasks_by_app(app_id, custom_id)
        ours = [
            task
            for task in listing.tasks
            if is_ours(
                task,
                app_id=app_id,
                user_id=self.user_id,
                custom_id_matches=custom_id.__eq__,
                task_type=task_type,
            )
        ]
        kept = twins_of(ours).get(custom_id)
        if kept is None:
            return None
        adopted = kept[0]
        logger.info("Adopting Nextcloud task %s, already scheduled as %r.", adopted.id, custom_id)
        return adopted

    def get_task(self, task_id: int) -> Plan[Task]:
        """One task, through the API the server has."""
        call = taskprocessing.get_task(task_id)
        return (yield from self._routed(call, textprocessing.get_task(task_id), "get_task"))

    def delete_task(self, task_id: int) -> Plan[None]:
        """Delete a task; a task that is already gone is not an error on any version."""
        call = taskprocessing.delete_task(task_id)
        try:
            yield from self._routed(call, textprocessing.delete_task(task_id), "delete_task")
        except TaskNotFoundError:
            return

    def list_tasks_by_app(self, app_id: str, custom_id: str | None) -> Plan[TaskListing]:
        """This user's tasks under ``app_id``, through the API the server has."""
        call = taskprocessing.list_tasks_by_app(app_id, custom_id=custom_id)
        legacy = textprocessing.list_tasks_by_app(app_id, custom_id=custom_id)
        return (yield from self._routed(call, legacy, "list_tasks_by_app"))

    def task_processing_only(self, call: Call[T]) -> Plan[T]:
        """Send a call that the TextProcessing API of Nextcloud 27.1-29 has no twin of."""
        return (yield from self._routed(call, None, call.endpoint))

    def make_folders(self, user_id: str, path: str) -> Plan[None]:
        """Create a folder and its missing parents; MKCOL reads a folder that exists as done."""
        if NextcloudPath(path).is_root:
            return
        call = webdav.find_file_info(user_id, path)
        found = yield from self.send(call)
        for folder in webdav.folders_to_create(path, found, endpoint=call.endpoint):
            yield from self.send(webdav.make_folder(user_id, folder))

    def upload(
        self,
        user_id: str,
        target: NextcloudPath,
        body: UploadBody,
        *,
        content_type: str,
        create_folders: bool,
    ) -> Plan[int]:
        """Upload a file, creating its folders first if asked; its file id.

        The PUT is sent again after a passing failure only when ``body`` can be read again
        from its start; see :meth:`send`.
        """
        if create_folders:
            yield from self.make_folders(user_id, target.parent)
        call = webdav.put_file(user_id, target, body, content_type=content_type)
        file_id = yield from self.send(call)
        if file_id is None:
            file_id = (yield from self.send(webdav.get_file_info(user_id, target))).file_id
        return file_id

    def ensure_tag(self, name: str) -> Plan[webdav.SystemTag]:
        """The tag called ``name`` (or differing only in case), created when there is none.

        Raises:
            ValueError: The name is empty or too long; nothing was sent.
            NextcloudHTTPError: The name is taken by a tag this user cannot see.
        """
        wanted = webdav.check_tag_name(name)
        found = webdav.tag_named((yield from self.send(webdav.list_tags())), wanted)
        if found is not None:
            return found
        call = webdav.create_tag(wanted)
        tag_id = yield from self.send(call)
        if tag_id is not None:
            return webdav.SystemTag(tag_id=tag_id, name=wanted, can_assign=True)
        # Taken meanwhile (another run made it), or by a tag hidden from this user.
        found = webdav.tag_named((yield from self.send(webdav.list_tags())), wanted)
        if found is None:
            raise NextcloudHTTPError(
                f"A tag named {wanted!r} exists but this user cannot see it (409 on "
                f"{call.endpoint}): ask an admin to make it visible, or use another name.",
                endpoint=call.endpoint,
                status_code=409,
            )
        return found

    def delete_file(self, user_id: str, path: str, *, missing_ok: bool) -> Plan[None]:
        """Delete a file or folder; a repeat after a lost answer may find nothing, which is fine."""
        call = webdav.delete(user_id, path, missing_ok=missing_ok)
        yield from self.send(call, repeat=webdav.delete(user_id, path, missing_ok=True))


def _deferred_message(pacer: SchedulePacer, refused: bool, hold: float) -> str:
    why = (
        "the server answered 429: other clients of this user fill its schedule window"
        if refused
        else f"this process has sent {pacer.limit} schedule calls in the last "
        f"{pacer.window_seconds:g} s, the server's limit for one user"
    )
    return f"The schedule call was held back, unsent: {why}. A slot frees up in {hold:.0f} s."


def _explain_read_once(error: NextcloudError) -> None:
    """Say in ``error`` why a call that failed for a passing reason was not tried again."""
    error.message += (
        " It was not tried again: the upload reads a stream that cannot seek back to its "
        "start, so its bytes cannot be sent twice. Upload bytes, a local file or a seekable "
        "file object to have passing failures retried."
    )
    error.args = (error.message,)


def _log_retry(error: NextcloudError, endpoint: str, delay: float) -> None:
    if isinstance(error, RateLimitedError):
        logger.warning(
            "Nextcloud refused %s with 429 although this process kept within the block's "
            "schedule_limit: other clients of the same user fill the window, or the server's "
            "limit is lower than schedule_limit. Trying again in %.0f s. Pace several workers "
            "with a Prefect global concurrency limit (see the README), or ask an admin about "
            "the server's rate limit.",
            endpoint,
            delay,
        )
    else:
        logger.warning("%s failed for now (%s); trying again in %.1f s.", endpoint, error, delay)


def run_sync(
    send: Callable[[Call[Any]], Any],
    plan: Plan[T],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Drive ``plan`` with the blocking ``send(call)`` and ``sleep(seconds)`` of a sync client."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Sleep):
                sleep(step.seconds)
                step = plan.send(None)
                continue
            try:
                result = send(step)
            except NextcloudError as error:
                step = plan.throw(error)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(
    send: Callable[[Call[Any]], Awaitable[Any]],
    plan: Plan[T],
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> T:
    """Drive ``plan`` with an async client's awaitable ``send(call)`` and ``sleep(seconds)``."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Sleep):
                await sleep(step.seconds)
                step = plan.send(None)
                continue
            try:
                result = await send(step)
            except NextcloudError as error:
                step = plan.throw(error)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _legacy_schedule(
    version: ServerVersion,
    task_type: str,
    input: Mapping[str, Any],
    app_id: str,
    custom_id: str | None,
    options: Mapping[str, Any],
) -> Call[Task]:
    """The schedule call of the TextProcessing API, for servers older than Task Processing."""
    extra = sorted(key for key, value in options.items() if value is not None)
    if extra:
        raise ValueError(f"{', '.join(extra)} need Nextcloud 30+; this server runs {version}.")
    return textprocessing.schedule_task(task_type, input, app_id=app_id, custom_id=custom_id)
