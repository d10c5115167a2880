"""What one request is, for every API the client speaks: a :class:`Call`, described without I/O.

The OCS endpoints (:mod:`~prefect_nextcloud.client.taskprocessing`,
:mod:`~prefect_nextcloud.client.textprocessing`) and the WebDAV ones
(:mod:`~prefect_nextcloud.client.webdav`) build calls; both client faces send them the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import httpx

if TYPE_CHECKING:
    from prefect_nextcloud.client.streams import DownloadLimit

__all__ = ["Api", "Call", "DownloadSink", "Reader", "UploadBody"]

T = TypeVar("T")

Reader = Callable[[httpx.Response, str], T]
"""Reads an answer into a result (or raises); it gets the answer and the endpoint's name."""


class Api(Enum):
    """The API a call belongs to, which decides how it is sent."""

    OCS = "ocs"
    """An OCS endpoint (or ``/status.php``): sent with ``format=json`` and the
    ``OCS-APIRequest`` header, answered in the OCS envelope."""
    WEBDAV = "webdav"
    """A WebDAV endpoint: sent exactly as the call describes it."""


class UploadBody(Protocol):
    """A request body read in chunks, such as an upload of a local file."""

    @property
    def size(self) -> int | None:
        """The body's length, when known."""

    @property
    def replayable(self) -> bool:
        """Whether the body can be read again from its start, so the call can be repeated."""

    def chunks(self) -> bytes | Iterator[bytes]:
        """The body from its start, for the sync face."""

    def async_chunks(self) -> bytes | AsyncIterator[bytes]:
        """The body from its start, for the async face."""


class DownloadSink(Protocol):
    """Where the body of a successful answer goes as it arrives, instead of into memory whole."""

    @property
    def writes_to_disk(self) -> bool:
        """Whether :meth:`write` blocks on the disk (the async face runs it in a worker thread)."""

    def limit(self, endpoint: str) -> DownloadLimit:
        """A fresh size limit for the body of one answer to ``endpoint``."""

    def restart(self) -> None:
        """Forget what an earlier attempt wrote: a retried download starts from scratch."""

    def write(self, piece: bytes) -> None:
        """Keep the next piece of the body."""


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the server and the readers of its answer.

    Attributes:
        method: The HTTP method.
        path: The path below the server root.
        api: The API the endpoint belongs to.
        read: Turns a successful answer into the result; errors are raised before it runs.
        raise_error: Raises the error matching a failed answer and returns quietly otherwise
            (on 2xx, and on the error statuses the call reads itself).
        params: Query parameters.
        json: The JSON body, if any.
        headers: Extra request headers.
        content: The raw request body, if any.
        sink: Where the body of a successful answer goes; ``read`` then sees an empty body.
        idempotent: Whether sending it twice has the effect of sending it once.
    """

    method: str
    path: str
    api: Api
    read: Reader[T]
    raise_error: Reader[None]
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | UploadBody | None = None
    sink: DownloadSink | None = None
    idempotent: bool = True

    @property
    def endpoint(self) -> str:
        """``METHOD /path``, as errors name the call."""
        return f"{self.method} {self.path}"

    @property
    def replayable(self) -> bool:
        """Whether the request can be sent again as it was: it has no body that reads only once."""
        return self.content is None or isinstance(self.content, bytes) or self.content.replayable

    @property
    def repeatable(self) -> bool:
        """Whether sending it again after a passing failure is safe: idempotent and replayable."""
        return self.idempotent and self.replayable

    def parse(self, response: httpx.Response) -> T:
        """Raise the matching error for a failed answer, else read the result."""
        self.raise_error(response, self.endpoint)
        return self.read(response, self.endpoint)
