"""The HTTP client: the one place where prefect-nextcloud talks to a Nextcloud server.

:class:`NextcloudClient` and :class:`AsyncNextcloudClient` are the sync and async faces of the
same client. Every method of either face runs a plan of :mod:`prefect_nextcloud.client.plans`
with :meth:`~NextcloudClient.run`, which sends each
:class:`~prefect_nextcloud.client.calls.Call` of the plan (OCS, TextProcessing and WebDAV
calls, file uploads and streamed downloads alike) through one private method per face,
``_exchange``. So every request is built, sent, read and retried in one way.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio.to_thread
import httpx

from prefect_nextcloud._compat import install_deadline_backends
from prefect_nextcloud._version import __version__
from prefect_nextcloud.client import taskprocessing, webdav
from prefect_nextcloud.client.calls import Api, Call
from prefect_nextcloud.client.config import is_loopback, normalize_base_url, tls_verification
from prefect_nextcloud.client.deadlines import Regions, RequestDeadline
from prefect_nextcloud.client.errors import NextcloudConnectionError, NextcloudError
from prefect_nextcloud.client.models import Task, TaskFile, TaskListing, TaskType
from prefect_nextcloud.client.pacing import (
    SchedulePacer,
)
from prefect_nextcloud.client.plans import Plan, Planner, ServerMemory, run_async, run_sync
from prefect_nextcloud.client.redaction import Redactor
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.client.streams import (
    ACCEPTED_ENCODINGS,
    BodyDecoder,
    DownloadLimit,
    FileSink,
    MemorySink,
    UploadData,
    UploadSource,
    local_download_target,
)
from prefect_nextcloud.client.versions import ServerVersion
from prefect_nextcloud.client.webdav import FileComment, FileInfo, FolderListing, SystemTag

__all__ = ["DEFAULT_APP_ID", "AsyncNextcloudClient", "NextcloudClient"]

T = TypeVar("T")

DEFAULT_APP_ID = "prefect-nextcloud"
USER_AGENT = f"prefect-nextcloud/{__version__}"

logger = logging.getLogger("prefect_nextcloud")


class _ClientBase:
    """Settings and request building shared by both faces."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        settings: ClientSettings | None = None,
        retry_policy: RetryPolicy | None = None,
        task_types_ttl_seconds: float = 30.0,
    ) -> None:
        settings = settings or ClientSettings()
        self.base_url = normalize_base_url(base_url)
        if not user_id or not isinstance(user_id, str):
            raise ValueError("user_id must be the Nextcloud login name, a non-empty string.")
        if not app_password or not isinstance(app_password, str):
            raise ValueError("app_password must be a non-empty string.")
        if (
            self.base_url.startswith("http://")
            and not settings.allow_insecure_http
            and not is_loopback(self.base_url)
        ):
            raise ValueError(
                f"Refusing plain http:// to {self.base_url}: the app password would travel in "
                "clear text. Use https://, or set allow_insecure_http=True if the network path "
                "is trusted."
            )
        ca_bundle = settings.ca_bundle
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ValueError(f"ca_bundle {ca_bundle!r} is not a file; give the path of a PEM file.")
        self.user_id = user_id
        self.timeout_seconds = settings.timeout_seconds
        self._redactor = Redactor(user_id, app_password)
        self._regions = Regions()
        self.max_download_bytes = settings.max_download_bytes
        self._planner = Planner(
            user_id,
            ServerMemory((self.base_url, user_id)),
            retry_policy or settings.retry_policy(),
            task_types_ttl_seconds=task_types_ttl_seconds,
            pacer=SchedulePacer.for_user(
                self.base_url, user_id, settings.schedule_limit, settings.schedule_window_seconds
            ),
        )
        self._settings: dict[str, Any] = {
            "base_url": self.base_url,
            "auth": httpx.BasicAuth(user_id, app_password),
            # Only encodings BodyDecoder reads in bounded pieces (not br or zstd).
            "headers": {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPTED_ENCODINGS},
            "timeout": httpx.Timeout(settings.timeout_seconds),
            "verify": tls_verification(
                self.base_url, verify_tls=settings.verify_tls, ca_bundle=ca_bundle
            ),
            "follow_redirects": False,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, user_id={self.user_id!r})"

    @property
    def schedule_pacer(self) -> SchedulePacer:
        """The schedule window this client shares with every client of its server and user."""
        return self._planner.pacer

    @staticmethod
    def _request_arguments(call: Call[Any], *, asynchronous: bool) -> dict[str, Any]:
        params, headers = dict(call.params), dict(call.headers)
        if call.api is Api.OCS:
            params["format"] = "json"
            # The server does not parse an Accept header that carries parameters and then
            # answers XML; format=json above is what really selects JSON.
            headers.update({"OCS-APIRequest": "true", "Accept": "application/json"})
        arguments: dict[str, Any] = {"params": params, "headers": headers}
        if call.json is not None:
            arguments["json"] = call.json
        if isinstance(call.content, bytes):
            arguments["content"] = call.content
        elif call.content is not None:
            # Read from its start for each try: a repeated upload sends the same bytes again.
            body = call.content
            arguments["content"] = body.async_chunks() if asynchronous else body.chunks()
        return arguments

    def deadline(self, seconds: float) -> AbstractContextManager[None]:
        """Bound everything this client does inside a ``with`` block by ``seconds`` from now.

        Every request, retry and retry wait of this client in the block (in this thread or
        asyncio task) must end by then: waits are cut to the time
        left, and a call that cannot finish in time raises :class:`DeadlineExceededError`
        naming the endpoint; it is not retried. Blocks nest, and the earliest deadline
        applies. It is a plain ``with`` block on both faces.

        Example:
            ```python
            with client.deadline(60):
                task = client.get_task(task_id)  # with its retries, done within 60 s
            ```

        Args:
            seconds: The time allowed; zero or less means it has already passed.

        Raises:
            ValueError: ``seconds`` is not a finite number.
        """
        return self._regions.region(seconds)

    def _request_deadline(self, call: Call[Any]) -> RequestDeadline:
        """The deadline of a request starting now: ``timeout_seconds``, or a region's end."""
        return RequestDeadline.start(
            self._regions, self.timeout_seconds, call.endpoint, self.base_url
        )

    def _retry_wait(self, seconds: float) -> float:
        return self._regions.clipped_sleep(seconds)

    def _body_limit(self, call: Call[Any]) -> DownloadLimit:
        # Every answer is read with the download cap, so no server can flood memory.
        return DownloadLimit(call.path, call.endpoint, self.max_download_bytes)

    def _connection_error(
        self, call: Call[Any], error: httpx.TransportError, deadline: RequestDeadline
    ) -> NextcloudError:
        if deadline.passed():
            return deadline.error()
        kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
        detail = str(error) or type(error).__name__
        return NextcloudConnectionError(
            f"The connection to {self.base_url} {kind} on {call.endpoint}: {detail}. Check the "
            "address, the network and that the server is up.",
            endpoint=call.endpoint,
        )


