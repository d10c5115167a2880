"""Every public task describes every parameter; the common run options are the same everywhere."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from prefect import Task
from prefect.utilities.callables import parameter_schema

import prefect_nextcloud.tasks as tasks
from prefect_nextcloud.tasks.options import RUN_OPTIONS, RunOptions, run_options_task
from prefect_nextcloud.tasks.polling import PollingTask

PUBLIC_TASKS = {
    name: getattr(tasks, name) for name in tasks.__all__ if isinstance(getattr(tasks, name), Task)
}
# The tasks that run Nextcloud tasks to the end: every one takes its run options from RUN_OPTIONS.
RUNNING_TASKS = {name: task for name, task in PUBLIC_TASKS.items() if isinstance(task, PollingTask)}


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_helpers_are_all_there() -> None:
    assert len(RUNNING_TASKS) >= 20
    assert {"run_task", "run_tasks", "wait_for_task", "summarize", "ocr_batch"} <= set(
        RUNNING_TASKS
    )


@pytest.mark.parametrize("name", sorted(PUBLIC_TASKS))
def test_the_prefect_ui_shows_every_parameter_with_its_description(name: str) -> None:
    fn = PUBLIC_TASKS[name].fn
    properties = parameter_schema(fn).properties
    assert list(properties) == list(inspect.signature(fn).parameters)
    for parameter, schema in properties.items():
        assert schema.get("title") == parameter
        assert schema.get("description"), f"{name}: {parameter} has no description"


@pytest.mark.parametrize("name", sorted(RUNNING_TASKS))
def test_common_options_have_one_description_and_default_everywhere(name: str) -> None:
    fn = RUNNING_TASKS[name].fn
    properties = parameter_schema(fn).properties
    parameters = inspect.signature(fn).parameters
    common = [parameter for parameter in parameters if parameter in RUN_OPTIONS]
    assert {"timeout_seconds", "poll_interval_seconds"} <= set(common)
    for parameter in common:
        option = RUN_OPTIONS[parameter]
        assert parameters[parameter].default == option.default
        assert properties[parameter].get("default") == option.default
        assert _words(properties[parameter]["description"]) == _words(option.description)


def test_run_options_defaults_are_the_common_defaults() -> None:
    for name, value in vars(RunOptions()).items():
        assert value == RUN_OPTIONS[name].default


def test_run_options_of_a_call_take_its_options_and_default_the_rest() -> None:
    call = {"text": "Hi", "custom_id": "mine", "timeout_seconds": 30.0, "delete_after": True}
    assert RunOptions.of_call(call) == RunOptions(timeout_seconds=30.0, delete_after=True)


def _helper(timeout_seconds: float = 1.0) -> None:
    """A helper.

    Args:
        timeout_seconds: Described here.
    """


def test_a_helper_cannot_change_a_common_default() -> None:
    with pytest.raises(TypeError, match=r"timeout_seconds defaults to 1\.0"):
        run_options_task(name="helper")(_helper)


def test_a_helper_cannot_describe_a_common_option_itself() -> None:
    def helper(timeout_seconds: float = RUN_OPTIONS["timeout_seconds"].default) -> None:
        """A helper.

        Args:
            timeout_seconds: Described here.
        """

    with pytest.raises(TypeError, match="timeout_seconds is described in RUN_OPTIONS"):
        run_options_task(name="helper")(helper)


def test_a_helper_must_describe_its_own_parameters() -> None:
    def helper(text: str, custom_id: str | None = None) -> Any:
        """A helper.

        Returns:
            Nothing.
        """

    with pytest.raises(TypeError, match="do not describe text"):
        run_options_task(name="helper")(helper)


def test_the_options_are_described_in_signature_order() -> None:
    def helper(
        text: str,
        timeout_seconds: float = RUN_OPTIONS["timeout_seconds"].default,
        extra: int = 0,
        delete_after: bool = False,
    ) -> None:
        """A helper.

        Args:
            text: The text, described over
                two lines.
            extra: Another one.

        Returns:
            Nothing.
        """

    task = run_options_task(name="helper")(helper)
    doc = inspect.getdoc(task.fn) or ""
    order = [doc.index(f"    {name}: ") for name in inspect.signature(helper).parameters]
    assert order == sorted(order)
    assert "        two lines." in doc
    assert doc.endswith("Returns:\n    Nothing.")
