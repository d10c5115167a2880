"""The state file of process-new-files: what became of each file of a folder, kept in Nextcloud.

A JSON record in the user's Nextcloud, format version 2::

    {"version": 2, "folder": "/Photos", "task": "image-analysis",
     "files": {"<file id>": {"etag": "…", "status": "done"}, …}}

Each entry is about one version (etag) of a file:

* ``done``: answered, and the answer delivered.
* ``posting``: answered by the Nextcloud task ``task_id``; its ``comment`` was about to be
  posted when the record was written. A run that finds it looks for the comment on the file
  and posts it only when it is missing.
* ``failed``: ``attempts`` tries failed, the last with ``error``; tried again from
  ``next_try`` (UTC). The wait doubles from one hour after the first failure up to a week.

A version-1 record (file id → etag of the files done) is read as ``done`` entries. A record
that cannot be read (not JSON, nested too deeply, over the download limit, of another shape
or an unknown version) is moved aside to ``<name>.corrupt-<UTC time>.json`` and rebuilt.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from logging import Logger, LoggerAdapter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prefect_nextcloud.client.errors import (
    DownloadTooLargeError,
    NextcloudError,
    NextcloudFileNotFoundError,
)
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.tasks.idempotency import app_id_for

__all__ = [
    "FIRST_RETRY",
    "LAST_RETRY",
    "STATE_VERSION",
    "FileRecord",
    "LoadedState",
    "StateFileError",
    "batch_app_id",
    "default_state_file",
    "failed_record",
    "file_custom_id",
    "legacy_state_file",
    "load_state",
    "retry_delay",
    "save_state",
]

STATE_VERSION = 2
"""The state file's format; version 1 is read too, any other is moved aside and rebuilt."""

FIRST_RETRY = timedelta(hours=1)
"""The wait before a failed file is tried again the first time; it doubles with each failure."""
LAST_RETRY = timedelta(days=7)
"""The longest wait before a failed file is tried again."""

STATE_FOLDER = NextcloudPath("/Prefect/process-new-files")
_SLUG_LENGTH = 60  # keeps names well below Nextcloud's 250 bytes, with room for the suffixes

Logs = Logger | LoggerAdapter[Logger]


class FileRecord(BaseModel):
    """What became of one version (etag) of a file; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    etag: str
    status: Literal["done", "posting", "failed"]
    task_id: int | None = None
    comment: str | None = None
    attempts: int = Field(default=0, ge=0)
    next_try: datetime | None = None
    error: str | None = None


Records = dict[str, FileRecord]
"""The entries of a record, by file id (in decimal)."""


class StateFileError(NextcloudError):
    """The state file could not be written; the message says what became of the answers."""


@dataclass(frozen=True)
class LoadedState:
    """A folder's record as a run found it.

    Attributes:
        records: The usable entries, by file id.
        legacy: The file at the name of earlier releases the entries came from, to remove
            once the record is written under its own name; else ``None``.
    """

    records: Records
    legacy: NextcloudPath | None = None


class _Unusable(Exception):
    """The record cannot be read; the message says why."""


@dataclass(frozen=True)
class _Record:
    folder: str
    task: str
    files: Records
    dropped: int  # entries that could not be read


def default_state_file(folder: str, task_choice: str) -> str:
    """The state file of a folder and task: ``/Prefect/process-new-files/<name>--<task>.json``.

    The name is a readable slug of the folder's path (letters and digits of any script kept)
    and a hash of the whole path, so no two folders share a record, even when their slugs are
    the same (``/Photos/2024`` and ``/Photos-2024``): ``Photos-2024-dbb7297563--ocr.json``.
    """
    path = str(NextcloudPath(unicodedata.normalize("NFC", str(NextcloudPath(folder)))))
    slug = re.sub(r"[^\w.-]+", "-", path.strip("/"))[:_SLUG_LENGTH] or "home"
    digest = hashlib.sha256(path.encode()).hexdigest()[:10]
    return str(STATE_FOLDER / f"{slug}-{digest}--{task_choice}.json")


def legacy_state_file(folder: str, task_choice: str) -> str:
    """The state file earlier releases used by default (``<slug>--<task>.json``), read once.

    Its ASCII slug made folders whose names differ only in other letters share one.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(NextcloudPath(folder)).strip("/")) or "home"
    return str(STATE_FOLDER / f"{slug}--{task_choice}.json")


def batch_app_id(state_file: str) -> str:
    """The app id of every Nextcloud task scheduled for the folder of ``state_file``."""
    return app_id_for(f"pfnc:new-files:{NextcloudPath(state_file)}")


def file_custom_id(
    state_file: str, file_id: int, etag: str, task_choice: str, prompt: str | None
) -> str:
    """The custom id of the task for one version of a file, the same in every run.

    A run that finds a task under it (scheduled by an earlier run that failed later, or by a
    run at the same time) adopts that task instead of paying for another.
    """
    key = json.dumps([str(NextcloudPath(state_file)), file_id, etag, task_choice, prompt])
    return f"pfnc:new-files:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def retry_delay(attempts: int) -> timedelta:
    """How long a file that failed ``attempts`` times waits: 1 h, 2 h, 4 h, … up to 7 days."""
    doublings = min(max(attempts - 1, 0), 8)  # 2**8 hours is past the cap already
    return min(FIRST_RETRY * int(2**doublings), LAST_RETRY)


