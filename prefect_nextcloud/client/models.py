"""Typed models of what the Task Processing API sends and takes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic.alias_generators import to_camel

from prefect_nextcloud._shapes import ShapeType

__all__ = [
    "MAX_ID",
    "ShapeDescriptor",
    "ShapeEnumValue",
    "ShapeType",
    "Task",
    "TaskFile",
    "TaskListing",
    "TaskStatus",
    "TaskType",
    "UnreadableTask",
]


MAX_ID = 2**63 - 1
"""The largest task or file id: Nextcloud keeps them in signed 64-bit database columns."""

# Strict: JSON true is not task 1, and "5" is not an id either.
_Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


def _map_or_empty(value: Any) -> Any:
    # PHP's json_encode turns an empty map into [] (reference §1).
    return {} if value == [] else value


class TaskStatus(StrEnum):
    """The status of a Task Processing task, as the server spells it."""

    UNKNOWN = "STATUS_UNKNOWN"
    SCHEDULED = "STATUS_SCHEDULED"
    RUNNING = "STATUS_RUNNING"
    SUCCESSFUL = "STATUS_SUCCESSFUL"
    FAILED = "STATUS_FAILED"
    CANCELLED = "STATUS_CANCELLED"

    @property
    def is_pending(self) -> bool:
        """Whether the task may still change: scheduled or running."""
        return self in (TaskStatus.SCHEDULED, TaskStatus.RUNNING)

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended: successful, failed or cancelled."""
        return self in (TaskStatus.SUCCESSFUL, TaskStatus.FAILED, TaskStatus.CANCELLED)


