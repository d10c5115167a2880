"""Typed tasks for audio, image generation and text recognition, all through :func:`run_task`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.references import FileReferenceLike, as_reference_list
from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import polling_task
from prefect_nextcloud.tasks.results import FilesResult, TextResult, TextsResult
from prefect_nextcloud.tasks.running import input_slots, run_batch, run_one
from prefect_nextcloud.tasks.text import run_text

__all__ = ["generate_images", "ocr", "ocr_batch", "text_to_speech", "transcribe_audio"]

MAX_IMAGES = 12


def run_files(
    credentials: NextcloudCredentials,
    task_type: str,
    task_input: Mapping[str, Any],
    slot: str,
    options: RunOptions,
    custom_id: str | None,
) -> FilesResult:
    """Run one task as ``run_one`` does; return the files of its output ``slot``, and the task."""
    finished = run_one(credentials, task_type, task_input, options, custom_id=custom_id)
    return FilesResult(files=finished.output_files.get(slot, []), task=finished)


@polling_task(name="transcribe_audio")
def transcribe_audio(
    credentials: NextcloudCredentials,
    audio: FileReferenceLike,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Transcribe speech in an audio file (``core:audio2text``).

    Args:
        credentials: Where and as whom to connect.
        audio: The audio file: a file id, a Nextcloud path (``"nc:/Recordings/a.mp3"``) or a
            local file (``"file:/data/a.mp3"``, ``pathlib.Path``, ``LocalFile``).
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The transcript and the task.
    """
    return run_text(credentials, "core:audio2text", {"input": audio}, options, custom_id)


@polling_task(name="text_to_speech")
def text_to_speech(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> FilesResult:
    """Turn a text into speech (``core:text2speech``, Nextcloud 32+).

    Args:
        credentials: Where and as whom to connect.
        text: What to say.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The audio file (bytes, file name, content type) and the task.
    """
    return run_files(credentials, "core:text2speech", {"input": text}, "speech", options, custom_id)


@polling_task(name="generate_images")
def generate_images(
    credentials: NextcloudCredentials,
    prompt: str,
    number_of_images: int = 1,
    size: str | None = None,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> FilesResult:
    """Generate images from a text prompt (``core:text2image``).

    Args:
        credentials: Where and as whom to connect.
        prompt: What the images should show.
        number_of_images: How many images, 1 to 12.
        size: The size as the provider takes it, e.g. ``"512x512"``, when it offers the setting.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The images (bytes, file names, content types) and the task.
    """
    if isinstance(number_of_images, bool) or not 1 <= number_of_images <= MAX_IMAGES:
        raise ValueError(f"number_of_images must be 1 to {MAX_IMAGES}, got {number_of_images!r}.")
    task_input = input_slots({"input": prompt, "numberOfImages": number_of_images}, {"size": size})
    return run_files(credentials, "core:text2image", task_input, "images", options, custom_id)


@polling_task(name="ocr")
def ocr(
    credentials: NextcloudCredentials,
    files: FileReferenceLike | list[FileReferenceLike],
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextsResult:
    """Recognise the text in images or documents (``core:image2text:ocr``, Nextcloud 33+).

    Args:
        credentials: Where and as whom to connect.
        files: One file or a list: file ids, Nextcloud paths or local files.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        One text per file, in order, and the task.
    """
    references = as_reference_list(files)
    if not references:
        raise ValueError("files must name at least one file.")
    finished = run_one(
        credentials, "core:image2text:ocr", {"input": references}, options, custom_id=custom_id
    )
    texts = (finished.output or {}).get("output") or []
    return TextsResult(texts=[str(text) for text in texts], task=finished)


@polling_task(name="ocr_batch")
def ocr_batch(
    credentials: NextcloudCredentials,
    files: Sequence[FileReferenceLike],
    custom_ids: Sequence[str | None] | None = None,
    app_id: str | None = None,
    artifact_key: str | None = "ocr",
    options: RunOptions = RunOptions(),
    on_results: Callable[[list[ItemResult]], None] | None = None,
    file_paths: Mapping[int, str] | None = None,
) -> list[ItemResult]:
    """Recognise the text of each file separately: one ``core:image2text:ocr`` task per file.

    All tasks run in this one Prefect task (see ``run_tasks``); a failed file never loses
    the others' texts.

    Args:
        credentials: Where and as whom to connect.
        files: The files: file ids, Nextcloud paths or local files.
        custom_ids: One custom id per file (at most 255 characters each): a later call with
            the same ids and ``app_id`` adopts the tasks already scheduled under them instead
            of scheduling new ones. Derived from the flow run and the inputs when omitted.
        app_id: The app id the tasks are filed under; by default one unique to the flow run.
        artifact_key: Key of the progress and result-table artifacts; ``None`` for none.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).
        on_results: Called with the results that became known together, as soon as they are
            (see ``run_tasks``).
        file_paths: The Nextcloud paths of files given by id (e.g. from a folder listing),
            to name them by path in the result table.

    Returns:
        One result per file, in order; ``text`` is the recognised text of each successful one.

    Raises:
        ValueError: An argument or file reference is invalid (naming its index); nothing was
            sent.
    """
    inputs = [{"input": [reference]} for reference in as_reference_list(files)]
    return run_batch(
        credentials,
        "core:image2text:ocr",
        inputs,
        options,
        custom_ids=custom_ids,
        app_id=app_id,
        artifact_key=artifact_key,
        on_results=on_results,
        file_paths=file_paths,
    )
