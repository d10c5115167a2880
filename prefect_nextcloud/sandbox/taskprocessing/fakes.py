"""What the fake providers compute: deterministic outputs that echo their inputs.

Where the server's testing app (``apps/testing``, reference §8) has a provider, its output is
copied word for word, except where that is an empty-looking placeholder (summary, OCR,
transcription): those say plainly that they come from the sandbox and report what can honestly
be read from the input (paragraphs and first sentences, image size, file size). The other types
get outputs in the same spirit. File outputs are raw bytes here; the worker stores them in app
data (reference §6.2).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from prefect_nextcloud.sandbox.storage.images import read_image_facts
from prefect_nextcloud.sandbox.taskprocessing.media import png_image, srt_subtitles, wav_tone
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    InputFile,
    ProcessFunction,
    ProcessingError,
)

__all__ = [
    "CORE_LANGUAGES",
    "TONES",
    "analyze_images",
    "audio_chat",
    "audio_translate",
    "change_tone",
    "chat",
    "chat_with_tools",
    "context_agent",
    "context_agent_audio",
    "context_write",
    "echo_text",
    "generate_emoji",
    "image_to_image",
    "improve",
    "multimodal_chat_with_tools",
    "multimodal_context_agent",
    "ocr",
    "subtitles",
    "summary",
    "text_to_image",
    "text_to_speech",
    "text_to_text",
    "topics",
    "transcribe",
    "translate",
]

CORE_LANGUAGES = (
    ("en", "English (US)"),
    ("es", "Español (España)"),
    ("fr", "Français"),
    ("de", "Deutsch (Persönlich: Du)"),
    ("de_DE", "Deutsch (Förmlich: Sie)"),
    ("ja", "日本語 (Japanese)"),
    ("ar", "\u0627\u0644\u0644\u063a\u0629 \u0627\u0644\u0639\u0631\u0628\u064a\u0629"),
    ("ru", "\u0420\u0443\u0441\u0441\u043a\u0438\u0439"),
    ("nl", "Nederlands"),
    ("it", "Italiano"),
    ("pt_BR", "Português Brasileiro"),
    ("pt_PT", "Português"),
    ("da", "Dansk"),
    ("fi_FI", "Suomi"),
    ("nb_NO", "Norsk bokmål"),
    ("sv", "Svenska"),
    ("tr", "Türkçe"),
    ("zh_CN", "简体中文"),
    ("ko", "한국어"),
)
"""Code and name of Nextcloud's common languages (``getLanguages()['commonLanguages']``)."""

TONES = (
    ("friendly", "Friendlier"),
    ("formal", "More formal"),
    ("casual", "More casual"),
    ("funny", "Funnier"),
    ("urgent", "More urgent"),
)
"""Value and name of the tones the fake change-tone provider offers."""

_GIST_LENGTH = 240
_EMOJIS = ("\N{SPARKLES}", "\N{ROBOT FACE}", "\N{ROCKET}", "\N{SMILING FACE WITH SUNGLASSES}")
_SIZE = re.compile(r"^(\d{1,4})x(\d{1,4})$")
_MAX_SIDE = 1024
_MAX_IMAGES = 12