class _Body:
    """Reads an answer as it arrives: decoded in bounded pieces, counted, within the deadline.

    Args:
        response: The answer, its body unread.
        limit: The size limit of the decoded body.
        deadline: The request's deadline, checked at every received chunk.
    """

    def __init__(
        self, response: httpx.Response, limit: DownloadLimit, deadline: RequestDeadline
    ) -> None:
        limit.start(response)
        self._decoder = BodyDecoder(response.headers.get("content-encoding", ""), limit.endpoint)
        self._limit = limit
        self._deadline = deadline

    def feed(self, received: bytes) -> Iterator[bytes]:
        self._deadline.check()
        for piece in self._decoder.feed(received):
            yield self._limit.count(piece)

    def finish(self) -> Iterator[bytes]:
        self._deadline.check()
        for piece in self._decoder.flush():
            yield self._limit.count(piece)

    def read_already(self, content: bytes) -> Iterator[bytes]:
        """An answer whose body httpx has read and decoded already (see ``_chunks``)."""
        yield self._limit.count(content)


def _chunks(response: httpx.Response, body: _Body) -> Iterator[bytes]:
    # Answers built in memory (a buffered error page, a test's MockTransport) come read.
    if response.is_stream_consumed:
        yield from body.read_already(response.content)
        return
    for received in response.iter_raw():
        yield from body.feed(received)
    yield from body.finish()


async def _achunks(response: httpx.Response, body: _Body) -> AsyncIterator[bytes]:
    if response.is_stream_consumed:
        for piece in body.read_already(response.content):
            yield piece
        return
    async for received in response.aiter_raw():
        for piece in body.feed(received):
            yield piece
    for piece in body.finish():
        yield piece


