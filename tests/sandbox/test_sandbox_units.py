"""Units: image facts, PHP semantics, slot type checks, task outcomes, OCS rendering, passwords."""

from __future__ import annotations

import pytest
from sandbox_helpers import make_bmp, make_gif, make_jpeg, make_png, make_webp

from prefect_nextcloud.sandbox import (
    DEFAULT_APP_PASSWORD,
    SAMPLE_IMAGE_PATH,
    app_password_for,
    sample_image_bytes,
)
from prefect_nextcloud.sandbox.http.phpcompat import (
    is_numeric,
    parse_str,
    to_bool,
    to_int,
    to_string,
    to_timestamp,
)
from prefect_nextcloud.sandbox.ocs.envelope import JsonObject, negotiate_format, php_json
from prefect_nextcloud.sandbox.storage.filetypes import mime_type_for_name, sniff_mime_type
from prefect_nextcloud.sandbox.storage.images import ImageFacts, read_image_facts
from prefect_nextcloud.sandbox.storage.records import Task, TaskStatus
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.processing import process_task
from prefect_nextcloud.sandbox.taskprocessing.providers import (
    AvailableTaskType,
    ProcessFunction,
    ProcessingError,
    ProviderSpec,
    Shape,
    ShapeType,
    TaskTypeSpec,
)
from prefect_nextcloud.sandbox.taskprocessing.validation import (
    InputValidationError,
    prepare_input,
)


@pytest.mark.parametrize(
    ("data", "facts"),
    [
        (make_png(7, 3), ImageFacts("PNG", "image/png", 7, 3)),
        (make_jpeg(640, 480), ImageFacts("JPEG", "image/jpeg", 640, 480)),
        (make_gif(5, 9), ImageFacts("GIF", "image/gif", 5, 9)),
        (make_webp(320, 200, "VP8 "), ImageFacts("WebP", "image/webp", 320, 200)),
        (make_webp(4000, 3000, "VP8L"), ImageFacts("WebP", "image/webp", 4000, 3000)),
        (make_webp(1920, 1080, "VP8X"), ImageFacts("WebP", "image/webp", 1920, 1080)),
        (make_bmp(33, -44), ImageFacts("BMP", "image/bmp", 33, 44)),
    ],
)
def test_image_facts(data: bytes, facts: ImageFacts) -> None:
    assert read_image_facts(data) == facts
    assert sniff_mime_type(data) == facts.mime_type


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xd9", b"RIFF\0\0\0\0WAVE", b"BM"]
)
def test_no_image_facts(data: bytes) -> None:
    assert read_image_facts(data) is None


def test_sample_image() -> None:
    assert SAMPLE_IMAGE_PATH.name == "sample.png"
    data = sample_image_bytes()
    assert len(data) < 4096
    assert read_image_facts(data) == ImageFacts("PNG", "image/png", 64, 48)


def test_mime_types() -> None:
    assert mime_type_for_name("a/b/photo.JPG") == "image/jpeg"
    assert mime_type_for_name("blob") == "application/octet-stream"
    assert sniff_mime_type(b"plain words") == "text/plain"
    assert sniff_mime_type(b"") == "application/x-empty"
    assert sniff_mime_type(b"\x00\xff\xfe") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, True),
        (1.5, True),
        ("12", True),
        (" 12", True),
        ("12 ", True),
        ("-1.5e3", True),
        (".5", True),
        ("0x1A", False),
        ("12abc", False),
        ("", False),
        (True, False),
        (None, False),
        ([1], False),
    ],
)
def test_is_numeric(value: object, expected: bool) -> None:
    assert is_numeric(value) is expected


def test_php_casts() -> None:
    assert [to_int(v) for v in ("12abc", "abc", " 7", "1e3", 3.9, True, None)] == [
        12,
        0,
        7,
        1000,
        3,
        1,
        0,
    ]
    assert [to_string(v) for v in (True, False, None, 1.0, 0.5, 3)] == [
        "1",
        "",
        "",
        "1",
        "0.5",
        "3",
    ]
    values: tuple[object, ...] = ("false", "0", "", "no", 0, 1, [])
    assert [to_bool(v) for v in values] == [
        False,
        False,
        False,
        True,
        False,
        True,
        False,
    ]


def test_to_timestamp_reads_iso_and_rfc_2822_dates() -> None:
    dates = (
        "2024-01-02T03:04:05Z",
        "2024-01-02T04:04:05+01:00",
        "Tue, 02 Jan 2024 03:04:05 GMT",
        "tomorrow",
        "",
    )
    assert [to_timestamp(d) for d in dates] == [1704164645, 1704164645, 1704164645, None, None]


def test_shape_types_know_their_items() -> None:
    assert ShapeType.LIST_OF_IMAGES.scalar is ShapeType.IMAGE
    assert ShapeType.LIST_OF_TEXTS.scalar is ShapeType.TEXT
    assert ShapeType.ENUM.scalar is ShapeType.ENUM
    assert {t.name for t in ShapeType if t.is_file} == {
        "IMAGE",
        "AUDIO",
        "VIDEO",
        "FILE",
        "LIST_OF_IMAGES",
        "LIST_OF_AUDIOS",
        "LIST_OF_VIDEOS",
        "LIST_OF_FILES",
    }


def _one_slot_type(shape_type: ShapeType) -> AvailableTaskType:
    spec = TaskTypeSpec("t", "T", "", {"slot": Shape("Slot", "", shape_type)}, {})
    return AvailableTaskType(spec, ProviderSpec("p", "t", process=lambda data: {}))


