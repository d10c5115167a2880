"""WebDAV calls on a user's files, described without doing any I/O.

Like :mod:`prefect_nextcloud.client.taskprocessing` for the OCS API, each function checks its
arguments and returns a :class:`~prefect_nextcloud.client.calls.Call` of
:attr:`~prefect_nextcloud.client.calls.Api.WEBDAV`, sent as described (no OCS parameters or
headers), whose failed answers its own error reader (:func:`dav_error_reader`) turns into errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import httpx
from pydantic import BaseModel, ConfigDict

from prefect_nextcloud.client.calls import Api, Call, DownloadSink, Reader, UploadBody
from prefect_nextcloud.client.errors import (
    FileConflictError,
    FileLockedError,
    FilePermissionError,
    InsufficientStorageError,
    NextcloudFileNotFoundError,
    NextcloudHTTPError,
    UnexpectedResponseError,
)
from prefect_nextcloud.client.ocs import error_fields, raise_http_error, server_said
from prefect_nextcloud.client.paths import NextcloudPath, dav_path

__all__ = [
    "FileComment",
    "FileInfo",
    "FolderListing",
    "SystemTag",
    "UnreadableEntry",
    "check_tag_name",
    "create_tag",
    "dav_error_reader",
    "delete",
    "file_tags",
    "file_target",
    "find_file_info",
    "folders_to_create",
    "get_file",
    "get_file_info",
    "list_comments",
    "list_folder",
    "list_tags",
    "make_folder",
    "move",
    "post_comment",
    "put_file",
    "read_folder",
    "tag_file",
    "tag_id_of",
    "tag_named",
    "untag_file",
]

T = TypeVar("T")

_DAV = "{DAV:}"
_OC = "{http://owncloud.org/ns}"
_SABRE = "{http://sabredav.org/ns}"
_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
    b"<oc:fileid/><d:resourcetype/><d:getcontentlength/><oc:size/><d:getcontenttype/>"
    b"<d:getetag/></d:prop></d:propfind>"
)
MAX_COMMENT_LENGTH = 1000
"""The longest comment Nextcloud accepts (``IComment::MAX_MESSAGE_LENGTH``)."""

MAX_COMMENTS_LISTED = 100
"""The most comments :func:`list_comments` asks for in one request."""

# OC-FileId is the zero-padded id followed by the instance id, which always starts with "oc".
_OC_FILE_ID = re.compile(r"(\d+)oc[0-9a-z]*", re.IGNORECASE)
# What a path cannot hold, shown as \xNN in UnreadableEntry.shown_path.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


class _EntryFacts(BaseModel):
    """What a PROPFIND answer says of any entry: the fields both entry models share."""

    model_config = ConfigDict(frozen=True)

    file_id: int
    is_folder: bool
    size: int | None = None
    content_type: str | None = None
    etag: str | None = None


class FileInfo(_EntryFacts):
    """What Nextcloud knows about a file or folder.

    Attributes:
        file_id: The id Task Processing inputs take.
        path: The path below the user's home.
        is_folder: Whether it is a folder.
        size: Size in bytes (of all content, for a folder), when the server said.
        content_type: The MIME type of a file, when the server said.
        etag: The entity tag, without quotes, when the server said.
    """

    path: NextcloudPath


class UnreadableEntry(_EntryFacts):
    """An entry of a folder whose name cannot be a :class:`NextcloudPath`.

    Nextcloud can hold such names (a control character, from an external storage or an old
    sync client); :func:`read_folder` reports them one by one instead of failing the listing.

    Attributes:
        folder: The folder that holds it.
        name: Its name as the server sent it.
        problem: What is wrong with the name, and what to do.
        file_id: Its file id.
        is_folder: Whether it is a folder.
        size: Size in bytes, when the server said.
        content_type: The MIME type of a file, when the server said.
        etag: The entity tag, without quotes, when the server said.
    """

    folder: NextcloudPath
    name: str
    problem: str

    @property
    def shown_path(self) -> NextcloudPath:
        r"""Its path for people to read, each character a path cannot hold shown as ``\xNN``."""
        shown = _UNPRINTABLE.sub(lambda match: f"\\x{ord(match[0]):02x}", self.name)
        if shown in (".", ".."):
            shown = shown.replace(".", "\\x2e")
        return self.folder / shown


class FolderListing(BaseModel):
    """What a folder holds (see :func:`read_folder`).

    Attributes:
        entries: Its files and folders, sorted by path.
        unreadable: The entries whose names cannot be paths, in the server's order.
    """

    model_config = ConfigDict(frozen=True)

    entries: list[FileInfo]
    unreadable: list[UnreadableEntry]


class SystemTag(BaseModel):
    """A collaborative tag (a system tag), which the Files app shows, filters by and Flow uses.

    Attributes:
        tag_id: Its id.
        name: Its name.
        user_visible: Whether users see it.
        user_assignable: Whether users may assign it.
        can_assign: Whether this user may assign it, when the server said.
    """

    model_config = ConfigDict(frozen=True)

    tag_id: int
    name: str
    user_visible: bool = True
    user_assignable: bool = True
    can_assign: bool | None = None


class FileComment(BaseModel):
    """A comment on a file, as the Comments tab of the Files sidebar shows it.

    Attributes:
        comment_id: The comment's id.
        message: Its text.
        actor_id: Who wrote it (a user id), when the server said.
    """

    model_config = ConfigDict(frozen=True)

    comment_id: int
    message: str
    actor_id: str | None = None


def _sabre_message(response: httpx.Response) -> str | None:
    if b"<" not in response.content[:100]:
        return None
    try:
        root = ElementTree.fromstring(response.content)  # noqa: S314 - the server's own answer
    except (ElementTree.ParseError, LookupError):  # LookupError: an unknown XML encoding
        return None
    text = root.findtext(f"{_SABRE}message")
    return text.strip() if text and text.strip() else None


def dav_error_reader(
    method: str, path: NextcloudPath, *, accept: Collection[int] = ()
) -> Reader[None]:
    """Return the error reader of a WebDAV call on ``path``.

    Args:
        method: The HTTP method, for messages.
        path: The Nextcloud path the call is about, for messages.
        accept: Error statuses the call reads itself (e.g. 405 on MKCOL: the folder exists).

    Returns:
        A function that raises the error matching a failed answer and returns quietly on 2xx
        and on the ``accept`` statuses.
    """

    def raise_error(response: httpx.Response, endpoint: str) -> None:
        failure = _Failure.of(response, endpoint, f"{method} {path}", accept)
        if failure is None:
            return
        status, said, where, kwargs = failure.status, failure.said, failure.where, failure.fields
        if status == 403:
            raise FilePermissionError(
                f"Permission denied ({where}).{said} The user may not do this at {path}: it may "
                "be a read-only share or outside the user's own files.",
                **kwargs,
            )
        if status == 404:
            raise NextcloudFileNotFoundError(
                f"Not found: {path} ({where}).{said} Check the path; it starts at the user's "
                "home folder, e.g. /Photos/receipt.jpg.",
                **kwargs,
            )
        if status == 409:
            raise FileConflictError(
                f"Conflict ({where}): the folder {path.parent} does not exist, or a file stands "
                f"where a folder must be.{said} Create the folders first, or pick another path.",
                **kwargs,
            )
        if status == 423:
            raise FileLockedError(
                f"{path} is locked ({where}).{said} It may be open in an editor or being "
                "synced; try again when it is closed.",
                **kwargs,
            )
        if status == 507:
            raise InsufficientStorageError(
                f"Not enough storage for {path} ({where}).{said} The user's quota or the "
                "server's disk is full: free space (delete files, empty the trash bin) or ask "
                "the admin to raise the quota.",
                **kwargs,
            )
        failure.raise_http_error()

    return raise_error


@dataclass(frozen=True)
class _Failure:
    """A failed WebDAV answer, as the error readers word it."""

    response: httpx.Response
    endpoint: str
    label: str  # "METHOD path", for messages
    message: str | None  # Sabre's s:message, if any

    @classmethod
    def of(
        cls, response: httpx.Response, endpoint: str, label: str, accept: Collection[int]
    ) -> _Failure | None:
        """The failure of ``response``; ``None`` for a 2xx or an ``accept`` status."""
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return None
        return cls(response, endpoint, label, _sabre_message(response))

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def said(self) -> str:
        return server_said(self.message)

    @property
    def where(self) -> str:
        return f"{self.status} on {self.label}"

    @property
    def fields(self) -> dict[str, Any]:
        return error_fields(self.response, self.endpoint, self.message)

    def raise_http_error(self) -> None:
        raise_http_error(self.response, self.endpoint, self.message, label=self.label)


def _unexpected(response: httpx.Response, endpoint: str, problem: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"The answer to {endpoint} ({response.status_code}) is not a usable WebDAV answer: "
        f"{problem}. A proxy may be answering instead of Nextcloud.",
        endpoint=endpoint,
        status_code=response.status_code,
    )


def _text(element: ElementTree.Element | None) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


_MAX_ID_DIGITS = 20


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip()
    # File ids are database integers; anything longer is not one (and int() would refuse it).
    return int(text) if text.isascii() and text.isdigit() and len(text) < _MAX_ID_DIGITS else None


def _responses(
    response: httpx.Response, endpoint: str, *, allow_empty: bool = False
) -> list[ElementTree.Element]:
    """The ``<d:response>`` elements of a 207 Multi-Status answer (at least one, unless allowed)."""
    if response.status_code != 207:
        raise _unexpected(response, endpoint, "expected 207 Multi-Status")
    try:
        root = ElementTree.fromstring(response.content)  # noqa: S314 - the server's answer
    except (ElementTree.ParseError, LookupError):  # LookupError: an unknown XML encoding
        raise _unexpected(response, endpoint, "the body is not XML") from None
    found = root.findall(f"{_DAV}response")
    if not found and not allow_empty:
        raise _unexpected(response, endpoint, "no <d:response> in the multistatus")
    return found


def _properties(found: ElementTree.Element) -> dict[str, ElementTree.Element]:
    """The properties one ``<d:response>`` found (status 200), by tag."""
    props: dict[str, ElementTree.Element] = {}
    for propstat in found.findall(f"{_DAV}propstat"):
        status = (propstat.findtext(f"{_DAV}status") or "").split()
        prop = propstat.find(f"{_DAV}prop")
        if len(status) > 1 and status[1] == "200" and prop is not None:
            props.update((element.tag, element) for element in prop)
    return props


def _facts(
    found: ElementTree.Element, label: str, response: httpx.Response, endpoint: str
) -> dict[str, Any]:
    """Read one ``<d:response>`` of a multistatus: id, kind, size, type and etag of ``label``."""
    props = _properties(found)
    file_id = _int_or_none(_text(props.get(f"{_OC}fileid")))
    if file_id is None:
        raise _unexpected(response, endpoint, f"no oc:fileid for {label}")
    resourcetype = props.get(f"{_DAV}resourcetype")
    size = props.get(f"{_DAV}getcontentlength", props.get(f"{_OC}size"))
    return {
        "file_id": file_id,
        "is_folder": resourcetype is not None
        and resourcetype.find(f"{_DAV}collection") is not None,
        "size": _int_or_none(_text(size)),
        "content_type": _text(props.get(f"{_DAV}getcontenttype")),
        "etag": (_text(props.get(f"{_DAV}getetag")) or "").strip('"') or None,
    }


def _file_info(
    found: ElementTree.Element, path: NextcloudPath, response: httpx.Response, endpoint: str
) -> FileInfo:
    """Read one ``<d:response>`` of a multistatus as what it says about ``path``."""
    return FileInfo(path=path, **_facts(found, path, response, endpoint))


def _read_multistatus(path: NextcloudPath) -> Reader[FileInfo]:
    def read(response: httpx.Response, endpoint: str) -> FileInfo:
        return _file_info(_responses(response, endpoint)[0], path, response, endpoint)

    return read


def _file_call(
    method: str,
    user_id: str,
    path: NextcloudPath,
    read: Reader[T],
    *,
    accept: Collection[int] = (),
    headers: Mapping[str, str] | None = None,
    content: bytes | UploadBody | None = None,
    sink: DownloadSink | None = None,
    idempotent: bool = True,
) -> Call[T]:
    """The WebDAV call ``method`` on the user's ``path``, failures read by `dav_error_reader`."""
    return Call(
        method,
        dav_path(user_id, path),
        Api.WEBDAV,
        read,
        dav_error_reader(method, path, accept=accept),
        headers=headers or {},
        content=content,
        sink=sink,
        idempotent=idempotent,
    )