def _buffered(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A complete copy of a streamed answer, with its (already decoded) body."""
    headers = [
        (name, value)
        for name, value in streamed.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        streamed.status_code, headers=headers, content=body, request=streamed.request
    )


def _readable(listing: TaskListing, endpoint: str) -> list[Task]:
    """The valid tasks of a listing; the rows that are not tasks are named in a warning."""
    if listing.unreadable:
        problems = "; ".join(
            f"task {row.id or '?'}: {row.problem}" for row in listing.unreadable[:3]
        )
        logger.warning(
            "%s answered %s row(s) that are not valid tasks; they are left out (%s).",
            endpoint,
            len(listing.unreadable),
            problems,
        )
    return listing.tasks


class NextcloudClient(_ClientBase):
    """A synchronous client of the Task Processing API, with one connection pool.

    Use it as a context manager, or call :meth:`close` when done.

    Example:
        ```python
        from prefect_nextcloud import NextcloudCredentials

        with NextcloudCredentials.from_env().get_client() as client:
            print(sorted(client.get_task_types()))
        ```
    """

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        settings: ClientSettings | None = None,
        retry_policy: RetryPolicy | None = None,
        task_types_ttl_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Create a client; no connection is made until the first call.

        Args:
            base_url: The server root, e.g. ``https://cloud.example.com``.
            user_id: The Nextcloud login name.
            app_password: An app password of that user.
            settings: TLS, time limits, retries, the download cap and the schedule pacing
                (every client of a server and user in the process keeps within the schedule
                limit together); the defaults when omitted.
            retry_policy: When to retry calls that failed for a passing reason; by default the
                one the ``retry_*`` and ``rate_limit_wait_seconds`` settings describe.
            task_types_ttl_seconds: How long the list of offered task types is reused.
            transport: An httpx transport to use instead of the network (for tests).

        Raises:
            ValueError: The address, login or a setting cannot be used (plain ``http://`` to
                another machine, a missing CA bundle file).
        """
        super().__init__(
            base_url,
            user_id,
            app_password,
            settings=settings,
            retry_policy=retry_policy,
            task_types_ttl_seconds=task_types_ttl_seconds,
        )
        self._http = httpx.Client(**self._settings, transport=transport)
        install_deadline_backends(self._http)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _exchange(self, call: Call[T]) -> T:
        """Send one call once and read its answer; the body of a success may go to its sink.

        Only :meth:`run` sends calls, so that every request is retried the same way. What the
        server said reaches the caller, and the retry logs, only through the client's redaction:
        every error raised here, and every task returned, is redacted first.

        Raises:
            NextcloudError: The subclass that matches what went wrong.
        """
        try:
            return self._redactor.result(self._send(call))
        except NextcloudError as error:
            failure = self._redactor.error(error)
        raise failure  # outside the except block, see _send

    def _send(self, call: Call[T]) -> T:
        deadline = self._request_deadline(call)
        failure = None
        try:
            with (
                deadline.active(),
                self._http.stream(
                    call.method,
                    call.path,
                    timeout=deadline.timeout(),
                    **self._request_arguments(call, asynchronous=False),
                ) as streamed,
            ):
                sink = call.sink if streamed.is_success else None
                if sink is None:
                    body = _Body(streamed, self._body_limit(call), deadline)
                    content = b"".join(_chunks(streamed, body))
                else:
                    sink.restart()
                    for piece in _chunks(
                        streamed, _Body(streamed, sink.limit(call.endpoint), deadline)
                    ):
                        sink.write(piece)
                    content = b""
        except httpx.TransportError as error:
            failure = self._connection_error(call, error, deadline)
        if failure is not None:
            # Raised outside the except block: the httpx error, whose request carries the
            # Authorization header, must not stay attached as __context__.
            raise failure
        return call.parse(_buffered(streamed, content))

    def run(self, plan: Plan[T]) -> T:
        """Carry out an operation planned by :mod:`prefect_nextcloud.client.plans`.

        This is the one way this client sends requests: every method runs a plan.

        Raises:
            NextcloudError: The subclass that matches what went wrong.
        """
        try:
            return run_sync(
                self._exchange, plan, lambda seconds: time.sleep(self._retry_wait(seconds))
            )
        except NextcloudError as error:
            failure = self._redactor.error(error)  # a plan's own messages quote answers too
        raise failure

    def server_version(self) -> ServerVersion:
        """The server's Nextcloud version, learned once from ``/status.php`` and remembered."""
        return self.run(self._planner.server_version())

    def has_task_processing(self) -> bool:
        """Whether the server has the Task Processing API (Nextcloud 30+).

        Learned from the task types' answer and remembered; a current server is not asked
        its version for it.
        """
        return self.run(self._planner.task_processing())

    def get_task_types(self, *, refresh: bool = False) -> dict[str, TaskType]:
        """List the task types this user may schedule, keyed by task type id.

        The list is remembered for ``task_types_ttl_seconds`` (the server caches it for 60 s).

        Args:
            refresh: Ask the server again instead of using the remembered list.
        """
        return self.run(self._planner.task_types(refresh=refresh))

    def get_task_type(self, task_type: str) -> TaskType:
        """Return one offered task type.

        Raises:
            TaskTypeUnavailableError: The server does not offer it; the message lists what it
                offers and whether the server is too old for this type.
        """
        return self.run(self._planner.task_type(task_type))

    def schedule_task(
        self,
        task_type: str,
        input: Mapping[str, Any],
        *,
        app_id: str = DEFAULT_APP_ID,
        custom_id: str | None = None,
        webhook_uri: str | None = None,
        webhook_method: str | None = None,
        include_watermark: bool | None = None,
        validate: bool = True,
        adopt_existing: bool = True,
        wait_for_slot: bool = True,
    ) -> Task:
        """Schedule a task.

        Unless ``validate`` is off, the input is first checked against the task type the server
        declares, and nothing is sent when it does not fit. On Nextcloud 27.1-29 the four text
        types go through the older TextProcessing API.

        Args:
            task_type: The task type id, e.g. ``core:analyze-images``.
            input: Slot name to value; file slots take file ids.
            app_id: Any identifier of the caller; lists can be filtered by it.
            custom_id: Your own identifier (at most 255 characters), to find the task again.
            webhook_uri: A URL the server calls when the task ends.
            webhook_method: ``HTTP:POST`` and the like; required with ``webhook_uri``.
            include_watermark: Ask providers to watermark output (Nextcloud 33+).
            validate: Check the input against the declared task type first.
            adopt_existing: Look for a task already scheduled under ``custom_id`` first, and
                after a failure that may have created one. Turn it off only when you list the
                tasks yourself: such a failure is then raised, and scheduling again before a
                listing has shown no task under ``custom_id`` may create a second one.
            wait_for_slot: When this user's schedule window is full, wait for a free slot
                (up to the block's ``rate_limit_wait_seconds``); otherwise raise
                :class:`ScheduleDeferredError` at once, without sending anything.

        Returns:
            The new task, ``STATUS_SCHEDULED``, with its input as the server normalised it.

        Raises:
            ScheduleDeferredError: The schedule window is full and waiting was not allowed or
                would take too long; nothing was sent.
            TaskInputError: The input does not fit the task type (nothing was sent).
            TaskTypeUnavailableError: The server does not offer the task type.
        """
        return self.run(
            self._planner.schedule(
                task_type,
                input,
                validate=validate,
                app_id=app_id,
                custom_id=custom_id,
                webhook_uri=webhook_uri,
                webhook_method=webhook_method,
                include_watermark=include_watermark,
                adopt_existing=adopt_existing,
                wait_for_slot=wait_for_slot,
            )
        )

    def get_task(self, task_id: int) -> Task:
        """Fetch a task's current state."""
        return self.run(self._planner.get_task(task_id))

    def cancel_task(self, task_id: int) -> Task:
        """Cancel a scheduled or running task; a finished task is returned unchanged."""
        return self.run(self._planner.task_processing_only(taskprocessing.cancel_task(task_id)))

    def delete_task(self, task_id: int) -> None:
        """Delete a task; deleting a task that does not exist is not an error."""
        self.run(self._planner.delete_task(task_id))

    def list_tasks(
        self, *, task_type: str | None = None, custom_id: str | None = None
    ) -> list[Task]:
        """List this user's tasks, optionally filtered by task type and custom id.

        Rows that are not valid tasks are left out, with a warning.
        """
        call = taskprocessing.list_tasks(task_type=task_type, custom_id=custom_id)
        return _readable(self.run(self._planner.task_processing_only(call)), call.endpoint)

    def list_tasks_by_app(self, app_id: str, *, custom_id: str | None = None) -> list[Task]:
        """List this user's tasks scheduled under ``app_id``, optionally by custom id.

        Rows that are not valid tasks are left out, with a warning; :meth:`task_listing`
        returns them too.
        """
        listing = self.task_listing(app_id, custom_id=custom_id)
        return _readable(listing, f"GET /tasks/app/{app_id}")

    def task_listing(self, app_id: str, *, custom_id: str | None = None) -> TaskListing:
        """This user's tasks under ``app_id``, and the rows of the answer that are not tasks.

        One malformed row spoils only itself: it is described in ``unreadable`` with the ids
        it still shows, so a caller can tell whether it concerns one of its own tasks.
        """
        return self.run(self._planner.list_tasks_by_app(app_id, custom_id))

    def get_task_file(self, task_id: int, file_id: int) -> TaskFile:
        """Download a file of a task's input or output."""
        call = taskprocessing.get_task_file(task_id, file_id)
        return self.run(self._planner.task_processing_only(call))

    # -- Files (WebDAV) ------------------------------------------------------------------------

    def get_file_info(self, path: str) -> FileInfo:
        """Look up a file or folder in the user's files (WebDAV ``PROPFIND``).

        Args:
            path: The path below the user's home folder, e.g. ``/Photos/receipt.jpg``.

        Returns:
            Its file id, whether it is a folder, its size, MIME type and etag.

        Raises:
            ValueError: The path is invalid; nothing was sent.
            NextcloudFileNotFoundError: Nothing is at that path.
        """
        return self.run(self._planner.send(webdav.get_file_info(self.user_id, path)))

    def post_comment(self, file_id: int, message: str) -> int | None:
        """Comment on a file (WebDAV ``comments/files/{fileId}``); it shows in the Files sidebar.

        Sent once, without retries: after a lost answer a repeat could post it twice.

        Args:
            file_id: The file to comment on, e.g. from :meth:`list_folder`.
            message: The comment, at most 1000 characters after trimming.

        Returns:
            The new comment's id, when the server said.

        Raises:
            ValueError: The file id or message is invalid; nothing was sent.
            FilePermissionError: The user may not comment on that file.
            NextcloudFileNotFoundError: No such file, or the user cannot see it.
            NextcloudConnectionError: No answer came; the comment may have been posted.
        """
        return self.run(self._planner.send(webdav.post_comment(file_id, message)))

    def list_folder(self, path: str) -> list[FileInfo]:
        """List the files and folders directly in a folder (WebDAV ``PROPFIND``, depth 1).

        Args:
            path: The folder below the user's home folder, e.g. ``/Photos``; ``/`` is the home.

        Returns:
            What the folder holds, the folder itself left out, sorted by path.

        Raises:
            ValueError: The path is invalid (nothing was sent) or is a file.
            NextcloudFileNotFoundError: Nothing is at that path.
        """
        return self.run(self._planner.send(webdav.list_folder(self.user_id, path)))

    def read_folder(self, path: str) -> FolderListing:
        """Like :meth:`list_folder`, but entries whose names cannot be paths are set apart.

        An entry whose name holds, e.g., a control character cannot be a
        :class:`~prefect_nextcloud.client.paths.NextcloudPath`: :meth:`list_folder` raises
        for it, this lists it in ``unreadable`` with what is wrong, beside the other entries.

        Raises:
            ValueError: The path is invalid (nothing was sent) or is a file.
            NextcloudFileNotFoundError: Nothing is at that path.
        """
        return self.run(self._planner.send(webdav.read_folder(self.user_id, path)))

    def list_comments(
        self, file_id: int, *, limit: int = webdav.MAX_COMMENTS_LISTED, offset: int = 0
    ) -> list[FileComment]:
        """Read a file's comments, newest first (WebDAV ``REPORT`` on ``comments/files``).

        Args:
            file_id: The file whose comments to read.
            limit: At most this many, 1 to 100.
            offset: How many of the newest to skip.

        Raises:
            ValueError: An argument is invalid; nothing was sent.
            NextcloudFileNotFoundError: No such file, or the user cannot see it.
        """
        call = webdav.list_comments(file_id, limit=limit, offset=offset)
        return self.run(self._planner.send(call))

    def move_file(self, source: str, destination: str) -> None:
        """Rename or move a file or folder (WebDAV ``MOVE``); an existing target is kept.

        Sent once, without retries: after a lost answer a repeat would find the source gone.

        Raises:
            ValueError: A path is invalid or the home folder; nothing was sent.
            NextcloudFileNotFoundError: Nothing is at ``source``.
            FileConflictError: The folder of ``destination`` does not exist.
            NextcloudHTTPError: Something is at ``destination`` already (412).
        """
        call = webdav.move(self.user_id, source, destination, base_url=self.base_url)
        self.run(self._planner.send(call))

    def get_file_id(self, path: str) -> int:
        """Return the file id of a file or folder, as Task Processing inputs take it.

        Raises:
            ValueError: The path is invalid; nothing was sent.
            NextcloudFileNotFoundError: Nothing is at that path.
        """
        return self.get_file_info(path).file_id

    def make_folders(self, path: str) -> None:
        """Create a folder and its missing parents; folders that exist are left alone.

        Raises:
            ValueError: The path is invalid; nothing was sent.
            FileConflictError: A file stands at the path or on the way to it.
        """
        self.run(self._planner.make_folders(self.user_id, path))

    def upload_file(
        self, path: str, data: UploadData | UploadSource, *, create_folders: bool = True
    ) -> int:
        """Upload a file, replacing any file at that path (WebDAV ``PUT``).

        A local file or file object is streamed in chunks of at most 1 MiB, never read whole.
        After a passing failure the same bytes are sent again, as other calls are retried;
        except from a file object that cannot seek back to where it started (a pipe, a
        socket): such a one-shot stream is sent once, and a passing failure raises at once,
        its message saying that the upload was not tried again.

        Args:
            path: The file's path below the user's home folder, e.g. ``/Inbox/scan.pdf``.
            data: Bytes, a local file path (``str`` or path-like), or a binary file object
                (read from its current position and left open). Text goes to :meth:`write_text`.
            create_folders: Create missing parent folders first.

        Returns:
            The file id of the uploaded file.

        Raises:
            ValueError: The path or data is invalid (e.g. no such local file); nothing was sent.
            FileConflictError: The parent folder is missing (with ``create_folders=False``).
            InsufficientStorageError: The user's quota is full.
        """
        target = webdav.file_target(path)
        source = UploadSource.of(data)
        with source.open() as body:
            return self.run(
                self._planner.upload(
                    self.user_id,
                    target,
                    body,
                    content_type=source.content_type,
                    create_folders=create_folders,
                )
            )

    def write_text(self, path: str, text: str, *, create_folders: bool = True) -> int:
        """Write text to a file as UTF-8 ``text/plain``, e.g. a report; see :meth:`upload_file`.

        Returns:
            The file id.
        """
        return self.upload_file(path, UploadSource.text(text), create_folders=create_folders)

    def download_file(self, path: str, *, max_bytes: int | None = None) -> bytes:
        """Download a file into memory, stopping once it passes a size limit.

        After a passing failure the download starts again from scratch.

        Args:
            path: The file's path below the user's home folder.
            max_bytes: The size limit; :attr:`max_download_bytes` (100 MiB) by default.

        Returns:
            The file's content.

        Raises:
            ValueError: The path is invalid; nothing was sent.
            NextcloudFileNotFoundError: No file at that path.
            DownloadTooLargeError: The file is larger than the limit.
        """
        target = webdav.file_target(path)
        sink = MemorySink(target, self.max_download_bytes if max_bytes is None else max_bytes)
        self.run(self._planner.send(webdav.get_file(self.user_id, target, sink)))
        return sink.content

    def download_to(
        self, path: str, local_path: str | os.PathLike[str], *, max_bytes: int | None = None
    ) -> Path:
        """Download a file straight to disk; the local file appears only when complete.

        After a passing failure the download starts again from scratch.

        Args:
            path: The file's path below the user's home folder.
            local_path: Where to write it; its folder must exist. An existing file there is
                replaced, and so is a symbolic link: it is never written through.
            max_bytes: A size limit; none by default.

        Returns:
            The absolute local path.

        Raises:
            ValueError: A path is invalid; nothing was sent.
            NextcloudFileNotFoundError: No file at that path.
            DownloadTooLargeError: The file is larger than ``max_bytes``.
            OSError: The local file cannot be written.
        """
        target = webdav.file_target(path)
        destination = local_download_target(local_path)
        with FileSink(destination, target, max_bytes).open() as sink:
            self.run(self._planner.send(webdav.get_file(self.user_id, target, sink)))
        return destination

    def delete_file(self, path: str, *, missing_ok: bool = True) -> None:
        """Delete a file, or a folder with everything in it (Nextcloud keeps it in the trash).

        Args:
            path: What to delete; never the home folder.
            missing_ok: Whether nothing at that path is fine (the default, so a repeat is
                harmless); otherwise it raises :class:`NextcloudFileNotFoundError`, unless
                the path was found gone by a retry after a delete whose answer was lost.
        """
        self.run(self._planner.delete_file(self.user_id, path, missing_ok=missing_ok))

    # -- Tags (WebDAV) ---------------------------------------------------------------------------

    def list_tags(self) -> list[SystemTag]:
        """The collaborative tags this user can see, ordered by name (WebDAV ``systemtags``)."""
        return self.run(self._planner.send(webdav.list_tags()))

    def ensure_tag(self, name: str) -> SystemTag:
        """The tag called ``name``, created (visible, and assignable by everyone) if missing.

        A tag whose name differs only in case is taken for it: Nextcloud 31 and later allow no
        second one. Safe to repeat, also from several runs at once.

        Args:
            name: The tag's name, at most 64 bytes in UTF-8; surrounding spaces are dropped.

        Raises:
            ValueError: The name is empty or too long; nothing was sent.
            FilePermissionError: Only admins may create tags on this server.
            NextcloudHTTPError: A tag of that name exists that this user cannot see.
        """
        return self.run(self._planner.ensure_tag(name))

    def tag_file(self, file_id: int, tag: SystemTag | int) -> bool:
        """Put a tag on a file or folder (WebDAV ``systemtags-relations``).

        Users find tagged files in the Files app, filter by the tag, and Nextcloud Flow rules
        can act on it. A tag that is there already is not an error, so a repeat is harmless.

        Args:
            file_id: The file or folder, e.g. from :meth:`list_folder`.
            tag: The tag, e.g. from :meth:`ensure_tag`, or its id.

        Returns:
            True when this call assigned it, False when the file had it already.

        Raises:
            ValueError: The file id or tag is invalid; nothing was sent.
            NextcloudFileNotFoundError: No such file, or the user cannot see it.
            FilePermissionError: The user may not assign this tag.
            NextcloudHTTPError: The tag does not exist (412), or the user cannot see it.
        """
        return self.run(self._planner.send(webdav.tag_file(file_id, tag)))

    def untag_file(self, file_id: int, tag: SystemTag | int) -> bool:
        """Take a tag off a file or folder; a tag that is not there is not an error.

        Returns:
            True when this call removed it, False when the file did not have it.

        Raises:
            ValueError: The file id or tag is invalid; nothing was sent.
            NextcloudFileNotFoundError: No such file, or the user cannot see it.
            FilePermissionError: The user may not remove this tag.
        """
        return self.run(self._planner.send(webdav.untag_file(file_id, tag)))

    def file_tags(self, file_id: int) -> list[SystemTag]:
        """The tags on a file or folder that this user can see, ordered by name.

        Raises:
            ValueError: The file id is invalid; nothing was sent.
            NextcloudFileNotFoundError: No such file, or the user cannot see it.
        """
        return self.run(self._planner.send(webdav.file_tags(file_id)))


class AsyncNextcloudClient(_ClientBase):
    """The asynchronous face of :class:`NextcloudClient`: the same calls, awaited.

    Example:
        ```python
        async with NextcloudCredentials.from_env().get_async_client() as client:
            task = await client.get_task(42)
        ```
    """

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        settings: ClientSettings | None = None,
        retry_policy: RetryPolicy | None = None,
        task_types_ttl_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Create a client; see :class:`NextcloudClient` for the arguments."""
        super().__init__(
            base_url,
            user_id,
            app_password,
            settings=settings,
            retry_policy=retry_policy,
            task_types_ttl_seconds=task_types_ttl_seconds,
        )
        self._http = httpx.AsyncClient(**self._settings, transport=transport)
        install_deadline_backends(self._http)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _exchange(self, call: Call[T]) -> T:
        """See :meth:`NextcloudClient._exchange`; disk writes of a sink run in a worker thread."""
        try:
            return self._redactor.result(await self._send(call))
        except NextcloudError as error:
            failure = self._redactor.error(error)
        raise failure

    async def _send(self, call: Call[T]) -> T:
        deadline = self._request_deadline(call)
        failure = None
        try:
            with deadline.active():
                async with self._http.stream(
                    call.method,
                    call.path,
                    timeout=deadline.timeout(),
                    **self._request_arguments(call, asynchronous=True),
                ) as streamed:
                    sink = call.sink if streamed.is_success else None
                    if sink is None:
                        body = _Body(streamed, self._body_limit(call), deadline)
                        content = b"".join([piece async for piece in _achunks(streamed, body)])
                    else:
                        sink.restart()
                        body = _Body(streamed, sink.limit(call.endpoint), deadline)
                        async for piece in _achunks(streamed, body):
                            if sink.writes_to_disk:
                                await anyio.to_thread.run_sync(sink.write, piece)
                            else:
                                sink.write(piece)
                        content = b""
        except httpx.TransportError as error:
            failure = self._connection_error(call, error, deadline)
        if failure is not None:
            raise failure  # outside the except block, see NextcloudClient._send
        return call.parse(_buffered(streamed, content))

    async def run(self, plan: Plan[T]) -> T:
        """See :meth:`NextcloudClient.run`."""
        try:
            return await run_async(
                self._exchange, plan, lambda seconds: anyio.sleep(self._retry_wait(seconds))
            )
        except NextcloudError as error:
            failure = self._redactor.error(error)
        raise failure

    async def server_version(self) -> ServerVersion:
        """See :meth:`NextcloudClient.server_version`."""
        return await self.run(self._planner.server_version())

    async def has_task_processing(self) -> bool:
        """See :meth:`NextcloudClient.has_task_processing`."""
        return await self.run(self._planner.task_processing())

    async def get_task_types(self, *, refresh: bool = False) -> dict[str, TaskType]:
        """See :meth:`NextcloudClient.get_task_types`."""
        return await self.run(self._planner.task_types(refresh=refresh))

    async def get_task_type(self, task_type: str) -> TaskType:
        """See :meth:`NextcloudClient.get_task_type`."""
        return await self.run(self._planner.task_type(task_type))

    async def schedule_task(
        self,
        task_type: str,
        input: Mapping[str, Any],
        *,
        app_id: str = DEFAULT_APP_ID,
        custom_id: str | None = None,
        webhook_uri: str | None = None,
        webhook_method: str | None = None,
        include_watermark: bool | None = None,
        validate: bool = True,
        adopt_existing: bool = True,
        wait_for_slot: bool = True,
    ) -> Task:
        """See :meth:`NextcloudClient.schedule_task`."""
        return await self.run(
            self._planner.schedule(
                task_type,
                input,
                validate=validate,
                app_id=app_id,
                custom_id=custom_id,
                webhook_uri=webhook_uri,
                webhook_method=webhook_method,
                include_watermark=include_watermark,
                adopt_existing=adopt_existing,
                wait_for_slot=wait_for_slot,
            )
        )

    async def get_task(self, task_id: int) -> Task:
        """See :meth:`NextcloudClient.get_task`."""
        return await self.run(self._planner.get_task(task_id))

    async def cancel_task(self, task_id: int) -> Task:
        """See :meth:`NextcloudClient.cancel_task`."""
        return await self.run(
            self._planner.task_processing_only(taskprocessing.cancel_task(task_id))
        )

    async def delete_task(self, task_id: int) -> None:
        """See :meth:`NextcloudClient.delete_task`."""
        await self.run(self._planner.delete_task(task_id))

    async def list_tasks(
        self, *, task_type: str | None = None, custom_id: str | None = None
    ) -> list[Task]:
        """See :meth:`NextcloudClient.list_tasks`."""
        call = taskprocessing.list_tasks(task_type=task_type, custom_id=custom_id)
        return _readable(await self.run(self._planner.task_processing_only(call)), call.endpoint)

    async def list_tasks_by_app(self, app_id: str, *, custom_id: str | None = None) -> list[Task]:
        """See :meth:`NextcloudClient.list_tasks_by_app`."""
        listing = await self.task_listing(app_id, custom_id=custom_id)
        return _readable(listing, f"GET /tasks/app/{app_id}")

    async def task_listing(self, app_id: str, *, custom_id: str | None = None) -> TaskListing:
        """See :meth:`NextcloudClient.task_listing`."""
        return await self.run(self._planner.list_tasks_by_app(app_id, custom_id))

    async def get_task_file(self, task_id: int, file_id: int) -> TaskFile:
        """See :meth:`NextcloudClient.get_task_file`."""
        call = taskprocessing.get_task_file(task_id, file_id)
        return await self.run(self._planner.task_processing_only(call))

    # -- Files (WebDAV) ------------------------------------------------------------------------

    async def get_file_info(self, path: str) -> FileInfo:
        """See :meth:`NextcloudClient.get_file_info`."""
        return await self.run(self._planner.send(webdav.get_file_info(self.user_id, path)))

    async def post_comment(self, file_id: int, message: str) -> int | None:
        """See :meth:`NextcloudClient.post_comment`."""
        return await self.run(self._planner.send(webdav.post_comment(file_id, message)))

    async def list_folder(self, path: str) -> list[FileInfo]:
        """See :meth:`NextcloudClient.list_folder`."""
        return await self.run(self._planner.send(webdav.list_folder(self.user_id, path)))

    async def read_folder(self, path: str) -> FolderListing:
        """See :meth:`NextcloudClient.read_folder`."""
        return await self.run(self._planner.send(webdav.read_folder(self.user_id, path)))

    async def list_comments(
        self, file_id: int, *, limit: int = webdav.MAX_COMMENTS_LISTED, offset: int = 0
    ) -> list[FileComment]:
        """See :meth:`NextcloudClient.list_comments`."""
        call = webdav.list_comments(file_id, limit=limit, offset=offset)
        return await self.run(self._planner.send(call))

    async def move_file(self, source: str, destination: str) -> None:
        """See :meth:`NextcloudClient.move_file`."""
        call = webdav.move(self.user_id, source, destination, base_url=self.base_url)
        await self.run(self._planner.send(call))

    async def get_file_id(self, path: str) -> int:
        """See :meth:`NextcloudClient.get_file_id`."""
        return (await self.get_file_info(path)).file_id

    async def make_folders(self, path: str) -> None:
        """See :meth:`NextcloudClient.make_folders`."""
        await self.run(self._planner.make_folders(self.user_id, path))

    async def upload_file(
        self, path: str, data: UploadData | UploadSource, *, create_folders: bool = True
    ) -> int:
        """See :meth:`NextcloudClient.upload_file`; local reads run in a worker thread."""
        target = webdav.file_target(path)
        source = UploadSource.of(data)
        with source.open() as body:
            return await self.run(
                self._planner.upload(
                    self.user_id,
                    target,
                    body,
                    content_type=source.content_type,
                    create_folders=create_folders,
                )
            )

    async def write_text(self, path: str, text: str, *, create_folders: bool = True) -> int:
        """See :meth:`NextcloudClient.write_text`."""
        return await self.upload_file(path, UploadSource.text(text), create_folders=create_folders)

    async def download_file(self, path: str, *, max_bytes: int | None = None) -> bytes:
        """See :meth:`NextcloudClient.download_file`."""
        target = webdav.file_target(path)
        sink = MemorySink(target, self.max_download_bytes if max_bytes is None else max_bytes)
        await self.run(self._planner.send(webdav.get_file(self.user_id, target, sink)))
        return sink.content

    async def download_to(
        self, path: str, local_path: str | os.PathLike[str], *, max_bytes: int | None = None
    ) -> Path:
        """See :meth:`NextcloudClient.download_to`; disk writes run in a worker thread."""
        target = webdav.file_target(path)
        destination = local_download_target(local_path)
        with FileSink(destination, target, max_bytes).open() as sink:
            await self.run(self._planner.send(webdav.get_file(self.user_id, target, sink)))
        return destination

    async def delete_file(self, path: str, *, missing_ok: bool = True) -> None:
        """See :meth:`NextcloudClient.delete_file`."""
        await self.run(self._planner.delete_file(self.user_id, path, missing_ok=missing_ok))

    async def list_tags(self) -> list[SystemTag]:
        """See :meth:`NextcloudClient.list_tags`."""
        return await self.run(self._planner.send(webdav.list_tags()))

    async def ensure_tag(self, name: str) -> SystemTag:
        """See :meth:`NextcloudClient.ensure_tag`."""
        return await self.run(self._planner.ensure_tag(name))

    async def tag_file(self, file_id: int, tag: SystemTag | int) -> bool:
        """See :meth:`NextcloudClient.tag_file`."""
        return await self.run(self._planner.send(webdav.tag_file(file_id, tag)))

    async def untag_file(self, file_id: int, tag: SystemTag | int) -> bool:
        """See :meth:`NextcloudClient.untag_file`."""
        return await self.run(self._planner.send(webdav.untag_file(file_id, tag)))

    async def file_tags(self, file_id: int) -> list[SystemTag]:
        """See :meth:`NextcloudClient.file_tags`."""
        return await self.run(self._planner.send(webdav.file_tags(file_id)))