def failed_record(previous: FileRecord | None, etag: str, error: str, now: datetime) -> FileRecord:
    """The entry of a file that failed now, counting its earlier failures of the same version."""
    earlier = previous.attempts if previous and previous.etag == etag else 0
    attempts = earlier + 1
    return FileRecord(
        etag=etag,
        status="failed",
        attempts=attempts,
        next_try=now + retry_delay(attempts),
        error=error,
    )


def _entries(files: dict[str, Any]) -> tuple[Records, int]:
    """The usable entries of a ``files`` object, and how many were dropped."""
    records: Records = {}
    for key, value in files.items():
        # A version-1 entry is the etag of a file done.
        data = {"etag": value, "status": "done"} if isinstance(value, str) else value
        if key.isascii() and key.isdigit():
            try:
                records[key] = FileRecord.model_validate(data)
            except ValidationError:
                continue
    return records, len(files) - len(records)


def _parse(raw: bytes) -> _Record:
    """Read a record; raises :class:`_Unusable` saying why it cannot be read."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _Unusable("it is nested too deeply") from None
    except ValueError:
        raise _Unusable("it is not JSON") from None
    if not isinstance(data, dict):
        raise _Unusable("it is not a JSON object")
    version = data.get("version")
    if version not in (1, STATE_VERSION):
        raise _Unusable(f"format version {version!r}; this release reads 1 and {STATE_VERSION}")
    folder, task, files = data.get("folder"), data.get("task"), data.get("files")
    if not isinstance(folder, str) or not isinstance(task, str) or not isinstance(files, dict):
        raise _Unusable("it lacks the folder, the task or the files")
    records, dropped = _entries(files)
    return _Record(folder, task, records, dropped)


def _download(client: NextcloudClient, path: NextcloudPath) -> _Record | None:
    """The record at ``path``, or ``None`` when there is none; :class:`_Unusable` if unreadable."""
    try:
        raw = client.download_file(path)
    except NextcloudFileNotFoundError:
        return None
    except DownloadTooLargeError:
        raise _Unusable(
            f"it is larger than the download limit of {client.max_download_bytes} bytes"
        ) from None
    return _parse(raw)


def _move_aside(client: NextcloudClient, path: NextcloudPath, why: str, logger: Logs) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.parent / f"{path.name.removesuffix('.json')}.corrupt-{stamp}.json"
    try:
        client.move_file(path, aside)
    except NextcloudError as error:
        logger.warning(
            "The state file %s cannot be read (%s) and could not be moved aside to %s (%s); "
            "it is rebuilt in its place, so every file in the folder counts as new.",
            path,
            why,
            aside,
            error,
        )
        return
    logger.warning(
        "The state file %s cannot be read (%s); it was moved aside to %s and is rebuilt, so "
        "every file in the folder counts as new. Tasks Nextcloud still keeps are reused.",
        path,
        why,
        aside,
    )


def _migrated(
    client: NextcloudClient, legacy: NextcloudPath, folder: str, task_choice: str
) -> LoadedState | None:
    """The record at the name of earlier releases, when it is this folder's and task's."""
    try:
        record = _download(client, legacy)
    except _Unusable:
        return None  # it may be another folder's: left as it is
    if record is None or (record.folder, record.task) != (folder, task_choice):
        return None
    return LoadedState(record.files, legacy)


def load_state(
    client: NextcloudClient,
    state_file: NextcloudPath,
    folder: NextcloudPath,
    task_choice: str,
    legacy: NextcloudPath | None,
    logger: Logs,
) -> LoadedState:
    """Read a folder's record; an unreadable one is moved aside and rebuilt, with a warning.

    Args:
        client: The client to use.
        state_file: Where the record is.
        folder: The folder it must describe.
        task_choice: The task it must describe.
        legacy: Where earlier releases kept it, read when ``state_file`` does not exist.
        logger: Where to warn.

    Raises:
        ValueError: The record describes another folder or task.
    """
    try:
        record = _download(client, state_file)
    except _Unusable as why:
        _move_aside(client, state_file, str(why), logger)
        return LoadedState({})
    if record is None:
        found = None if legacy is None else _migrated(client, legacy, folder, task_choice)
        return found or LoadedState({})
    if (record.folder, record.task) != (folder, task_choice):
        raise ValueError(
            f"The state file {state_file} records {record.folder} ({record.task}), not "
            f"{folder} ({task_choice}): each folder and task needs a state file of its own. "
            "Leave state_file empty for the default, or give another path; nothing was "
            "processed."
        )
    if record.dropped:
        logger.warning(
            "%s entries of the state file %s cannot be read; those files count as new.",
            record.dropped,
            state_file,
        )
    return LoadedState(record.files)


def save_state(
    client: NextcloudClient,
    state_file: NextcloudPath,
    folder: NextcloudPath,
    task_choice: str,
    records: Records,
) -> None:
    """Write a folder's record (see the module docstring)."""
    files = {
        key: record.model_dump(mode="json", exclude_defaults=True)
        for key, record in records.items()
    }
    document = {"version": STATE_VERSION, "folder": folder, "task": task_choice, "files": files}
    client.write_text(state_file, json.dumps(document, indent=1, sort_keys=True))
