"""File bodies in pieces: upload sources read in chunks, downloads under a size limit.

Both client faces use these, so a large file is never held whole in memory unless it was
given as bytes. Uploads that can be read again from their start and downloads (which start
over from scratch) can be retried after a passing failure.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, ClassVar, TypeAlias

import anyio.to_thread
import httpx

from prefect_nextcloud.client.checks import check_unicode
from prefect_nextcloud.client.errors import DownloadTooLargeError, UnexpectedResponseError
from prefect_nextcloud.client.localfiles import (
    open_allowed_file,
    open_regular_file,
    write_replacing,
)

__all__ = [
    "ACCEPTED_ENCODINGS",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "UPLOAD_CHUNK_BYTES",
    "BodyDecoder",
    "DownloadLimit",
    "FileSink",
    "MemorySink",
    "OpenUpload",
    "UploadData",
    "UploadSource",
    "local_download_target",
]

UPLOAD_CHUNK_BYTES = 1024 * 1024
"""The most an upload reads from a local file or file object at a time."""
DEFAULT_MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
"""The default size limit of a download into memory."""

ACCEPTED_ENCODINGS = "gzip, deflate"
"""The ``Accept-Encoding`` the client sends: the encodings :class:`BodyDecoder` reads."""
_DECODED_PIECE_BYTES = 64 * 1024
# zlib window sizes: gzip only; a zlib stream; raw deflate (sent by some servers as "deflate").
_GZIP_WBITS, _ZLIB_WBITS, _RAW_DEFLATE_WBITS = zlib.MAX_WBITS | 16, zlib.MAX_WBITS, -zlib.MAX_WBITS

UploadData: TypeAlias = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""Upload content: bytes, a local file path (``str`` or path-like), or a binary file object."""


