"""The image-analysis flow: ask a question about images in Nextcloud, keep the answer."""

# No `from __future__ import annotations`: flow.serve() sends the flow by value to a child
# process, where annotations written as strings can no longer be resolved.

from typing import Annotated

from prefect.artifacts import create_markdown_artifact
from pydantic import Field

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.client.references import as_reference_list, parse_file_reference
from prefect_nextcloud.flows.decorator import nextcloud_flow
from prefect_nextcloud.flows.parameters import (
    CredentialsParameter,
    FileReferences,
    IdempotencyKey,
    OptionalText,
    PollIntervalSeconds,
    TimeoutSeconds,
    titled,
)
from prefect_nextcloud.flows.reports import quoted
from prefect_nextcloud.tasks.images import ImageAnalysis, analyze_images
from prefect_nextcloud.tasks.markdown import code, escape, reference_link
from prefect_nextcloud.tasks.options import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RunOptions,
)

__all__ = ["analyze_image"]


def _report(prompt: str, analysis: ImageAnalysis, images: list[object], server_url: str) -> str:
    """The artifact: the prompt, each image named by its path and linked, and the answer."""
    task = analysis.task
    # The task's input holds the file id of each image, in the order they were given.
    files = ", ".join(
        reference_link(server_url, parse_file_reference(image), file_id)
        for image, file_id in zip(images, task.input.get("images", []), strict=False)
    )
    answer = "\n".join(quoted(analysis.analysis_text))
    return (
        "# Image analysis\n\n"
        f"**Prompt:** {escape(prompt)}\n\n"
        f"**Images:** {files}\n\n"
        f"**Nextcloud task:** {task.id} ({code(task.type)})\n\n"
        f"## Answer\n\n{answer}\n"
    )


@nextcloud_flow(name="analyze-image")
def analyze_image(
    prompt: Annotated[str, Field(min_length=1), titled("Prompt")],
    image_file_ids: Annotated[FileReferences, titled("Images")],
    model: Annotated[OptionalText, titled("Model")] = None,
    timeout_seconds: TimeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: PollIntervalSeconds = DEFAULT_POLL_INTERVAL_SECONDS,
    credentials: CredentialsParameter = None,
    idempotency_key: IdempotencyKey = None,
) -> ImageAnalysis:
    """Analyze one or more images stored in Nextcloud and record the answer as an artifact.

    Args:
        prompt: The question about the images, e.g. "Describe this photo in one sentence".
        image_file_ids: The images, one per item: a path in Nextcloud written
            nc:/Photos/a.jpg, a Nextcloud file id (e.g. 1234), or a file on the worker written
            file:/data/a.jpg.
        model: The provider's model to use; leave empty for the provider's default.
        timeout_seconds: How long the analysis may take, counted from when it was scheduled;
            the Nextcloud task is cancelled after that.
        poll_interval_seconds: Seconds between two checks of the task's status.
        credentials: A saved Nextcloud Credentials block or its name (from Python, any block
            object); when empty, the NEXTCLOUD_URL, NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD
            variables are used. Never the block's fields written out: the run's parameters
            would keep the app password.
        idempotency_key: Runs with the same key share their Nextcloud task: a re-run adopts
            the task an earlier run scheduled (still running or done) instead of paying for a
            new one. Leave empty to scope this to the flow run (its retries).

    Returns:
        The analysis: the answer text and the Nextcloud task id.
    """
    resolved = resolve_credentials(credentials)
    analysis: ImageAnalysis = analyze_images(
        resolved,
        prompt,
        image_file_ids,
        model=model,
        options=RunOptions(
            timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds
        ),
    )
    create_markdown_artifact(
        _report(prompt, analysis, as_reference_list(image_file_ids), resolved.base_url),
        key="image-analysis",
        description=f"Answer of Nextcloud task {analysis.task_id}",
    )
    return analysis
