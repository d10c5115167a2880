"""Every public task documents every parameter in its own docstring; run options are one value."""

from __future__ import annotations

import inspect
import re
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from prefect import Task
from prefect.utilities.callables import parameter_schema

import prefect_nextcloud.tasks as tasks
from prefect_nextcloud.tasks import RunOptions, WaitOptions

PUBLIC_TASKS = {
    name: getattr(tasks, name) for name in tasks.__all__ if isinstance(getattr(tasks, name), Task)
}
# The tasks that run Nextcloud tasks to the end: each takes its options as one value.
RUNNING_TASKS = {
    name: task
    for name, task in PUBLIC_TASKS.items()
    if "options" in inspect.signature(task.fn).parameters
}


def _documented(doc: str) -> list[str]:
    """The parameter names in the ``Args`` section of a Google-style docstring, in order."""
    lines = inspect.cleandoc(doc).splitlines()
    if "Args:" not in lines:
        return []
    names = []
    for line in lines[lines.index("Args:") + 1 :]:
        if not line.strip():
            break
        entry = re.match(r"^    (\w+): \S", line)
        if entry:
            names.append(entry.group(1))
    return names


@pytest.mark.parametrize("name", sorted(PUBLIC_TASKS))
def test_every_helper_documents_every_parameter_it_takes_in_order(name: str) -> None:
    fn = PUBLIC_TASKS[name].fn
    assert _documented(fn.__doc__ or "") == list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("name", sorted(PUBLIC_TASKS))
def test_the_prefect_ui_shows_every_parameter_with_its_description(name: str) -> None:
    fn = PUBLIC_TASKS[name].fn
    properties = parameter_schema(fn).properties
    assert list(properties) == list(inspect.signature(fn).parameters)
    for parameter, schema in properties.items():
        assert schema.get("title") == parameter
        assert schema.get("description"), f"{name}: {parameter} has no description"


@pytest.mark.parametrize("name", sorted(RUNNING_TASKS))
def test_options_default_to_the_defaults(name: str) -> None:
    option = inspect.signature(RUNNING_TASKS[name].fn).parameters["options"]
    expected = WaitOptions if name == "wait_for_task" else RunOptions
    assert option.annotation in (expected.__name__, expected)
    assert option.default == expected()


def test_a_run_options_value_is_also_wait_options() -> None:
    options = RunOptions(timeout_seconds=30.0, delete_after=True)
    assert isinstance(options, WaitOptions)
    assert options.poll_interval_seconds == WaitOptions().poll_interval_seconds


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_seconds": 0}, "timeout_seconds must be a positive number of seconds"),
        ({"poll_interval_seconds": -1}, "poll_interval_seconds must be a positive number"),
        ({"poll_interval_seconds": True}, "poll_interval_seconds must be a positive number"),
        ({"timeout_seconds": float("inf")}, "timeout_seconds must be finite"),
        ({"save_outputs_to": "Photos"}, "ambiguous"),
        ({"save_outputs_to": "1234"}, "save_outputs_to must be 'nc:/Folder'"),
    ],
)
def test_options_refuse_bad_values_when_built(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunOptions(**options)


def test_options_are_a_fixed_value() -> None:
    options = RunOptions()
    with pytest.raises(FrozenInstanceError):
        options.timeout_seconds = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="timeout"):
        RunOptions(timeout=5)  # type: ignore[call-arg]
