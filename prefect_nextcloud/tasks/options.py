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
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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


class WaitOptions(BaseModel):
    """How long to wait for a Nextcloud task, how often to look, and what to do at the end.

    Checked when built: a bad value raises ``ValueError`` naming the option.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS,
        description="How long each Nextcloud task may take, counted from when this run "
        "scheduled it or first saw it; a positive, finite number of seconds.",
    )
    poll_interval_seconds: float = Field(
        default=DEFAULT_POLL_INTERVAL_SECONDS,
        description="How long to wait between two looks at a running task: sooner when the "
        "server expects it to end sooner, less often while it waits in the queue; a positive, "
        "finite number of seconds.",
    )
    cancel_on_timeout: bool = Field(
        default=True, description="Cancel a task on the server when its time is up."
    )

    @field_validator("timeout_seconds", "poll_interval_seconds", mode="before")
    @classmethod
    def _positive_seconds(cls, value: object, info: ValidationInfo) -> float:
        return check_seconds(info.field_name or "seconds", value)


class RunOptions(WaitOptions):
    """How the tasks of a run are waited for and tidied up, and where files go.

    Checked when built: a bad value raises ``ValueError`` naming the option.
    """

    delete_after: bool = Field(
        default=False,
        description="Delete each task on the server once its result and output files have "
        "been read.",
    )
    staging_folder: str = Field(
        default=DEFAULT_STAGING_FOLDER,
        description="The Nextcloud folder local files are uploaded to.",
    )
    keep_staged_files: bool = Field(
        default=False, description="Keep the uploaded local files instead of removing them."
    )
    save_outputs_to: str | None = Field(
        default=None,
        description='Also save output files to "nc:/Folder" or "file:/local/folder".',
    )

    @field_validator("save_outputs_to")
    @classmethod
    def _a_folder_reference(cls, value: str | None) -> str | None:
        if value is not None and not isinstance(parse_file_reference(value), NextcloudPath | Path):
            raise ValueError(
                f"save_outputs_to must be 'nc:/Folder' or 'file:/local/folder', got {value!r}."
            )
        return value