def _read_nothing(response: httpx.Response, endpoint: str) -> None:
    return None


def _propfind(
    user_id: str,
    path: NextcloudPath,
    read: Reader[T],
    *,
    accept: Collection[int] = (),
    depth: str = "0",
) -> Call[T]:
    return _file_call(
        "PROPFIND",
        user_id,
        path,
        read,
        accept=accept,
        headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
        content=_PROPFIND,
    )


def get_file_info(user_id: str, path: str) -> Call[FileInfo]:
    """``PROPFIND`` (depth 0): id, kind, size, type and etag of a file or folder.

    A missing path raises :class:`~prefect_nextcloud.client.errors.NextcloudFileNotFoundError`.
    """
    target = NextcloudPath(path)
    return _propfind(user_id, target, _read_multistatus(target))


def find_file_info(user_id: str, path: str) -> Call[FileInfo | None]:
    """Like :func:`get_file_info`, but a missing path reads as ``None``."""
    target = NextcloudPath(path)
    read_info = _read_multistatus(target)

    def read(response: httpx.Response, endpoint: str) -> FileInfo | None:
        return None if response.status_code == 404 else read_info(response, endpoint)

    return _propfind(user_id, target, read, accept={404})


def _listing_reader(user_id: str, folder: NextcloudPath) -> Reader[FolderListing]:
    # Sabre names each entry by its URL path (with any prefix of a Nextcloud installed in a
    # subfolder, and a trailing slash on folders); the folder's own ends with its DAV path.
    own_href = unquote(dav_path(user_id, folder))

    def read(response: httpx.Response, endpoint: str) -> FolderListing:
        entries: list[FileInfo] = []
        unreadable: list[UnreadableEntry] = []
        for found in _responses(response, endpoint):
            href = unquote(urlsplit(found.findtext(f"{_DAV}href") or "").path).rstrip("/")
            if href.endswith(own_href):
                if not _file_info(found, folder, response, endpoint).is_folder:
                    raise ValueError(
                        f"{folder} is a file, not a folder; give a folder, e.g. '/Photos'."
                    )
                continue
            name = href.rpartition("/")[2]
            if not name:
                raise _unexpected(response, endpoint, f"an entry without a name in {folder}")
            facts = _facts(found, f"{name!r} in {folder}", response, endpoint)
            try:
                path = folder / name
            except ValueError as error:
                problem = (
                    f"{folder} holds an entry named {name!r} (file id {facts['file_id']}) that "
                    f"cannot be used: {error} Rename it in Nextcloud (e.g. in the Files app)."
                )
                unreadable.append(
                    UnreadableEntry(folder=folder, name=name, problem=problem, **facts)
                )
                continue
            entries.append(FileInfo(path=path, **facts))
        entries.sort(key=lambda entry: entry.path)
        return FolderListing(entries=entries, unreadable=unreadable)

    return read


