"""The process-new-files flow: run one AI task on each file of a folder that is new or changed.

What was processed is kept in a JSON state file in the user's Nextcloud (file id → etag), so
it survives worker restarts, is visible to the user, and grows with the folder (a Prefect
Variable holds at most 5000 characters, about a hundred files). A file is processed again
when its etag changes; a failed file is not recorded, so the next run tries it again.
"""

import json
import mimetypes
import re
from typing import Annotated, Literal

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud.blocks.credentials import NextcloudCredentials, resolve_credentials
from prefect_nextcloud.client.errors import NextcloudError, NextcloudFileNotFoundError
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.webdav import MAX_COMMENT_LENGTH, FileInfo
from prefect_nextcloud.flows.parameters import (
    ClearableText,
    CredentialsParameter,
    OptionalText,
    PollIntervalSeconds,
    TimeoutSeconds,
    titled,
)
from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.idempotency import cancel_outstanding_tasks
from prefect_nextcloud.tasks.images import analyze_image_batch
from prefect_nextcloud.tasks.media import ocr_batch
from prefect_nextcloud.tasks.waiting import DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS

__all__ = ["STATE_VERSION", "FileOutcome", "NewFilesRun", "default_state_file", "process_new_files"]

STATE_VERSION = 1
"""The state file's format; a file of another version is rebuilt from scratch."""

TaskChoice = Literal["image-analysis", "ocr"]
_LABELS = {"image-analysis": "Image analysis", "ocr": "Text recognition (OCR)"}


class FileOutcome(BaseModel):
    """How one file of a run ended."""

    model_config = ConfigDict(frozen=True)

    path: NextcloudPath = Field(description="The file's path in Nextcloud.")
    file_id: int = Field(description="The file's Nextcloud file id.")
    ok: bool = Field(description="Whether its answer was produced and delivered.")
    text: str | None = Field(description="The answer, when there is one.")
    error: str | None = Field(description="What went wrong, or None.")
    task_id: int | None = Field(description="The Nextcloud task that processed it, if any.")


class NewFilesRun(BaseModel):
    """What a process-new-files run did."""

    model_config = ConfigDict(frozen=True)

    folder: NextcloudPath = Field(description="The folder that was looked at.")
    state_file: NextcloudPath = Field(description="Where the processed files are recorded.")
    unchanged_count: int = Field(description="Files already processed, left alone.")
    outcomes: list[FileOutcome] = Field(description="One outcome per file processed now.")
    left_out_count: int = Field(description="New files left for the next run (max_files).")
    report_path: NextcloudPath | None = Field(description="The report written, if any.")

    @property
    def failed_count(self) -> int:
        """How many of the files processed now failed."""
        return sum(not outcome.ok for outcome in self.outcomes)


def default_state_file(folder: str, task_choice: str) -> str:
    """The state file of a folder and task: ``/Prefect/process-new-files/<folder>--<task>.json``.

    The folder's path becomes the file name (``/Photos/2024`` → ``Photos-2024``; ``/`` →
    ``home``), so each folder and task keeps its own record.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(NextcloudPath(folder)).strip("/")) or "home"
    return f"/Prefect/process-new-files/{name}--{task_choice}.json"


def _wanted(entry: FileInfo, task_choice: str) -> bool:
    content_type = entry.content_type or mimetypes.guess_type(entry.path.name)[0] or ""
    if content_type.startswith("image/"):
        return True
    return task_choice == "ocr" and content_type == "application/pdf"


@task
def list_candidates(
    credentials: NextcloudCredentials, folder: str, recursive: bool, task_choice: str
) -> list[FileInfo]:
    """The files in a folder (and its subfolders, when recursive) that the task can process.

    Raises:
        ValueError: The folder does not exist, or is a file.
    """
    found: list[FileInfo] = []
    pending = [NextcloudPath(folder)]
    with credentials.get_client() as client:
        while pending:
            current = pending.pop(0)
            try:
                entries = client.list_folder(current)
            except NextcloudFileNotFoundError:
                if current != NextcloudPath(folder):
                    continue  # a subfolder removed while we walked: nothing to process there
                raise ValueError(
                    f"The folder {folder} does not exist in the Nextcloud files of "
                    f"{credentials.user_id} at {credentials.base_url}. Create it or give an "
                    "existing folder; nothing was processed or recorded."
                ) from None
            for entry in entries:
                if entry.is_folder:
                    if recursive:
                        pending.append(entry.path)
                elif _wanted(entry, task_choice):
                    found.append(entry)
    return sorted(found, key=lambda entry: entry.path)


def _parse_state(raw: bytes, folder: str, task_choice: str) -> dict[str, str] | None:
    """The recorded file ids and etags, or ``None`` when the record is unusable."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    if data.get("folder") != folder or data.get("task") != task_choice:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(key, str) and key.isdigit() and isinstance(value, str)
        for key, value in files.items()
    ):
        return None
    return dict(files)


