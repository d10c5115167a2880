"""The run options every task-running helper shares, defined once.

``timeout_seconds``, ``poll_interval_seconds``, ``custom_id``, ``delete_after`` and the other
entries of :data:`RUN_OPTIONS` mean the same in ``run_task``, ``run_tasks``, ``wait_for_task``,
every typed helper and every batch helper. Each is defined here once: its default, its
bounds (:meth:`RunOptions.check`) and its description.

How the helpers use them, and why: each helper still spells out its whole signature in its
``def``, common options included, because that is the signature IDEs and mypy read; a
decorator that added parameters at run time (``inspect.Signature``) would be invisible to
both. What is not repeated is everything else about an option:

* :func:`run_options_task` refuses at import a helper whose common option has another
  default than the one defined here, and writes the option's description into the helper's
  ``Args`` (a helper documents only its own parameters). Prefect's parameter schema and
  ``help()`` read that docstring, so the Prefect UI shows every parameter with the one
  description.
* :meth:`RunOptions.of_call` is the one place that turns a call's arguments into
  :class:`RunOptions`: a helper hands it its arguments (``locals()``) through ``run_one`` or
  ``run_batch``, and never lists the options again.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.client.staging import DEFAULT_STAGING_FOLDER
from prefect_nextcloud.tasks.polling import PollingTask, polling_task

__all__ = [
    "DEFAULT_POLL_INTERVAL_SECONDS",
    "DEFAULT_TIMEOUT_SECONDS",
    "RUN_OPTIONS",
    "RunOption",
    "RunOptions",
    "check_wait_arguments",
    "run_options_task",
]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_POLL_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class RunOption:
    """One common run option: a parameter that means the same in every helper.

    Attributes:
        name: The parameter name.
        default: Its default, the same in every helper.
        description: What it does, as the ``Args`` entry of every helper shows it.
    """

    name: str
    default: Any
    description: str


RUN_OPTIONS: dict[str, RunOption] = {
    option.name: option
    for option in (
        RunOption(
            "custom_id",
            None,
            "Your own identifier for the task (at most 255 characters); derived from the flow "
            "run and the input when omitted, so that a retried task or flow adopts the task "
            "already scheduled instead of creating a second one.",
        ),
        RunOption(
            "app_id",
            None,
            "The app id the task is filed under; by default one unique to the flow run.",
        ),
        RunOption(
            "timeout_seconds",
            DEFAULT_TIMEOUT_SECONDS,
            "How long each Nextcloud task may take, counted from when this run scheduled it "
            "or first saw it; a positive, finite number of seconds.",
        ),
        RunOption(
            "poll_interval_seconds",
            DEFAULT_POLL_INTERVAL_SECONDS,
            "How long to wait between two looks at a running task: sooner when the server "
            "expects it to end sooner, less often while it waits in the queue; a positive, "
            "finite number of seconds.",
        ),
        RunOption(
            "cancel_on_timeout",
            True,
            "Cancel a task on the server when its time is up.",
        ),
        RunOption(
            "delete_after",
            False,
            "Delete each task on the server once its result and output files have been read.",
        ),
        RunOption(
            "staging_folder",
            DEFAULT_STAGING_FOLDER,
            "The Nextcloud folder local files are uploaded to.",
        ),
        RunOption(
            "keep_staged_files",
            False,
            "Keep the uploaded local files instead of removing them.",
        ),
        RunOption(
            "save_outputs_to",
            None,
            'Also save output files to ``"nc:/Folder"`` or ``"file:/local/folder"``.',
        ),
    )
}
"""Every common run option, by name."""


def check_wait_arguments(timeout_seconds: float, poll_interval_seconds: float) -> None:
    """Refuse a non-positive or infinite timeout or poll interval.

    Raises:
        ValueError: Either is not a positive, finite number.
    """
    for name, value in (
        ("timeout_seconds", timeout_seconds),
        ("poll_interval_seconds", poll_interval_seconds),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}.")


@dataclass(frozen=True)
class RunOptions:
    """How the tasks of a run are waited for and tidied up.

    Each attribute is the common run option of the same name (see :data:`RUN_OPTIONS`).
    """

    timeout_seconds: float = RUN_OPTIONS["timeout_seconds"].default
    poll_interval_seconds: float = RUN_OPTIONS["poll_interval_seconds"].default
    cancel_on_timeout: bool = RUN_OPTIONS["cancel_on_timeout"].default
    delete_after: bool = RUN_OPTIONS["delete_after"].default
    staging_folder: str = RUN_OPTIONS["staging_folder"].default
    keep_staged_files: bool = RUN_OPTIONS["keep_staged_files"].default
    save_outputs_to: str | None = RUN_OPTIONS["save_outputs_to"].default

    @classmethod
    def of_call(cls, arguments: Mapping[str, Any]) -> RunOptions:
        """The options of a helper's call: the ones it takes, the defaults for the others.

        Args:
            arguments: The helper's arguments by name (its ``locals()``); other names are
                ignored.
        """
        given = {field.name for field in fields(cls)} & arguments.keys()
        return cls(**{name: arguments[name] for name in given})

    def check(self) -> None:
        """Refuse invalid options before anything is sent.

        Raises:
            ValueError: An option is invalid.
        """
        check_wait_arguments(self.timeout_seconds, self.poll_interval_seconds)
        if self.save_outputs_to is not None and not isinstance(
            parse_file_reference(self.save_outputs_to), NextcloudPath | Path
        ):
            raise ValueError(
                "save_outputs_to must be 'nc:/Folder' or 'file:/local/folder', got "
                f"{self.save_outputs_to!r}."
            )


def _with_option_docs(name: str, doc: str, parameters: list[str]) -> str:
    """The docstring with every common option in ``parameters`` described in ``Args``.

    The ``Args`` entries end up in signature order: the function's own, and the common
    options' from :data:`RUN_OPTIONS`.

    Raises:
        TypeError: A parameter is undocumented, or a common option is described in ``doc``.
    """
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Args:") if "Args:" in lines else len(lines)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    entries: dict[str, list[str]] = {}
    entry: list[str] = []
    for line in lines[start + 1 : end]:
        if not line.startswith("     "):  # "    name: ...", not a continuation line
            entry = entries[line.strip().split(":", 1)[0]] = []
        entry.append(line)
    for parameter in parameters:
        if parameter in RUN_OPTIONS:
            if parameter in entries:
                raise TypeError(
                    f"{name}: {parameter} is described in RUN_OPTIONS, not in the docstring."
                )
            described = f"{parameter}: {RUN_OPTIONS[parameter].description}"
            entries[parameter] = textwrap.wrap(
                described, width=92, initial_indent="    ", subsequent_indent="        "
            )
        elif parameter not in entries:
            raise TypeError(f"{name}: the docstring's Args do not describe {parameter}.")
    args = [line for parameter in parameters for line in entries[parameter]]
    return "\n".join([*lines[:start], "Args:", *args, *lines[end:]])


def run_options_task(*, name: str) -> Callable[[Callable[P, R]], PollingTask[P, R]]:
    """Decorator: a polling task whose common run options follow :data:`RUN_OPTIONS`.

    The function documents its own parameters only; each common option it takes gets its
    description from :data:`RUN_OPTIONS`.

    Args:
        name: The task's name in Prefect.

    Raises:
        TypeError: At import, when a common option has another default than the one defined
            in :data:`RUN_OPTIONS` or is described in the function's own docstring, or
            another parameter is not.
    """

    def decorate(fn: Callable[P, R]) -> PollingTask[P, R]:
        parameters = inspect.signature(fn).parameters
        for parameter in parameters.values():
            option = RUN_OPTIONS.get(parameter.name)
            if option is not None and parameter.default != option.default:
                raise TypeError(
                    f"{name}: {parameter.name} defaults to {parameter.default!r}; every helper's "
                    f"default is {option.default!r}."
                )
        fn.__doc__ = _with_option_docs(name, fn.__doc__ or "", list(parameters))
        return polling_task(name=name, poll_interval_seconds=DEFAULT_POLL_INTERVAL_SECONDS)(fn)

    return decorate
