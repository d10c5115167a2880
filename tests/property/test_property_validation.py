"""Property tests of input validation: any task type and any input give TaskInputError or pass.

Task types come from arbitrary dicts through ``TaskType.model_validate`` (including slot types
this library does not know and PHP's ``[]`` for empty maps); inputs are any JSON-like values,
objects, and non-mappings.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from property_strategies import BIG_INT_TEXT, PROPERTY, json_values, pick, text, valid_task_type
from pydantic import ValidationError

from prefect_nextcloud.client.errors import TaskInputError
from prefect_nextcloud.client.models import ShapeType, TaskType
from prefect_nextcloud.client.validation import is_file_id, validate_input

SLOT_NAMES = st.sampled_from(["input", "image", "count", "tone", "files", ""]) | st.text(max_size=8)
SHAPE_TYPES = st.sampled_from([shape.value for shape in ShapeType]) | st.sampled_from(
    ["Unknown", "ListOfSomething", "", "text"]
)
shapes = st.dictionaries(
    SLOT_NAMES,
    st.fixed_dictionaries(
        {"name": st.text(max_size=8), "type": SHAPE_TYPES},
        optional={"description": st.text(max_size=8)},
    ),
    max_size=4,
)
enum_values = st.dictionaries(
    SLOT_NAMES,
    st.lists(st.fixed_dictionaries({"name": st.text(max_size=5), "value": text}), max_size=3),
    max_size=3,
)
defaults = st.dictionaries(
    SLOT_NAMES, st.text(max_size=5) | st.integers() | st.floats(allow_nan=True), max_size=3
)
empty: st.SearchStrategy[list[Any]] = st.just([])
task_type_dicts = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=20), "name": st.text(max_size=10)},
    optional={
        "inputShape": shapes | empty,
        "optionalInputShape": shapes | empty,
        "inputShapeEnumValues": enum_values | empty,
        "optionalInputShapeEnumValues": enum_values | empty,
        "inputShapeDefaults": defaults | empty,
        "optionalInputShapeDefaults": defaults | empty,
        "outputShape": shapes | empty,
        "isInternal": st.booleans(),
    },
)


class Opaque:
    """An object that is neither JSON nor a file id."""

    def __repr__(self) -> str:
        return "Opaque()"


slot_values = (
    json_values
    | pick(["12", "0", "²", "٣", BIG_INT_TEXT, "1e999", "nan", " 3 ", b"7", 3.5])
    | st.lists(st.integers() | pick(["5", "²", BIG_INT_TEXT, True]), max_size=3)
    | st.tuples(st.integers(), st.text(max_size=3))
    | st.builds(Opaque)
)


@st.composite
def inputs(draw: st.DrawFn, task_type: TaskType) -> Any:
    """Inputs that mostly use the type's own slots, plus strangers and non-mappings."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values | st.builds(Opaque) | st.just(["input", "x"]))
    known = sorted({*task_type.input_shape, *task_type.optional_input_shape})
    names = st.sampled_from(known) | SLOT_NAMES if known else SLOT_NAMES
    keys: Any = names | st.integers() | st.none() | st.tuples(st.integers())
    return draw(st.dictionaries(keys if draw(st.booleans()) else names, slot_values, max_size=4))


def check_validate(task_type: TaskType, value: Any) -> None:
    error: TaskInputError | None = None
    try:
        validate_input(task_type, value)
    except TaskInputError as caught:
        error = caught
    if error is not None:
        assert isinstance(error, ValueError)
        assert error.task_type == task_type.id
        assert task_type.id in str(error)


@settings(PROPERTY, max_examples=400)
@given(raw=task_type_dicts, data=st.data())
def test_validate_input_raises_only_task_input_error(raw: dict[str, Any], data: Any) -> None:
    try:
        task_type = TaskType.model_validate(raw)
    except ValidationError:
        assume(False)
        return
    check_validate(task_type, data.draw(inputs(task_type)))


TEXT_AND_FILE = TaskType.model_validate(
    {
        **valid_task_type(),
        "id": "core:analyze-images",
        "inputShape": {
            "input": {"name": "Question", "type": "Text"},
            "images": {"name": "Images", "type": "ListOfImages"},
            "count": {"name": "Count", "type": "Number"},
            "file": {"name": "File", "type": "File"},
        },
    }
)


@settings(PROPERTY, max_examples=400)
@given(value=st.dictionaries(st.text(max_size=6) | st.integers(), slot_values, max_size=5))
# Unknown slots with keys of mixed types: sorted() raised TypeError.
@example(value={1: "a", "b": "c"})
@example(value={None: "a", "input": "c"})
# File ids as strings of digits int() refuses: "²" (isdigit but not decimal), too many digits.
@example(value={"input": "q", "images": ["²"], "count": 1, "file": "1"})
@example(value={"input": "q", "images": [1], "count": 1, "file": BIG_INT_TEXT})
def test_validate_input_on_a_fixed_type(value: dict[Any, Any]) -> None:
    check_validate(TEXT_AND_FILE, value)


@settings(PROPERTY, max_examples=400)
@given(value=slot_values | st.integers(min_value=-(10**30), max_value=10**30))
@example(value="²")
@example(value=BIG_INT_TEXT)
@example(value="0" * 5000)
def test_is_file_id_answers_a_bool(value: object) -> None:
    result = is_file_id(value)
    assert isinstance(result, bool)
    if result:
        assert int(value) > 0 if isinstance(value, int) else str(value).isdigit()