def _position_and_remaining(stream: BinaryIO) -> tuple[int, int] | None:
    """The position of a seekable stream and the bytes left after it; ``None`` if it cannot seek."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position)
    except (OSError, AttributeError, ValueError):
        return None
    return position, max(end - position, 0)


def _chunk(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise ValueError(
        f"The file object gave {type(data).__name__}, not bytes; open the file in binary mode "
        "('rb')."
    )


@dataclass(frozen=True)
class OpenUpload:
    """An upload body ready to send.

    Attributes:
        size: The body's length, when known.
        data: The whole body when it was given as bytes.
        stream: The file object to read it from otherwise.
        start: Where the body starts in ``stream``, when the stream can seek back there;
            ``None`` for a stream that reads only once.
    """

    size: int | None
    data: bytes | None = None
    stream: BinaryIO | None = None
    start: int | None = None

    @property
    def replayable(self) -> bool:
        """Whether the body can be read again from its start (bytes, or a seekable stream)."""
        return self.stream is None or self.start is not None

    def chunks(self) -> bytes | Iterator[bytes]:
        """The body from its start, for the sync face: the bytes, or chunks read one by one."""
        if self.stream is None:
            return self.data or b""
        return self._iterate(self.stream)

    def async_chunks(self) -> bytes | AsyncIterator[bytes]:
        """The body from its start, for the async face; file reads run in a worker thread."""
        if self.stream is None:
            return self.data or b""
        return self._aiterate(self.stream)

    def _counted(self, chunk: bytes, sent: int) -> int:
        """Add a chunk to the bytes sent; refuse to send more than the declared size.

        Past the declared ``Content-Length``, the HTTP layer would fail with a protocol error
        instead; a source that ends early is caught by :meth:`_check_complete`.
        """
        sent += len(chunk)
        if self.size is not None and sent > self.size:
            raise ValueError(
                f"The upload source gave more than the {self.size} bytes it declared (it grew "
                "while it was read); nothing was stored. Upload a file that does not change."
            )
        return sent

    def _check_complete(self, sent: int) -> None:
        if self.size is not None and sent < self.size:
            raise ValueError(
                f"The upload source ended after {sent} of the {self.size} bytes it declared "
                "(it shrank while it was read); nothing was stored. Upload a file that does "
                "not change."
            )

    def _iterate(self, stream: BinaryIO) -> Iterator[bytes]:
        if self.start is not None:
            stream.seek(self.start)
        sent = 0
        while chunk := _chunk(stream.read(UPLOAD_CHUNK_BYTES)):
            sent = self._counted(chunk, sent)
            yield chunk
        self._check_complete(sent)

    async def _aiterate(self, stream: BinaryIO) -> AsyncIterator[bytes]:
        if self.start is not None:
            await anyio.to_thread.run_sync(stream.seek, self.start)
        sent = 0
        while chunk := _chunk(await anyio.to_thread.run_sync(stream.read, UPLOAD_CHUNK_BYTES)):
            sent = self._counted(chunk, sent)
            yield chunk
        self._check_complete(sent)


@dataclass(frozen=True)
class UploadSource:
    """Checked upload content; checking needs no request, so bad input sends nothing.

    Content in memory and local files can be sent again after a passing failure, and so can
    a file object that can seek back to where it started; one that cannot (a pipe, a socket)
    is read only once, so an upload of it is never retried.

    Attributes:
        data: Content in memory.
        local_path: A local file to read.
        allowed_only: ``local_path`` came as ``file:`` text: it is read only inside
            ``NEXTCLOUD_LOCAL_FILE_ROOTS`` and through no symbolic link (see
            :meth:`allowed_file`).
        stream: A binary file object to read from its current position (not closed).
        content_type: The MIME type to declare.
    """

    data: bytes | None = None
    local_path: Path | None = None
    allowed_only: bool = False
    stream: BinaryIO | None = None
    content_type: str = "application/octet-stream"

    @classmethod
    def of(cls, data: UploadData | UploadSource) -> UploadSource:
        """Check upload content.

        Args:
            data: Bytes, a local file path (``str`` or path-like), or a binary file object.

        Returns:
            The source.

        Raises:
            ValueError: A path that is not an existing, readable regular file (a folder, FIFO,
                device or ``/proc`` file is refused), a text-mode file object, or another type.
        """
        if isinstance(data, UploadSource):
            return data
        if isinstance(data, bytes | bytearray | memoryview):
            return cls(data=bytes(data))
        if isinstance(data, str | os.PathLike):
            path = Path(data).expanduser().absolute()
            open_regular_file(path).close()
            return cls(local_path=path)
        if isinstance(data, io.TextIOBase):
            raise ValueError("The file object is in text mode; open the file with 'rb'.")
        if callable(getattr(data, "read", None)):
            return cls(stream=data)
        raise ValueError(
            f"Cannot upload a {type(data).__name__}; pass bytes, a local file path or a binary "
            "file object."
        )

    @classmethod
    def allowed_file(cls, path: Path) -> UploadSource:
        """Check a ``file:`` reference given as text, as run parameters give it.

        It is opened now and again when sent, each time one folder at a time from ``/``
        without following any symbolic link, and only inside ``NEXTCLOUD_LOCAL_FILE_ROOTS``:
        a link swapped in between the check and the upload is refused, not followed.

        Args:
            path: The resolved path, as ``parse_file_reference`` returns it.

        Raises:
            LocalFileNotAllowedError: Outside the allowed folders, or a link on the way.
            ValueError: Not an existing, readable regular file.
        """
        open_allowed_file(path).close()
        return cls(local_path=path, allowed_only=True)

    @classmethod
    def text(cls, text: str) -> UploadSource:
        """Text, sent as UTF-8 ``text/plain``."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}.")
        data = check_unicode("The text", text).encode("utf-8")
        return cls(data=data, content_type="text/plain; charset=utf-8")

    @contextmanager
    def open(self) -> Iterator[OpenUpload]:
        """Open the content for sending; a local file is closed again afterwards."""
        if self.local_path is not None:
            opener = open_allowed_file if self.allowed_only else open_regular_file
            with opener(self.local_path) as handle:
                yield OpenUpload(size=os.fstat(handle.fileno()).st_size, stream=handle, start=0)
        elif self.stream is not None:
            seekable = _position_and_remaining(self.stream)
            if seekable is None:
                yield OpenUpload(size=None, stream=self.stream)
            else:
                start, size = seekable
                yield OpenUpload(size=size, stream=self.stream, start=start)
        else:
            data = self.data or b""
            yield OpenUpload(size=len(data), data=data)