def read_folder(user_id: str, path: str) -> Call[FolderListing]:
    """``PROPFIND`` (depth 1): what a folder holds, entries with unusable names apart.

    Like :func:`list_folder`, but an entry whose name cannot be a :class:`NextcloudPath`
    (e.g. it holds a control character) is reported in :attr:`FolderListing.unreadable`
    instead of failing the whole listing.
    """
    folder = NextcloudPath(path)
    return _propfind(user_id, folder, _listing_reader(user_id, folder), depth="1")


def list_folder(user_id: str, path: str) -> Call[list[FileInfo]]:
    """``PROPFIND`` (depth 1): the files and folders directly in a folder, sorted by path.

    The folder itself is left out. A missing path raises
    :class:`~prefect_nextcloud.client.errors.NextcloudFileNotFoundError`; a file, or an entry
    whose name cannot be a path, raises :class:`ValueError` (see :func:`read_folder`).
    """
    folder = NextcloudPath(path)
    read_listing = _listing_reader(user_id, folder)

    def read(response: httpx.Response, endpoint: str) -> list[FileInfo]:
        listing = read_listing(response, endpoint)
        if listing.unreadable:
            raise ValueError(listing.unreadable[0].problem)
        return listing.entries

    return _propfind(user_id, folder, read, depth="1")


