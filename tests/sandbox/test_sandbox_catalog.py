"""Every core task type: which versions offer it, and a run of each to STATUS_SUCCESSFUL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import TP, client_for, ocs_data, schedule, schedule_ok

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for, sample_image_bytes

TYPES_30 = [
    "core:text2text",
    "core:text2text:headline",
    "core:text2text:topics",
    "core:text2text:summary",
    "core:text2text:formalization",
    "core:text2text:simplification",
    "core:text2text:reformulation",
    "core:text2text:chat",
    "core:text2text:translate",
    "core:text2image",
    "core:audio2text",
    "core:contextwrite",
    "core:generateemoji",
]
TYPES_31 = [
    *TYPES_30,
    "core:text2text:changetone",
    "core:text2text:chatwithtools",
    "core:contextagent:interaction",
    "core:text2text:proofread",
]
TYPES_32 = [
    *TYPES_31,
    "core:text2speech",
    "core:audio2audio:chat",
    "core:contextagent:audio-interaction",
    "core:analyze-images",
]
TYPES_33 = [*TYPES_32, "core:image2text:ocr"]
TYPES_34 = [*TYPES_33, "core:text2text:reformatparagraphs"]
INTERNAL_35 = [
    "core:text2text:multimodal-chatwithtools",
    "core:contextagent:multimodal-interaction",
]
TYPES_35 = [
    *TYPES_34,
    "core:text2text:improve",
    "core:image2image",
    "core:audio2text:subtitles",
    "core:audio2audio:translate",
    *INTERNAL_35,
]
TYPES_BY_VERSION = {30: TYPES_30, 31: TYPES_31, 32: TYPES_32, 33: TYPES_33, 34: TYPES_34}
TYPES_BY_VERSION[35] = TYPES_35

FILE = re.compile(r"\$(\w+)")


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[NextcloudSandbox]:
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, rate_limit=10_000, server_version=35) as sandbox:
        yield sandbox


@pytest.mark.parametrize("version", sorted(TYPES_BY_VERSION))
def test_task_types_by_version(version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox, client_for(sandbox, "alice") as alice:
        types = ocs_data(alice.get(f"{TP}/tasktypes"))["types"]
        assert list(types) == TYPES_BY_VERSION[version]
        for type_id, task_type in types.items():
            assert ("isInternal" in task_type) is (version >= 33)
            if version >= 33:
                assert task_type["isInternal"] is (type_id in INTERNAL_35)


def test_unavailable_task_types_are_not_offered() -> None:
    with (
        NextcloudSandbox(unavailable_task_types=["core:text2image"]) as sandbox,
        client_for(sandbox, "alice") as alice,
    ):
        assert "core:text2image" not in ocs_data(alice.get(f"{TP}/tasktypes"))["types"]
        response = schedule(alice, "core:text2image", {"input": "x"})
        assert response.status_code == 412


def test_translate_shape(alice: httpx.Client) -> None:
    translate = ocs_data(alice.get(f"{TP}/tasktypes"))["types"]["core:text2text:translate"]
    origin = [v["value"] for v in translate["inputShapeEnumValues"]["origin_language"]]
    target = [v["value"] for v in translate["inputShapeEnumValues"]["target_language"]]
    assert origin == ["detect_language", *target]
    assert {"en", "de", "fr", "zh_CN"} <= set(target)
    assert translate["inputShapeDefaults"] == {"origin_language": "detect_language"}
    assert translate["optionalInputShapeDefaults"] == {"max_tokens": 200, "model": "model_3"}


def test_translate_enum_error(alice: httpx.Client) -> None:
    response = schedule(
        alice, "core:text2text:translate", {"input": "Hallo", "target_language": "klingon"}
    )
    assert response.status_code == 400
    message = ocs_data(response)["message"]
    assert message.startswith(
        'Failed to validate input key "target_language": Wrong value given for Enum slot. '
        'Got "klingon", but expected one of the provided enum values: "en", "es", '
    )


def test_change_tone_offers_tones_with_a_default(alice: httpx.Client) -> None:
    tone = ocs_data(alice.get(f"{TP}/tasktypes"))["types"]["core:text2text:changetone"]
    assert tone["inputShape"]["tone"]["type"] == "Enum"
    values = [v["value"] for v in tone["inputShapeEnumValues"]["tone"]]
    assert tone["inputShapeDefaults"] == {"tone": values[0]}


AUDIO_FACTS = "voice.m4a, 16 bytes"
NO_SPEECH = "the sandbox recognises no speech."
RUNS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "core:text2text",
        {"input": "Hi", "max_tokens": 7},
        {
            "output": "This is a fake result: \n\n- Prompt: Hi\n- Model: model_2\n"
            "- Maximum number of words: 7"
        },
    ),
    ("core:text2text:headline", {"input": "Hi"}, {"output": "This is a fake headline: Hi"}),
    ("core:text2text:topics", {"input": "Hi"}, {"output": "fake topic, another fake topic, Hi"}),
    (
        "core:text2text:summary",
        {"input": "Hi there. More.\n\nSecond part!  Rest"},
        {"output": "Sandbox summary of 2 paragraphs (6 words): Hi there. Second part!"},
    ),
    (
        "core:text2text:formalization",
        {"input": "Hi"},
        {"output": "This is a fake formalized text: Hi"},
    ),
    (
        "core:text2text:simplification",
        {"input": "Hi"},
        {"output": "This is a fake simplified text: Hi"},
    ),
    (
        "core:text2text:reformulation",
        {"input": "Hi"},
        {"output": "This is a fake reformulated text: Hi"},
    ),
    (
        "core:text2text:chat",
        {"system_prompt": "Be nice", "input": "Hi", "history": ["a", "b"]},
        {
            "output": "This is a fake response message: \n\n- System prompt: Be nice\n"
            "- Input message: Hi\n- Message history:\n2 messages"
        },
    ),
    (
        "core:text2text:translate",
        {"input": "Hallo", "target_language": "en"},
        {"output": "Fake Translation to English (US): Hallo\n\nModel: model_3\nMax tokens: 200"},
    ),
    (
        "core:text2text:translate",
        {"input": "Hallo", "origin_language": "de", "target_language": "fr", "max_tokens": "9"},
        {
            "output": "Fake translation from Deutsch (Pers\u00f6nlich: Du) to Fran\u00e7ais: "
            "Hallo\n\nModel: model_3\nMax tokens: "
        },
    ),
    (
        "core:audio2text",
        {"input": "$audio"},
        {"output": f"Sandbox transcript of file {{audio}} ({AUDIO_FACTS}): {NO_SPEECH}"},
    ),
    (
        "core:contextwrite",
        {"style_input": "Terse", "source_input": "Long"},
        {
            "output": "This is a fake result: \n\n- Style input: Terse\n- Source input: Long\n"
            "- Model: model_2\n- Maximum number of words: 4321"
        },
    ),
    (
        "core:text2text:changetone",
        {"input": "Hi", "tone": "formal"},
        {"output": "This is a fake text in the tone More formal: Hi"},
    ),
    (
        "core:text2text:proofread",
        {"input": "Hi"},
        {"output": "This is a fake proofreading result, no corrections for: Hi"},
    ),
    (
        "core:text2text:reformatparagraphs",
        {"input": "Hi"},
        {"output": "This is a fake reformatted text: Hi"},
    ),
    (
        "core:text2text:improve",
        {"input": "Hi", "instructions": "Shorter"},
        {"output": "This is a fake improved text: \n\n- Input: Hi\n- Instructions: Shorter"},
    ),
    (
        "core:image2text:ocr",
        {"input": ["$image", "$audio"]},
        {
            "output": [
                "[0] Sandbox OCR of file {image} (sample.png), a PNG image of 64\N{MULTIPLICATION SIGN}48"
                " px: the sandbox reads no text.",
                "[1] Sandbox OCR of file {audio} (voice.m4a), a 16-byte file: the sandbox reads no "
                "text.",
            ]
        },
    ),
]


def _expected(value: Any, files: dict[str, int]) -> Any:
    """The expected output with ``{image}`` and ``{audio}`` replaced by the file ids."""
    if isinstance(value, dict):
        return {key: _expected(item, files) for key, item in value.items()}
    if isinstance(value, list):
        return [_expected(item, files) for item in value]
    return value.format(**files) if isinstance(value, str) else value


def _resolve(value: Any, files: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {key: _resolve(item, files) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, files) for item in value]
    if isinstance(value, str) and (match := FILE.fullmatch(value)):
        return files[match.group(1)]
    return value


@pytest.fixture
def files(sb: NextcloudSandbox) -> dict[str, int]:
    return {
        "image": sb.upload("catalog/sample.png", sample_image_bytes()),
        # Audio slots take any file the user owns; the server only checks existence and access.
        "audio": sb.upload("catalog/voice.m4a", b"not really audio"),
    }


@pytest.mark.parametrize(("task_type", "task_input", "output"), RUNS)
def test_text_outputs(
    sb: NextcloudSandbox,
    alice: httpx.Client,
    files: dict[str, int],
    task_type: str,
    task_input: dict[str, Any],
    output: dict[str, Any],
) -> None:
    task = schedule_ok(alice, task_type, _resolve(task_input, files))
    assert sb.wait_for_status(task["id"], "SUCCESSFUL").output == _expected(output, files)


def _run(
    sb: NextcloudSandbox, alice: httpx.Client, task_type: str, task_input: dict[str, Any]
) -> dict[str, Any]:
    task = schedule_ok(alice, task_type, task_input)
    output = sb.wait_for_status(task["id"], "SUCCESSFUL").output
    assert output is not None
    return output


def _download(alice: httpx.Client, task_id: int, file_id: int) -> httpx.Response:
    response = alice.get(f"{TP}/tasks/{task_id}/file/{file_id}")
    assert response.status_code == 200, response.text
    return response


def test_generate_emoji(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    first = _run(sb, alice, "core:generateemoji", {"input": "party"})
    assert first == _run(sb, alice, "core:generateemoji", {"input": "party"})
    assert len(first["output"]) == 1
    assert not first["output"].isascii()


def test_chat_with_tools_and_agents(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    chat = {"system_prompt": "S", "input": "Hi", "history": [], "tool_message": "", "tools": "[]"}
    output = _run(sb, alice, "core:text2text:chatwithtools", chat)
    assert output["tool_calls"] == "[]"
    assert output["output"].startswith("This is a fake response message: ")
    agent = {"input": "Hi", "confirmation": 0, "conversation_token": ""}
    first = _run(sb, alice, "core:contextagent:interaction", agent)
    assert first["output"] == "This is a fake agent response: Hi"
    assert first["actions"] == "[]"
    again = _run(sb, alice, "core:contextagent:interaction", {**agent, "conversation_token": "x"})
    assert again["conversation_token"] != first["conversation_token"]


def test_internal_multimodal_types(
    sb: NextcloudSandbox, alice: httpx.Client, files: dict[str, int]
) -> None:
    chat = {
        "system_prompt": "S",
        "input": "Hi",
        "history": [],
        "tool_message": "",
        "tools": "[]",
        "input_attachments": [files["image"]],
    }
    output = _run(sb, alice, "core:text2text:multimodal-chatwithtools", chat)
    assert output["output_attachments"] == []
    agent = {
        "input": "Hi",
        "input_attachments": [],
        "confirmation": 1,
        "conversation_token": "",
        "memories": ["likes tea"],
    }
    output = _run(sb, alice, "core:contextagent:multimodal-interaction", agent)
    assert output["sources"] == []
    assert output["output"] == "This is a fake agent response: Hi"


def test_audio_outputs_are_wav_files(
    sb: NextcloudSandbox, alice: httpx.Client, files: dict[str, int]
) -> None:
    audio = files["audio"]
    chat = _run(
        sb, alice, "core:audio2audio:chat", {"system_prompt": "S", "input": audio, "history": []}
    )
    transcript = f"Sandbox transcript of file {audio} ({AUDIO_FACTS}): {NO_SPEECH}"
    assert chat["input_transcript"] == transcript
    assert chat["output_transcript"].startswith("This is a fake response message: ")
    agent = _run(
        sb,
        alice,
        "core:contextagent:audio-interaction",
        {"input": audio, "confirmation": 1, "conversation_token": ""},
    )
    assert agent["output_transcript"] == f"This is a fake agent response: {transcript}"
    translated = _run(
        sb, alice, "core:audio2audio:translate", {"input": audio, "target_language": "de"}
    )
    for task_id, file_id in (
        (sb.tasks()[-3].id, chat["output"]),
        (sb.tasks()[-2].id, agent["output"]),
        (sb.tasks()[-1].id, translated["audio_output"]),
    ):
        response = _download(alice, task_id, file_id)
        assert response.headers["content-type"] == "audio/x-wav"
        assert response.content[:4] == b"RIFF"


def test_image_to_image_and_subtitles(
    sb: NextcloudSandbox, alice: httpx.Client, files: dict[str, int]
) -> None:
    edited = _run(sb, alice, "core:image2image", {"input": [files["image"]], "prompt": "bluer"})
    image = _download(alice, sb.tasks()[-1].id, edited["output"])
    assert image.headers["content-type"] == "image/png"
    assert image.content != sample_image_bytes()
    subtitled = _run(sb, alice, "core:audio2text:subtitles", {"input": files["audio"]})
    srt = _download(alice, sb.tasks()[-1].id, subtitled["output"])
    assert srt.headers["content-type"] == "text/plain"
    assert srt.text == "1\n00:00:00,000 --> 00:00:02,000\nFake subtitles for voice.m4a\n"
