"""Unit tests of checking task input against the declared task type."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_nextcloud.client.errors import TaskInputError
from prefect_nextcloud.client.models import TaskType
from prefect_nextcloud.client.validation import is_file_id, validate_input
from prefect_nextcloud.client.versions import ServerVersion, needs_newer_server

TRANSLATE = TaskType.model_validate(
    {
        "id": "core:text2text:translate",
        "name": "Translate",
        "inputShape": {
            "input": {"name": "Input text", "description": "The text to translate", "type": "Text"},
            "origin_language": {"name": "Origin", "description": "Source", "type": "Enum"},
            "target_language": {"name": "Target", "description": "Target", "type": "Enum"},
        },
        "inputShapeEnumValues": {
            "origin_language": [
                {"name": "Detect", "value": "detect_language"},
                {"name": "English", "value": "en"},
            ],
            "target_language": [
                {"name": "English", "value": "en"},
                {"name": "German", "value": "de"},
            ],
        },
        "inputShapeDefaults": {"origin_language": "detect_language"},
        "optionalInputShape": {"max_tokens": {"name": "Max", "description": "", "type": "Number"}},
        "outputShape": {"output": {"name": "Out", "description": "", "type": "Text"}},
    }
)
IMAGES = TaskType.model_validate(
    {
        "id": "core:analyze-images",
        "name": "Analyze images",
        "inputShape": {
            "images": {"name": "Images", "description": "", "type": "ListOfImages"},
            "input": {"name": "Question", "description": "", "type": "Text"},
        },
    }
)


@pytest.mark.parametrize(
    "given",
    [
        {"input": "Hallo", "target_language": "en"},
        {"input": "Hallo", "target_language": "en", "origin_language": "detect_language"},
        {"input": "Hallo", "target_language": "de", "max_tokens": "200"},
        {"input": "Hallo", "target_language": "de", "max_tokens": 12.5},
    ],
)
def test_valid_input_passes(given: dict[str, Any]) -> None:
    validate_input(TRANSLATE, given)


@pytest.mark.parametrize(
    ("given", "slot", "message"),
    [
        (
            {"target_language": "en"},
            "input",
            "needs input slot 'input' (Text: The text to translate)",
        ),
        ({"input": None, "target_language": "en"}, "input", "needs input slot 'input'"),
        ({"input": "x"}, "target_language", "needs input slot 'target_language'"),
        (
            {"input": "x", "target_language": "fr"},
            "target_language",
            "'fr' is not offered; allowed: 'en', 'de'",
        ),
        ({"input": 3, "target_language": "en"}, "input", "expected a string, got int 3"),
        (
            {"input": "x", "target_language": "en", "max_tokens": "many"},
            "max_tokens",
            "expected a number",
        ),
        (
            {"input": "x", "target_language": "en", "max_tokens": True},
            "max_tokens",
            "expected a number",
        ),
        (
            {"input": "x", "target_language": "en", "targetlanguage": "de"},
            "targetlanguage",
            "has no input slot 'targetlanguage'",
        ),
    ],
)
def test_invalid_input_names_the_slot(given: dict[str, Any], slot: str, message: str) -> None:
    with pytest.raises(
        TaskInputError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as info:
        validate_input(TRANSLATE, given)
    assert info.value.slot == slot
    assert info.value.task_type == "core:text2text:translate"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (12, "expected a list"),
        (["/Photos/a.jpg"], "item 0: expected a file id"),
        ([3, 0], "item 1: expected a file id"),
    ],
)
def test_file_slots_need_file_ids(images: Any, message: str) -> None:
    with pytest.raises(TaskInputError, match=message):
        validate_input(IMAGES, {"images": images, "input": "What?"})


def test_a_file_check_decides_what_a_file_slot_accepts() -> None:
    checked: list[object] = []

    def references_too(value: object) -> bool:
        checked.append(value)
        return True

    given = {"images": ["nc:/a.jpg", 7], "input": "?"}
    with pytest.raises(TaskInputError, match="item 0: expected a file id"):
        validate_input(IMAGES, given)
    validate_input(IMAGES, given, file_check=references_too)
    assert checked == ["nc:/a.jpg", 7]


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), ("42", True), (0, False), ("4a", False), (True, False), (2.0, False)],
)
def test_is_file_id(value: object, ok: bool) -> None:
    assert is_file_id(value) is ok


@pytest.mark.parametrize(
    ("task_type", "major", "reason"),
    [
        ("core:analyze-images", 31, "needs Nextcloud 32+"),
        ("core:image2text:ocr", 32, "needs Nextcloud 33+"),
        ("core:text2text:translate", 29, "needs Nextcloud 30+"),
        ("core:text2text", 28, None),
        ("core:analyze-images", 33, None),
        ("vendor:custom", 28, "needs Nextcloud 30+"),
        ("vendor:custom", 31, None),
    ],
)
def test_needs_newer_server(task_type: str, major: int, reason: str | None) -> None:
    said = needs_newer_server(task_type, ServerVersion(major))
    assert (said is None) if reason is None else (reason in (said or ""))