@task
def read_state(
    credentials: NextcloudCredentials, state_file: str, folder: str, task_choice: str
) -> dict[str, str]:
    """The files recorded as processed (file id → etag); empty when there is no usable record.

    A record that is corrupt, of another version or of another folder or task is rebuilt:
    every file counts as new again, and a warning says so.
    """
    with credentials.get_client() as client:
        try:
            raw = client.download_file(state_file)
        except NextcloudFileNotFoundError:
            return {}
    recorded = _parse_state(raw, folder, task_choice)
    if recorded is None:
        get_run_logger().warning(
            "The state file %s is not a version-%s record of %s (%s); it is rebuilt, so every "
            "file in the folder is processed again.",
            state_file,
            STATE_VERSION,
            folder,
            task_choice,
        )
        return {}
    return recorded


@task
def write_state(
    credentials: NextcloudCredentials,
    state_file: str,
    folder: str,
    task_choice: str,
    files: dict[str, str],
) -> None:
    """Record the processed files (file id → etag) in the state file."""
    record = {"version": STATE_VERSION, "folder": folder, "task": task_choice, "files": files}
    with credentials.get_client() as client:
        client.write_text(state_file, json.dumps(record, indent=1, sort_keys=True))


def _comment_text(label: str, text: str) -> str:
    message = f"{label} (Prefect):\n{text.strip()}"
    if len(message) > MAX_COMMENT_LENGTH:
        message = message[: MAX_COMMENT_LENGTH - 1] + "…"
    return message


@task
def post_answers_as_comments(
    credentials: NextcloudCredentials, label: str, outcomes: list[FileOutcome]
) -> list[FileOutcome]:
    """Post each successful answer as a comment on its file; a refused comment fails that file.

    Returns:
        The outcomes, with those whose comment could not be written marked as failed.
    """
    updated = []
    with credentials.get_client() as client:
        for outcome in outcomes:
            if not outcome.ok:
                updated.append(outcome)
                continue
            try:
                client.post_comment(outcome.file_id, _comment_text(label, outcome.text or ""))
            except (NextcloudError, ValueError) as error:
                failure = f"The answer could not be posted as a comment: {error}"
                updated.append(outcome.model_copy(update={"ok": False, "error": failure}))
            else:
                updated.append(outcome)
    return updated


def _markdown(
    folder: NextcloudPath, label: str, prompt: str | None, run: list[FileOutcome], unchanged: int
) -> str:
    lines = [f"# {label}: new files in {folder}", ""]
    if prompt is not None:
        lines += [f"**Prompt:** {prompt}", ""]
    failed = sum(not outcome.ok for outcome in run)
    lines += [
        f"{len(run)} file(s) processed ({len(run) - failed} succeeded, {failed} failed), "
        f"{unchanged} unchanged file(s) left alone.",
        "",
    ]
    for outcome in run:
        task_id = f"Nextcloud task {outcome.task_id}" if outcome.task_id else "not scheduled"
        lines += [f"## {outcome.path.name}", "", f"`{outcome.path}` ({task_id})", ""]
        if outcome.ok:
            lines += [f"> {line}" for line in (outcome.text or "").splitlines() or [""]]
        else:
            lines.append(f"**Failed, retried on the next run:** {outcome.error}")
        lines.append("")
    return "\n".join(lines)


