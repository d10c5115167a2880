"""Local files read and written so that a symbolic link swapped in cannot redirect them.

Checking a path and then opening it by name leaves a moment in which someone who can write
to one of its folders may put a symbolic link in its place. So a ``file:`` reference given as
text, already resolved and checked against ``NEXTCLOUD_LOCAL_FILE_ROOTS``, is opened one
name at a time from ``/``, each relative to the folder opened before it and with
``O_NOFOLLOW``: a link found anywhere on the way is refused instead of followed, and what is
opened is what lies at that very path, inside the allowed folder. Files are written under a
new temporary name in the folder so opened, then renamed over the target, which replaces a
link planted there rather than writing through it.

This needs ``dir_fd`` and ``O_NOFOLLOW`` (Linux, macOS, BSD); elsewhere these functions raise.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, BinaryIO

from prefect_nextcloud.client.references import (
    LOCAL_FILE_ROOTS_VARIABLE,
    LocalFileNotAllowedError,
    check_inside_roots,
)

__all__ = [
    "open_allowed_file",
    "open_regular_file",
    "save_in_allowed_folder",
    "write_replacing",
]

# Opening a FIFO blocks until a writer comes, unless opened non-blocking (not on Windows).
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_FOLDER_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW
_NEEDS_DIR_FD = (os.open, os.stat, os.mkdir, os.rename, os.unlink)  # os.replace: as os.rename
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory, not a file; upload its files"),
    (stat.S_ISFIFO, "a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "a character device, not a regular file"),
    (stat.S_ISBLK, "a block device, not a regular file"),
    (stat.S_ISSOCK, "a socket, not a regular file"),
)


def _check_platform(shown: str) -> None:
    if _NOFOLLOW and _DIRECTORY and all(call in os.supports_dir_fd for call in _NEEDS_DIR_FD):
        return
    raise OSError(
        errno.ENOTSUP,
        f"Cannot safely open the local path {shown!r}: this system ({sys.platform}) cannot "
        "open a file relative to an open folder without following symbolic links "
        "(os.supports_dir_fd, O_NOFOLLOW), which local file reads from text and local "
        "writes need. Run the worker on Linux or macOS, or pass the content as bytes.",
    )


def _check_kind(shown: str, mode: int) -> None:
    for is_kind, what in _FILE_KINDS:
        if is_kind(mode):
            raise ValueError(f"{shown!r} is {what}.")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{shown!r} is not a regular file.")


def _check_opened(shown: str, handle: BinaryIO) -> None:
    """Check the open file itself, which cannot be swapped any more; leave it at its start."""
    descriptor = handle.fileno()
    _check_kind(shown, os.fstat(descriptor).st_mode)
    if _NONBLOCK:
        os.set_blocking(descriptor, True)
    if os.fstat(descriptor).st_size == 0 and handle.read(1):
        raise ValueError(
            f"{shown!r} reports a size of 0 bytes but has content: it is a special file (like "
            "those in /proc) whose size is unknown until read. Copy it to a regular file "
            "first, or pass its content as bytes."
        )
    handle.seek(0)


def _checked_handle(shown: str, descriptor: int) -> BinaryIO:
    """The open file as a handle, if it is a regular file of honest size; else closed."""
    handle = os.fdopen(descriptor, "rb")
    try:
        _check_opened(shown, handle)
    except BaseException:
        handle.close()
        raise
    return handle


def _missing(shown: str) -> ValueError:
    return ValueError(
        f"The local file {shown!r} does not exist. (To upload text, use write_text; to "
        "upload content, pass bytes.)"
    )


def open_regular_file(path: Path) -> BinaryIO:
    """Open a local file given by code for reading, refusing anything but a regular file.

    Symbolic links are followed: the code that passed the path chose it. The file is opened
    without blocking (a FIFO would otherwise wait for a writer) and checked again once open.

    Raises:
        ValueError: No such file, not readable, not a regular file, or a file whose size the
            system does not report (such as those in ``/proc``).
    """
    shown = str(path)
    try:
        _check_kind(shown, os.stat(path).st_mode)
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        raise _missing(shown) from None
    except OSError as error:
        raise ValueError(f"The local file {shown!r} cannot be read: {error.strerror}.") from None
    return _checked_handle(shown, descriptor)


def _link_refused(shown: str, where: Path) -> LocalFileNotAllowedError:
    return LocalFileNotAllowedError(
        f"{shown!r} is refused: {where} is a symbolic link. A file: reference given as text "
        "is resolved when it is checked and then opened without following any link, so this "
        "link was put there since, or the folders changed while the flow ran. Give the real "
        f"path inside {LOCAL_FILE_ROOTS_VARIABLE}, and keep its folders unchanged while "
        "flows read or write them."
    )


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _folder_error(folder: int, name: str, where: Path, shown: str, error: OSError) -> Exception:
    if _is_link(folder, name):
        return _link_refused(shown, where)
    if error.errno == errno.ENOTDIR:
        return ValueError(f"{shown!r} cannot be used: {where} is a file, not a folder.")
    return ValueError(
        f"{shown!r} cannot be used: {where}: {error.strerror}. Check the folder's permissions."
    )


def _open_folder_in(folder: int, name: str, where: Path, shown: str, *, create: bool) -> int:
    """Open the folder ``name`` in the open ``folder``, not following a link; maybe create it."""
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        if not create:
            raise _missing(shown) from None
    except OSError as error:
        raise _folder_error(folder, name, where, shown, error) from None
    try:
        os.mkdir(name, dir_fd=folder)
    except FileExistsError:
        pass  # made by someone else meanwhile: open it all the same, still without following
    except OSError as error:
        raise _folder_error(folder, name, where, shown, error) from None
    return _open_folder_in(folder, name, where, shown, create=False)


def _open_folder(path: Path, shown: str, *, create: bool) -> int:
    """Open the folder at ``path`` one name at a time from ``/``, following no link.

    Args:
        path: An absolute path without ``..``.
        shown: The path to name in errors.
        create: Create missing folders (without following links either).

    Returns:
        A descriptor of the folder; the caller closes it.
    """
    if not path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{shown!r} is not a resolved absolute path; resolve it first.")
    folder = os.open(path.anchor, _FOLDER_FLAGS)
    where = Path(path.anchor)
    try:
        for name in path.parts[1:]:
            where = where / name
            inner = _open_folder_in(folder, name, where, shown, create=create)
            os.close(folder)
            folder = inner
    except BaseException:
        os.close(folder)
        raise
    return folder


def open_allowed_file(path: Path) -> BinaryIO:
    """Open a ``file:`` reference given as text for reading, following no symbolic link.

    Args:
        path: The resolved path, as ``parse_file_reference`` returns it.

    Returns:
        The open file, at its start; reads come from this file only.

    Raises:
        LocalFileNotAllowedError: The path lies outside ``NEXTCLOUD_LOCAL_FILE_ROOTS``, or a
            symbolic link stands anywhere on it.
        ValueError: No such file, not readable, not a regular file (a FIFO, a device), or
            a file whose size the system does not report.
        OSError: The system cannot open files relative to a folder (see the module).
    """
    shown = str(path)
    _check_platform(shown)
    check_inside_roots(path, repr(shown))
    folder = _open_folder(path.parent, shown, create=False)
    try:
        descriptor = _open_file_in(folder, path, shown)
    finally:
        os.close(folder)
    return _checked_handle(shown, descriptor)


def _open_file_in(folder: int, path: Path, shown: str) -> int:
    """Open ``path``'s file in its open ``folder`` for reading, not following a link."""
    try:
        return os.open(path.name, os.O_RDONLY | _NONBLOCK | _NOFOLLOW, dir_fd=folder)
    except FileNotFoundError:
        raise _missing(shown) from None
    except OSError as error:
        if _is_link(folder, path.name):
            raise _link_refused(shown, path) from None
        raise ValueError(f"The local file {shown!r} cannot be read: {error.strerror}.") from None


