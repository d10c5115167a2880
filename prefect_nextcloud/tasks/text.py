"""Typed tasks for the text task types, all running through :func:`run_task`."""

# The Args of the common run options are written by run_options_task, from RUN_OPTIONS.
# ruff: noqa: D417

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.tasks.options import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    run_options_task,
)
from prefect_nextcloud.tasks.polling import PollingTask
from prefect_nextcloud.tasks.results import ChatMessage, TextResult, TextsResult
from prefect_nextcloud.tasks.running import run_one

__all__ = [
    "change_tone",
    "chat",
    "context_write",
    "extract_topics",
    "formalize",
    "generate_emoji",
    "generate_headline",
    "generate_text",
    "proofread",
    "reformulate",
    "simplify",
    "summarize",
    "translate",
]


def output_text(finished: Task) -> str:
    """The text in a finished task's ``output`` slot."""
    value = (finished.output or {}).get("output")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _text_task(
    name: str, task_type: str, summary: str, input_name: str
) -> PollingTask[..., TextResult]:
    """Build the task for a type that turns one text into another."""

    def run_text_task(
        credentials: NextcloudCredentials,
        text: str,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
        custom_id: str | None = None,
        delete_after: bool = False,
    ) -> TextResult:
        finished = run_one(credentials, task_type, {"input": text}, locals())
        return TextResult(text=output_text(finished), task=finished)

    run_text_task.__name__ = run_text_task.__qualname__ = name
    run_text_task.__doc__ = f"""{summary} (``{task_type}``).

    Args:
        credentials: Where and as whom to connect.
        text: {input_name}.

    Returns:
        The generated text and the task.
    """
    return run_options_task(name=name)(run_text_task)


summarize = _text_task(
    "summarize", "core:text2text:summary", "Summarize a text", "The text to summarize"
)
generate_headline = _text_task(
    "generate_headline", "core:text2text:headline", "Write a headline for a text", "The text"
)
reformulate = _text_task(
    "reformulate", "core:text2text:reformulation", "Rephrase a text", "The text to rephrase"
)
simplify = _text_task(
    "simplify", "core:text2text:simplification", "Make a text easier to read", "The text"
)
formalize = _text_task(
    "formalize", "core:text2text:formalization", "Make a text more formal", "The text"
)
proofread = _text_task(
    "proofread", "core:text2text:proofread", "Proofread a text and list corrections", "The text"
)
generate_emoji = _text_task(
    "generate_emoji", "core:generateemoji", "Find an emoji for a text", "The text"
)


@run_options_task(name="extract_topics")
def extract_topics(
    credentials: NextcloudCredentials,
    text: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextsResult:
    """Extract the topics of a text (``core:text2text:topics``).

    Args:
        credentials: Where and as whom to connect.
        text: The text.

    Returns:
        The topics (the server's comma-separated answer, split) and the task.
    """
    finished = run_one(credentials, "core:text2text:topics", {"input": text}, locals())
    topics = [topic.strip() for topic in output_text(finished).split(",") if topic.strip()]
    return TextsResult(texts=topics, task=finished)


@run_options_task(name="generate_text")
def generate_text(
    credentials: NextcloudCredentials,
    prompt: str,
    model: str | None = None,
    max_tokens: int | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Run a free prompt through the server's language model (``core:text2text``).

    Args:
        credentials: Where and as whom to connect.
        prompt: What to ask or what to do.
        model: A model the provider offers; its default when omitted.
        max_tokens: The most words/tokens to generate, when the provider offers the setting.

    Returns:
        The reply and the task.
    """
    task_input: dict[str, Any] = {"input": prompt}
    if model is not None:
        task_input["model"] = model
    if max_tokens is not None:
        task_input["max_tokens"] = max_tokens
    finished = run_one(credentials, "core:text2text", task_input, locals())
    return TextResult(text=output_text(finished), task=finished)


@run_options_task(name="translate")
def translate(
    credentials: NextcloudCredentials,
    text: str,
    target_language: str,
    origin_language: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Translate a text (``core:text2text:translate``).

    The languages are the provider's enum values (e.g. ``"de"``); a value it does not offer is
    refused before anything is sent, with the list of offered values.

    Args:
        credentials: Where and as whom to connect.
        text: The text to translate.
        target_language: The language to translate into.
        origin_language: The text's language; the provider's default (usually
            ``"detect_language"``) when omitted.

    Returns:
        The translation and the task.
    """
    task_input: dict[str, Any] = {"input": text, "target_language": target_language}
    if origin_language is not None:
        task_input["origin_language"] = origin_language
    finished = run_one(credentials, "core:text2text:translate", task_input, locals())
    return TextResult(text=output_text(finished), task=finished)


@run_options_task(name="change_tone")
def change_tone(
    credentials: NextcloudCredentials,
    text: str,
    tone: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Rewrite a text in another tone (``core:text2text:changetone``, Nextcloud 31+).

    Args:
        credentials: Where and as whom to connect.
        text: The text.
        tone: One of the tones the provider offers (refused with the list otherwise).

    Returns:
        The rewritten text and the task.
    """
    task_input = {"input": text, "tone": tone}
    finished = run_one(credentials, "core:text2text:changetone", task_input, locals())
    return TextResult(text=output_text(finished), task=finished)


@run_options_task(name="chat")
def chat(
    credentials: NextcloudCredentials,
    message: str,
    system_prompt: str = "",
    history: Sequence[ChatMessage | str] = (),
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Send a chat message, with a system prompt and earlier messages (``core:text2text:chat``).

    Args:
        credentials: Where and as whom to connect.
        message: The new message.
        system_prompt: Instructions for the assistant.
        history: Earlier messages, oldest first: :class:`ChatMessage` objects, or strings already
            in the provider's format (JSON ``{"role": …, "content": …}``).

    Returns:
        The assistant's reply and the task.
    """
    encoded = [
        item if isinstance(item, str) else json.dumps(item.model_dump(), ensure_ascii=False)
        for item in history
    ]
    task_input = {"system_prompt": system_prompt, "input": message, "history": encoded}
    finished = run_one(credentials, "core:text2text:chat", task_input, locals())
    return TextResult(text=output_text(finished), task=finished)


@run_options_task(name="context_write")
def context_write(
    credentials: NextcloudCredentials,
    style_input: str,
    source_input: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    custom_id: str | None = None,
    delete_after: bool = False,
) -> TextResult:
    """Write a text about ``source_input`` in the style of ``style_input`` (``core:contextwrite``).

    Args:
        credentials: Where and as whom to connect.
        style_input: A sample of the writing style to imitate.
        source_input: What to write about.

    Returns:
        The text and the task.
    """
    task_input = {"style_input": style_input, "source_input": source_input}
    finished = run_one(credentials, "core:contextwrite", task_input, locals())
    return TextResult(text=output_text(finished), task=finished)
