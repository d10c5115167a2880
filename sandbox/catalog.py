"""The task types and fake providers the sandbox registers.

The text providers copy the server's own test providers (``apps/testing``, reference §8) word
for word. The image analysis provider is the sandbox's own: it reads real facts from the image
headers and says plainly that it is no AI answer. To offer another core type (reference §7), add
its :class:`TaskTypeSpec` to ``CORE_TASK_TYPES`` in registration order and a provider to
``SANDBOX_PROVIDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect_nextcloud.sandbox.images import read_image_facts
from prefect_nextcloud.sandbox.providers import (
    EnumValue,
    InputFile,
    ProcessingError,
    ProviderSpec,
    Registry,
    Shape,
    ShapeType,
    TaskTypeSpec,
)

__all__ = ["CORE_TASK_TYPES", "SANDBOX_PROVIDERS", "default_registry"]

TEXT_TO_TEXT = TaskTypeSpec(
    id="core:text2text",
    name="Free text to text prompt",
    description="Runs an arbitrary prompt through a language model that returns a reply",
    input_shape={
        "input": Shape(
            "Prompt",
            "Describe a task that you want the assistant to do or ask a question",
            ShapeType.TEXT,
        )
    },
    output_shape={
        "output": Shape("Generated reply", "The generated text from the assistant", ShapeType.TEXT)
    },
)

TEXT_TO_TEXT_SUMMARY = TaskTypeSpec(
    id="core:text2text:summary",
    name="Summarize",
    description="Summarizes a text",
    input_shape={"input": Shape("Original text", "The original text to summarize", ShapeType.TEXT)},
    output_shape={"output": Shape("Summary", "The generated summary", ShapeType.TEXT)},
)

ANALYZE_IMAGES = TaskTypeSpec(
    id="core:analyze-images",
    name="Analyze images",
    description="Ask a question about the given images.",
    input_shape={
        "images": Shape("Images", "Images to ask a question about", ShapeType.LIST_OF_IMAGES),
        "input": Shape("Question", "What to ask about the images.", ShapeType.TEXT),
    },
    output_shape={
        "output": Shape("Generated response", "The answer to the question", ShapeType.TEXT)
    },
    since=32,
)

# In the order Manager::_getTaskTypes() registers them.
CORE_TASK_TYPES = (TEXT_TO_TEXT, TEXT_TO_TEXT_SUMMARY, ANALYZE_IMAGES)

_TIMES = "\N{MULTIPLICATION SIGN}"

_TESTING_OPTIONAL_INPUT = {
    "max_tokens": Shape(
        "Maximum output words",
        "The maximum number of words/tokens that can be generated in the completion.",
        ShapeType.NUMBER,
    ),
    "model": Shape("Model", "The model used to generate the completion", ShapeType.ENUM),
}
_TESTING_MODELS = {
    "model": [
        EnumValue("Model 1", "model_1"),
        EnumValue("Model 2", "model_2"),
        EnumValue("Model 3", "model_3"),
    ]
}
_TESTING_DEFAULTS: dict[str, str | int | float] = {"max_tokens": 1234, "model": "model_2"}


def _prompt(data: Mapping[str, Any]) -> str:
    prompt = data.get("input")
    if not isinstance(prompt, str):
        raise ProcessingError("Invalid prompt")
    return prompt


def _fake_text_to_text(data: Mapping[str, Any]) -> dict[str, Any]:
    prompt = _prompt(data)
    model = data.get("model")
    max_tokens = data.get("max_tokens")
    # Like the PHP provider: only a JSON integer counts (is_int), a numeric string shows as "".
    tokens = str(max_tokens) if type(max_tokens) is int else ""
    return {
        "output": "This is a fake result: \n\n- Prompt: "
        + prompt
        + "\n- Model: "
        + (model if isinstance(model, str) else "unknown model")
        + "\n- Maximum number of words: "
        + tokens
    }


def _fake_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    _prompt(data)
    return {"output": "This is a fake summary: "}


def _analyze_images(data: Mapping[str, Any]) -> dict[str, Any]:
    prompt = _prompt(data)
    images: list[InputFile] = data.get("images") or []
    described = []
    for number, image in enumerate(images, start=1):
        facts = read_image_facts(image.data)
        if facts is None:
            raise ProcessingError(
                f"File {image.id} is not a PNG, JPEG, GIF, WebP or BMP image",
                user_facing_message=(
                    f"Image {number} ({image.name}) is not an image the sandbox can read; "
                    "use PNG, JPEG, GIF, WebP or BMP."
                ),
            )
        described.append(
            f"Image {number} (file {image.id}, {image.name}): {facts.format}, "
            f"{facts.width}{_TIMES}{facts.height} px, {len(image.data):,} bytes."
        )
    return {
        "output": f'Sandbox image analysis (not an AI answer). Prompt: "{prompt}". '
        + (" ".join(described) if described else "No images were given.")
    }


SANDBOX_PROVIDERS = (
    ProviderSpec(
        id="testing-text2text",
        task_type=TEXT_TO_TEXT.id,
        process=_fake_text_to_text,
        optional_input_shape=_TESTING_OPTIONAL_INPUT,
        optional_input_shape_enum_values=_TESTING_MODELS,
        optional_input_shape_defaults=_TESTING_DEFAULTS,
    ),
    ProviderSpec(
        id="testing-text2text-summary",
        task_type=TEXT_TO_TEXT_SUMMARY.id,
        process=_fake_summary,
        optional_input_shape=_TESTING_OPTIONAL_INPUT,
        optional_input_shape_enum_values=_TESTING_MODELS,
        optional_input_shape_defaults=_TESTING_DEFAULTS,
    ),
    ProviderSpec(
        id="sandbox-analyze-images",
        task_type=ANALYZE_IMAGES.id,
        process=_analyze_images,
        # Real providers offer their own model list as an Enum; the sandbox takes any name.
        optional_input_shape={
            "model": Shape("Model", "The model used to generate the output", ShapeType.TEXT)
        },
    ),
)


def default_registry(server_version: int) -> Registry:
    """Return the registry of the sandbox's task types for a Nextcloud major version."""
    return Registry(CORE_TASK_TYPES, SANDBOX_PROVIDERS, server_version=server_version)