def check_max_bytes(max_bytes: int | None) -> int | None:
    """Return ``max_bytes`` if it is a size limit: a positive integer, or ``None`` for none.

    Raises:
        ValueError: It is not.
    """
    if max_bytes is not None and (
        isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0
    ):
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}.")
    return max_bytes


class DownloadLimit:
    """Stops a download that goes past ``max_bytes``.

    Args:
        path: The Nextcloud path, for the message.
        endpoint: ``METHOD /path`` of the call, for the error.
        max_bytes: The limit, or ``None`` for none.
    """

    def __init__(self, path: str, endpoint: str, max_bytes: int | None) -> None:
        self.path = path
        self.endpoint = endpoint
        self.max_bytes = check_max_bytes(max_bytes)
        self.received = 0

    def _error(self, detail: str) -> DownloadTooLargeError:
        assert self.max_bytes is not None
        return DownloadTooLargeError(
            f"Stopped downloading {self.path}: {detail} the limit of {self.max_bytes} bytes. "
            "Pass a larger max_bytes (or set the client's max_download_bytes), or use "
            "download_to to stream the file to disk.",
            endpoint=self.endpoint,
            path=self.path,
            max_bytes=self.max_bytes,
        )

    def start(self, response: httpx.Response) -> None:
        """Refuse at once when the server declares a length over the limit."""
        declared = response.headers.get("content-length", "")
        encoded = response.headers.get("content-encoding", "identity") != "identity"
        if (
            self.max_bytes is not None
            and declared.isdigit()
            and not encoded
            and int(declared) > self.max_bytes
        ):
            raise self._error(f"the file has {int(declared)} bytes, more than")

    def count(self, chunk: bytes) -> bytes:
        """Count a received chunk and return it; raise once the total passes the limit."""
        self.received += len(chunk)
        if self.max_bytes is not None and self.received > self.max_bytes:
            raise self._error("the server sent more than")
        return chunk


class MemorySink:
    """Keeps a downloaded file in memory, under a size limit.

    Args:
        path: The Nextcloud path, for messages.
        max_bytes: The size limit, or ``None`` for none.

    Raises:
        ValueError: ``max_bytes`` is not a positive integer.
    """

    writes_to_disk: ClassVar[bool] = False

    def __init__(self, path: str, max_bytes: int | None) -> None:
        self.path = path
        self.max_bytes = check_max_bytes(max_bytes)
        self._content = bytearray()

    @property
    def content(self) -> bytes:
        """What was downloaded."""
        return bytes(self._content)

    def limit(self, endpoint: str) -> DownloadLimit:
        """A fresh size limit for one answer."""
        return DownloadLimit(self.path, endpoint, self.max_bytes)

    def restart(self) -> None:
        """Drop what an earlier attempt downloaded."""
        self._content.clear()

    def write(self, piece: bytes) -> None:
        """Keep the next piece."""
        self._content += piece