def _outcomes(files: list[FileInfo], results: list[ItemResult]) -> list[FileOutcome]:
    return [
        FileOutcome(
            path=entry.path,
            file_id=entry.file_id,
            ok=result.ok,
            text=result.text,
            error=result.error,
            task_id=result.task.id if result.task is not None else None,
        )
        for entry, result in zip(files, results, strict=True)
    ]


@flow(
    name="process-new-files",
    on_cancellation=[cancel_outstanding_tasks],
    on_crashed=[cancel_outstanding_tasks],
)
def process_new_files(
    folder: Annotated[str, titled("Folder")] = "/Photos",
    task: Annotated[TaskChoice, titled("Task")] = "image-analysis",
    prompt: Annotated[str, titled("Prompt")] = "Describe this image in one sentence.",
    recursive: Annotated[bool, titled("Include subfolders")] = False,
    report_path: Annotated[ClearableText, titled("Report file")] = "/Reports/new-files.md",
    comment_on_files: Annotated[bool, titled("Comment on each file")] = True,
    max_files: Annotated[int, Field(gt=0, le=1000), titled("At most this many files")] = 50,
    state_file: Annotated[OptionalText, titled("State file")] = None,
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
            sidebar of Nextcloud.
        max_files: At most this many new files per run, the first by path; the rest wait for
            the next run.
        state_file: The Nextcloud file recording what was processed (file id and etag); by
            default /Prefect/process-new-files/<folder>--<task>.json. Delete it to process
            everything again.
        timeout_seconds: How long each Nextcloud task may take, counted from when it was
            scheduled; the task is cancelled after that.
        poll_interval_seconds: The longest wait between two checks of the tasks' status.
        credentials: A saved Nextcloud Credentials block or its name (from Python, any block
            object); when empty, the NEXTCLOUD_URL, NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD
            variables are used. Never the block's fields written out: the run's parameters
            would keep the app password.

    Returns:
        The outcome of each file processed, and how many were unchanged or left for later.
    """
    logger = get_run_logger()
    resolved = resolve_credentials(credentials)
    source = NextcloudPath(folder)
    state_path = NextcloudPath(state_file or default_state_file(source, task))
    label = _LABELS[task]
    files = list_candidates(resolved, source, recursive, task)
    recorded = read_state(resolved, state_path, source, task)
    new = [entry for entry in files if recorded.get(str(entry.file_id)) != (entry.etag or "")]
    left_out = max(len(new) - max_files, 0)
    if left_out:
        logger.info(
            "Processing %s of %s new files now (max_files); the rest next run.", max_files, len(new)
        )
    new = new[:max_files]
    unchanged = len(files) - len(new) - left_out
    results: list[ItemResult] = []
    if new and task == "image-analysis":
        results = analyze_image_batch(
            resolved,
            prompt,
            [entry.file_id for entry in new],
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            artifact_key="process-new-files-tasks",
        )
    elif new:
        results = ocr_batch(
            resolved,
            [entry.file_id for entry in new],
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            artifact_key="process-new-files-tasks",
        )
    outcomes = _outcomes(new, results)
    if comment_on_files and outcomes:
        outcomes = post_answers_as_comments(resolved, label, outcomes)
    shown_prompt = prompt if task == "image-analysis" else None
    report = _markdown(source, label, shown_prompt, outcomes, unchanged)
    written: NextcloudPath | None = None
    if report_path and outcomes:
        written = NextcloudPath(report_path)
        with resolved.get_client() as client:
            client.write_text(written, report)
    # Only files still in the folder are kept, so the record does not grow with deleted files.
    present = {str(entry.file_id) for entry in files}
    updated = {key: etag for key, etag in recorded.items() if key in present}
    etags = {entry.file_id: entry.etag or "" for entry in new}
    updated.update({str(o.file_id): etags[o.file_id] for o in outcomes if o.ok})
    if updated != recorded:
        write_state(resolved, state_path, source, task, updated)
    create_markdown_artifact(
        report, key="process-new-files", description=f"{label} of new files in {source}"
    )
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        logger.warning(
            "%s of %s file(s) failed; they are tried again next run.", failed, len(outcomes)
        )
    return NewFilesRun(
        folder=source,
        state_file=state_path,
        unchanged_count=unchanged,
        outcomes=outcomes,
        left_out_count=left_out,
        report_path=written,
    )
