"""The image-report flow: describe every image in a Nextcloud folder, write a report there."""

# No `from __future__ import annotations`: flow.serve() sends the flow by value to a child
# process, where annotations written as strings can no longer be resolved.

import mimetypes
from typing import Annotated

from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.webdav import FileInfo
from prefect_nextcloud.flows.decorator import nextcloud_flow
from prefect_nextcloud.flows.parameters import (
    CredentialsParameter,
    IdempotencyKey,
    PollIntervalSeconds,
    TimeoutSeconds,
    titled,
)
from prefect_nextcloud.flows.reports import file_section, quoted
from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.files import list_folder, write_text_file
from prefect_nextcloud.tasks.images import analyze_image_batch
from prefect_nextcloud.tasks.markdown import escape, file_url
from prefect_nextcloud.tasks.options import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RunOptions,
)
from prefect_nextcloud.tasks.text import summarize

__all__ = ["ImageReport", "image_report"]


class ImageReport(BaseModel):
    """What an image-report run produced."""

    model_config = ConfigDict(frozen=True)

    report_path: NextcloudPath = Field(description="Where the report was written.")
    report_file_id: int = Field(description="The Nextcloud file id of the report.")
    image_count: int = Field(description="How many images were analyzed.")
    failed_count: int = Field(default=0, description="How many of them could not be analyzed.")
    summary: str | None = Field(description="The summary of all answers, when one was made.")


def is_image(entry: FileInfo) -> bool:
    """Whether a folder entry is an image, by its MIME type or else its extension."""
    if entry.is_folder:
        return False
    content_type = entry.content_type or mimetypes.guess_type(entry.path.name)[0] or ""
    return content_type.startswith("image/")


def _markdown(
    folder: NextcloudPath,
    prompt: str,
    answers: list[tuple[FileInfo, ItemResult]],
    summary: str | None,
    left_out: int,
    server_url: str,
) -> str:
    lines = [f"# Image report: {escape(folder)}", "", f"**Prompt:** {escape(prompt)}", ""]
    if not answers:
        lines += ["No images found in this folder.", ""]
    if summary is not None:
        lines += ["## Summary", "", summary, ""]
    for entry, result in answers:
        task_id = result.task.id if result.task is not None else None
        failure = f"**Not analyzed:** {escape(result.error or '')}"
        body = quoted(result.text or "") if result.ok else [failure]
        lines += file_section(entry.path, task_id, body, url=file_url(server_url, entry.file_id))
    if left_out:
        lines += [f"{left_out} more image(s) were left out (max_images).", ""]
    return "\n".join(lines)


@nextcloud_flow(name="image-report")
def image_report(
    folder: Annotated[str, titled("Folder")] = "/Photos",
    prompt: Annotated[str, Field(min_length=1), titled("Prompt")] = (
        "Describe this image in one sentence."
    ),
    report_path: Annotated[str, titled("Report file")] = "/Reports/image-report.md",
    summarize_report: Annotated[bool, titled("Summarize the report")] = True,
    max_images: Annotated[int, Field(gt=0, le=1000), titled("At most this many images")] = 20,
    timeout_seconds: TimeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: PollIntervalSeconds = DEFAULT_POLL_INTERVAL_SECONDS,
    credentials: CredentialsParameter = None,
    idempotency_key: IdempotencyKey = None,
) -> ImageReport:
    """Describe each image in a Nextcloud folder and write a markdown report to Nextcloud.

    Args:
        folder: The Nextcloud folder whose images to analyze, e.g. "/Photos"; subfolders
            are not searched.
        prompt: The question asked about each image.
        report_path: Where to write the markdown report in Nextcloud; it is replaced if it
            exists, and missing folders are created.
        summarize_report: Also summarize all answers in one paragraph (one more Nextcloud task).
        max_images: At most this many images are analyzed, the first by path.
        timeout_seconds: How long each Nextcloud task may take, counted from when it was
            scheduled; the task is cancelled after that.
        poll_interval_seconds: Seconds between two checks of a task's status.
        credentials: A saved Nextcloud Credentials block or its name (from Python, any block
            object); when empty, the NEXTCLOUD_URL, NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD
            variables are used. Never the block's fields written out: the run's parameters
            would keep the app password.
        idempotency_key: Runs with the same key share their Nextcloud tasks: a re-run adopts
            the tasks an earlier run scheduled instead of paying for new ones. Leave empty to
            scope this to the flow run (its retries).

    Returns:
        The report's path and file id, the number of images analyzed and the summary.
    """
    resolved = resolve_credentials(credentials)
    source = NextcloudPath(folder)
    images = [entry for entry in list_folder(resolved, source) if is_image(entry)]
    left_out = max(len(images) - max_images, 0)
    if left_out:
        get_run_logger().warning("Analyzing %s of %s images (max_images).", max_images, len(images))
    images = images[:max_images]
    options = RunOptions(
        timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds
    )
    # The listing already carries each file's id: no lookup per image.
    results = analyze_image_batch(
        resolved,
        prompt,
        [entry.file_id for entry in images],
        artifact_key="image-report-analyses",
        options=options,
        file_paths={entry.file_id: entry.path for entry in images},
    )
    answers = list(zip(images, results, strict=True))
    summary: str | None = None
    succeeded = [(entry.path, result.text or "") for entry, result in answers if result.ok]
    if summarize_report and succeeded:
        summary = summarize(
            resolved,
            "\n\n".join(f"{path.name}: {text}" for path, text in succeeded),
            options=options,
        ).text
    report = _markdown(source, prompt, answers, summary, left_out, resolved.base_url)
    target = NextcloudPath(report_path)
    file_id: int = write_text_file(resolved, target, report)
    create_markdown_artifact(
        report, key="image-report", description=f"Report of {len(answers)} image(s) in {source}"
    )
    return ImageReport(
        report_path=target,
        report_file_id=file_id,
        image_count=len(answers),
        failed_count=len(answers) - len(succeeded),
        summary=summary,
    )