class _ApiModel(BaseModel):
    """Reads the server's camelCase keys; unknown keys are kept, not rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True
    )


class ShapeDescriptor(_ApiModel):
    """One input or output slot of a task type."""

    name: str
    description: str = ""
    type: ShapeType | str = Field(
        union_mode="left_to_right",
        description="The slot type; a plain string when the server knows a type this library "
        "does not.",
    )

    @property
    def shape_type(self) -> ShapeType | None:
        """The slot type as a :class:`ShapeType`, or ``None`` when it is unknown here."""
        return self.type if isinstance(self.type, ShapeType) else None


class ShapeEnumValue(_ApiModel):
    """One allowed value of an ``Enum`` slot."""

    name: str
    value: str


_SHAPE_MAP_FIELDS = (
    "input_shape",
    "optional_input_shape",
    "output_shape",
    "optional_output_shape",
    "input_shape_enum_values",
    "optional_input_shape_enum_values",
    "output_shape_enum_values",
    "optional_output_shape_enum_values",
    "input_shape_defaults",
    "optional_input_shape_defaults",
)


class TaskType(_ApiModel):
    """A task type offered by the server (a value of ``GET /tasktypes``).

    Mandatory slots are in ``input_shape``; optional ones, supplied by the provider, in
    ``optional_input_shape``. Enum values and defaults come from the provider too.
    """

    id: str = Field(description="The task type id, e.g. ``core:text2text``.")
    name: str
    description: str = ""
    input_shape: dict[str, ShapeDescriptor] = {}
    optional_input_shape: dict[str, ShapeDescriptor] = {}
    output_shape: dict[str, ShapeDescriptor] = {}
    optional_output_shape: dict[str, ShapeDescriptor] = {}
    input_shape_enum_values: dict[str, list[ShapeEnumValue]] = {}
    optional_input_shape_enum_values: dict[str, list[ShapeEnumValue]] = {}
    output_shape_enum_values: dict[str, list[ShapeEnumValue]] = {}
    optional_output_shape_enum_values: dict[str, list[ShapeEnumValue]] = {}
    input_shape_defaults: dict[str, str | int | float] = {}
    optional_input_shape_defaults: dict[str, str | int | float] = {}
    is_internal: bool = False

    @field_validator(*_SHAPE_MAP_FIELDS, mode="before")
    @classmethod
    def _php_empty_maps(cls, value: Any) -> Any:
        return _map_or_empty(value)


class TaskFile(BaseModel):
    """The bytes of a file referenced by a task, with what the server said about them."""

    model_config = ConfigDict(frozen=True)

    task_id: int
    file_id: int
    content: bytes = Field(repr=False)
    filename: str | None = None
    content_type: str | None = None


_STATUS_VALUES = frozenset(status.value for status in TaskStatus)


class Task(_ApiModel):
    """A Task Processing task, as the server reports it.

    Fields that later Nextcloud versions added are optional; keys this library does not know
    are kept and reachable through ``model_extra``.
    """

    id: _Id
    type: str
    status: TaskStatus
    last_updated: int | None = None
    user_id: str | None = None
    app_id: str = ""
    input: dict[str, Any] = {}
    output: dict[str, Any] | None = None
    custom_id: str | None = None
    completion_expected_at: int | None = None
    progress: float | None = None
    scheduled_at: int | None = None
    started_at: int | None = None
    ended_at: int | None = None
    allow_cleanup: bool | None = None
    include_watermark: bool | None = None
    user_facing_error_message: str | None = None
    prefer_streaming: bool | None = None
    output_files: dict[str, list[TaskFile]] = Field(
        default={},
        description="Files of file-typed output slots, downloaded by run_task; never sent by the "
        "server.",
    )

    _server_time: float | None = PrivateAttr(default=None)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: Any) -> Any:
        # Any status this library does not know is reported as unknown, as the server does.
        # A value of another type (even an unhashable list or map) is unknown too.
        known = isinstance(value, str) and value in _STATUS_VALUES
        return value if known else TaskStatus.UNKNOWN

    @field_validator("input", "output", mode="before")
    @classmethod
    def _php_empty_map(cls, value: Any) -> Any:
        return _map_or_empty(value)

    @property
    def server_time(self) -> float | None:
        """The server's clock (unix seconds) when this snapshot was taken, if it said."""
        return self._server_time

    def with_server_time(self, server_time: float | None) -> Task:
        """Return this task, stamped with the server time of the response it came in."""
        self._server_time = server_time
        return self


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class UnreadableTask(BaseModel):
    """A row of a task listing that is not a valid task, with what can still be told of it.

    Whether it concerns the caller is decided by its app id, user id and custom id, when the
    row has them as text; see :func:`prefect_nextcloud.client.adoption.is_ours`.
    """

    model_config = ConfigDict(frozen=True)

    id: int | None = Field(description="The row's task id, when it is a valid id.")
    app_id: str | None = Field(description="The row's app id, when it is text.")
    user_id: str | None = Field(description="The row's user id, when it is text.")
    custom_id: str | None = Field(description="The row's custom id, when it is text.")
    type: str | None = Field(description="The row's task type, when it is text.")
    problem: str = Field(description="Why the row is not a valid task.")

    @classmethod
    def of_row(cls, raw: Any, problem: str, *, custom_id_key: str = "customId") -> UnreadableTask:
        """Describe the raw row ``raw`` of a listing, which failed to parse for ``problem``."""
        row = raw if isinstance(raw, dict) else {}
        task_id = row.get("id")
        valid_id = type(task_id) is int and 1 <= task_id <= MAX_ID
        return cls(
            id=task_id if valid_id else None,
            app_id=_text_or_none(row.get("appId")),
            user_id=_text_or_none(row.get("userId")),
            custom_id=_text_or_none(row.get(custom_id_key)),
            type=_text_or_none(row.get("type")),
            problem=problem,
        )


class TaskListing(BaseModel):
    """A list of tasks as the server sent it: the rows that are tasks, and those that are not.

    One malformed row (a field of the wrong type, a foreign app's odd task) spoils only itself.
    """

    model_config = ConfigDict(frozen=True)

    tasks: list[Task] = Field(description="The rows that are valid tasks, in the server's order.")
    unreadable: list[UnreadableTask] = Field(
        default=[], description="The rows that are not valid tasks."
    )
