"""``NextcloudSandbox``: runs the emulated server on a local port and exposes test controls."""

from __future__ import annotations

import hashlib
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Self

import uvicorn

from prefect_nextcloud.sandbox.app import create_app
from prefect_nextcloud.sandbox.catalog import default_registry
from prefect_nextcloud.sandbox.controller import TaskProcessingController
from prefect_nextcloud.sandbox.dispatcher import OcsDispatcher
from prefect_nextcloud.sandbox.faults import FaultAction, HttpControl, RecordedRequest
from prefect_nextcloud.sandbox.models import TaskSnapshot, TaskStatus
from prefect_nextcloud.sandbox.ratelimit import SlidingWindowLimiter
from prefect_nextcloud.sandbox.state import ProcessingMode, Store
from prefect_nextcloud.sandbox.webdav import WebDav
from prefect_nextcloud.sandbox.webhooks import WebhookSender
from prefect_nextcloud.sandbox.worker import WorkerPool

if TYPE_CHECKING:
    from prefect_nextcloud.blocks import NextcloudCredentials

__all__ = ["DEFAULT_APP_PASSWORD", "DEFAULT_USER_ID", "NextcloudSandbox", "app_password_for"]

_ALPHANUMERIC = string.ascii_letters + string.digits
_START_TIMEOUT = 10.0
_SUPPORTED_VERSIONS = range(30, 36)


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
        pickup_delay_seconds: How long a new task stays scheduled before a worker may take it.
        run_seconds: How long a task stays running; progress 0.5 is reported halfway.
        workers: Number of worker threads.
        failing_task_types: Task type ids whose provider fails
            (``ProcessingException('Failing as set by AppConfig')``).
        rate_limit: ``POST /schedule`` calls allowed per user per window.
        rate_limit_period_seconds: Length of the sliding rate-limit window.
        server_version: Nextcloud major version to emulate (30-35): decides which task fields,
            task types and routes exist.
        clock: Wall-clock seconds used for all timestamps.
        monotonic_clock: Seconds for the rate-limit window; inject one to move time in tests.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] | None = None,
        pickup_delay_seconds: float = 0.0,
        run_seconds: float = 0.0,
        workers: int = 1,
        failing_task_types: Iterable[str] = (),
        rate_limit: int = 20,
        rate_limit_period_seconds: float = 120.0,
        server_version: int = 33,
        clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        users = dict(users) if users is not None else {DEFAULT_USER_ID: DEFAULT_APP_PASSWORD}
        if not users or not all(users.values()):
            raise ValueError("users must name at least one user, each with a non-empty password")
        if workers < 1 or rate_limit < 1:
            raise ValueError("workers and rate_limit must be at least 1")
        if server_version not in _SUPPORTED_VERSIONS:
            raise ValueError(f"server_version must be 30 to 35, got {server_version}")
        self._host = host
        self._requested_port = port
        self._users = users
        self._server_version = server_version
        self._store = Store(users, clock=clock)
        self._store.failing_task_types.update(failing_task_types)
        self._control = HttpControl()
        self._webhooks = WebhookSender()
        registry = default_registry(server_version)
        controller = TaskProcessingController(
            self._store,
            registry,
            self._webhooks,
            server_version=server_version,
            pickup_delay_seconds=pickup_delay_seconds,
        )
        limiter = SlidingWindowLimiter(rate_limit, rate_limit_period_seconds, monotonic_clock)
        self._app = create_app(
            ocs=OcsDispatcher(self._store, controller.routes(), limiter),
            webdav=WebDav(self._store),
            control=self._control,
            server_version=server_version,
        )
        self._workers = WorkerPool(
            self._store,
            registry,
            self._webhooks,
            workers=workers,
            run_seconds=run_seconds,
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
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
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
        """Return a credentials block for any sandbox user."""
        # Imported here: the blocks pull in Prefect, which the sandbox itself does not need.
        from pydantic import SecretStr  # noqa: PLC0415

        from prefect_nextcloud.blocks import NextcloudCredentials  # noqa: PLC0415

        return NextcloudCredentials(
            base_url=self.base_url,
            user_id=user_id,
            app_password=SecretStr(self._users[user_id]),
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

    def tasks(self) -> list[TaskSnapshot]:
        """Return a snapshot of every task of every user, in id order."""
        with self._store.condition:
            return [task.snapshot(self._server_version) for task in self._store.all_tasks()]

    def task(self, task_id: int) -> TaskSnapshot:
        """Return a snapshot of one task.

        Raises:
            KeyError: No such task (never scheduled, or deleted).
        """
        with self._store.condition:
            task = self._store.task(task_id)
            if task is None:
                raise KeyError(task_id)
            return task.snapshot(self._server_version)

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
                task = store.task(task_id)
                snapshot = None if task is None else task.snapshot(self._server_version)
                if snapshot is not None and condition(snapshot):
                    return snapshot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    current = "missing" if snapshot is None else snapshot.status
                    raise TimeoutError(f"Task {task_id} ({current}) did not reach {expected}")
                store.condition.wait(remaining)

    def complete_pending(self, *, timeout: float = 5.0) -> list[TaskSnapshot]:
        """Resume processing and wait until no task is scheduled or running.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            Snapshots of all tasks.

        Raises:
            TimeoutError: Tasks were still pending after ``timeout``.
        """
        self.resume_processing()
        deadline = time.monotonic() + timeout
        store = self._store
        with store.condition:
            while pending := [t.id for t in store.all_tasks() if not t.status.is_final]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"Tasks still pending: {pending}")
                store.condition.wait(remaining)
        return self.tasks()

    # -- HTTP controls ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (Authorization values redacted)."""
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
    ) -> None:
        """Answer the next ``times`` matching requests with a fixed response, e.g. a proxy's 502.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            status: HTTP status to return.
            body: Response body.
            headers: Response headers.
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        self._control.add_fault(
            path_regex,
            FaultAction.RESPOND,
            times=times,
            method=method,
            status=status,
            body=body,
            headers=headers,
        )

    def inject_maintenance(
        self, path_regex: str = "", *, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next matching requests as a server in maintenance mode does.

        OCS paths get 503 with the ``Service unavailable`` OCS result and the header
        ``X-Nextcloud-Maintenance-Mode: 1``; WebDAV paths get Sabre's 503 error.
        """
        self._control.add_fault(path_regex, FaultAction.MAINTENANCE, times=times, method=method)

    def inject_drop(self, path_regex: str, *, times: int = 1, method: str | None = None) -> None:
        """Close the connection of the next matching requests without any response."""
        self._control.add_fault(path_regex, FaultAction.DROP, times=times, method=method)

    def clear_faults(self) -> None:
        """Forget injected failures that have not happened yet."""
        self._control.clear_faults()
