"""The exception hierarchy: one class for each answer a Nextcloud server can give.

Every error carries the HTTP status (when there was a response), the endpoint
(``METHOD /path``) and the server's own message. None of them carries the app
password, the ``Authorization`` header or the underlying ``httpx`` request: the client
redacts every error it raises (:mod:`~prefect_nextcloud.client.redaction`), so a server
that quotes the credentials back is not repeated.

The tree of every class here::

    NextcloudError
        NextcloudConnectionError        no answer: network, TLS, timeout_seconds
        DeadlineExceededError           a client.deadline() region ended
        NextcloudHTTPError              an answer that is an error
            AuthenticationError             401
            FileAccessDeniedError           401 on a schedule: an input file is unreadable
            InvalidInputError               400 on a schedule
            TaskTypeUnavailableError        the task type is not offered
            CSRFCheckFailedError            412
            TaskNotFoundError               404 on a task
                TaskFileNotFoundError           404 on a task's file
            EndpointNotFoundError           404 on an endpoint the server lacks
            RateLimitedError                429
                ScheduleDeferredError           the client held a schedule back
            ServerError                     5xx
                MaintenanceModeError            503 in maintenance mode
            UnexpectedResponseError         an answer that cannot be read
            NextcloudFileNotFoundError      404 on a file (WebDAV)
            FilePermissionError             403 on a file (WebDAV)
            FileConflictError               409
            FileLockedError                 423
            InsufficientStorageError        507
        TaskInputError (also ValueError) an input refused before sending
        TaskError                       a task that ended without its output
            TaskFailedError
            TaskCancelledError
            UnknownTaskStatusError
            TaskTimeoutError
        DownloadTooLargeError           an answer or file over the size limit
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect_nextcloud.client.models import Task

__all__ = [
    "AuthenticationError",
    "CSRFCheckFailedError",
    "DeadlineExceededError",
    "DownloadTooLargeError",
    "EndpointNotFoundError",
    "FileAccessDeniedError",
    "FileConflictError",
    "FileLockedError",
    "FilePermissionError",
    "InsufficientStorageError",
    "InvalidInputError",
    "MaintenanceModeError",
    "NextcloudConnectionError",
    "NextcloudError",
    "NextcloudFileNotFoundError",
    "NextcloudHTTPError",
    "RateLimitedError",
    "ScheduleDeferredError",
    "ServerError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskFileNotFoundError",
    "TaskInputError",
    "TaskNotFoundError",
    "TaskTimeoutError",
    "TaskTypeUnavailableError",
    "UnexpectedResponseError",
    "UnknownTaskStatusError",
    "is_transient",
]


class NextcloudError(Exception):
    """Base class of every error raised by prefect-nextcloud.

    Attributes:
        endpoint: ``METHOD /path`` of the call that failed, or ``None`` when no call was made.
        status_code: The HTTP status of the response, or ``None`` when there was none.
        server_message: The message the server sent, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status_code = status_code
        self.server_message = server_message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor arguments would otherwise be lost when Prefect pickles
        # a failed state; restore the attributes through __dict__ instead.
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[NextcloudError], message: str, state: dict[str, object]) -> NextcloudError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class NextcloudConnectionError(NextcloudError):
    """The server could not be reached, or the connection broke before an answer came.

    Covers refused or reset connections, DNS failures, TLS failures and timeouts.
    """


class DeadlineExceededError(NextcloudError):
    """The deadline set with ``client.deadline(seconds)`` passed before a call could finish.

    Unlike a timeout of a single request, it is not retried: the time allowed is used up.
    """


class NextcloudHTTPError(NextcloudError):
    """The server answered with an HTTP error status."""

    status_code: int


class AuthenticationError(NextcloudHTTPError):
    """401: no credentials, wrong credentials, or an expired or revoked app password."""


class FileAccessDeniedError(NextcloudHTTPError):
    """401 on schedule: the task input references a file the user cannot read."""


class InvalidInputError(NextcloudHTTPError):
    """400: the server rejected the task input (missing slot, wrong type, unknown file)."""


class TaskTypeUnavailableError(NextcloudHTTPError):
    """412: the task type is unknown to the server or no provider app offers it."""


class CSRFCheckFailedError(NextcloudHTTPError):
    """412 ``CSRF check failed``: the request lacked the ``OCS-APIRequest: true`` header."""


class TaskNotFoundError(NextcloudHTTPError):
    """404: the task does not exist, belongs to another user, or was cleaned up."""


class TaskFileNotFoundError(TaskNotFoundError):
    """404 on a task file: not part of the task, or no longer on the server."""


class EndpointNotFoundError(NextcloudHTTPError):
    """404 from the OCS router: the server does not offer this API (too old, or app disabled)."""