def make_folder(user_id: str, path: str) -> Call[bool]:
    """``MKCOL``: create one folder; reads ``True`` if created, ``False`` if it existed.

    Idempotent: a repeat after a lost answer finds the folder there, which reads as success.
    """
    target = NextcloudPath(path)
    if target.is_root:
        raise ValueError("The home folder '/' always exists; give a folder below it.")

    def read(response: httpx.Response, endpoint: str) -> bool:
        return response.status_code != 405

    return _file_call("MKCOL", user_id, target, read, accept={405})


def folders_to_create(path: str, found: FileInfo | None, *, endpoint: str) -> list[NextcloudPath]:
    """Plan :meth:`make_folders`: the folders to create, top down, given what is at ``path``.

    Args:
        path: The folder wanted.
        found: What a PROPFIND found at ``path`` (``None``: nothing).
        endpoint: ``METHOD /path`` of that PROPFIND, for the error.

    Returns:
        Every folder from the top down to ``path``; MKCOL leaves existing ones alone.
        Empty when ``path`` is already a folder.

    Raises:
        FileConflictError: A file stands at ``path``.
    """
    target = NextcloudPath(path)
    if found is not None and not found.is_folder:
        raise FileConflictError(
            f"Cannot create the folder {target}: a file has that path. Pick another folder.",
            endpoint=endpoint,
            status_code=409,
        )
    if found is not None:
        return []
    return [NextcloudPath("/".join(target.parts[:end])) for end in range(1, len(target.parts) + 1)]


