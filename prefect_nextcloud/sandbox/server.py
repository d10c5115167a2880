"""``NextcloudSandbox``: runs the emulated server on a local port and exposes test controls."""

from __future__ import annotations

import hashlib
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self

import uvicorn

from prefect_nextcloud._listen import listening_socket
from prefect_nextcloud.sandbox.app import create_app
from prefect_nextcloud.sandbox.faults.chaos import Chaos, ChaosSettings
from prefect_nextcloud.sandbox.faults.control import HttpControl, RecordedRequest
from prefect_nextcloud.sandbox.faults.effects import FaultAction, FaultEffect
from prefect_nextcloud.sandbox.http.ratelimit import SlidingWindowLimiter
from prefect_nextcloud.sandbox.ocs.cloud import CloudController
from prefect_nextcloud.sandbox.ocs.dispatcher import OcsDispatcher, OcsRoute
from prefect_nextcloud.sandbox.ocs.users import UsersController
from prefect_nextcloud.sandbox.overview.collect import SandboxContents
from prefect_nextcloud.sandbox.overview.endpoint import OverviewEndpoints
from prefect_nextcloud.sandbox.storage.records import TaskSnapshot, TaskStatus
from prefect_nextcloud.sandbox.storage.store import ProcessingMode, Store
from prefect_nextcloud.sandbox.taskprocessing.catalog import default_registry
from prefect_nextcloud.sandbox.taskprocessing.controller import TaskProcessingController
from prefect_nextcloud.sandbox.taskprocessing.processing import output_file_ids
from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunSeconds, RunTimes
from prefect_nextcloud.sandbox.taskprocessing.textprocessing import (
    TextProcessingController,
    text_task_json,
)
from prefect_nextcloud.sandbox.taskprocessing.webhooks import WebhookSender
from prefect_nextcloud.sandbox.taskprocessing.worker import WorkerPool
from prefect_nextcloud.sandbox.webdav.endpoint import WebDav
from prefect_nextcloud.sandbox.webhook_listeners import WebhookListenersController

if TYPE_CHECKING:
    from prefect_nextcloud.blocks import NextcloudCredentials

__all__ = ["DEFAULT_APP_PASSWORD", "DEFAULT_USER_ID", "NextcloudSandbox", "app_password_for"]

_ALPHANUMERIC = string.ascii_letters + string.digits
_START_TIMEOUT = 10.0
_SUPPORTED_VERSIONS = range(27, 36)
# The first version with the TaskProcessing API; earlier ones only have TextProcessing.
_TASK_PROCESSING_SINCE = 30
# 30 and 31 shipped tasktypes, schedule and task/{id} as #[PublicPage], with #[AnonRateLimit]
# of 5 per 120 s on schedule.
_ANONYMOUS_VERSIONS = (30, 31)
_ANON_RATE_LIMIT = 5
_WEBHOOK_LISTENERS_SINCE = 30


def app_password_for(user_id: str) -> str:
    """Return the fixed sandbox app password of a user.

    It has the shape of a Nextcloud app password (five groups of five letters and digits) and is
    derived from the user id, so it is the same in every run.

    Args:
        user_id: The user.

    Returns:
        For example ``app_password_for("alice")`` is :data:`DEFAULT_APP_PASSWORD`.
    """
    digest = hashlib.sha256(f"prefect-nextcloud-sandbox:{user_id}".encode()).digest()
    chars = "".join(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in digest[:25])
    return "-".join(chars[start : start + 5] for start in range(0, 25, 5))


DEFAULT_USER_ID = "alice"
"""The user of a sandbox created without ``users``."""
DEFAULT_APP_PASSWORD = app_password_for(DEFAULT_USER_ID)
"""The app password of :data:`DEFAULT_USER_ID`."""