class RateLimitedError(NextcloudHTTPError):
    """429: too many schedule calls; Nextcloud allows 20 per user in a sliding 120 s window."""


class ScheduleDeferredError(RateLimitedError):
    """A schedule call was held back, unsent, because the user's schedule window is full.

    Raised instead of waiting when the caller asked not to wait, or when waiting would exceed
    the rate-limit budget. Nothing was sent, so nothing was created.

    Attributes:
        retry_after: Seconds until a schedule call may be sent.
        refused: Whether the server refused the last call (429), rather than this process
            holding it back to stay within the window.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        refused: bool = False,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.retry_after = retry_after
        self.refused = refused


class ServerError(NextcloudHTTPError):
    """5xx: the server, or a proxy in front of it, failed."""


class MaintenanceModeError(ServerError):
    """503 with ``X-Nextcloud-Maintenance-Mode``: the server is in maintenance or upgrading."""


class UnexpectedResponseError(NextcloudHTTPError):
    """The answer was not what the API promises (not JSON, no OCS envelope, wrong shape)."""


class TaskInputError(NextcloudError, ValueError):
    """The task input does not fit the task type; found before anything was sent.

    Attributes:
        task_type: The task type id.
        slot: The input slot at fault, or ``None`` when the problem is not one slot's.
    """

    def __init__(self, message: str, *, task_type: str, slot: str | None = None) -> None:
        super().__init__(message)
        self.task_type = task_type
        self.slot = slot


class TaskError(NextcloudError):
    """A Nextcloud task ended without a usable result.

    Attributes:
        task_id: The id of the Nextcloud task.
        task: The task as last seen, when known.
    """

    def __init__(self, message: str, *, task_id: int, task: Task | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.task = task


class TaskFailedError(TaskError):
    """The task ended with ``STATUS_FAILED``."""


class TaskCancelledError(TaskError):
    """The task ended with ``STATUS_CANCELLED``."""


class UnknownTaskStatusError(TaskError):
    """The task reports ``STATUS_UNKNOWN`` or a status this library does not know."""


class TaskTimeoutError(TaskError):
    """The task did not finish within the time allowed.

    Attributes:
        queued_seconds: How long the task waited before a provider started it.
        running_seconds: How long it had been running (0 when it never started).
        cancelled: Whether the task was cancelled on the server afterwards.
    """

    def __init__(
        self,
        message: str,
        *,
        task_id: int,
        task: Task | None = None,
        queued_seconds: float,
        running_seconds: float,
        cancelled: bool,
    ) -> None:
        super().__init__(message, task_id=task_id, task=task)
        self.queued_seconds = queued_seconds
        self.running_seconds = running_seconds
        self.cancelled = cancelled


_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(error: BaseException, *, idempotent: bool = True) -> bool:
    """Tell whether trying the same call again later may succeed.

    Transient: connection failures and timeouts, 429, 502, 503 (maintenance included), 504,
    and 500 on calls that are safe to repeat. Everything else (400, 401, 403, 404, 412, bad
    input, unexpected answers, failed tasks) is permanent.

    Args:
        error: The exception to classify.
        idempotent: Whether the call that failed may be repeated safely (GET, cancel, delete).

    Returns:
        True when a retry may succeed.
    """
    if isinstance(error, NextcloudConnectionError):
        return True
    if isinstance(error, NextcloudHTTPError) and not isinstance(error, UnexpectedResponseError):
        if error.status_code in _TRANSIENT_STATUSES:
            return True
        return idempotent and error.status_code == 500
    return False


class NextcloudFileNotFoundError(NextcloudHTTPError):
    """404 on WebDAV: no file or folder at that path in the user's files."""


class FilePermissionError(NextcloudHTTPError):
    """403 on WebDAV: the user may not do this here (read-only share, another user's home)."""


class FileConflictError(NextcloudHTTPError):
    """409 on WebDAV: the parent folder is missing, or a file stands where a folder must be."""


class FileLockedError(NextcloudHTTPError):
    """423 on WebDAV: the file is locked, e.g. open in an office editor or being synced."""


class InsufficientStorageError(NextcloudHTTPError):
    """507 on WebDAV: the user's quota, or the server's disk, has no room for the file."""


class DownloadTooLargeError(NextcloudError):
    """A download was stopped because the file is larger than the allowed size.

    Attributes:
        path: The Nextcloud path of the file.
        max_bytes: The limit that was exceeded.
    """

    def __init__(self, message: str, *, endpoint: str, path: str, max_bytes: int) -> None:
        super().__init__(message, endpoint=endpoint)
        self.path = path
        self.max_bytes = max_bytes
