"""The fake providers the sandbox registers, one per core task type, and the registry.

Provider ids, optional slots, enum values and defaults copy the server's testing app
(``apps/testing``, reference §8) where it has a provider; the others are named ``sandbox-…``.
To offer another task type, add its :class:`TaskTypeSpec` to ``CORE_TASK_TYPES`` (in
``tasktypes.py``) and a provider here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from prefect_nextcloud.sandbox.taskprocessing import fakes
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    EnumValue,
    ProcessFunction,
    ProviderSpec,
    Registry,
    Shape,
    ShapeType,
)
from prefect_nextcloud.sandbox.taskprocessing.tasktypes import CORE_TASK_TYPES

__all__ = ["SANDBOX_PROVIDERS", "default_registry"]

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
_LANGUAGES = [EnumValue(name, code) for code, name in fakes.CORE_LANGUAGES]
_LANGUAGE_ENUMS = {
    "origin_language": [EnumValue("Detect language", "detect_language"), *_LANGUAGES],
    "target_language": _LANGUAGES,
}
_DETECT_LANGUAGE = {"origin_language": "detect_language"}


def _testing_llm(
    provider_id: str, task_type: str, process: ProcessFunction, max_tokens: int, model: str
) -> ProviderSpec:
    """A testing-app provider with the optional ``max_tokens`` and ``model`` slots."""
    return ProviderSpec(
        id=provider_id,
        task_type=task_type,
        process=process,
        optional_input_shape=_TESTING_OPTIONAL_INPUT,
        optional_input_shape_enum_values=_TESTING_MODELS,
        optional_input_shape_defaults={"max_tokens": max_tokens, "model": model},
    )


def _fake(task_type: str, process: ProcessFunction, **options: Any) -> ProviderSpec:
    """A sandbox provider, named after its task type."""
    name = task_type.removeprefix("core:").replace(":", "-")
    return ProviderSpec(id=f"sandbox-{name}", task_type=task_type, process=process, **options)


SANDBOX_PROVIDERS = (
    _testing_llm("testing-text2text", "core:text2text", fakes.text_to_text, 1234, "model_2"),
    _fake("core:text2text:headline", fakes.echo_text("headline")),
    _fake("core:text2text:topics", fakes.topics),
    _testing_llm(
        "testing-text2text-summary", "core:text2text:summary", fakes.summary, 1234, "model_2"
    ),
    _fake("core:text2text:formalization", fakes.echo_text("formalized text")),
    _fake("core:text2text:simplification", fakes.echo_text("simplified text")),
    _fake("core:text2text:reformulation", fakes.echo_text("reformulated text")),
    ProviderSpec(id="testing-text2textchat", task_type="core:text2text:chat", process=fakes.chat),
    ProviderSpec(
        id="testing-translate",
        task_type="core:text2text:translate",
        process=fakes.translate,
        input_shape_enum_values=_LANGUAGE_ENUMS,
        input_shape_defaults=_DETECT_LANGUAGE,
        optional_input_shape=_TESTING_OPTIONAL_INPUT,
        optional_input_shape_enum_values=_TESTING_MODELS,
        optional_input_shape_defaults={"max_tokens": 200, "model": "model_3"},
    ),
    ProviderSpec(
        id="testing-text2image",
        task_type="core:text2image",
        process=fakes.text_to_image,
        input_shape_defaults={"numberOfImages": 1},
        optional_input_shape={
            "size": Shape(
                "Size",
                "Optional. The size of the generated images. Must be in 256x256 format.",
                ShapeType.TEXT,
            )
        },
    ),
    ProviderSpec(id="testing-audio2text", task_type="core:audio2text", process=fakes.transcribe),
    _testing_llm("testing-contextwrite", "core:contextwrite", fakes.context_write, 4321, "model_2"),
    _fake("core:generateemoji", fakes.generate_emoji),
    _fake(
        "core:text2text:changetone",
        fakes.change_tone,
        input_shape_enum_values={"tone": [EnumValue(name, value) for value, name in fakes.TONES]},
        input_shape_defaults={"tone": fakes.TONES[0][0]},
    ),
    _fake("core:text2text:chatwithtools", fakes.chat_with_tools),
    _fake("core:contextagent:interaction", fakes.context_agent),
    _fake("core:text2text:proofread", fakes.echo_text("proofreading result, no corrections for")),
    _fake("core:text2speech", fakes.text_to_speech),
    _fake("core:audio2audio:chat", fakes.audio_chat),
    _fake("core:contextagent:audio-interaction", fakes.context_agent_audio),
    _fake(
        "core:analyze-images",
        fakes.analyze_images,
        # Real providers offer their own model list as an Enum; the sandbox takes any name.
        optional_input_shape={
            "model": Shape("Model", "The model used to generate the output", ShapeType.TEXT)
        },
    ),
    ProviderSpec(id="testing-image2text-ocr", task_type="core:image2text:ocr", process=fakes.ocr),
    _fake("core:text2text:reformatparagraphs", fakes.echo_text("reformatted text")),
    _fake("core:text2text:improve", fakes.improve),
    _fake("core:image2image", fakes.image_to_image),
    _fake("core:audio2text:subtitles", fakes.subtitles),
    _fake(
        "core:audio2audio:translate",
        fakes.audio_translate,
        input_shape_enum_values=_LANGUAGE_ENUMS,
        input_shape_defaults=_DETECT_LANGUAGE,
    ),
    _fake("core:text2text:multimodal-chatwithtools", fakes.multimodal_chat_with_tools),
    _fake("core:contextagent:multimodal-interaction", fakes.multimodal_context_agent),
)


def default_registry(
    server_version: int, unavailable: Iterable[str] = (), *, expected_runtime: int | None = None
) -> Registry:
    """Return the registry of the sandbox's task types for a Nextcloud major version.

    Args:
        server_version: Types registered only by later versions are left out.
        unavailable: Task type ids to leave without a provider.
        expected_runtime: The seconds every provider estimates a task takes (what
            ``completionExpectedAt`` adds to ``scheduledAt``); each provider's own when None.

    Returns:
        The registry.
    """
    missing = set(unavailable)
    providers = [
        provider
        if expected_runtime is None
        else replace(provider, expected_runtime=expected_runtime)
        for provider in SANDBOX_PROVIDERS
        if provider.task_type not in missing
    ]
    return Registry(CORE_TASK_TYPES, providers, server_version=server_version)
