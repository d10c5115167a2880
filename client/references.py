"""Ways to point at a file: a Nextcloud file id or path, a local file, or bytes.

:func:`parse_file_reference` turns any accepted form into a :data:`FileReference`. As text (for
example typed into the Prefect UI) the forms are:

- ``nc:/Photos/receipt.jpg``: a file in the user's Nextcloud files;
- ``file:/abs/path/receipt.jpg`` or ``file:///abs/path/receipt.jpg``: a local file on the
  machine that runs the flow (percent-escapes such as ``%20`` are decoded);
- ``123``: a Nextcloud file id.

Raw ``bytes`` are named ``upload-<hash>.<ext>`` when their format is recognised from the content
(PNG, JPEG, GIF, WebP, WAV, MP3, PDF and a few more); other bytes need a name.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TypeAlias
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, field_validator

from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.signatures import RECOGNISED_TYPES, extension_for

__all__ = [
    "FILE_REFERENCE_FORMS",
    "FileReference",
    "FileReferenceLike",
    "LocalFile",
    "as_reference_list",
    "parse_file_reference",
]

FILE_REFERENCE_FORMS = (
    "'nc:/Photos/receipt.jpg' for a file in Nextcloud, 'file:/abs/path/receipt.jpg' for a file "
    "on the machine running the flow, or digits such as '123' for a Nextcloud file id"
)
_DIGITS = re.compile(r"\s*[0-9]+\s*")


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
        An ``int`` file id, a :class:`NextcloudPath`, an absolute :class:`pathlib.Path` or a
        :class:`LocalFile`. Nothing is checked on the server or the disk.

    Raises:
        ValueError: The value is none of these forms (a plain ``"photo.png"`` is ambiguous).
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
        return _local_path(text)
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
