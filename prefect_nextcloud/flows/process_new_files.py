"""The process-new-files flow: run one AI task on each file of a folder that is new or changed.

What became of each file is kept in a JSON state file in the user's Nextcloud (see
:mod:`~prefect_nextcloud.flows.process_new_files_state`), so it survives worker restarts, is visible
to the user, and grows with the folder (a Prefect Variable holds at most 5000 characters,
about a hundred files). A file is processed again when its etag changes.

A run lists the folder, reads the record, finishes the comments an earlier run left
"posting", and takes at most ``max_files`` files: those never tried first, then failed ones
whose next try is due (the wait doubles from one hour up to a week). Their tasks carry custom
ids that are the same in every run, under one app id per state file, so a run adopts what an
earlier or a concurrent run already scheduled instead of paying again. The answers are
recorded as "posting" before the first comment is posted; when that write fails, nothing is
posted and the run fails. So whichever step fails, no file gets a second paid task or a
second comment. A file whose name cannot be a path fails alone; a record that cannot be read
is moved aside and rebuilt.
"""

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from typing import Annotated, Literal

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from pydantic import BaseModel, ConfigDict, Field, computed_field

from prefect_nextcloud.blocks.credentials import NextcloudCredentials, resolve_credentials
from prefect_nextcloud.client.errors import NextcloudError, NextcloudFileNotFoundError
from prefect_nextcloud.client.nextcloud_client import NextcloudClient
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.webdav import (
    MAX_COMMENT_LENGTH,
    FileInfo,
    FolderListing,
    SystemTag,
    UnreadableEntry,
    check_tag_name,
)
from prefect_nextcloud.flows.decorator import nextcloud_flow
from prefect_nextcloud.flows.parameters import (
    ClearableText,
    CredentialsParameter,
    OptionalText,
    PollIntervalSeconds,
    TimeoutSeconds,
    titled,
)
from prefect_nextcloud.flows.process_new_files_state import (
    STATE_VERSION,
    FileRecord,
    LoadedState,
    Records,
    StateFileError,
    batch_app_id,
    default_state_file,
    failed_record,
    file_custom_id,
    legacy_state_file,
    load_state,
    save_state,
)
from prefect_nextcloud.flows.reports import file_section, quoted
from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.images import analyze_image_batch
from prefect_nextcloud.tasks.markdown import escape, file_url
from prefect_nextcloud.tasks.media import ocr_batch
from prefect_nextcloud.tasks.options import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RunOptions,
)
from prefect_nextcloud.tasks.progress import run_logger
from prefect_nextcloud.tasks.run_lock import run_lock

__all__ = ["STATE_VERSION", "FileOutcome", "NewFilesRun", "default_state_file", "process_new_files"]

TaskChoice = Literal["image-analysis", "ocr"]
_LABELS = {"image-analysis": "Image analysis", "ocr": "Text recognition (OCR)"}

_CLAIM_FAILED = (
    "No comment was posted, so that none is posted twice. The answers stay with their "
    "Nextcloud tasks, which the next run adopts instead of paying for new ones: fix what is "
    "named above (free space, or give write permission on the state file's folder) and the "
    "next run delivers them."
)
_RECORD_FAILED = (
    "What this run did is not recorded, but nothing is lost or done twice: the next run adopts "
    "the Nextcloud tasks of these answers instead of paying again, and for the files whose "
    "comment this run posted it looks at their comments first and posts none twice. Fix what "
    "is named above (free space, or give write permission on the state file's folder)."
)