class _Server(uvicorn.Server):
    """A uvicorn server that signals once it is listening."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


class NextcloudSandbox:
    """A local emulation of a Nextcloud server's Task Processing OCS API and WebDAV.

    Behaviour follows the real server's source (status codes, bodies, headers, envelopes,
    validation messages); tasks are processed by fake providers. Use it as a context manager::

        with NextcloudSandbox() as sandbox:
            file_id = sandbox.upload("photo.png", png_bytes)
            client = sandbox.credentials.get_client()

    Args:
        host: Interface to listen on.
        port: TCP port; 0 picks a free one.
        users: User id → app password; the first user is the primary one. Defaults to
            :data:`DEFAULT_USER_ID` with :data:`DEFAULT_APP_PASSWORD`.
        admins: The users in the ``admin`` group, who may register ``webhook_listeners``
            listeners (on 30 and later), delete system tags, see and assign all of them, and
            read every user's details. None (the default) makes the primary user the only
            admin; ``()`` makes none.
        pickup_delay_seconds: How long a new task stays scheduled before a worker may take it.
        run_seconds: How long a task stays running; progress 0.5 is reported halfway. A
            ``(min, max)`` range draws each task's time uniformly from it (see ``seed``);
            ``completionExpectedAt`` stays the provider's estimate, as on a real server.
        workers: Number of worker threads.
        failing_task_types: Task type ids whose provider fails
            (``ProcessingException('Failing as set by AppConfig')``).
        rate_limit: ``POST /schedule`` calls allowed per user per window.
        rate_limit_period_seconds: Length of the sliding rate-limit window.
        server_version: Nextcloud major version to emulate, 27 to 35: decides which APIs,
            routes, task types and task fields exist. 27 stands for 27.1 (only the TextProcessing
            task types), 28 and 29 have the whole TextProcessing API, 30 and later add
            TaskProcessing.
        clock: Wall-clock seconds used for all timestamps.
        monotonic_clock: Seconds for the rate-limit window; inject one to move time in tests.
        unavailable_task_types: TaskProcessing task type ids that get no provider, so they are
            not offered (and their TextProcessing equivalents neither).
        legacy_run_inline: Whether TextProcessing ``schedule`` runs the task inside the request
            (``runOrScheduleTask``, the server's usual choice) and answers with status 3 or 4;
            when False, such tasks are queued for the workers like TaskProcessing tasks.
        seed: Seeds the run times drawn from a ``run_seconds`` range; a task's time depends
            only on the seed and its id.
        anonymous_access: Whether ``tasktypes``, ``schedule`` and ``GET task/{id}`` answer
            callers without credentials (tasks then have no user, and anonymous schedules are
            limited to 5 per ``rate_limit_period_seconds`` per address). None follows the
            version: on for 30 and 31, which shipped with ``#[PublicPage]`` there, off for the
            rest (32 removed it; later 30.x/31.x releases may have the backport, so pass False
            for those).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] | None = None,
        admins: Iterable[str] | None = None,
        pickup_delay_seconds: float = 0.0,
        run_seconds: RunSeconds = 0.0,
        workers: int = 1,
        failing_task_types: Iterable[str] = (),
        rate_limit: int = 20,
        rate_limit_period_seconds: float = 120.0,
        server_version: int = 33,
        clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
        unavailable_task_types: Iterable[str] = (),
        legacy_run_inline: bool = True,
        seed: int = 0,
        anonymous_access: bool | None = None,
    ) -> None:
        users = dict(users) if users is not None else {DEFAULT_USER_ID: DEFAULT_APP_PASSWORD}
        if not users or not all(users.values()):
            raise ValueError("users must name at least one user, each with a non-empty password")
        admin_ids = frozenset({next(iter(users))} if admins is None else admins)
        if not admin_ids <= users.keys():
            unknown = ", ".join(sorted(admin_ids - users.keys()))
            raise ValueError(f"admins must be sandbox users; not users: {unknown}")
        if workers < 1 or rate_limit < 1:
            raise ValueError("workers and rate_limit must be at least 1")
        if server_version not in _SUPPORTED_VERSIONS:
            raise ValueError(f"server_version must be 27 to 35, got {server_version}")
        run_times = RunTimes(run_seconds, seed=seed)
        self._host = host
        self._requested_port = port
        self._users = users
        self._server_version = server_version
        self._store = Store(users, clock=clock, admins=admin_ids)
        self._store.failing_task_types.update(failing_task_types)
        self._control = HttpControl()
        self._webhooks = WebhookSender()
        # Before 30 the TextProcessing providers stand alone; the sandbox gives them the fakes
        # of the TaskProcessing types that later serve them, hence a registry of at least 30.
        providers = default_registry(
            max(server_version, _TASK_PROCESSING_SINCE),
            unavailable_task_types,
            expected_runtime=run_times.estimate(),
        )
        self._registry = providers
        routes: list[OcsRoute] = []
        if server_version >= _TASK_PROCESSING_SINCE:
            routes += TaskProcessingController(
                self._store,
                providers,
                self._webhooks,
                server_version=server_version,
                pickup_delay_seconds=pickup_delay_seconds,
                anonymous_access=(
                    server_version in _ANONYMOUS_VERSIONS
                    if anonymous_access is None
                    else anonymous_access
                ),
            ).routes()
        routes += TextProcessingController(
            self._store,
            providers,
            server_version=server_version,
            pickup_delay_seconds=pickup_delay_seconds,
            run_inline=legacy_run_inline,
        ).routes()
        routes += CloudController(server_version).routes()
        routes += UsersController(self._store).routes()
        if server_version >= _WEBHOOK_LISTENERS_SINCE:
            routes += WebhookListenersController(
                self._store, self._webhooks, admin_ids, clock
            ).routes()
        self._schedule_limit = (rate_limit, rate_limit_period_seconds)
        limiter = SlidingWindowLimiter(rate_limit, rate_limit_period_seconds, monotonic_clock)
        anon_limiter = SlidingWindowLimiter(
            _ANON_RATE_LIMIT, rate_limit_period_seconds, monotonic_clock
        )
        webdav = WebDav(self._store)
        contents = SandboxContents(self._store, webdav.comments, providers, server_version)
        self._app = create_app(
            ocs=OcsDispatcher(self._store, routes, limiter, anon_limiter),
            webdav=webdav,
            control=self._control,
            server_version=server_version,
            overview=OverviewEndpoints(contents, self._store, host=host),
        )
        self._workers = WorkerPool(
            self._store,
            providers,
            self._webhooks,
            workers=workers,
            run_times=run_times,
            server_version=server_version,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving and return once the server accepts connections.

        Raises:
            RuntimeError: The sandbox was started before, or the server failed to start.
        """
        if self._started:
            raise RuntimeError("A NextcloudSandbox can be started only once")
        self._started = True
        sock = listening_socket(self._host, self._requested_port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            server_header=False,
            http="h11",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        ready = threading.Event()
        self._server = _Server(config, ready)

        def serve() -> None:
            assert self._server is not None
            try:
                self._server.run(sockets=[sock])
            finally:
                ready.set()
                sock.close()

        self._thread = threading.Thread(target=serve, name="nextcloud-sandbox", daemon=True)
        self._webhooks.start()
        self._workers.start()
        self._thread.start()
        if not ready.wait(_START_TIMEOUT) or not self._server.started:
            self.stop()
            raise RuntimeError(f"The Nextcloud sandbox did not start on {self._host}")

    def stop(self) -> None:
        """Stop the server, the workers and webhook delivery."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT)
        self._workers.stop()
        self._webhooks.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- connection details ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (known once started)."""
        if self._port is None:
            raise RuntimeError("The sandbox is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def server_version(self) -> int:
        """The emulated Nextcloud major version."""
        return self._server_version

    @property
    def user_id(self) -> str:
        """The primary user."""
        return next(iter(self._users))

    @property
    def app_password(self) -> str:
        """The primary user's app password."""
        return self._users[self.user_id]

    def app_password_of(self, user_id: str) -> str:
        """Return a user's app password."""
        return self._users[user_id]

    @property
    def credentials(self) -> NextcloudCredentials:
        """A credentials block for the primary user."""
        return self.credentials_for(self.user_id)

    def credentials_for(self, user_id: str) -> NextcloudCredentials:
        """Return a credentials block for any sandbox user, with the sandbox's rate limit."""
        # Imported here: the blocks pull in Prefect, which the sandbox itself does not need.
        from pydantic import SecretStr  # noqa: PLC0415

        from prefect_nextcloud.blocks import NextcloudCredentials  # noqa: PLC0415

        return NextcloudCredentials(
            base_url=self.base_url,
            user_id=user_id,
            app_password=SecretStr(self._users[user_id]),
            # A local server answers at once: retry after tenths of a second, not seconds.
            retry_initial_delay_seconds=0.05,
            schedule_limit=self._schedule_limit[0],
            schedule_window_seconds=self._schedule_limit[1],
        )

    # -- files -----------------------------------------------------------------------------

    def upload(self, name: str, data: bytes, *, user_id: str | None = None) -> int:
        """Store a file in a user's storage, creating missing folders.

        Args:
            name: Path below the user's home, e.g. ``"photos/cat.png"``.
            data: The content.
            user_id: The owner; the primary user by default.

        Returns:
            The file id (positive, unique across users; kept when a file is overwritten).
        """
        owner = user_id or self.user_id
        if owner not in self._users:
            raise KeyError(f"No sandbox user {owner!r}")
        path = "/".join(part for part in name.split("/") if part)
        if not path:
            raise ValueError("name must not be empty")
        return self._store.upload(owner, path, data).id

    # -- tasks -----------------------------------------------------------------------------

    def tasks(
        self,
        *,
        user_id: str | None = None,
        app_id: str | None = None,
        custom_id: str | None = None,
    ) -> list[TaskSnapshot]:
        """Return snapshots of the TaskProcessing tasks of every user, in id order.

        ``len(sandbox.tasks(user_id="alice", custom_id="job-1"))`` counts how often a client's
        retries created the same task.

        Args:
            user_id: Only tasks of this user; any user when None.
            app_id: Only tasks with this ``appId``; any when None.
            custom_id: Only tasks with this ``customId``; any when None.

        Returns:
            The matching tasks.
        """
        wanted = {"user_id": user_id, "app_id": app_id, "custom_id": custom_id}
        filters = {name: value for name, value in wanted.items() if value is not None}
        with self._store.condition:
            snapshots = [task.snapshot(self._server_version) for task in self._store.tasks.all()]
        return [
            snapshot
            for snapshot in snapshots
            if all(getattr(snapshot, name) == value for name, value in filters.items())
        ]

    def task(self, task_id: int) -> TaskSnapshot:
        """Return a snapshot of one task.

        Raises:
            KeyError: No such task (never scheduled, or deleted).
        """
        with self._store.condition:
            task = self._store.tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            return task.snapshot(self._server_version)

    def text_task(self, task_id: int) -> dict[str, Any]:
        """Return a TextProcessing task as ``GET /textprocessing/task/{id}`` would.

        Raises:
            KeyError: No such task.
        """
        with self._store.condition:
            task = self._store.text_tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            return text_task_json(task)

    def cleanup_task(self, task_id: int) -> list[int]:
        """Remove a task and its output files, as ``RemoveOldTasksBackgroundJob`` does (§6.3).

        The server does this once a task's ``lastUpdated`` is months old; ``DELETE /task/{id}``
        keeps the output files. Afterwards the task and its file URLs answer 404.

        Args:
            task_id: A TaskProcessing task.

        Returns:
            The ids of the output files that were deleted.

        Raises:
            KeyError: No such task.
        """
        store = self._store
        with store.condition:
            task = store.tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            task_type = self._registry.get(task.type)
            file_ids = set() if task_type is None else output_file_ids(task, task_type)
            removed = []
            for file_id in sorted(i for i in file_ids if i is not None):
                node = store.node_by_id(file_id)
                if node is not None and node.owner is None:  # only app data, never user files
                    store.delete_node(node)
                    removed.append(file_id)
            store.tasks.delete(task_id)
            return removed

    def set_failing(self, task_type: str, failing: bool = True) -> None:
        """Make a task type's provider fail (or work again) from its next result on."""
        with self._store.condition:
            if failing:
                self._store.failing_task_types.add(task_type)
            else:
                self._store.failing_task_types.discard(task_type)

    def pause_processing(self) -> None:
        """Keep new tasks in ``STATUS_SCHEDULED`` until :meth:`resume_processing`."""
        self._store.set_mode(ProcessingMode.PAUSE)

    def hold_running(self) -> None:
        """Let workers pick tasks up but keep them ``STATUS_RUNNING`` until resumed.

        Each worker holds one task, so with one worker further tasks stay scheduled.
        """
        self._store.set_mode(ProcessingMode.HOLD)

    def resume_processing(self) -> None:
        """Process tasks normally again."""
        self._store.set_mode(ProcessingMode.RUN)

    def wait_for_status(
        self,
        task_id: int,
        status: TaskStatus | str | Iterable[TaskStatus | str],
        *,
        timeout: float = 5.0,
    ) -> TaskSnapshot:
        """Block until a task has one of the given statuses.

        Args:
            task_id: The task.
            status: ``"STATUS_RUNNING"``, ``"RUNNING"``, a :class:`TaskStatus`, or several.
            timeout: Seconds to wait at most.

        Returns:
            The task at that moment.

        Raises:
            TimeoutError: The status was not reached in time.
            RuntimeError: The task ended with another status (it will never change again).
        """
        items = [status] if isinstance(status, str | TaskStatus) else list(status)
        wanted = {TaskStatus.parse(item) for item in items}
        expected = " or ".join(sorted(item.label for item in wanted))

        def reached(task: TaskSnapshot) -> bool:
            current = TaskStatus.parse(task.status)
            if current.is_final and current not in wanted:
                raise RuntimeError(f"Task {task_id} ended as {task.status}, not {expected}")
            return current in wanted

        return self.wait_for_task(task_id, reached, timeout=timeout, expected=expected)

    def wait_for_task(
        self,
        task_id: int,
        condition: Callable[[TaskSnapshot], bool],
        *,
        timeout: float = 5.0,
        expected: str = "the condition",
    ) -> TaskSnapshot:
        """Block until a task satisfies a condition, e.g. ``lambda t: t.progress == 0.5``.

        Args:
            task_id: The task.
            condition: Checked on a fresh snapshot after every change of any task.
            timeout: Seconds to wait at most.
            expected: Describes the condition in the timeout message.

        Returns:
            The first snapshot that satisfied the condition.

        Raises:
            TimeoutError: The condition did not hold within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        store = self._store
        with store.condition:
            while True:
                task = store.tasks.get(task_id)
                snapshot = None if task is None else task.snapshot(self._server_version)
                if snapshot is not None and condition(snapshot):
                    return snapshot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    current = "missing" if snapshot is None else snapshot.status
                    raise TimeoutError(f"Task {task_id} ({current}) did not reach {expected}")
                store.condition.wait(remaining)

    def complete_pending(self, *, timeout: float = 5.0) -> list[TaskSnapshot]:
        """Resume processing and wait until no task of either API is scheduled or running.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            Snapshots of all TaskProcessing tasks.

        Raises:
            TimeoutError: Tasks were still pending after ``timeout``.
        """
        self.resume_processing()
        deadline = time.monotonic() + timeout
        store = self._store
        with store.condition:
            while pending := [t.id for t in store.pending_tasks()]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"Tasks still pending: {pending}")
                store.condition.wait(remaining)
        return self.tasks()

    # -- HTTP traffic: the request log, injected failures and chaos ------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request logged so far, oldest first (Authorization redacted).

        Safe to read while requests are served; dropped requests have ``status`` None.
        """
        return self._control.requests

    def requests_to(self, method: str | None, path_regex: str) -> list[RecordedRequest]:
        """Return the logged requests with this method (any if None) whose path matches.

        Example: ``sandbox.requests_to("POST", r"/schedule$")`` counts schedule calls.
        """
        return [
            request for request in self._control.requests if request.matches(method, path_regex)
        ]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._control.clear_requests()

    def wait_for_requests(
        self, method: str | None, path_regex: str, *, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Block until at least ``count`` matching requests have been logged.

        Useful for asynchronous traffic: a client's polling, or webhooks (point ``webhookUri``
        at ``base_url + "/hook"`` and wait for ``"/hook"``).

        Args:
            method: The HTTP method, or None for any.
            path_regex: Searched in the URL path (``re.search``).
            count: How many requests to wait for.
            timeout: Seconds to wait at most.

        Returns:
            All matching requests logged so far.

        Raises:
            TimeoutError: Fewer requests arrived within ``timeout``.
        """
        return self._control.wait_for_requests(method, path_regex, count=count, timeout=timeout)

    def inject_error(
        self,
        path_regex: str,
        status: int,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` matching requests with a fixed response, e.g. a proxy's 502.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            status: HTTP status to return.
            body: Response body.
            headers: Response headers.
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
            after: Let this many matching requests through first, e.g. to fail only the
                second write of a file.
        """
        effect = FaultEffect(FaultAction.RESPOND, status, body, dict(headers or {}))
        self._control.add_fault(path_regex, effect, times=times, method=method, after=after)

    def inject_credentials_echo(
        self, path_regex: str, status: int = 500, *, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next matching requests with an error that quotes their credentials.

        As a misconfigured server or proxy does: the message repeats the ``Authorization``
        header, its base64 token, the password, and a URL with ``user:password@`` (URL-encoded),
        in Sabre's XML error on WebDAV paths and the OCS envelope elsewhere
        (see :mod:`prefect_nextcloud.sandbox.faults.echo`).

        Args:
            path_regex: Searched in the URL path (``re.search``).
            status: HTTP status to return; a 3xx also sends the URL as ``Location``.
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        effect = FaultEffect(FaultAction.ECHO_CREDENTIALS, status)
        self._control.add_fault(path_regex, effect, times=times, method=method)

    def inject_maintenance(
        self, path_regex: str = "", *, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next matching requests as a server in maintenance mode does.

        OCS paths get 503 with the ``Service unavailable`` OCS result and the header
        ``X-Nextcloud-Maintenance-Mode: 1``; WebDAV paths get Sabre's 503 error.
        """
        effect = FaultEffect(FaultAction.MAINTENANCE)
        self._control.add_fault(path_regex, effect, times=times, method=method)

    def inject_drop(self, path_regex: str, *, times: int = 1, method: str | None = None) -> None:
        """Close the connection of the next matching requests without processing or answering.

        They are logged with ``status`` None.
        """
        self._control.add_fault(
            path_regex, FaultEffect(FaultAction.DROP), times=times, method=method
        )

    def inject_lost_response(
        self, path_regex: str, *, times: int = 1, method: str | None = None
    ) -> None:
        """Process the next matching requests normally, then close the connection unanswered.

        The server did the work (``POST /schedule`` created the task) but the client sees a
        connection error, as when a network fails after the request arrived. The log keeps the
        status of the lost response, with ``fault`` :attr:`FaultAction.LOSE_RESPONSE`.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        self._control.add_fault(
            path_regex, FaultEffect(FaultAction.LOSE_RESPONSE), times=times, method=method
        )

    def inject_rewrite(
        self,
        path_regex: str,
        rewrite: Callable[[Any], Any],
        *,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Process the next matching requests normally, then answer with their JSON changed.

        Stands in for a server or proxy that answers partially or wrongly: a listing that
        leaves a row out (a replica behind), a row of the wrong shape or of another app.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            rewrite: Takes the decoded JSON answer and returns the one to send.
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        effect = FaultEffect(FaultAction.REWRITE, rewrite=rewrite)
        self._control.add_fault(path_regex, effect, times=times, method=method)

    def clear_faults(self) -> None:
        """Forget one-off injected failures that have not happened yet (chaos stays)."""
        self._control.clear_faults()

    def set_chaos(
        self,
        *,
        drop_rate: float = 0.0,
        error_rate: float = 0.0,
        error_statuses: Iterable[int] = (502, 503, 504),
        lost_response_rate: float = 0.0,
        maintenance_rate: float = 0.0,
        latency_seconds: float = 0.0,
        seed: int = 0,
        path_regex: str = "",
        methods: Iterable[str] | None = None,
    ) -> None:
        """Make the network flaky for matching requests until :meth:`clear_chaos`.

        Each matching request takes one draw from ``random.Random(seed)`` in arrival order, so
        a seed and a request order always give the same outcomes. With the given probabilities
        (which must add up to at most 1) it is dropped before processing, answered with a proxy
        error, processed with its response lost (as :meth:`inject_lost_response`), or answered
        as in maintenance mode; otherwise it is processed normally. One-off failures
        (``inject_*``) take precedence and skip the draw. Replaces earlier chaos settings.

        Args:
            drop_rate: Probability of closing the connection without processing or answering
                (logged with ``status`` None).
            error_rate: Probability of a reverse proxy's error page: one of ``error_statuses``
                picked at random, with an nginx-style HTML body; a 503 does not look like
                maintenance mode.
            error_statuses: The statuses of proxy errors, 400 to 599.
            lost_response_rate: Probability of processing the request, then closing the
                connection without the response.
            maintenance_rate: Probability of the maintenance-mode 503 of
                :meth:`inject_maintenance`.
            latency_seconds: Delay before each matching request is handled (whatever its
                outcome); other requests are served meanwhile.
            seed: Seed of the random sequence.
            path_regex: Only requests whose path matches (``re.search``); all by default.
            methods: Only requests with these HTTP methods; any by default.

        Raises:
            ValueError: A rate is outside 0 to 1, the rates add up to more than 1, a status is
                not an error status, or the latency is negative.
        """
        settings = ChaosSettings(
            drop_rate=drop_rate,
            error_rate=error_rate,
            error_statuses=tuple(error_statuses),
            lost_response_rate=lost_response_rate,
            maintenance_rate=maintenance_rate,
            latency_seconds=latency_seconds,
            seed=seed,
            path_regex=path_regex,
            methods=None if methods is None else frozenset(methods),
        )
        self._control.set_chaos(Chaos(settings))

    def clear_chaos(self) -> None:
        """Stop the chaos of :meth:`set_chaos`; requests being delayed continue at once."""
        self._control.set_chaos(None)

    def wait_for_delayed_requests(self, *, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least ``count`` requests are being held by ``latency_seconds``.

        Lets a test act while requests are delayed, e.g. check that others are still served.

        Args:
            count: How many delayed requests to wait for.
            timeout: Seconds to wait at most.

        Raises:
            TimeoutError: Fewer requests were delayed within ``timeout``.
            RuntimeError: No chaos is set.
        """
        chaos = self._control.chaos
        if chaos is None:
            raise RuntimeError("No chaos is set; call set_chaos(latency_seconds=...) first")
        chaos.wait_for_held(count, timeout)
