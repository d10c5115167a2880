"""Typed tasks for audio, image generation and text recognition, all through :func:`run_task`."""

from __future__ import annotations

from typing import Any

from prefect import task

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.client.references import FileReferenceLike, as_reference_list
from prefect_nextcloud.tasks.results import FilesResult, TextResult, TextsResult
from prefect_nextcloud.tasks.running import run_task
from prefect_nextcloud.tasks.text import output_text
from prefect_nextcloud.tasks.waiting import DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS

__all__ = ["generate_images", "ocr", "text_to_speech", "transcribe_audio"]

MAX_IMAGES = 12


@task
def transcribe_audio(
    credentials: NextcloudCredentials,
    audio: FileReferenceLike,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Transcribe speech in an audio file (``core:audio2text``).

    Args:
        credentials: Where and as whom to connect.
        audio: The audio file: a file id, a Nextcloud path (``"nc:/Recordings/a.mp3"``) or a
            local file (``"file:/data/a.mp3"``, ``pathlib.Path``, ``LocalFile``).
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        custom_id: Your own identifier for the task.
        delete_after: Delete the task on the server once its result has been read.

    Returns:
        The transcript and the task.
    """
    finished: Task = run_task(
        credentials,
        "core:audio2text",
        {"input": audio},
        timeout_seconds=timeout_seconds,
        poll_interval_seconds=poll_interval_seconds,
        custom_id=custom_id,
        delete_after=delete_after,
    )
    return TextResult(text=output_text(finished), task=finished)


@task
def text_to_speech(
    credentials: NextcloudCredentials,
    text: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
    save_outputs_to: str | None = None,
) -> FilesResult:
    """Turn a text into speech (``core:text2speech``, Nextcloud 32+).

    Args:
        credentials: Where and as whom to connect.
        text: What to say.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        custom_id: Your own identifier for the task.
        delete_after: Delete the task on the server once the audio has been downloaded.
        save_outputs_to: Also save the audio to ``"nc:/Folder"`` or ``"file:/local/folder"``.

    Returns:
        The audio file (bytes, file name, content type) and the task.
    """
    finished: Task = run_task(
        credentials,
        "core:text2speech",
        {"input": text},
        timeout_seconds=timeout_seconds,
        poll_interval_seconds=poll_interval_seconds,
        custom_id=custom_id,
        delete_after=delete_after,
        save_outputs_to=save_outputs_to,
    )
    return FilesResult(files=finished.output_files.get("speech", []), task=finished)


@task
def generate_images(
    credentials: NextcloudCredentials,
    prompt: str,
    number_of_images: int = 1,
    size: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
    save_outputs_to: str | None = None,
) -> FilesResult:
    """Generate images from a text prompt (``core:text2image``).

    Args:
        credentials: Where and as whom to connect.
        prompt: What the images should show.
        number_of_images: How many images, 1 to 12.
        size: The size as the provider takes it, e.g. ``"512x512"``, when it offers the setting.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        custom_id: Your own identifier for the task.
        delete_after: Delete the task on the server once the images have been downloaded.
        save_outputs_to: Also save the images to ``"nc:/Folder"`` or ``"file:/local/folder"``.

    Returns:
        The images (bytes, file names, content types) and the task.
    """
    if isinstance(number_of_images, bool) or not 1 <= number_of_images <= MAX_IMAGES:
        raise ValueError(f"number_of_images must be 1 to {MAX_IMAGES}, got {number_of_images!r}.")
    task_input: dict[str, Any] = {"input": prompt, "numberOfImages": number_of_images}
    if size is not None:
        task_input["size"] = size
    finished: Task = run_task(
        credentials,
        "core:text2image",
        task_input,
        timeout_seconds=timeout_seconds,
        poll_interval_seconds=poll_interval_seconds,
        custom_id=custom_id,
        delete_after=delete_after,
        save_outputs_to=save_outputs_to,
    )
    return FilesResult(files=finished.output_files.get("images", []), task=finished)


@task
def ocr(
    credentials: NextcloudCredentials,
    files: FileReferenceLike | list[FileReferenceLike],
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextsResult:
    """Recognise the text in images or documents (``core:image2text:ocr``, Nextcloud 33+).

    Args:
        credentials: Where and as whom to connect.
        files: One file or a list: file ids, Nextcloud paths or local files.
        timeout_seconds: How long the task may take, counted from when it was scheduled.
        poll_interval_seconds: How long to wait between two polls.
        custom_id: Your own identifier for the task.
        delete_after: Delete the task on the server once its result has been read.

    Returns:
        One text per file, in order, and the task.
    """
    references = as_reference_list(files)
    if not references:
        raise ValueError("files must name at least one file.")
    finished: Task = run_task(
        credentials,
        "core:image2text:ocr",
        {"input": references},
        timeout_seconds=timeout_seconds,
        poll_interval_seconds=poll_interval_seconds,
        custom_id=custom_id,
        delete_after=delete_after,
    )
    texts = (finished.output or {}).get("output") or []
    return TextsResult(texts=[str(text) for text in texts], task=finished)