class FileOutcome(BaseModel):
    """How one file of a run ended."""

    model_config = ConfigDict(frozen=True)

    path: NextcloudPath = Field(
        description="The file's path in Nextcloud (characters a path cannot hold as \\xNN)."
    )
    file_id: int = Field(description="The file's Nextcloud file id.")
    text: str | None = Field(default=None, description="The answer, when there is one.")
    error: str | None = Field(default=None, description="What went wrong, or None.")
    task_id: int | None = Field(
        default=None, description="The Nextcloud task that processed it, if any."
    )
    next_try: datetime | None = Field(
        default=None, description="When a failed file is tried again (UTC), if it is."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """Whether its answer was produced and delivered: there is no error."""
        return self.error is None


class NewFilesRun(BaseModel):
    """What a process-new-files run did."""

    model_config = ConfigDict(frozen=True)

    folder: NextcloudPath = Field(description="The folder that was looked at.")
    state_file: NextcloudPath = Field(description="Where the processed files are recorded.")
    unchanged_count: int = Field(description="Files already processed, left alone.")
    outcomes: list[FileOutcome] = Field(description="One outcome per file processed now.")
    left_out_count: int = Field(description="Files due, left for the next run (max_files).")
    waiting_count: int = Field(description="Failed files waiting for their next try, left alone.")
    report_path: NextcloudPath | None = Field(description="The report written, if any.")

    @property
    def failed_count(self) -> int:
        """How many of the files processed now failed."""
        return sum(not outcome.ok for outcome in self.outcomes)


class _Delivery(Enum):
    POSTED = "posted"
    REFUSED = "refused"  # the server said no: nothing was posted
    UNKNOWN = "unknown"  # no clear answer: the comment may have been posted


@dataclass(frozen=True)
class _Comment:
    """An answer to post as a comment, with how that went once tried."""

    file_id: int
    message: str
    delivery: _Delivery | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Plan:
    due: list[FileInfo]  # processed now, at most max_files
    unreadable: list[UnreadableEntry]  # reported as failed now
    left_out: int
    waiting: int
    unchanged: int


def _wanted(content_type: str | None, name: str, task_choice: str) -> bool:
    kind = content_type or mimetypes.guess_type(name)[0] or ""
    if kind.startswith("image/"):
        return True
    return task_choice == "ocr" and kind == "application/pdf"


@task(cache_policy=NO_CACHE)
def list_candidates(
    credentials: NextcloudCredentials, folder: str, recursive: bool, task_choice: str
) -> FolderListing:
    """The files in a folder (and its subfolders, when recursive) that the task can process.

    Files whose names cannot be paths are listed apart, in ``unreadable``; a subfolder with
    such a name is skipped with a warning.

    Raises:
        ValueError: The folder does not exist, or is a file.
    """
    found: list[FileInfo] = []
    unreadable: list[UnreadableEntry] = []
    subfolders_left = other_files = 0
    pending = [NextcloudPath(folder)]
    with credentials.get_client() as client:
        while pending:
            current = pending.pop(0)
            listing = _read_folder(client, current, is_root=current == NextcloudPath(folder))
            for entry in listing.entries:
                if entry.is_folder:
                    if recursive:
                        pending.append(entry.path)
                    else:
                        subfolders_left += 1
                elif _wanted(entry.content_type, entry.path.name, task_choice):
                    found.append(entry)
                else:
                    other_files += 1
            for odd in listing.unreadable:
                if odd.is_folder and recursive:
                    get_run_logger().warning("The subfolder is skipped: %s", odd.problem)
                elif not odd.is_folder and _wanted(odd.content_type, odd.name, task_choice):
                    unreadable.append(odd)
    if not found and not unreadable:
        get_run_logger().info("%s", _why_nothing(folder, task_choice, subfolders_left, other_files))
    return FolderListing(entries=sorted(found, key=lambda entry: entry.path), unreadable=unreadable)


def _read_folder(client: NextcloudClient, path: NextcloudPath, *, is_root: bool) -> FolderListing:
    """What a folder holds; nothing for a subfolder removed meanwhile, an error for the root."""
    try:
        return client.read_folder(path)
    except NextcloudFileNotFoundError:
        if not is_root:
            return FolderListing(entries=[], unreadable=[])
        raise ValueError(
            f"The folder {path} does not exist in the Nextcloud files of {client.user_id} at "
            f"{client.base_url}. Create it or give an existing folder; nothing was processed or "
            "recorded."
        ) from None


def _why_nothing(folder: str, task_choice: str, subfolders_left: int, other_files: int) -> str:
    """Why a folder has no file to process, and what to do about it."""
    kinds = "images" if task_choice == "image-analysis" else "images or PDFs"
    if subfolders_left:
        return (
            f"No {kinds} directly in {folder}; its {subfolders_left} subfolder(s) were not "
            "looked in. Turn on recursive (Include subfolders) to process their files."
        )
    if other_files:
        return (
            f"No {kinds} in {folder}: its {other_files} file(s) are of other types, which the "
            f"{task_choice} task cannot process."
        )
    return f"The folder {folder} is empty: nothing to process."


def _read_state(
    credentials: NextcloudCredentials,
    state_file: str,
    folder: str,
    task_choice: str,
    legacy: str | None = None,
) -> LoadedState:
    """What the state file records; an unreadable record is moved aside and rebuilt.

    Args:
        credentials: Where and as whom to connect.
        state_file: The record's path.
        folder: The folder it must describe.
        task_choice: The task it must describe.
        legacy: Where earlier releases kept the record, read when there is none yet.

    Raises:
        ValueError: The record describes another folder or task.
    """
    with credentials.get_client() as client:
        return load_state(
            client,
            NextcloudPath(state_file),
            NextcloudPath(folder),
            task_choice,
            None if legacy is None else NextcloudPath(legacy),
            run_logger(),
        )


def _write_state(
    credentials: NextcloudCredentials,
    state_file: str,
    folder: str,
    task_choice: str,
    records: Records,
    if_it_fails: str,
) -> None:
    """Write the record of what became of each file.

    Raises:
        StateFileError: It could not be written; the message ends with ``if_it_fails``.
    """
    try:
        with credentials.get_client() as client:
            save_state(
                client, NextcloudPath(state_file), NextcloudPath(folder), task_choice, records
            )
    except NextcloudError as error:
        raise StateFileError(
            f"The state file {state_file} could not be written: {error} {if_it_fails}",
            endpoint=error.endpoint,
            status_code=error.status_code,
            server_message=error.server_message,
        ) from error


def _comment_text(label: str, task_id: int | None, text: str) -> str:
    """The comment: a first line naming the task, which later runs look for, then the answer."""
    message = f"{label} (Prefect, Nextcloud task {task_id}):\n{text.strip()}"
    if len(message) > MAX_COMMENT_LENGTH:
        message = message[: MAX_COMMENT_LENGTH - 1] + "…"
    return message


def _already_posted(comments: list[str], message: str) -> bool:
    first_line = message.partition("\n")[0]
    return any(comment.partition("\n")[0] == first_line for comment in comments)


def _post(client: NextcloudClient, comment: _Comment) -> _Comment:
    """Post one comment; a failure without a clear refusal may have posted it."""
    try:
        client.post_comment(comment.file_id, comment.message)
    except ValueError as error:
        return _settled(comment, _Delivery.REFUSED, f"The answer cannot be a comment: {error}")
    except NextcloudError as error:
        if error.status_code is None or error.status_code >= 500:
            failure = (
                f"The answer may have been posted as a comment, or not: {error} The next run "
                "looks at the file's comments and posts it only if it is missing."
            )
            return _settled(comment, _Delivery.UNKNOWN, failure)
        failure = f"The answer could not be posted as a comment: {error}"
        return _settled(comment, _Delivery.REFUSED, failure)
    return _settled(comment, _Delivery.POSTED, None)


def _look_then_post(client: NextcloudClient, comment: _Comment) -> _Comment:
    """Post one comment unless the file's newest comments hold it already."""
    try:
        seen = [found.message for found in client.list_comments(comment.file_id)]
    except NextcloudError as error:
        failure = (
            "The file's comments could not be read to see whether its answer was posted: "
            f"{error} They are looked at again next run."
        )
        return _settled(comment, _Delivery.UNKNOWN, failure)
    if _already_posted(seen, comment.message):
        return _settled(comment, _Delivery.POSTED, None)
    return _post(client, comment)


def _settled(comment: _Comment, delivery: _Delivery, error: str | None) -> _Comment:
    return _Comment(comment.file_id, comment.message, delivery, error)


def _post_comments(
    credentials: NextcloudCredentials, comments: list[_Comment], look_first: bool
) -> list[_Comment]:
    """Post each answer as a comment on its file, shown in the Files sidebar.

    Args:
        credentials: Where and as whom to connect.
        comments: The comments to post.
        look_first: First look among each file's newest 100 comments for one with the same
            first line (which names the task); post only when there is none.

    Returns:
        The comments, each with how its delivery went and, unless posted, what went wrong.
    """
    with credentials.get_client() as client:
        if look_first:
            return [_look_then_post(client, comment) for comment in comments]
        return [_post(client, comment) for comment in comments]


_Standing = Literal["new", "unchanged", "due", "waiting"]


def _standing(record: FileRecord | None, etag: str | None, now: datetime) -> _Standing:
    """Where a file stands: "new", "unchanged", "due" (for a retry) or "waiting"."""
    if record is None or record.etag != (etag or ""):
        return "new"
    if record.status != "failed":
        return "unchanged"
    return "due" if record.next_try is None or record.next_try <= now else "waiting"


def _plan(
    candidates: FolderListing, records: Records, now: datetime, max_files: int, skip: set[int]
) -> _Plan:
    """Choose the files of this run: never-tried files first, then failed ones now due."""
    files = [entry for entry in candidates.entries if entry.file_id not in skip]
    odd = [entry for entry in candidates.unreadable if entry.file_id not in skip]
    stands = [_standing(records.get(str(e.file_id)), e.etag, now) for e in files]
    odd_stands = [_standing(records.get(str(e.file_id)), e.etag, now) for e in odd]
    due = [entry for entry, stand in zip(files, stands, strict=True) if stand == "new"]
    due += [entry for entry, stand in zip(files, stands, strict=True) if stand == "due"]
    return _Plan(
        due=due[:max_files],
        unreadable=[
            entry for entry, stand in zip(odd, odd_stands, strict=True) if stand in ("new", "due")
        ],
        left_out=max(len(due) - max_files, 0),
        waiting=(stands + odd_stands).count("waiting"),
        unchanged=(stands + odd_stands).count("unchanged"),
    )


def _run_batch(
    credentials: NextcloudCredentials,
    task_choice: str,
    prompt: str,
    files: list[FileInfo],
    state_file: NextcloudPath,
    options: RunOptions,
    on_results: Callable[[list[ItemResult]], None],
) -> list[ItemResult]:
    """One task per file, under custom ids that any later run derives the same way."""
    if not files:
        return []
    asked = prompt if task_choice == "image-analysis" else None
    ids: list[str | None] = [
        file_custom_id(state_file, entry.file_id, entry.etag or "", task_choice, asked)
        for entry in files
    ]
    file_ids = [entry.file_id for entry in files]
    run = (
        partial(analyze_image_batch, credentials, prompt)
        if task_choice == "image-analysis"
        else partial(ocr_batch, credentials)
    )
    results: list[ItemResult] = run(
        file_ids,
        custom_ids=ids,
        app_id=batch_app_id(state_file),
        artifact_key="process-new-files-tasks",
        options=options,
        on_results=on_results,
        file_paths={entry.file_id: entry.path for entry in files},
    )
    return results


def _markdown(
    folder: NextcloudPath,
    label: str,
    prompt: str | None,
    run: list[FileOutcome],
    unchanged: int,
    waiting: int,
    server_url: str,
) -> str:
    lines = [f"# {label}: new files in {escape(folder)}", ""]
    if prompt is not None:
        lines += [f"**Prompt:** {escape(prompt)}", ""]
    failed = sum(not outcome.ok for outcome in run)
    summary = (
        f"{len(run)} file(s) processed ({len(run) - failed} succeeded, {failed} failed), "
        f"{unchanged} unchanged file(s) left alone"
    )
    if waiting:
        summary += f", {waiting} failed file(s) waiting for their next try"
    lines += [summary + ".", ""]
    for outcome in run:
        lines += file_section(
            outcome.path,
            outcome.task_id,
            _what_became(outcome),
            url=file_url(server_url, outcome.file_id),
        )
    return "\n".join(lines)


def _what_became(outcome: FileOutcome) -> list[str]:
    """The answer quoted, or what went wrong and when the file is tried again."""
    if outcome.ok:
        return quoted(outcome.text or "")
    if outcome.next_try is not None:
        when = outcome.next_try.strftime("%Y-%m-%d %H:%M UTC")
        return [f"**Failed, tried again from {when}:** {escape(outcome.error or '')}"]
    return [f"**Failed, looked at again next run:** {escape(outcome.error or '')}"]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _delivered(comments: list[_Comment], posting: Records, now: datetime) -> Records:
    """The entries of files whose comments were tried: done, failed, or still posting."""
    changes: Records = {}
    for comment in comments:
        key = str(comment.file_id)
        record = posting[key]
        if comment.delivery is _Delivery.POSTED:
            changes[key] = FileRecord(etag=record.etag, status="done", task_id=record.task_id)
        elif comment.delivery is _Delivery.REFUSED:
            changes[key] = failed_record(record, record.etag, comment.error or "", now)
        else:
            changes[key] = record  # may be posted: the next run looks before posting
    return changes


def _with_delivery(outcome: FileOutcome, comment: _Comment, record: FileRecord) -> FileOutcome:
    if comment.delivery is _Delivery.POSTED:
        return outcome
    return outcome.model_copy(
        update={"error": comment.error or "Not delivered.", "next_try": record.next_try}
    )


def _recover(
    credentials: NextcloudCredentials,
    records: Records,
    paths: dict[int, NextcloudPath],
    now: datetime,
) -> tuple[Records, list[FileOutcome]]:
    """Finish the comments an earlier run recorded as being posted, posting none twice."""
    posting = {key: record for key, record in records.items() if record.status == "posting"}
    if not posting:
        return {}, []
    comments = [_Comment(int(key), record.comment or "") for key, record in posting.items()]
    delivered = _post_comments(credentials, comments, look_first=True)
    changes = _delivered(delivered, posting, now)
    outcomes = [
        _with_delivery(
            FileOutcome(
                path=paths[comment.file_id],
                file_id=comment.file_id,
                text=comment.message.partition("\n")[2],
                task_id=posting[str(comment.file_id)].task_id,
            ),
            comment,
            changes[str(comment.file_id)],
        )
        for comment in delivered
    ]
    return changes, outcomes


def _settle(
    files: list[FileInfo],
    results: list[ItemResult],
    label: str,
    comment_on_files: bool,
    records: Records,
    now: datetime,
) -> tuple[Records, list[FileOutcome]]:
    """The entries and outcomes of the files processed now; answers to post are "posting"."""
    changes: Records = {}
    outcomes = []
    for entry, result in zip(files, results, strict=True):
        key, etag = str(entry.file_id), entry.etag or ""
        task_id = result.task.id if result.task is not None else None
        if not result.ok:
            changes[key] = failed_record(records.get(key), etag, result.error or "", now)
        elif comment_on_files:
            comment = _comment_text(label, task_id, result.text or "")
            changes[key] = FileRecord(etag=etag, status="posting", task_id=task_id, comment=comment)
        else:
            changes[key] = FileRecord(etag=etag, status="done", task_id=task_id)
        outcomes.append(
            FileOutcome(
                path=entry.path,
                file_id=entry.file_id,
                text=result.text,
                error=None if result.ok else result.error or "It failed.",
                task_id=task_id,
                next_try=changes[key].next_try,
            )
        )
    return changes, outcomes


def _report_unreadable(
    entries: list[UnreadableEntry], records: Records, now: datetime
) -> tuple[Records, list[FileOutcome]]:
    """Fail each file whose name cannot be a path, by itself, to be looked at again later."""
    changes: Records = {}
    outcomes = []
    for entry in entries:
        key = str(entry.file_id)
        changes[key] = failed_record(records.get(key), entry.etag or "", entry.problem, now)
        outcomes.append(
            FileOutcome(
                path=entry.shown_path,
                file_id=entry.file_id,
                error=entry.problem,
                next_try=changes[key].next_try,
            )
        )
    return changes, outcomes


def _taken(found: FileRecord | None, mine: FileRecord) -> bool:
    """Whether another run already recorded this version of the file as delivered or posting."""
    return found is not None and found.etag == mine.etag and found.status in ("done", "posting")


@dataclass(frozen=True)
class _StateFile:
    """Where a run keeps its record, and what the record describes."""

    credentials: NextcloudCredentials
    path: NextcloudPath
    folder: NextcloudPath
    task_choice: str

    def read(self, legacy: str | None = None) -> LoadedState:
        return _read_state(self.credentials, self.path, self.folder, self.task_choice, legacy)

    def write(self, records: Records, if_it_fails: str) -> None:
        _write_state(
            self.credentials, self.path, self.folder, self.task_choice, records, if_it_fails
        )


def _claim(
    state: _StateFile, records: Records, changes: Records, answers: Records, present: set[int]
) -> Records:
    """Record the answers as "posting" before any is posted; skip those another run has.

    The record is read again first, under the folder's lock (see
    :mod:`~prefect_nextcloud.tasks.run_lock`), so that a run at the same time which recorded
    the same answers keeps them to itself.

    Args:
        state: The state file.
        records: The record as this run read it.
        changes: The other entries this run changed.
        answers: The answers to post, as "posting" entries.
        present: The ids of the files in the folder now.

    Returns:
        The answers this run is to post.

    Raises:
        StateFileError: The record could not be written; nothing may be posted.
    """
    with run_lock(batch_app_id(state.path)):  # runs over one folder claim one at a time
        fresh = state.read()
        current = {**records, **{k: v for k, v in fresh.records.items() if int(k) in present}}
        claimed = {key: mine for key, mine in answers.items() if not _taken(current.get(key), mine)}
        written = {**current, **changes, **claimed}
        state.write(written, _CLAIM_FAILED)
    return claimed


def _deliver(
    state: _StateFile,
    records: Records,
    changes: Records,
    answers: Records,
    present: set[int],
    outcomes: list[FileOutcome],
    now: datetime,
) -> tuple[Records, list[FileOutcome]]:
    """Claim, then post the answers of this run; the entries of those posted, and the outcomes."""
    claimed = _claim(state, records, changes, answers, present)
    comments = [_Comment(int(key), record.comment or "") for key, record in claimed.items()]
    delivered = {
        comment.file_id: comment
        for comment in _post_comments(state.credentials, comments, look_first=False)
    }
    updates = _delivered(list(delivered.values()), claimed, now)
    settled = [
        _with_delivery(outcome, delivered[outcome.file_id], updates[str(outcome.file_id)])
        if outcome.file_id in delivered
        else outcome
        for outcome in outcomes
    ]
    return updates, settled


@dataclass
class _Tagger:
    """Puts the run's tag on each file whose answer is recorded; the tag is ensured once a run.

    A tag already on a file is fine, so a file processed again never fails on it. A file that
    cannot be tagged keeps its delivered answer and is named in a warning.
    """

    credentials: NextcloudCredentials
    name: str | None  # None: tagging is off
    tag: SystemTag | None = None
    unusable: bool = False  # the tag could not be made or found: tag nothing more this run

    def __call__(self, outcomes: list[FileOutcome]) -> None:
        done = [outcome for outcome in outcomes if outcome.ok]
        if self.name is None or self.unusable or not done:
            return
        logger = run_logger()
        with self.credentials.get_client() as client:
            if self.tag is None:
                try:
                    self.tag = client.ensure_tag(self.name)
                except NextcloudError as error:
                    self.unusable = True
                    logger.warning(
                        "No file is tagged %r in this run: the tag cannot be used (%s).",
                        self.name,
                        error,
                    )
                    return
            for outcome in done:
                try:
                    client.tag_file(outcome.file_id, self.tag)
                except NextcloudError as error:
                    logger.warning(
                        "%s was processed but not tagged %r (%s); tag it by hand if needed.",
                        outcome.path,
                        self.name,
                        error,
                    )


@dataclass
class _Poster:
    """Acts on the answers of this run's files as they arrive: records them, then posts them.

    The batch hands over the answers one look found together; each round claims them in the
    state file (as "posting"), posts their comments and records them as done, so that a run
    that stops later keeps every answer it had. Once the record cannot be written, nothing
    more is posted: the failure is raised when the batch returns.
    """

    state: _StateFile
    files: list[FileInfo]  # the batch's files, in input order
    label: str
    comment_on_files: bool
    records: Records  # the record as this run read it
    changes: Records  # what this run changed since
    present: set[int]
    now: datetime
    tagger: _Tagger
    saved: Records | None = None  # the record as this run last wrote it
    outcomes: dict[int, FileOutcome] = field(default_factory=dict)
    failure: StateFileError | None = None

    def __call__(self, results: list[ItemResult]) -> None:
        if self.failure is not None:
            return
        entries = [self.files[result.index] for result in results]
        settled, outcomes = _settle(
            entries, results, self.label, self.comment_on_files, self.records, self.now
        )
        answers = {key: record for key, record in settled.items() if record.status == "posting"}
        self.changes.update({key: record for key, record in settled.items() if key not in answers})
        try:
            if answers:
                updates, outcomes = _deliver(
                    self.state,
                    self.records,
                    self.changes,
                    answers,
                    self.present,
                    outcomes,
                    self.now,
                )
                self.changes.update(updates)  # only the answers this run claimed and posted
            self.save()
        except StateFileError as error:
            self.failure = error
            return
        self.outcomes.update((outcome.file_id, outcome) for outcome in outcomes)
        self.tagger(outcomes)

    def save(self) -> None:
        """Write this run's changes over the record as it is now, under the folder's lock.

        Read again first, so that what a run at the same time recorded meanwhile (its claims)
        is kept; this run's own entries win for the files it changed.

        Raises:
            StateFileError: The record could not be written.
        """
        with run_lock(batch_app_id(self.state.path)):
            fresh = self.state.read()
            current = {k: v for k, v in fresh.records.items() if int(k) in self.present}
            record = {**self.records, **current, **self.changes}
            self.state.write(record, _RECORD_FAILED)
        self.saved = record


@nextcloud_flow(name="process-new-files")
def process_new_files(
    folder: Annotated[str, titled("Folder")] = "/Photos",
    task: Annotated[TaskChoice, titled("Task")] = "image-analysis",
    prompt: Annotated[str, titled("Prompt")] = "Describe this image in one sentence.",
    recursive: Annotated[bool, titled("Include subfolders")] = False,
    report_path: Annotated[ClearableText, titled("Report file")] = "/Reports/new-files.md",
    comment_on_files: Annotated[bool, titled("Comment on each file")] = True,
    max_files: Annotated[int, Field(gt=0, le=1000), titled("At most this many files")] = 50,
    state_file: Annotated[OptionalText, titled("State file")] = None,
    tag: Annotated[OptionalText, titled("Tag processed files")] = None,
    timeout_seconds: TimeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: PollIntervalSeconds = DEFAULT_POLL_INTERVAL_SECONDS,
    credentials: CredentialsParameter = None,
) -> NewFilesRun:
    """Run an AI task on each file of a Nextcloud folder that is new or changed since last time.

    Args:
        folder: The Nextcloud folder to watch, e.g. "/Photos".
        task: What to do with each file: "image-analysis" answers the prompt about each image;
            "ocr" recognises the text of each image or PDF.
        prompt: The question asked about each image (image analysis only).
        recursive: Also look in the folder's subfolders.
        report_path: Where to write a markdown report of the files processed in this run
            (replaced each run that processes files); empty for no report.
        comment_on_files: Post each answer as a comment on its file, shown in the Files
            sidebar of Nextcloud. Its first line names the Nextcloud task that answered.
        max_files: At most this many files per run: those never tried first (by path), then
            failed ones due for another try; the rest wait for the next run.
        state_file: The Nextcloud file recording what became of each file (its etag, and
            when a failed one is tried again); by default
            /Prefect/process-new-files/<folder>-<hash>--<task>.json. Delete it to process
            everything again.
        tag: A collaborative tag to put on each file once its answer is delivered, e.g.
            "processed", so that users find and filter processed files in the Files app and
            Nextcloud Flow rules can act on them; created (visible, assignable by all) if
            missing, at most 64 bytes. A file that has it already is fine; one that cannot be
            tagged keeps its answer and is named in a warning. Empty: no tag.
        timeout_seconds: How long each Nextcloud task may take, counted from when it was
            scheduled; the task is cancelled after that.
        poll_interval_seconds: The longest wait between two checks of the tasks' status.
        credentials: A saved Nextcloud Credentials block or its name (from Python, any block
            object); when empty, the NEXTCLOUD_URL, NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD
            variables are used. Never the block's fields written out: the run's parameters
            would keep the app password.

    Returns:
        The outcome of each file processed, and how many were unchanged, waiting for a retry,
        or left for later.

    Raises:
        StateFileError: The state file could not be written; the message says what became of
            the answers (none is lost, paid for or posted twice).
        ValueError: The tag name is longer than 64 bytes.
    """
    logger = get_run_logger()
    resolved = resolve_credentials(credentials)
    tag_name = check_tag_name(tag) if tag else None  # a bad name fails before any work
    source = NextcloudPath(folder)
    state = _StateFile(
        resolved, NextcloudPath(state_file or default_state_file(source, task)), source, task
    )
    label = _LABELS[task]
    candidates = list_candidates(resolved, source, recursive, task)
    legacy = None if state_file else legacy_state_file(source, task)
    loaded = state.read(legacy)
    now = _now()
    paths = {entry.file_id: entry.path for entry in candidates.entries}
    paths.update((entry.file_id, entry.shown_path) for entry in candidates.unreadable)
    # Only files still in the folder are kept, so the record does not grow with deleted files.
    records = {key: record for key, record in loaded.records.items() if int(key) in paths}
    changes, recovered = _recover(resolved, records, paths, now)
    outcomes = list(recovered)
    plan = _plan(candidates, {**records, **changes}, now, max_files, {o.file_id for o in outcomes})
    if plan.left_out:
        logger.info("%s due file(s) are left for the next run (max_files).", plan.left_out)
    if paths and not plan.due and not plan.unreadable and not outcomes:
        logger.info(
            "Nothing new in %s: %s file(s) unchanged since they were processed, %s failed "
            "one(s) waiting for their next try, as recorded in %s (delete it to process "
            "everything again).",
            source,
            plan.unchanged,
            plan.waiting,
            state.path,
        )
    options = RunOptions(
        timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds
    )
    tagger = _Tagger(resolved, tag_name)
    poster = _Poster(
        state, plan.due, label, comment_on_files, records, changes, set(paths), now, tagger
    )
    results = _run_batch(resolved, task, prompt, plan.due, state.path, options, poster)
    missed = [result for result in results if plan.due[result.index].file_id not in poster.outcomes]
    if missed:  # handed over but not acted on: act on them now, failing loudly
        poster(missed)
    if poster.failure is not None:
        raise poster.failure
    outcomes += [poster.outcomes[entry.file_id] for entry in plan.due]
    odd_changes, odd_outcomes = _report_unreadable(plan.unreadable, records, now)
    outcomes += odd_outcomes
    poster.changes.update(odd_changes)
    final = {**(poster.saved or records), **poster.changes}
    if final != (poster.saved or loaded.records) or loaded.legacy is not None:
        poster.save()
        _remove_legacy(resolved, loaded.legacy)
    tagger(recovered)  # their answers are recorded now, with the rest
    shown_prompt = prompt if task == "image-analysis" else None
    report = _markdown(
        source, label, shown_prompt, outcomes, plan.unchanged, plan.waiting, resolved.base_url
    )
    create_markdown_artifact(
        report, key="process-new-files", description=f"{label} of new files in {source}"
    )
    written: NextcloudPath | None = None
    if report_path and outcomes:
        written = NextcloudPath(report_path)
        with resolved.get_client() as client:
            client.write_text(written, report)
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        logger.warning(
            "%s of %s file(s) failed; each is tried again later (see the report).",
            failed,
            len(outcomes),
        )
    return NewFilesRun(
        folder=source,
        state_file=state.path,
        unchanged_count=plan.unchanged,
        outcomes=outcomes,
        left_out_count=plan.left_out,
        waiting_count=plan.waiting,
        report_path=written,
    )


def _remove_legacy(credentials: NextcloudCredentials, legacy: NextcloudPath | None) -> None:
    """Remove the record at the name of earlier releases, now written under its own name."""
    if legacy is None:
        return
    try:
        with credentials.get_client() as client:
            client.delete_file(legacy)
    except NextcloudError as error:
        get_run_logger().warning(
            "The old state file %s could not be removed (%s); delete it by hand.", legacy, error
        )