# EShapeType::validateInput(), with the three list messages that are wrong upstream.
@pytest.mark.parametrize(
    ("shape_type", "wrong", "message"),
    [
        (ShapeType.ENUM, 1, "Non-text item provided for Enum slot"),
        (ShapeType.TEXT, 1, "Non-text item provided for Text slot"),
        (ShapeType.LIST_OF_TEXTS, ["a", 1], "Non-text list item provided for ListOfTexts slot"),
        (ShapeType.NUMBER, "one", "Non-numeric item provided for Number slot"),
        (ShapeType.LIST_OF_NUMBERS, 1, "Non-numeric list item provided for ListOfNumbers slot"),
        (ShapeType.IMAGE, "x", "Non-image item provided for Image slot"),
        (ShapeType.LIST_OF_IMAGES, ["x"], "Non-image list item provided for ListOfImages slot"),
        (ShapeType.AUDIO, [1], "Non-audio item provided for Audio slot"),
        (ShapeType.LIST_OF_AUDIOS, {"a": "x"}, "Non-audio list item provided for ListOfAudio slot"),
        (ShapeType.VIDEO, "x", "Non-video item provided for Video slot"),
        (ShapeType.LIST_OF_VIDEOS, "x", "Non-video list item provided for ListOfTexts slot"),
        (ShapeType.FILE, "x", "Non-file item provided for File slot"),
        (ShapeType.LIST_OF_FILES, [None], "Non-audio list item provided for ListOfFiles slot"),
    ],
)
def test_type_checks_and_their_messages(shape_type: ShapeType, wrong: object, message: str) -> None:
    task_type = _one_slot_type(shape_type)
    store = Store({"alice": "pw"}, clock=lambda: 0.0)
    with pytest.raises(InputValidationError) as info:
        prepare_input({"slot": wrong}, task_type, store, "alice")
    assert str(info.value) == f'Failed to validate input key "slot": {message}'


@pytest.mark.parametrize(
    ("shape_type", "value"),
    [
        (ShapeType.TEXT, "a"),
        (ShapeType.LIST_OF_TEXTS, {"x": "a", "y": "b"}),
        (ShapeType.NUMBER, "1e3"),
        (ShapeType.LIST_OF_NUMBERS, [1, 2.5, " 3"]),
        (ShapeType.LIST_OF_NUMBERS, []),
    ],
)
def test_type_checks_pass_good_values(shape_type: ShapeType, value: object) -> None:
    store = Store({"alice": "pw"}, clock=lambda: 0.0)
    assert prepare_input({"slot": value}, _one_slot_type(shape_type), store, "alice") == {
        "slot": value
    }


def _text_type(process: ProcessFunction) -> AvailableTaskType:
    spec = TaskTypeSpec("t", "T", "", {}, {"output": Shape("Output", "", ShapeType.TEXT)})
    return AvailableTaskType(spec, ProviderSpec("p", "t", process=process))


def _crash(data: object) -> dict[str, object]:
    raise KeyError("input")


def _refuse(data: object) -> dict[str, object]:
    raise ProcessingError("provider down", user_facing_message="Try again later")


@pytest.mark.parametrize(
    ("process", "outcome"),
    [
        (
            lambda data: {"output": "done", "extra": 1},
            {"status": TaskStatus.SUCCESSFUL, "output": {"output": "done"}, "progress": 1.0},
        ),
        (
            _refuse,
            {
                "status": TaskStatus.FAILED,
                "error_message": "provider down",
                "user_facing_error_message": "Try again later",
            },
        ),
        (
            _crash,
            {
                "status": TaskStatus.FAILED,
                "error_message": "'input'",
                "user_facing_error_message": None,
            },
        ),
    ],
)
def test_process_task_turns_results_and_failures_into_task_fields(
    process: ProcessFunction, outcome: dict[str, object]
) -> None:
    store = Store({"alice": "pw"}, clock=lambda: 0.0)
    task = Task(1, "t", "alice", "app", {}, "", TaskStatus.RUNNING, 0, 0, 0, 0.0)
    assert process_task(store, task, _text_type(process), {}) == outcome


def test_parse_str() -> None:
    assert parse_str("a=1&b[]=x&b[]=y&c[d][e]=2&f.g=3&h+i=%20") == {
        "a": "1",
        "b": ["x", "y"],
        "c": {"d": {"e": "2"}},
        "f_g": "3",
        "h_i": " ",
    }


def test_php_json() -> None:
    assert php_json({"types": {}, "shape": JsonObject(), "list": []}) == (
        b'{"types":[],"shape":{},"list":[]}'
    )
    assert php_json({"t": "</a> é"}) == b'{"t":"\\u003C\\/a\\u003E \\u00e9"}'
    assert php_json({"p": 1.0, "q": None, "r": True}) == b'{"p":1.0,"q":null,"r":true}'


def test_negotiate_format() -> None:
    assert negotiate_format({}, None) == "xml"
    assert negotiate_format({"format": "json"}, "application/xml") == "json"
    assert negotiate_format({}, "application/json") == "json"
    assert negotiate_format({}, "application/json; charset=utf-8") == "xml"
    assert negotiate_format({}, "application/xml, application/json") == "xml"


def test_app_passwords_are_fixed_per_user() -> None:
    assert app_password_for("alice") == DEFAULT_APP_PASSWORD
    assert app_password_for("bob") != DEFAULT_APP_PASSWORD