def file_target(path: str) -> NextcloudPath:
    """Return ``path`` as the path of a file, i.e. not the home folder.

    Raises:
        ValueError: The path is invalid or is the home folder.
    """
    target = NextcloudPath(path)
    if target.is_root:
        raise ValueError("'/' is the home folder; give the path of a file, e.g. '/report.txt'.")
    return target


def put_file(
    user_id: str,
    path: str,
    content: bytes | UploadBody,
    *,
    content_type: str = "application/octet-stream",
) -> Call[int | None]:
    """``PUT``: create or overwrite a file; reads its id from ``OC-FileId`` when sent.

    Idempotent: the same bytes sent again store the same file. So it is repeatable when the
    body can be read again from its start (see :attr:`Call.replayable`).

    Args:
        user_id: The owner.
        path: The file's path; its folder must exist.
        content: The body: bytes, or a body read in chunks. Without a known size it is sent
            chunked.
        content_type: The MIME type to declare (Nextcloud derives its own from the name).
    """
    target = file_target(path)
    size = len(content) if isinstance(content, bytes) else content.size
    headers = {"Content-Type": content_type}
    if size is not None:
        # An explicit length keeps httpx from sending a chunked body, which some Nextcloud
        # setups (PHP-FPM without request buffering) would store as an empty file.
        headers["Content-Length"] = str(size)

    def read(response: httpx.Response, endpoint: str) -> int | None:
        match = _OC_FILE_ID.fullmatch(response.headers.get("oc-fileid", "").strip())
        file_id = _int_or_none(match.group(1)) if match else None
        return file_id if file_id else None

    return _file_call("PUT", user_id, target, read, headers=headers, content=content)


def get_file(user_id: str, path: str, sink: DownloadSink) -> Call[None]:
    """``GET``: a file's content, streamed into ``sink`` under the sink's size limit.

    Idempotent: a retry downloads the file again from scratch.
    """
    target = file_target(path)
    return _file_call("GET", user_id, target, _read_nothing, sink=sink)


def delete(user_id: str, path: str, *, missing_ok: bool) -> Call[None]:
    """``DELETE``: remove a file, or a folder with all it holds (into the trash bin).

    Idempotent, but a repeat after a lost answer finds nothing there: send the repeat with
    ``missing_ok=True``.

    Args:
        user_id: The owner.
        path: What to delete; not the home folder.
        missing_ok: Read a 404 as success instead of raising.
    """
    target = NextcloudPath(path)
    if target.is_root:
        raise ValueError("Refusing to delete '/', the user's whole home folder.")

    accept = {404} if missing_ok else set()
    return _file_call("DELETE", user_id, target, _read_nothing, accept=accept)


def move(user_id: str, source: str, destination: str, *, base_url: str) -> Call[None]:
    """``MOVE``: rename or move a file or folder; an existing target is never replaced.

    Sent once: a repeat after a lost answer would find the source gone.

    Args:
        user_id: The owner.
        source: What to move; not the home folder.
        destination: Its new path; the folder it goes to must exist.
        base_url: The server root, for the ``Destination`` header (a full URL).
    """
    origin = file_target(source)
    target = file_target(destination)
    return _file_call(
        "MOVE",
        user_id,
        origin,
        _read_nothing,
        headers={"Destination": base_url + dav_path(user_id, target), "Overwrite": "F"},
        idempotent=False,
    )


def _check_file_id(file_id: int) -> None:
    if isinstance(file_id, bool) or not isinstance(file_id, int) or file_id <= 0:
        raise ValueError(f"file_id must be a positive file id, got {file_id!r}.")


_Explain = Callable[[str, str], str]
"""Writes an error's message from where it happened (``404 on GET /…``) and ``server_said``."""


@dataclass(frozen=True)
class _Refusals:
    """What a call on a file's comments or tags says when the server refuses it.

    Attributes:
        forbidden: The message of a 403.
        missing: The message of a 404.
        refused: The message of a 412, for calls that can get one.
    """

    forbidden: _Explain
    missing: _Explain
    refused: _Explain | None = None