def _text(data: Mapping[str, Any], key: str, error: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ProcessingError(error)
    return value


def _prompt(data: Mapping[str, Any]) -> str:
    return _text(data, "input", "Invalid prompt")


def _tokens(data: Mapping[str, Any]) -> str:
    # Like the PHP providers: only a JSON integer counts (is_int); a numeric string shows as "".
    max_tokens = data.get("max_tokens")
    return str(max_tokens) if type(max_tokens) is int else ""


def _model(data: Mapping[str, Any], fallback: str) -> str:
    model = data.get("model")
    return model if isinstance(model, str) else fallback


def _history(data: Mapping[str, Any]) -> Sequence[Any]:
    history = data.get("history")
    if not isinstance(history, list | dict):
        raise ProcessingError("Invalid message history")
    return list(history.values()) if isinstance(history, dict) else history


def _token(seed: str) -> str:
    return "fake-conversation-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]


def _fake_answer(kind: str, *lines: str) -> str:
    """The testing app's answer: ``This is a fake <kind>: ``, a blank line, one ``- `` per line."""
    return f"This is a fake {kind}: \n\n" + "\n".join(f"- {line}" for line in lines)


def _model_lines(data: Mapping[str, Any]) -> tuple[str, str]:
    """The model and word limit lines of the testing app's language model answers."""
    return f"Model: {_model(data, 'unknown model')}", f"Maximum number of words: {_tokens(data)}"


def _chat_answer(system_prompt: str, message: str, history: Sequence[Any]) -> str:
    return _fake_answer(
        "response message",
        f"System prompt: {system_prompt}",
        f"Input message: {message}",
        f"Message history:\n{len(history)} messages",
    )


# -- testing-app providers (reference §8) -------------------------------------------------------


def text_to_text(data: Mapping[str, Any]) -> dict[str, Any]:
    """``testing-text2text``."""
    return {"output": _fake_answer("result", f"Prompt: {_prompt(data)}", *_model_lines(data))}


def summary(data: Mapping[str, Any]) -> dict[str, Any]:
    """The paragraph and word count, and the first sentence of each paragraph."""
    text = _prompt(data)
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    if not paragraphs:
        return {"output": "Sandbox summary of an empty text: there is nothing to summarize."}
    words = len(text.split())
    gist = " ".join(_first_sentence(paragraph) for paragraph in paragraphs)
    if len(gist) > _GIST_LENGTH:
        gist = gist[: _GIST_LENGTH - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
    return {
        "output": f"Sandbox summary of {_plural(len(paragraphs), 'paragraph')} "
        f"({_plural(words, 'word')}): {gist}"
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _first_sentence(paragraph: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", " ".join(paragraph.split()))
    return match.group(1) if match else " ".join(paragraph.split())


def translate(data: Mapping[str, Any]) -> dict[str, Any]:
    """``testing-translate``: language codes are shown by name."""
    text = _text(data, "input", "Invalid input text")
    names = dict(CORE_LANGUAGES)
    target = str(data.get("target_language"))
    origin = str(data.get("origin_language"))
    to_language = names.get(target, target)
    if origin != "detect_language":
        prompt = f"Fake translation from {names.get(origin, origin)} to {to_language}: {text}"
    else:
        prompt = f"Fake Translation to {to_language}: {text}"
    return {"output": f"{prompt}\n\nModel: {_model(data, 'model_3')}\nMax tokens: {_tokens(data)}"}


def transcribe(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the sandbox can say about the audio file: its name and size."""
    return {"output": _transcript(data)}


def _transcript(data: Mapping[str, Any]) -> str:
    audio = data.get("input")
    if not isinstance(audio, InputFile):
        return "Sandbox transcript: no audio was given."
    return (
        f"Sandbox transcript of file {audio.id} ({audio.name}, {len(audio.data):,} bytes): "
        "the sandbox recognises no speech."
    )


def context_write(data: Mapping[str, Any]) -> dict[str, Any]:
    """``testing-contextwrite``."""
    style = _text(data, "style_input", "Invalid inputs")
    source = _text(data, "source_input", "Invalid inputs")
    lines = (f"Style input: {style}", f"Source input: {source}", *_model_lines(data))
    return {"output": _fake_answer("result", *lines)}


def ocr(data: Mapping[str, Any]) -> dict[str, Any]:
    """One text per input file, saying what the file is (the sandbox reads no text)."""
    files: list[InputFile] = data.get("input") or []
    texts = []
    for index, image in enumerate(files):
        facts = read_image_facts(image.data)
        what = (
            f"a {facts.format} image of {facts.width}\N{MULTIPLICATION SIGN}{facts.height} px"
            if facts is not None
            else f"a {len(image.data):,}-byte file"
        )
        texts.append(
            f"[{index}] Sandbox OCR of file {image.id} ({image.name}), {what}: "
            "the sandbox reads no text."
        )
    return {"output": texts}


def chat(data: Mapping[str, Any]) -> dict[str, Any]:
    """``testing-text2textchat``."""
    system_prompt = _text(data, "system_prompt", "Invalid system prompt")
    message = _text(data, "input", "Invalid input message")
    return {"output": _chat_answer(system_prompt, message, _history(data))}


def text_to_image(data: Mapping[str, Any]) -> dict[str, Any]:
    """``testing-text2image``, with the 1-12 limit of the image generation bridge (§6.5).

    Each image differs (its colours come from the prompt and its index); ``size`` such as
    ``"256x256"`` sets the pixel size, up to 1024 per side.
    """
    prompt = _prompt(data)
    count = data.get("numberOfImages")
    count = count if type(count) is int else 1
    if count > _MAX_IMAGES:
        message = f"Cannot generate more than {_MAX_IMAGES} images"
        raise ProcessingError(message, user_facing_message=message)
    if count < 1:
        message = "Cannot generate less than 1 image"
        raise ProcessingError(message, user_facing_message=message)
    width = height = 64
    size = _SIZE.match(str(data.get("size", "")))
    if size is not None:
        width, height = (min(max(int(side), 1), _MAX_SIDE) for side in size.groups())
    return {"images": [png_image(f"{prompt}#{n}", width, height) for n in range(count)]}


# -- the sandbox's own fakes --------------------------------------------------------------------


def echo_text(kind: str) -> ProcessFunction:
    """Return a provider answering ``"This is a fake <kind>: <input>"``."""

    def process(data: Mapping[str, Any]) -> dict[str, Any]:
        return {"output": f"This is a fake {kind}: {_prompt(data)}"}

    return process


def topics(data: Mapping[str, Any]) -> dict[str, Any]:
    """Comma-separated topics, the last one echoing the input."""
    return {"output": f"fake topic, another fake topic, {_prompt(data)}"}


def generate_emoji(data: Mapping[str, Any]) -> dict[str, Any]:
    """One emoji, picked by a hash of the input."""
    digest = hashlib.sha256(_prompt(data).encode("utf-8")).digest()
    return {"output": _EMOJIS[digest[0] % len(_EMOJIS)]}


def change_tone(data: Mapping[str, Any]) -> dict[str, Any]:
    """Names the tone and echoes the text."""
    tone = str(data.get("tone"))
    return {
        "output": f"This is a fake text in the tone {dict(TONES).get(tone, tone)}: {_prompt(data)}"
    }


def improve(data: Mapping[str, Any]) -> dict[str, Any]:
    """Echoes text and instructions."""
    instructions = _text(data, "instructions", "Invalid instructions")
    lines = (f"Input: {_prompt(data)}", f"Instructions: {instructions}")
    return {"output": _fake_answer("improved text", *lines)}


def chat_with_tools(data: Mapping[str, Any]) -> dict[str, Any]:
    """The chat answer plus an empty list of tool calls."""
    return {**chat(data), "tool_calls": "[]"}


def context_agent(data: Mapping[str, Any]) -> dict[str, Any]:
    """Echoes the message; the new token is derived from the old token and the message."""
    message = _prompt(data)
    token = str(data.get("conversation_token", ""))
    return {
        "output": f"This is a fake agent response: {message}",
        "conversation_token": _token(token + message),
        "actions": "[]",
    }


def text_to_speech(data: Mapping[str, Any]) -> dict[str, Any]:
    """A short WAV tone whose pitch depends on the text."""
    return {"speech": wav_tone(_prompt(data))}


def audio_chat(data: Mapping[str, Any]) -> dict[str, Any]:
    """Transcript, a WAV answer and the answer's transcript."""
    system_prompt = _text(data, "system_prompt", "Invalid system prompt")
    answer = _chat_answer(system_prompt, _transcript(data), _history(data))
    return {
        "input_transcript": _transcript(data),
        "output": wav_tone(answer),
        "output_transcript": answer,
    }


def context_agent_audio(data: Mapping[str, Any]) -> dict[str, Any]:
    """The agent's answer to the transcript, as text and as WAV."""
    transcript = _transcript(data)
    result = context_agent({**data, "input": transcript})
    return {
        "input_transcript": transcript,
        "output": wav_tone(result["output"]),
        "output_transcript": result["output"],
        "conversation_token": result["conversation_token"],
        "actions": result["actions"],
    }


def analyze_images(data: Mapping[str, Any]) -> dict[str, Any]:
    """Real facts from the image headers; says plainly that it is no AI answer."""
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
            f"{facts.width}\N{MULTIPLICATION SIGN}{facts.height} px, {len(image.data):,} bytes."
        )
    return {
        "output": f'Sandbox image analysis (not an AI answer). Prompt: "{prompt}". '
        + (" ".join(described) if described else "No images were given.")
    }


def image_to_image(data: Mapping[str, Any]) -> dict[str, Any]:
    """A PNG derived from the prompt and the input file ids."""
    prompt = _text(data, "prompt", "Invalid prompt")
    images: list[InputFile] = data.get("input") or []
    return {"output": png_image(f"{prompt}#{[image.id for image in images]}")}


def subtitles(data: Mapping[str, Any]) -> dict[str, Any]:
    """A one-cue SRT file naming the input file."""
    source: InputFile = data["input"]
    return {"output": srt_subtitles(f"Fake subtitles for {source.name}")}


def audio_translate(data: Mapping[str, Any]) -> dict[str, Any]:
    """A WAV tone whose pitch depends on the languages and the input file."""
    source: InputFile = data["input"]
    seed = f"{data.get('origin_language')}>{data.get('target_language')}:{source.id}"
    return {"audio_output": wav_tone(seed)}


def multimodal_chat_with_tools(data: Mapping[str, Any]) -> dict[str, Any]:
    """The chat answer, no output attachments and no tool calls."""
    return {**chat(data), "output_attachments": [], "tool_calls": "[]"}


def multimodal_context_agent(data: Mapping[str, Any]) -> dict[str, Any]:
    """The agent's answer, no output attachments and no sources."""
    return {**context_agent(data), "output_attachments": [], "sources": []}