class FileSink:
    """Writes a downloaded file to disk; the local file appears only when complete.

    Args:
        destination: The local file to write; an existing file is replaced.
        path: The Nextcloud path, for messages.
        max_bytes: The size limit, or ``None`` for none.

    Raises:
        ValueError: ``max_bytes`` is not a positive integer.
    """

    writes_to_disk: ClassVar[bool] = True

    def __init__(self, destination: Path, path: str, max_bytes: int | None) -> None:
        self.destination = destination
        self.path = path
        self.max_bytes = check_max_bytes(max_bytes)
        self._handle: IO[bytes] | None = None

    @contextmanager
    def open(self) -> Iterator[FileSink]:
        """Write to a temporary file beside the destination, moved there if the block succeeds."""
        with write_replacing(self.destination) as handle:
            self._handle = handle
            try:
                yield self
            finally:
                self._handle = None

    def _opened(self) -> IO[bytes]:
        if self._handle is None:
            raise RuntimeError("FileSink.open() must be entered before downloading into it.")
        return self._handle

    def limit(self, endpoint: str) -> DownloadLimit:
        """A fresh size limit for one answer."""
        return DownloadLimit(self.path, endpoint, self.max_bytes)

    def restart(self) -> None:
        """Empty the temporary file of what an earlier attempt wrote."""
        handle = self._opened()
        handle.seek(0)
        handle.truncate()

    def write(self, piece: bytes) -> None:
        """Write the next piece."""
        self._opened().write(piece)


class BodyDecoder:
    """Undoes an answer's ``Content-Encoding`` in pieces of at most 64 KiB.

    httpx decodes each network chunk whole, so a few kilobytes of gzip can become gigabytes in
    memory before any size limit sees them. Decoding in bounded pieces lets
    :class:`DownloadLimit` stop a "gzip bomb" after about its limit.

    Args:
        content_encoding: The answer's ``Content-Encoding`` header (empty for none).
        endpoint: ``METHOD /path`` of the call, for errors.

    Raises:
        UnexpectedResponseError: An encoding this client did not ask for.
    """

    def __init__(self, content_encoding: str, endpoint: str) -> None:
        self.endpoint = endpoint
        self.encoding = content_encoding.strip().lower()
        self._zlib: zlib._Decompress | None = None
        self._raw_fallback = False
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(_GZIP_WBITS)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj(_ZLIB_WBITS)
            self._raw_fallback = True
        elif self.encoding not in ("", "identity"):
            raise UnexpectedResponseError(
                f"The answer to {endpoint} is encoded as {content_encoding!r}, which was not "
                f"asked for (Accept-Encoding: {ACCEPTED_ENCODINGS}). A proxy in between may "
                "change the encoding; configure it to pass answers through.",
                endpoint=endpoint,
            )

    def _failed(self, error: zlib.error) -> UnexpectedResponseError:
        return UnexpectedResponseError(
            f"The {self.encoding} body of the answer to {self.endpoint} is corrupt ({error}).",
            endpoint=self.endpoint,
        )

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decode the next received chunk; yield its content in pieces of at most 64 KiB."""
        if self._zlib is None:
            for start in range(0, len(data), _DECODED_PIECE_BYTES):
                yield data[start : start + _DECODED_PIECE_BYTES]
            return
        while data:
            try:
                piece = self._zlib.decompress(data, _DECODED_PIECE_BYTES)
            except zlib.error as error:
                if not self._raw_fallback:
                    raise self._failed(error) from None
                # "deflate" without the zlib wrapper, as some servers send it.
                self._zlib, self._raw_fallback = zlib.decompressobj(_RAW_DEFLATE_WBITS), False
                continue
            self._raw_fallback = False
            data = self._zlib.unconsumed_tail
            if piece:
                yield piece

    def flush(self) -> Iterator[bytes]:
        """Yield what the decoder still holds once the answer has ended (at most a window)."""
        if self._zlib is None:
            return
        try:
            rest = self._zlib.flush()
        except zlib.error as error:
            raise self._failed(error) from None
        if rest:
            yield rest


def local_download_target(local_path: str | os.PathLike[str]) -> Path:
    """Check where a download may be written, before anything is requested.

    Raises:
        ValueError: The path is a directory, or its folder does not exist.
    """
    path = Path(local_path).expanduser().absolute()
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; give the path of the file to write.")
    if not path.parent.is_dir():
        raise ValueError(f"The folder {str(path.parent)!r} does not exist; create it first.")
    return path