def _write_error(shown: str, error: OSError) -> OSError:
    return OSError(
        error.errno,
        f"Cannot write the local file {shown!r}: {error.strerror}. Check that its folder is "
        "writable, has space left, and holds no folder of that name.",
    )


@contextmanager
def _replacing(folder: int, name: str, shown: str) -> Iterator[IO[bytes]]:
    """Write a new temporary file in the open ``folder``; rename it to ``name`` on success."""
    temporary = f".{name}.{secrets.token_hex(8)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        descriptor = os.open(temporary, flags, 0o666, dir_fd=folder)
    except OSError as error:
        raise _write_error(shown, error) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        try:
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as error:
            raise _write_error(shown, error) from None
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        raise


@contextmanager
def write_replacing(destination: Path) -> Iterator[IO[bytes]]:
    """Write a local file that appears, whole, only if the block succeeds.

    The folder is opened once (following links: the code that gave the path chose it); the
    content goes to a new temporary file in it, renamed over ``destination`` at the end,
    which replaces a symbolic link standing there instead of writing through it.

    Args:
        destination: The absolute path of the file; an existing file is replaced.

    Yields:
        The temporary file to write to.

    Raises:
        OSError: The folder cannot be opened or written, or the system cannot open files
            relative to a folder (see the module).
    """
    shown = str(destination)
    _check_platform(shown)
    try:
        folder = os.open(destination.parent, os.O_RDONLY | _DIRECTORY)
    except OSError as error:
        raise _write_error(shown, error) from None
    try:
        with _replacing(folder, destination.name, shown) as handle:
            yield handle
    finally:
        os.close(folder)


def save_in_allowed_folder(folder: Path, name: str, content: bytes) -> Path:
    """Save a file in a local folder given as ``file:`` text, following no symbolic link.

    The folder and any missing folders on the way are created; a symbolic link anywhere on
    the way is refused, and one standing at ``name`` is replaced, never written through.

    Args:
        folder: The resolved folder, as ``parse_file_reference`` returns it.
        name: A plain file name (no ``/``).
        content: What to write.

    Returns:
        The path of the saved file.

    Raises:
        LocalFileNotAllowedError: The folder lies outside ``NEXTCLOUD_LOCAL_FILE_ROOTS``, or
            a symbolic link stands on the way to it.
        ValueError: ``name`` is not a plain file name, or a file stands where a folder belongs.
        OSError: The file cannot be written (no permission, a folder named ``name``, a full
            disk), or the system cannot open files relative to a folder (see the module).
    """
    target = folder / name
    shown = str(target)
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"Cannot save {name!r} in {folder}: it is not a plain file name.")
    _check_platform(shown)
    check_inside_roots(folder, repr(str(folder)))
    descriptor = _open_folder(folder, shown, create=True)
    try:
        with _replacing(descriptor, name, shown) as handle:
            handle.write(content)
    finally:
        os.close(descriptor)
    return target
