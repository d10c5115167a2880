"""How the tasks of a run are waited for and tidied up: :class:`WaitOptions`, :class:`RunOptions`.

Every helper that runs Nextcloud tasks to the end (``run_task``, ``run_tasks``, the typed and
batch helpers) takes ``options: RunOptions = RunOptions()``; ``wait_for_task`` takes
``options: WaitOptions = WaitOptions()`` (a ``RunOptions`` is one too). The options are a
value: build them once and pass the same object to every call of a flow::

    options = RunOptions(timeout_seconds=900, delete_after=True)
    summary = summarize(credentials, text, options=options)

They are checked when they are built, so a bad value is a ``ValueError`` before anything is
sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import parse_file_reference
from prefect_nextcloud.client.staging import DEFAULT_STAGING_FOLDER

__all__ = [
    "DEFAULT_POLL_INTERVAL_SECONDS",
    "DEFAULT_TIMEOUT_SECONDS",
    "RunOptions",
    "WaitOptions",
    "check_seconds",
]

DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_POLL_INTERVAL_SECONDS = 5.0


def check_seconds(name: str, value: object) -> float:
    """Return ``value`` as a float when it is a positive, finite number of seconds.

    Args:
        name: The parameter's name, for the error.
        value: The value to check.

    Raises:
        ValueError: It is not a positive, finite number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class WaitOptions:
    """How long to wait for a Nextcloud task, how often to look, and what to do at the end.

    Checked when built: a bad value raises ``ValueError`` naming the option.

    Attributes:
        timeout_seconds: How long each Nextcloud task may take, counted from when this run
            scheduled it or first saw it; a positive, finite number of seconds.
        poll_interval_seconds: How long to wait between two looks at a running task: sooner
            when the server expects it to end sooner, less often while it waits in the queue;
            a positive, finite number of seconds.
        cancel_on_timeout: Cancel a task on the server when its time is up.
    """

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    cancel_on_timeout: bool = True

    def __post_init__(self) -> None:
        check_seconds("timeout_seconds", self.timeout_seconds)
        check_seconds("poll_interval_seconds", self.poll_interval_seconds)


@dataclass(frozen=True, kw_only=True)
class RunOptions(WaitOptions):
    """How the tasks of a run are waited for and tidied up, and where files go.

    The waiting options of ``WaitOptions``, and what to do with the tasks' files. Checked when
    built: a bad value raises ``ValueError`` naming the option.

    Attributes:
        timeout_seconds: How long each Nextcloud task may take (see ``WaitOptions``).
        poll_interval_seconds: How long to wait between two looks at a running task (see
            ``WaitOptions``).
        cancel_on_timeout: Cancel a task on the server when its time is up.
        delete_after: Delete each task on the server once its result and output files have
            been read.
        staging_folder: The Nextcloud folder local files are uploaded to.
        keep_staged_files: Keep the uploaded local files instead of removing them.
        save_outputs_to: Also save output files to ``"nc:/Folder"`` or
            ``"file:/local/folder"``.
    """

    delete_after: bool = False
    staging_folder: str = DEFAULT_STAGING_FOLDER
    keep_staged_files: bool = False
    save_outputs_to: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        destination = self.save_outputs_to
        if destination is not None and not isinstance(
            parse_file_reference(destination), NextcloudPath | Path
        ):
            raise ValueError(
                "save_outputs_to must be 'nc:/Folder' or 'file:/local/folder', got "
                f"{destination!r}."
            )
