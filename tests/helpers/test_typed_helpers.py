"""Every typed helper against the sandbox over real HTTP, with its error cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flow_helpers import OPTIONS, in_flow

from prefect_nextcloud import NextcloudPath
from prefect_nextcloud.client import (
    NextcloudFileNotFoundError,
    TaskInputError,
    TaskTypeUnavailableError,
)
from prefect_nextcloud.client.references import LocalFile
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import (
    ChatMessage,
    RunOptions,
    analyze_images,
    change_tone,
    chat,
    context_write,
    extract_topics,
    formalize,
    generate_emoji,
    generate_headline,
    generate_images,
    generate_text,
    ocr,
    proofread,
    reformulate,
    run_task,
    simplify,
    summarize,
    text_to_speech,
    transcribe_audio,
    translate,
)

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[NextcloudSandbox]:
    """One sandbox (Nextcloud 33) for the happy paths of this module."""
    with NextcloudSandbox(rate_limit=10_000) as sb:
        yield sb


@pytest.mark.parametrize(
    ("helper", "arguments", "task_type", "expected"),
    [
        (
            summarize,
            {"text": "Long text"},
            "core:text2text:summary",
            "Sandbox summary of 1 paragraph (2 words): Long text",
        ),
        (generate_headline, {"text": "News"}, "core:text2text:headline", "News"),
        (reformulate, {"text": "Say it"}, "core:text2text:reformulation", "Say it"),
        (simplify, {"text": "Complex"}, "core:text2text:simplification", "Complex"),
        (formalize, {"text": "hey"}, "core:text2text:formalization", "hey"),
        (proofread, {"text": "Teh cat"}, "core:text2text:proofread", "Teh cat"),
        (generate_text, {"prompt": "Haiku"}, "core:text2text", "- Prompt: Haiku\n- Model: model_2"),
        (
            generate_text,
            {"prompt": "Haiku", "model": "model_3", "max_tokens": 20},
            "core:text2text",
            "- Model: model_3\n- Maximum number of words: 20",
        ),
        (
            translate,
            {"text": "Hallo", "target_language": "en"},
            "core:text2text:translate",
            "Fake Translation to English (US): Hallo",
        ),
        (
            translate,
            {"text": "Hola", "target_language": "en", "origin_language": "es"},
            "core:text2text:translate",
            "Fake translation from Español (España) to English (US): Hola",
        ),
        (
            change_tone,
            {"text": "Do it", "tone": "friendly"},
            "core:text2text:changetone",
            "Friendlier: Do it",
        ),
        (
            chat,
            {
                "message": "And now?",
                "system_prompt": "Be brief",
                "history": [
                    ChatMessage(role="human", content="Hi"),
                    '{"role": "assistant", "content": "Hello"}',
                ],
            },
            "core:text2text:chat",
            "- System prompt: Be brief\n- Input message: And now?\n- Message history:\n2 messages",
        ),
        (
            context_write,
            {"style_input": "Formal", "source_input": "Facts"},
            "core:contextwrite",
            "- Style input: Formal\n- Source input: Facts",
        ),
    ],
    ids=lambda value: value.name if hasattr(value, "name") and hasattr(value, "fn") else None,
)
def test_text_helpers(
    shared_sandbox: NextcloudSandbox,
    helper: Any,
    arguments: dict[str, Any],
    task_type: str,
    expected: str,
) -> None:
    credentials = shared_sandbox.credentials
    result = in_flow(lambda: helper(credentials, **arguments, options=OPTIONS))
    assert expected in result.text
    assert result.task.type == task_type
    assert result.task.status == "STATUS_SUCCESSFUL"


def test_chat_history_is_sent_as_json_messages(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    history = [
        ChatMessage(role="human", content="Hi"),
        ChatMessage(role="assistant", content="Hey"),
    ]
    result = in_flow(lambda: chat(credentials, "Go on", history=history, options=OPTIONS))
    sent = shared_sandbox.task(result.task_id).input["history"]
    assert [json.loads(item) for item in sent] == [
        {"role": "human", "content": "Hi"},
        {"role": "assistant", "content": "Hey"},
    ]


@pytest.mark.parametrize(
    ("helper", "arguments", "sent"),
    [
        (generate_text, {"prompt": "Haiku"}, {"input": "Haiku"}),
        (
            generate_text,
            {"prompt": "Haiku", "max_tokens": 20},
            {"input": "Haiku", "max_tokens": 20},
        ),
        (
            translate,
            {"text": "Hallo", "target_language": "en"},
            {"input": "Hallo", "target_language": "en"},
        ),
        (generate_images, {"prompt": "a fox"}, {"input": "a fox", "numberOfImages": 1}),
        (
            generate_images,
            {"prompt": "a fox", "size": "256x256"},
            {"input": "a fox", "numberOfImages": 1, "size": "256x256"},
        ),
    ],
    ids=["text", "text+max_tokens", "translate", "images", "images+size"],
)
def test_an_optional_slot_is_sent_only_when_set(
    sandbox: NextcloudSandbox, helper: Any, arguments: dict[str, Any], sent: dict[str, Any]
) -> None:
    credentials = sandbox.credentials
    in_flow(lambda: helper(credentials, **arguments, options=OPTIONS))
    [schedule] = sandbox.requests_to("POST", "/schedule$")
    assert json.loads(schedule.body)["input"] == sent


def test_extract_topics_splits_the_answer(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    result = in_flow(lambda: extract_topics(credentials, "Cats and dogs", options=OPTIONS))
    assert result.texts == ["fake topic", "another fake topic", "Cats and dogs"]


def test_generate_emoji(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    result = in_flow(lambda: generate_emoji(credentials, "launch day", options=OPTIONS))
    assert result.text
    assert not result.text.isascii()


def test_translate_refuses_a_language_the_server_does_not_offer(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with pytest.raises(TaskInputError, match="'xx' is not offered; allowed: 'en'") as info:
        in_flow(lambda: translate(credentials, "Hallo", target_language="xx", options=OPTIONS))
    assert info.value.slot == "target_language"
    assert sandbox.requests_to("POST", "/schedule$") == []


def test_change_tone_refuses_an_unknown_tone(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with pytest.raises(TaskInputError, match="'angry' is not offered; allowed: 'friendly'"):
        in_flow(lambda: change_tone(credentials, "Do it", tone="angry", options=OPTIONS))


def test_run_task_refuses_a_slot_the_provider_lacks(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with pytest.raises(TaskInputError, match="has no input slot 'max_tokens'"):
        in_flow(
            lambda: run_task(
                credentials,
                "core:text2text:headline",
                {"input": "x", "max_tokens": 3},
                options=OPTIONS,
            )
        )
    assert sandbox.requests_to("POST", "/schedule$") == []


def test_generated_images_are_downloaded(
    shared_sandbox: NextcloudSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", str(tmp_path))
    credentials = shared_sandbox.credentials
    result = in_flow(
        lambda: generate_images(
            credentials,
            "a fox",
            number_of_images=2,
            options=RunOptions(
                timeout_seconds=30.0, poll_interval_seconds=0.05, save_outputs_to=f"file:{tmp_path}"
            ),
        )
    )
    assert len(result.files) == 2
    for image in result.files:
        assert image.content.startswith(b"\x89PNG")
        assert image.content_type == "image/png"
        assert image.filename
    assert result.files[0].content != result.files[1].content
    saved = sorted(tmp_path.iterdir())
    assert [path.name for path in saved] == [
        f"task-{result.task_id}-images-1.png",
        f"task-{result.task_id}-images-2.png",
    ]
    assert saved[0].read_bytes() == result.files[0].content


def test_generated_images_can_be_saved_to_nextcloud(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    result = in_flow(
        lambda: generate_images(
            credentials,
            "a fox",
            options=RunOptions(
                timeout_seconds=30.0, poll_interval_seconds=0.05, save_outputs_to="nc:/Generated"
            ),
        )
    )
    with credentials.get_client() as client:
        saved = client.download_file(f"/Generated/task-{result.task_id}-images-1.png")
    assert saved == result.files[0].content


def test_generate_images_refuses_a_bad_count(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with pytest.raises(ValueError, match="number_of_images must be 1 to 12"):
        in_flow(lambda: generate_images(credentials, "x", number_of_images=13, options=OPTIONS))
    assert sandbox.requests == []


def test_text_to_speech_returns_audio(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    result = in_flow(lambda: text_to_speech(credentials, "Hello there", options=OPTIONS))
    [audio] = result.files
    assert audio.content.startswith(b"RIFF")
    assert "wav" in str(audio.content_type)


def test_transcribe_audio_from_a_local_file(
    shared_sandbox: NextcloudSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", str(tmp_path))
    credentials = shared_sandbox.credentials
    recording = tmp_path / "memo.wav"
    recording.write_bytes(b"RIFF0000WAVEfmt ")
    result = in_flow(lambda: transcribe_audio(credentials, f"file:{recording}", options=OPTIONS))
    assert result.text.startswith("Sandbox transcript of file ")
    assert result.text.endswith("-memo.wav, 16 bytes): the sandbox recognises no speech.")
    assert isinstance(shared_sandbox.task(result.task_id).input["input"], int)
    # The staged upload is removed again once the task has ended.
    [upload] = shared_sandbox.requests_to("PUT", r"/prefect-nextcloud/uploads/[0-9a-f]+-memo\.wav$")
    [removal] = shared_sandbox.requests_to(
        "DELETE", r"/prefect-nextcloud/uploads/[0-9a-f]+-memo\.wav$"
    )
    assert (upload.path, removal.status) == (removal.path, 204)


def test_ocr_one_text_per_file(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    first = shared_sandbox.upload("scan1.png", sample_image_bytes())
    shared_sandbox.upload("Scans/scan2.png", sample_image_bytes())
    result = in_flow(
        lambda: ocr(
            credentials,
            [first, "nc:/Scans/scan2.png", LocalFile(name="scan3.png", data=sample_image_bytes())],
            options=OPTIONS,
        )
    )
    assert len(result.texts) == 3
    for index, text in enumerate(result.texts):
        assert text.startswith(f"[{index}] Sandbox OCR of file ")
        assert text.endswith(
            "a PNG image of 64\N{MULTIPLICATION SIGN}48 px: the sandbox reads no text."
        )


def test_analyze_images_by_path_and_local_bytes(shared_sandbox: NextcloudSandbox) -> None:
    credentials = shared_sandbox.credentials
    shared_sandbox.upload("Photos/cat.png", sample_image_bytes())
    result = in_flow(
        lambda: analyze_images(
            credentials,
            "What?",
            [NextcloudPath("/Photos/cat.png"), ("dog.png", sample_image_bytes())],
            options=OPTIONS,
        )
    )
    assert "Image 1" in result.analysis_text
    assert "Image 2" in result.analysis_text


def test_a_missing_path_fails_before_scheduling(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    with pytest.raises(NextcloudFileNotFoundError, match=r"Not found: /Photos/missing\.png"):
        in_flow(
            lambda: analyze_images(credentials, "What?", "nc:/Photos/missing.png", options=OPTIONS)
        )
    assert sandbox.requests_to("POST", "/schedule$") == []
    assert sandbox.requests_to("PUT", "") == []


def test_a_folder_is_not_a_file(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    sandbox.upload("Photos/cat.png", sample_image_bytes())
    with pytest.raises(ValueError, match="is a folder, not a file"):
        in_flow(lambda: analyze_images(credentials, "What?", "nc:/Photos", options=OPTIONS))


def test_a_missing_local_file_uploads_nothing(sandbox: NextcloudSandbox, tmp_path: Path) -> None:
    credentials = sandbox.credentials
    with pytest.raises(ValueError, match="does not exist"):
        in_flow(lambda: transcribe_audio(credentials, tmp_path / "nope.wav", options=OPTIONS))
    assert sandbox.requests_to("PUT", "") == []


def test_a_file_of_another_user_is_no_access(sandbox: NextcloudSandbox) -> None:
    credentials = sandbox.credentials
    bobs = sandbox.upload("secret.png", sample_image_bytes(), user_id="bob")
    from prefect_nextcloud.client import FileAccessDeniedError

    with pytest.raises(FileAccessDeniedError, match="No access to a file"):
        in_flow(lambda: analyze_images(credentials, "What?", bobs, options=OPTIONS))


def test_output_no_longer_on_the_server(sandbox: NextcloudSandbox) -> None:
    from prefect_nextcloud.client import TaskFileNotFoundError

    with sandbox.credentials.get_client() as client:
        task = client.schedule_task("core:text2image", {"input": "x"})
        done = sandbox.wait_for_status(task.id, "STATUS_SUCCESSFUL")
        [image_id] = done.output["images"]
        sandbox.cleanup_task(task.id)
        with pytest.raises(TaskFileNotFoundError, match="no longer on the server"):
            client.get_task_file(task.id, image_id)


@pytest.mark.parametrize(
    ("version", "helper", "arguments", "since"),
    [
        (32, ocr, {"files": [1]}, 33),
        (31, text_to_speech, {"text": "x"}, 32),
        (31, analyze_images, {"prompt": "x", "image_file_ids": [1]}, 32),
        (30, change_tone, {"text": "x", "tone": "friendly"}, 31),
        (30, proofread, {"text": "x"}, 31),
        (28, translate, {"text": "x", "target_language": "en"}, 30),
        (28, transcribe_audio, {"audio": 1}, 30),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
def test_a_type_the_server_version_lacks(
    version: int, helper: Any, arguments: dict[str, Any], since: int
) -> None:
    with NextcloudSandbox(server_version=version) as sandbox:
        credentials = sandbox.credentials
        with pytest.raises(TaskTypeUnavailableError, match=f"needs Nextcloud {since}\\+"):
            in_flow(lambda: helper(credentials, **arguments, options=OPTIONS))
        assert sandbox.requests_to("POST", "/schedule$") == []


@pytest.mark.parametrize("inline", [True, False], ids=["answered-finished", "through-workers"])
@pytest.mark.parametrize(
    ("helper", "arguments", "check"),
    [
        (generate_text, {"prompt": "Haiku"}, lambda r: "- Prompt: Haiku" in r.text),
        (summarize, {"text": "Long"}, lambda r: r.text.endswith("(1 word): Long")),
        (generate_headline, {"text": "News"}, lambda r: "News" in r.text),
        (extract_topics, {"text": "Cats"}, lambda r: "Cats" in r.texts),
    ],
    ids=lambda value: value.name if hasattr(value, "fn") else None,
)
def test_text_helpers_on_nextcloud_28(
    helper: Any, arguments: dict[str, Any], check: Any, inline: bool
) -> None:
    with NextcloudSandbox(server_version=28, legacy_run_inline=inline) as sandbox:
        credentials = sandbox.credentials
        result = in_flow(lambda: helper(credentials, **arguments, options=OPTIONS))
        assert check(result)
        assert sandbox.requests_to("POST", "/textprocessing/schedule$")
        # One look at the task types (404 on Nextcloud 28) tells the API is missing; no other.
        probes = sandbox.requests_to(None, "/taskprocessing/")
        assert [(probe.method, probe.path, probe.status) for probe in probes] == [
            ("GET", "/ocs/v2.php/taskprocessing/tasktypes", 404)
        ]
        if inline:  # the schedule answer already carried the result: no poll was needed
            assert sandbox.requests_to("GET", "/textprocessing/task/") == []