def _object_error_reader(
    method: str, path: str, refusals: _Refusals, accept: Collection[int] = ()
) -> Reader[None]:
    """The error reader of a call on a file's comments or tags (named by file id, not path).

    Args:
        method: The HTTP method, for messages.
        path: The request path, for messages.
        refusals: The messages of a 403, a 404 and a 412.
        accept: Error statuses the call reads itself.
    """
    explains = {403: refusals.forbidden, 404: refusals.missing, 412: refusals.refused}

    def raise_error(response: httpx.Response, endpoint: str) -> None:
        failure = _Failure.of(response, endpoint, f"{method} {path}", accept)
        if failure is None:
            return
        explain = explains.get(failure.status)
        error = {403: FilePermissionError, 404: NextcloudFileNotFoundError}.get(
            failure.status, NextcloudHTTPError
        )
        if explain is not None:
            raise error(explain(failure.where, failure.said), **failure.fields)
        failure.raise_http_error()

    return raise_error


def _comments_call(
    method: str, file_id: int, action: str, read: Reader[T], content: bytes, content_type: str
) -> Call[T]:
    """The call ``method`` on the comments of ``file_id``; only REPORT is safe to repeat."""
    return Call(
        method,
        f"/remote.php/dav/comments/files/{file_id}",
        Api.WEBDAV,
        read,
        _object_error_reader(
            method,
            f"/remote.php/dav/comments/files/{file_id}",
            _Refusals(
                forbidden=lambda where, said: (
                    f"Permission denied ({where}): the user may not {action} file "
                    f"{file_id}.{said} It may be a share without comment rights."
                ),
                missing=lambda where, said: (
                    f"File {file_id} not found for comments ({where}).{said} It was deleted, or "
                    "the user cannot see it."
                ),
            ),
        ),
        headers={"Content-Type": content_type},
        content=content,
        idempotent=method == "REPORT",
    )


def post_comment(file_id: int, message: str) -> Call[int | None]:
    """``POST`` to ``comments/files/{fileId}``: a comment on a file, shown in the Files sidebar.

    Reads the new comment's id from ``Content-Location`` when sent. Not idempotent: a repeat
    posts the comment twice.

    Args:
        file_id: The file to comment on.
        message: The comment, 1 to :data:`MAX_COMMENT_LENGTH` characters after trimming.

    Raises:
        ValueError: The file id or message is invalid; nothing is sent.
    """
    _check_file_id(file_id)
    if not isinstance(message, str) or not message.strip():
        raise ValueError("A comment needs a non-empty message.")
    if len(message.strip()) > MAX_COMMENT_LENGTH:
        raise ValueError(
            f"A comment may have at most {MAX_COMMENT_LENGTH} characters, this one has "
            f"{len(message.strip())}; shorten it."
        )

    def read(response: httpx.Response, endpoint: str) -> int | None:
        location = response.headers.get("content-location", "").rstrip("/")
        return _int_or_none(location.rpartition("/")[2])

    body = {"actorType": "users", "verb": "comment", "message": message.strip()}
    return _comments_call(
        "POST", file_id, "comment on", read, json.dumps(body).encode(), "application/json"
    )


def _read_comments(response: httpx.Response, endpoint: str) -> list[FileComment]:
    comments = []
    for found in _responses(response, endpoint, allow_empty=True):
        props = _properties(found)
        comment_id = _int_or_none(_text(props.get(f"{_OC}id")))
        if comment_id is None:
            raise _unexpected(response, endpoint, "a comment without oc:id")
        message = props.get(f"{_OC}message")
        comments.append(
            FileComment(
                comment_id=comment_id,
                message=(message.text or "") if message is not None else "",
                actor_id=_text(props.get(f"{_OC}actorId")),
            )
        )
    return comments


def list_comments(
    file_id: int, *, limit: int = MAX_COMMENTS_LISTED, offset: int = 0
) -> Call[list[FileComment]]:
    """``REPORT`` ``oc:filter-comments`` on ``comments/files/{fileId}``: comments, newest first.

    Args:
        file_id: The file whose comments to read.
        limit: At most this many, 1 to :data:`MAX_COMMENTS_LISTED`.
        offset: How many of the newest to skip.

    Raises:
        ValueError: An argument is invalid; nothing is sent.
    """
    _check_file_id(file_id)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_COMMENTS_LISTED
    ):
        raise ValueError(
            f"limit must be an integer from 1 to {MAX_COMMENTS_LISTED}, got {limit!r}."
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}.")
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<oc:filter-comments xmlns:oc="http://owncloud.org/ns">'
        f"<oc:limit>{limit}</oc:limit><oc:offset>{offset}</oc:offset></oc:filter-comments>"
    )
    return _comments_call(
        "REPORT",
        file_id,
        "read the comments of",
        _read_comments,
        body.encode(),
        "application/xml; charset=utf-8",
    )


