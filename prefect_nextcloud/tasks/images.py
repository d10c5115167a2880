"""Image analysis: ask a question about one or more images stored in Nextcloud."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.client.references import (
    FileReferenceLike,
    as_reference_list,
    parse_file_reference,
)
from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import polling_task
from prefect_nextcloud.tasks.running import input_slots, run_batch, run_one

__all__ = [
    "ANALYZE_IMAGES",
    "ImageAnalysis",
    "analyze_image_batch",
    "analyze_images",
    "image_analysis_input",
]

ANALYZE_IMAGES = "core:analyze-images"

FileIds = FileReferenceLike | Sequence[FileReferenceLike]


class ImageAnalysis(BaseModel):
    """The answer of an image analysis task."""

    model_config = ConfigDict(frozen=True)

    analysis_text: str = Field(
        description="The answer; when the output has no text slot, the whole output as JSON."
    )
    task_id: int = Field(description="The id of the Nextcloud task that produced it.")
    task: Task = Field(description="The finished Nextcloud task.")


def image_analysis_input(
    prompt: str, image_file_ids: FileIds, model: str | None = None
) -> dict[str, Any]:
    """Build and check the input of a ``core:analyze-images`` task.

    Args:
        prompt: The question about the images.
        image_file_ids: One image or a list: file ids (ints or numeric strings), Nextcloud
            paths or local files (see ``parse_file_reference``).
        model: The provider's model to use, when it offers a choice.

    Returns:
        The task input; ``run_task`` turns the references into file ids.

    Raises:
        ValueError: The prompt is empty, no image is given, or a reference is invalid.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty question about the images.")
    images = as_reference_list(image_file_ids)
    if not images:
        raise ValueError("image_file_ids must name at least one image.")
    for index, image in enumerate(images):
        try:
            parse_file_reference(image)
        except ValueError as error:
            raise ValueError(f"Image {index + 1}: {error}") from None
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ValueError("model must be a non-empty model name, or None for the default.")
    return input_slots({"images": images, "input": prompt}, {"model": model})


def analysis_text(output: dict[str, Any] | None) -> str:
    """The text answer of an analysis output, or the whole output as JSON when it has none."""
    if output is not None and isinstance(output.get("output"), str):
        return str(output["output"])
    return json.dumps(output, ensure_ascii=False)


@polling_task(name="analyze_images")
def analyze_images(
    credentials: NextcloudCredentials,
    prompt: str,
    image_file_ids: FileIds,
    model: str | None = None,
    task_type: str = ANALYZE_IMAGES,
    custom_id: str | None = None,
    app_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> ImageAnalysis:
    """Ask a question about images in Nextcloud and return the answer.

    Needs Nextcloud 32+ with a provider app for ``core:analyze-images``; servers before 32
    with the OpenAI integration offer ``integration_openai:analyze-images`` instead.

    Args:
        credentials: Where and as whom to connect.
        prompt: The question, e.g. "What is shown in these photos?".
        image_file_ids: One image or a list: file ids (ints or numeric strings), Nextcloud
            paths (``"nc:/Photos/a.jpg"``) or local files (``"file:/data/a.jpg"``).
        model: The provider's model to use; the provider's default when omitted.
        task_type: The task type to schedule.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        app_id: The app id the task is filed under; by default one unique to the flow run.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The answer and the id of the task that gave it.

    Raises:
        ValueError: An argument is invalid; nothing was sent.
        NextcloudError: The server refused the task, or it failed, was cancelled or timed out.
    """
    task_input = image_analysis_input(prompt, image_file_ids, model)
    finished = run_one(
        credentials, task_type, task_input, options, custom_id=custom_id, app_id=app_id
    )
    return ImageAnalysis(
        analysis_text=analysis_text(finished.output), task_id=finished.id, task=finished
    )


@polling_task(name="analyze_image_batch")
def analyze_image_batch(
    credentials: NextcloudCredentials,
    prompt: str,
    images: Sequence[FileReferenceLike],
    model: str | None = None,
    task_type: str = ANALYZE_IMAGES,
    custom_ids: Sequence[str | None] | None = None,
    app_id: str | None = None,
    artifact_key: str | None = "image-analyses",
    options: RunOptions = RunOptions(),
    on_results: Callable[[list[ItemResult]], None] | None = None,
    file_paths: Mapping[int, str] | None = None,
) -> list[ItemResult]:
    """Ask the same question about each image separately: one Nextcloud task per image.

    All tasks run in this one Prefect task (see ``run_tasks``); a failed image never loses
    the others' answers.

    Args:
        credentials: Where and as whom to connect.
        prompt: The question asked about each image.
        images: The images: file ids, Nextcloud paths (``"nc:/Photos/a.jpg"``) or local
            files.
        model: The provider's model to use; the provider's default when omitted.
        task_type: The task type to schedule.
        custom_ids: One custom id per image (at most 255 characters each): a later call with
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
        One result per image, in order; ``text`` is the answer of each successful one.

    Raises:
        ValueError: An argument or image reference is invalid (naming its index); nothing
            was sent.
    """
    if isinstance(images, str | bytes) or not isinstance(images, Sequence):
        raise ValueError(f"images must be a list of images, got {type(images).__name__}.")
    inputs = [image_analysis_input(prompt, [image], model) for image in images]
    return run_batch(
        credentials,
        task_type,
        inputs,
        options,
        custom_ids,
        app_id,
        artifact_key,
        on_results,
        file_paths=file_paths,
    )
