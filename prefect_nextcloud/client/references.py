"""Ways to point at a file: a Nextcloud file id or path, a local file, or bytes.

:func:`parse_file_reference` turns any accepted form into a :data:`FileReference`. As text (for
example typed into the Prefect UI) the forms are:

- ``nc:/Photos/receipt.jpg``: a file in the user's Nextcloud files;
- ``file:/abs/path/receipt.jpg`` or ``file:///abs/path/receipt.jpg``: a local file on the
  machine that runs the flow (percent-escapes such as ``%20`` are decoded);
- ``123``: a Nextcloud file id.

Raw ``bytes`` are named ``upload-<hash>.<ext>`` when their format is recognised from the content
(PNG, JPEG, GIF, WebP, WAV, MP3, PDF and a few more); other bytes need a name.

Text is what run parameters and the Prefect UI carry, so anyone who may start a run could
otherwise make the worker upload any file it can read to a server of their choosing. A ``file:``
reference given as text is therefore only accepted inside the folders that the worker's
``NEXTCLOUD_LOCAL_FILE_ROOTS`` variable allows; a :class:`pathlib.Path` passed by code is not
limited. Such a reference is resolved here and later opened without following any symbolic
link (see :mod:`prefect_nextcloud.client.localfiles`).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TypeAlias
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, field_validator

from prefect_nextcloud.client.models import MAX_ID
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.signatures import RECOGNISED_TYPES, extension_for

__all__ = [
    "FILE_REFERENCE_FORMS",
    "LOCAL_FILE_ROOTS_VARIABLE",
    "FileReference",
    "FileReferenceLike",
    "LocalFile",
    "LocalFileNotAllowedError",
    "as_reference_list",
    "check_inside_roots",
    "local_file_roots",
    "parse_file_reference",
]

FILE_REFERENCE_FORMS = (
    "'nc:/Photos/receipt.jpg' for a file in Nextcloud, 'file:/abs/path/receipt.jpg' for a file "
    "on the machine running the flow, or digits such as '123' for a Nextcloud file id"
)
_DIGITS = re.compile(r"\s*[0-9]+\s*")

LOCAL_FILE_ROOTS_VARIABLE = "NEXTCLOUD_LOCAL_FILE_ROOTS"
"""The environment variable listing the folders ``file:`` references given as text may use."""


class LocalFileNotAllowedError(PermissionError):
    """A ``file:`` reference given as text points outside the folders the worker allows."""


class LocalFile(BaseModel):
    """File content in memory, with the name it should have in Nextcloud.

    The name matters: Nextcloud derives the file type from its extension.

    Attributes:
        name: A file name such as ``receipt.jpg`` (no folders).
        data: The content.
    """

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    name: str
    data: bytes

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value.strip() in ("", ".", ".."):
            raise ValueError(f"must be a plain file name such as 'receipt.jpg', got {value!r}")
        return NextcloudPath(value).name


FileReference: TypeAlias = int | NextcloudPath | Path | LocalFile
"""A parsed reference: a file id, a Nextcloud path, an absolute local path, or inline bytes."""

FileReferenceLike: TypeAlias = (
    int | str | NextcloudPath | os.PathLike[str] | LocalFile | tuple[str, bytes] | bytes
)
"""Anything :func:`parse_file_reference` accepts."""


def parse_file_reference(value: object) -> FileReference:
    """Read a reference to a file in any of its accepted forms.

    Args:
        value: A positive ``int`` or digit string (file id); a :class:`NextcloudPath` or
            ``"nc:/path"`` string; a :class:`pathlib.Path` (made absolute) or
            ``"file:/abs/path"`` string (local file); a :class:`LocalFile` or a
            ``(name, bytes)`` tuple (inline content); raw ``bytes`` of a recognised format
            (named ``upload-<first 12 hex digits of the SHA-256>.<ext>``, e.g.
            ``upload-3f2a9c1b7d4e.png``).

    Returns:
        An ``int`` file id, a :class:`NextcloudPath`, an absolute :class:`pathlib.Path` (for
        ``"file:"`` text, with symlinks and ``..`` resolved) or a :class:`LocalFile`. Nothing is
        checked on the server, nor whether a local file exists.

    Raises:
        ValueError: The value is none of these forms (a plain ``"photo.png"`` is ambiguous).
        LocalFileNotAllowedError: ``"file:"`` text outside the folders that
            ``NEXTCLOUD_LOCAL_FILE_ROOTS`` allows.
    """
    if isinstance(value, bool):
        raise ValueError(
            f"A file reference cannot be a bool ({value!r}); use {FILE_REFERENCE_FORMS}."
        )
    if isinstance(value, int):
        return _file_id(value)
    if isinstance(value, NextcloudPath | LocalFile):
        return value
    if isinstance(value, os.PathLike):
        return _path_like(value)
    if isinstance(value, tuple) and len(value) == 2:
        name, data = value
        if isinstance(name, str) and isinstance(data, bytes | bytearray):
            return LocalFile(name=name, data=bytes(data))
    if isinstance(value, bytes | bytearray):
        return _named_bytes(bytes(value))
    if isinstance(value, str):
        return _parse_text(value)
    raise ValueError(
        f"Cannot use a {type(value).__name__} as a file reference; use {FILE_REFERENCE_FORMS}."
    )


def as_reference_list(value: object) -> list[object]:
    """One reference or a list of them, as a list; a ``(name, bytes)`` pair is one reference.

    Raises:
        ValueError: ``value`` is a mapping or a set, which has no order.
    """
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], bytes | bytearray):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict | set | frozenset):
        raise ValueError(f"Give file references as a list, not a {type(value).__name__}.")
    return [value]


def _named_bytes(data: bytes) -> LocalFile:
    extension = extension_for(data)
    if extension is None:
        raise ValueError(
            "Bytes alone have no file name, and Nextcloud derives the file type from it; these "
            f"are not {RECOGNISED_TYPES} content, which would be named for you. Pass "
            "LocalFile(name='receipt.jpg', data=...) or a ('receipt.jpg', data) tuple."
        )
    digest = hashlib.sha256(data).hexdigest()[:12]
    return LocalFile(name=f"upload-{digest}.{extension}", data=data)


def _file_id(value: int) -> int:
    if value <= 0:
        raise ValueError(f"A Nextcloud file id must be a positive integer, got {value}.")
    if value > MAX_ID:
        raise ValueError(
            f"A Nextcloud file id is at most {MAX_ID} (2^63 - 1, the largest id Nextcloud "
            f"stores); {value} cannot be one."
        )
    return value


def _path_like(value: os.PathLike[str] | os.PathLike[bytes]) -> Path:
    try:
        path: object = os.fspath(value)
    except TypeError:  # __fspath__ returned neither str nor bytes
        path = None
    if not isinstance(path, str):
        raise ValueError(f"A local file path must be text, got {type(path).__name__}.")
    try:
        return Path(path).expanduser().absolute()
    except RuntimeError:  # "~user/..." with no such user, or no home folder to expand "~"
        raise ValueError(f"Cannot expand the home folder in {path!r}.") from None


def _parse_text(text: str) -> FileReference:
    if _DIGITS.fullmatch(text):
        return _file_id(int(text))
    if text.startswith("nc:"):
        return NextcloudPath(text.removeprefix("nc:"))
    if text.startswith("file:"):
        return _allowed(text, _local_path(text))
    raise ValueError(f"The file reference {text!r} is ambiguous; write {FILE_REFERENCE_FORMS}.")


def _local_path(text: str) -> Path:
    rest = text.removeprefix("file:")
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            raise ValueError(
                f"{text!r} names a file on host {host!r}; a file: reference must be on the "
                "machine running the flow, e.g. 'file:///data/receipt.jpg'."
            )
        rest = slash + path
    local = unquote(rest)
    if not local.startswith("/") or "\x00" in local:
        raise ValueError(
            f"{text!r} is not an absolute local path; write it as 'file:/data/receipt.jpg'."
        )
    return Path(local)


def local_file_roots() -> list[Path]:
    """The folders that ``NEXTCLOUD_LOCAL_FILE_ROOTS`` allows, resolved; none when it is unset.

    Raises:
        ValueError: An entry is not an absolute path.
    """
    roots = []
    for entry in os.environ.get(LOCAL_FILE_ROOTS_VARIABLE, "").split(os.pathsep):
        if not entry:
            continue
        if not os.path.isabs(entry):
            raise ValueError(
                f"{LOCAL_FILE_ROOTS_VARIABLE} must list absolute folders separated by "
                f"{os.pathsep!r}; {entry!r} is not absolute."
            )
        roots.append(_resolved(Path(entry), f"the {LOCAL_FILE_ROOTS_VARIABLE} entry {entry!r}"))
    return roots


def _resolved(path: Path, what: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        raise ValueError(f"The path of {what} cannot be resolved: {error}.") from None


def _allowed(text: str, path: Path) -> Path:
    """``path`` resolved, if it lies in a folder that ``NEXTCLOUD_LOCAL_FILE_ROOTS`` allows."""
    resolved = _resolved(path, repr(text))
    check_inside_roots(resolved, repr(text))
    return resolved


def check_inside_roots(path: Path, shown: str) -> None:
    """Refuse a resolved path outside the folders that ``NEXTCLOUD_LOCAL_FILE_ROOTS`` allows.

    Args:
        path: An absolute path, symlinks and ``..`` resolved.
        shown: How to name it in the error, e.g. the ``file:`` text it came from.

    Raises:
        LocalFileNotAllowedError: It lies in none of the folders.
    """
    roots = local_file_roots()
    if any(path.is_relative_to(root) for root in roots):
        return
    allowed = (
        f"which allows only {', '.join(str(root) for root in roots)}"
        if roots
        else "which is not set on this machine"
    )
    raise LocalFileNotAllowedError(
        f"{shown} (resolved: {path}) is refused: file: references given as text, as run "
        f"parameters and the Prefect UI give them, may only name files inside the folders "
        f"listed in {LOCAL_FILE_ROOTS_VARIABLE}, {allowed}. To allow it, set "
        f"{LOCAL_FILE_ROOTS_VARIABLE} in the worker's environment to the absolute folder(s) "
        f"holding such files, separated by {os.pathsep!r}; or pass a pathlib.Path from code."
    )