# -- System tags ------------------------------------------------------------------------------

MAX_TAG_NAME_BYTES = 64
"""The longest tag name Nextcloud keeps, in UTF-8 bytes (it cuts longer ones)."""

_SYSTEMTAGS = "/remote.php/dav/systemtags"
_RELATIONS = "/remote.php/dav/systemtags-relations/files"
_TAG_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
    b"<oc:id/><oc:display-name/><oc:user-visible/><oc:user-assignable/><oc:can-assign/>"
    b"</d:prop></d:propfind>"
)
# The 404 of systemtags-relations for a file the user cannot reach (not for a missing tag).
_UNREACHABLE = "Entity does not exist or is not available"


def check_tag_name(name: str) -> str:
    """Return a tag name without surrounding spaces, as Nextcloud would keep it.

    Raises:
        ValueError: The name is empty or longer than :data:`MAX_TAG_NAME_BYTES` bytes.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A tag needs a non-empty name, got {name!r}.")
    name = name.strip()
    if len(name.encode()) > MAX_TAG_NAME_BYTES:
        raise ValueError(
            f"The tag name {name!r} has more than {MAX_TAG_NAME_BYTES} bytes in UTF-8, which "
            "Nextcloud would cut; shorten it."
        )
    return name


def tag_id_of(tag: SystemTag | int) -> int:
    """The id of a tag given as a :class:`SystemTag` or an id.

    Raises:
        ValueError: Neither a tag nor a positive id.
    """
    if isinstance(tag, SystemTag):
        return tag.tag_id
    if isinstance(tag, bool) or not isinstance(tag, int) or tag <= 0:
        raise ValueError(f"tag must be a SystemTag or a positive tag id, got {tag!r}.")
    return tag


def tag_named(tags: list[SystemTag], name: str) -> SystemTag | None:
    """The tag called ``name``, or else one whose name differs only in case.

    Nextcloud 31 and later refuse a second tag whose name differs only in case.
    """
    wanted = name.strip()
    exact = [tag for tag in tags if tag.name == wanted]
    folded = [tag for tag in tags if tag.name.casefold() == wanted.casefold()]
    return next(iter(exact or folded), None)


def _flag(props: dict[str, ElementTree.Element], name: str) -> bool | None:
    text = _text(props.get(f"{_OC}{name}"))
    return None if text is None else text == "true"


def _read_tags(response: httpx.Response, endpoint: str) -> list[SystemTag]:
    """The tags of a PROPFIND answer (the collection itself, without ``oc:id``, left out)."""
    tags = []
    for found in _responses(response, endpoint):
        props = _properties(found)
        tag_id = _int_or_none(_text(props.get(f"{_OC}id")))
        if tag_id is None:
            continue
        name = props.get(f"{_OC}display-name")
        tags.append(
            SystemTag(
                tag_id=tag_id,
                name=(name.text or "") if name is not None else "",
                user_visible=_flag(props, "user-visible") is not False,
                user_assignable=_flag(props, "user-assignable") is not False,
                can_assign=_flag(props, "can-assign"),
            )
        )
    return tags


def _tag_propfind(path: str, raise_error: Reader[None]) -> Call[list[SystemTag]]:
    return Call(
        "PROPFIND",
        path,
        Api.WEBDAV,
        _read_tags,
        raise_error,
        headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        content=_TAG_PROPFIND,
    )


def list_tags() -> Call[list[SystemTag]]:
    """``PROPFIND`` ``systemtags/``: every tag the user can see, ordered by name."""
    path = f"{_SYSTEMTAGS}/"
    refusals = _Refusals(
        forbidden=lambda where, said: (
            f"Permission denied ({where}): the user may not list the tags.{said}"
        ),
        missing=lambda where, said: f"No system tags ({where}).{said} Is this a Nextcloud server?",
    )
    return _tag_propfind(path, _object_error_reader("PROPFIND", path, refusals))


def _relation_refusals(file_id: int, refused: _Explain | None = None) -> _Refusals:
    """What a call on the tags of ``file_id`` says when refused; ``refused`` for a 412."""
    return _Refusals(
        forbidden=lambda where, said: (
            f"Permission denied ({where}): the user may not change the tags of file "
            f"{file_id}.{said} Only admins, or the tag's groups, may assign a tag that is not "
            "user-assignable."
        ),
        missing=lambda where, said: (
            f"File {file_id} not found for tags ({where}).{said} It was deleted, or the user "
            "cannot see it."
        ),
        refused=refused,
    )


def file_tags(file_id: int) -> Call[list[SystemTag]]:
    """``PROPFIND`` ``systemtags-relations/files/{fileId}``: the tags on a file the user sees.

    A file the user cannot reach raises
    :class:`~prefect_nextcloud.client.errors.NextcloudFileNotFoundError`.
    """
    _check_file_id(file_id)
    path = f"{_RELATIONS}/{file_id}/"
    return _tag_propfind(path, _object_error_reader("PROPFIND", path, _relation_refusals(file_id)))


def create_tag(name: str) -> Call[int | None]:
    """``POST`` ``systemtags``: a tag everyone sees and may assign; reads its id.

    Reads ``None`` when a tag of that name (in any case, on Nextcloud 31 and later) exists: a
    repeat after a lost answer finds the tag it made, so the call may be repeated.

    Raises:
        ValueError: The name is empty or too long; nothing is sent.
    """
    body = {"name": check_tag_name(name), "userVisible": True, "userAssignable": True}

    def read(response: httpx.Response, endpoint: str) -> int | None:
        if response.status_code == 409:
            return None
        location = response.headers.get("content-location", "").rstrip("/")
        tag_id = _int_or_none(location.rpartition("/")[2])
        if tag_id is None:
            raise _unexpected(response, endpoint, "no tag id in Content-Location")
        return tag_id

    return Call(
        "POST",
        _SYSTEMTAGS,
        Api.WEBDAV,
        read,
        _object_error_reader(
            "POST",
            _SYSTEMTAGS,
            _Refusals(
                forbidden=lambda where, said: (
                    f"Permission denied ({where}): only admins may create tags on this "
                    f"server.{said} Ask one to create the tag {body['name']!r}."
                ),
                missing=lambda where, said: f"No system tags ({where}).{said} Is this Nextcloud?",
            ),
            accept={409},
        ),
        json=body,
    )


def tag_file(file_id: int, tag: SystemTag | int) -> Call[bool]:
    """``PUT`` ``systemtags-relations/files/{fileId}/{tagId}``: put a tag on a file or folder.

    Reads ``True`` when this call assigned it and ``False`` when it was there already (also for
    a repeat after a lost answer), so the call may be repeated.

    Raises:
        ValueError: The file id or tag is invalid; nothing is sent.
    """
    _check_file_id(file_id)
    tag_id = tag_id_of(tag)
    path = f"{_RELATIONS}/{file_id}/{tag_id}"

    def read(response: httpx.Response, endpoint: str) -> bool:
        return response.status_code != 409

    def refused(where: str, said: str) -> str:
        return (
            f"The tag {tag_id} does not exist, or this user cannot see it ({where}).{said} Find "
            "it with list_tags(), or make it with ensure_tag()."
        )

    errors = _object_error_reader("PUT", path, _relation_refusals(file_id, refused), accept={409})
    return Call("PUT", path, Api.WEBDAV, read, errors, content=b"")


def untag_file(file_id: int, tag: SystemTag | int) -> Call[bool]:
    """``DELETE`` ``systemtags-relations/files/{fileId}/{tagId}``: take a tag off a file.

    Reads ``True`` when this call removed it and ``False`` when it was not there (also for a
    repeat after a lost answer), so the call may be repeated.

    Raises:
        ValueError: The file id or tag is invalid; nothing is sent.
    """
    _check_file_id(file_id)
    tag_id = tag_id_of(tag)
    path = f"{_RELATIONS}/{file_id}/{tag_id}"
    errors = _object_error_reader("DELETE", path, _relation_refusals(file_id))

    def raise_error(response: httpx.Response, endpoint: str) -> None:
        # A 404 about the tag (not on the file, or no such tag) means there is nothing to remove.
        if response.status_code == 404 and _sabre_message(response) != _UNREACHABLE:
            return
        errors(response, endpoint)

    def read(response: httpx.Response, endpoint: str) -> bool:
        return response.status_code != 404

    return Call("DELETE", path, Api.WEBDAV, read, raise_error)
