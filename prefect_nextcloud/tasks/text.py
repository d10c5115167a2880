"""Typed tasks for the text task types, all running through :func:`run_task`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.tasks.options import RunOptions
from prefect_nextcloud.tasks.polling import polling_task
from prefect_nextcloud.tasks.results import ChatMessage, TextResult, TextsResult
from prefect_nextcloud.tasks.running import input_slots, run_one

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


def run_text(
    credentials: NextcloudCredentials,
    task_type: str,
    task_input: Mapping[str, Any],
    options: RunOptions,
    custom_id: str | None,
) -> TextResult:
    """Run one task as ``run_one`` does; return the text of its ``output`` slot, and the task."""
    finished = run_one(credentials, task_type, task_input, options, custom_id=custom_id)
    return TextResult(text=output_text(finished), task=finished)


@polling_task(name="summarize")
def summarize(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Summarize a text (``core:text2text:summary``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to summarize.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The summary and the task.
    """
    return run_text(credentials, "core:text2text:summary", {"input": text}, options, custom_id)


@polling_task(name="generate_headline")
def generate_headline(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Write a headline for a text (``core:text2text:headline``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to write a headline for.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The headline and the task.
    """
    return run_text(credentials, "core:text2text:headline", {"input": text}, options, custom_id)


@polling_task(name="reformulate")
def reformulate(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Rephrase a text (``core:text2text:reformulation``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to rephrase.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The rephrased text and the task.
    """
    return run_text(
        credentials, "core:text2text:reformulation", {"input": text}, options, custom_id
    )


@polling_task(name="simplify")
def simplify(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Make a text easier to read (``core:text2text:simplification``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to make easier to read.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The simpler text and the task.
    """
    return run_text(
        credentials, "core:text2text:simplification", {"input": text}, options, custom_id
    )


@polling_task(name="formalize")
def formalize(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Make a text more formal (``core:text2text:formalization``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to make more formal.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The formal text and the task.
    """
    return run_text(
        credentials, "core:text2text:formalization", {"input": text}, options, custom_id
    )


@polling_task(name="proofread")
def proofread(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Proofread a text and list corrections (``core:text2text:proofread``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to proofread.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The corrections, as the provider lists them, and the task.
    """
    return run_text(credentials, "core:text2text:proofread", {"input": text}, options, custom_id)


@polling_task(name="generate_emoji")
def generate_emoji(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Find an emoji for a text (``core:generateemoji``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to find an emoji for.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The emoji and the task.
    """
    return run_text(credentials, "core:generateemoji", {"input": text}, options, custom_id)


@polling_task(name="extract_topics")
def extract_topics(
    credentials: NextcloudCredentials,
    text: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextsResult:
    """Extract the topics of a text (``core:text2text:topics``).

    Args:
        credentials: Where and as whom to connect.
        text: The text to find the topics of.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The topics (the server's comma-separated answer, split) and the task.
    """
    finished = run_one(
        credentials, "core:text2text:topics", {"input": text}, options, custom_id=custom_id
    )
    topics = [topic.strip() for topic in output_text(finished).split(",") if topic.strip()]
    return TextsResult(texts=topics, task=finished)


@polling_task(name="generate_text")
def generate_text(
    credentials: NextcloudCredentials,
    prompt: str,
    model: str | None = None,
    max_tokens: int | None = None,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Run a free prompt through the server's language model (``core:text2text``).

    Args:
        credentials: Where and as whom to connect.
        prompt: What to ask or what to do.
        model: A model the provider offers; its default when omitted.
        max_tokens: The most words/tokens to generate, when the provider offers the setting.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The reply and the task.
    """
    task_input = input_slots({"input": prompt}, {"model": model, "max_tokens": max_tokens})
    return run_text(credentials, "core:text2text", task_input, options, custom_id)


@polling_task(name="translate")
def translate(
    credentials: NextcloudCredentials,
    text: str,
    target_language: str,
    origin_language: str | None = None,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
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
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The translation and the task.
    """
    task_input = input_slots(
        {"input": text, "target_language": target_language}, {"origin_language": origin_language}
    )
    return run_text(credentials, "core:text2text:translate", task_input, options, custom_id)


@polling_task(name="change_tone")
def change_tone(
    credentials: NextcloudCredentials,
    text: str,
    tone: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Rewrite a text in another tone (``core:text2text:changetone``, Nextcloud 31+).

    Args:
        credentials: Where and as whom to connect.
        text: The text to rewrite.
        tone: One of the tones the provider offers (refused with the list otherwise).
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The rewritten text and the task.
    """
    task_input = {"input": text, "tone": tone}
    return run_text(credentials, "core:text2text:changetone", task_input, options, custom_id)


@polling_task(name="chat")
def chat(
    credentials: NextcloudCredentials,
    message: str,
    system_prompt: str = "",
    history: Sequence[ChatMessage | str] = (),
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Send a chat message, with a system prompt and earlier messages (``core:text2text:chat``).

    Args:
        credentials: Where and as whom to connect.
        message: The new message.
        system_prompt: Instructions for the assistant.
        history: Earlier messages, oldest first: :class:`ChatMessage` objects, or strings already
            in the provider's format (JSON ``{"role": …, "content": …}``).
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The assistant's reply and the task.
    """
    encoded = [
        item if isinstance(item, str) else json.dumps(item.model_dump(), ensure_ascii=False)
        for item in history
    ]
    task_input = {"system_prompt": system_prompt, "input": message, "history": encoded}
    return run_text(credentials, "core:text2text:chat", task_input, options, custom_id)


@polling_task(name="context_write")
def context_write(
    credentials: NextcloudCredentials,
    style_input: str,
    source_input: str,
    custom_id: str | None = None,
    options: RunOptions = RunOptions(),
) -> TextResult:
    """Write a text about ``source_input`` in the style of ``style_input`` (``core:contextwrite``).

    Args:
        credentials: Where and as whom to connect.
        style_input: A sample of the writing style to imitate.
        source_input: What to write about.
        custom_id: Your own identifier for the task (at most 255 characters); derived from the
            flow run and the input when omitted, so that a retry adopts the same task.
        options: How long to wait, how often to look, and how to tidy up (``RunOptions``).

    Returns:
        The text and the task.
    """
    task_input = {"style_input": style_input, "source_input": source_input}
    return run_text(credentials, "core:contextwrite", task_input, options, custom_id)
