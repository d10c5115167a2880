"""Typed tasks for audio, image generation and text recognition, all through :func:`run_task`."""

from __future__ import annotations

from typing import Any

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.references import FileReferenceLike, as_reference_list
from prefect_nextcloud.tasks.batch import ItemResult, RunOptions, reconcile_batch
from prefect_nextcloud.tasks.polling import polling_task
from prefect_nextcloud.tasks.results import FilesResult, TextResult, TextsResult
from prefect_nextcloud.tasks.running import run_one
from prefect_nextcloud.tasks.text import output_text
from prefect_nextcloud.tasks.waiting import DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS

__all__ = ["generate_images", "ocr", "ocr_batch", "text_to_speech", "transcribe_audio"]

MAX_IMAGES = 12


@polling_task(name="transcribe_audio", poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)
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
    finished = run_one(
        credentials,
        "core:audio2text",
        {"input": audio},
        RunOptions(
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            delete_after=delete_after,
        ),
        custom_id=custom_id,
    )
    return TextResult(text=output_text(finished), task=finished)


@polling_task(name="text_to_speech", poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)
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
    finished = run_one(
        credentials,
        "core:text2speech",
        {"input": text},
        RunOptions(
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            delete_after=delete_after,
            save_outputs_to=save_outputs_to,
        ),
        custom_id=custom_id,
    )
    return FilesResult(files=finished.output_files.get("speech", []), task=finished)


@polling_task(name="generate_images", poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)
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
    finished = run_one(
        credentials,
        "core:text2image",
        task_input,
        RunOptions(
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            delete_after=delete_after,
            save_outputs_to=save_outputs_to,
        ),
        custom_id=custom_id,
    )
    return FilesResult(files=finished.output_files.get("images", []), task=finished)


@polling_task(name="ocr", poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)
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
    finished = run_one(
        credentials,
        "core:image2text:ocr",
        {"input": references},
        RunOptions(
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=poll_interval_seconds,
            delete_after=delete_after,
        ),
        custom_id=custom_id,
    )
    texts = (finished.output or {}).get("output") or []
    return TextsResult(texts=[str(text) for text in texts], task=finished)


@polling_task(name="ocr_batch", poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)
def ocr_batch(
    credentials: NextcloudCredentials,
    files: list[FileReferenceLike],
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    artifact_key: str | None = "ocr",
) -> list[ItemResult]:
    """Recognise the text of each file separately: one ``core:image2text:ocr`` task per file.

    All tasks run in this one Prefect task (see ``run_tasks``); a failed file never loses
    the others' texts.

    Args:
        credentials: Where and as whom to connect.
        files: The files: file ids, Nextcloud paths or local files.
        timeout_seconds: How long each task may take, counted from when it was scheduled.
        poll_interval_seconds: The longest wait between two looks at the batch.
        artifact_key: Key of the progress and result-table artifacts; ``None`` for none.

    Returns:
        One result per file, in order; ``text`` is the recognised text of each successful one.

    Raises:
        ValueError: An argument or file reference is invalid (naming its index); nothing was
            sent.
    """
    references = as_reference_list(files)
    items = reconcile_batch(
        credentials,
        "core:image2text:ocr",
        [{"input": [reference]} for reference in references],
        RunOptions(timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds),
        artifact_key=artifact_key,
    )
    return [item.result() for item in items]
