r"""Task types and providers as data: shapes, enum values, defaults and the registry.

Mirrors the split of the real server: a task type (``OCP\TaskProcessing\ITaskType``) owns the
mandatory input/output shapes; its provider owns the optional shapes, enum values, defaults, the
expected runtime and the processing itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect_nextcloud._shapes import ShapeType
from prefect_nextcloud.sandbox.ocs.envelope import JsonObject

__all__ = [
    "AvailableTaskType",
    "EnumValue",
    "InputFile",
    "ProcessFunction",
    "ProcessingError",
    "ProviderSpec",
    "Registry",
    "Shape",
    "ShapeType",
    "TaskTypeSpec",
]


@dataclass(frozen=True)
class Shape:
    """One input or output slot (``ShapeDescriptor``)."""

    name: str
    description: str
    type: ShapeType

    def to_json(self) -> dict[str, str]:
        """Return the slot as the API sends it."""
        return {"name": self.name, "description": self.description, "type": self.type.value}


@dataclass(frozen=True)
class EnumValue:
    """One allowed value of an Enum slot (``ShapeEnumValue``)."""

    name: str
    value: str


@dataclass(frozen=True)
class InputFile:
    """A file handed to a provider in place of its id."""

    id: int
    name: str
    data: bytes


class ProcessingError(Exception):
    """A provider failure; the task ends as ``STATUS_FAILED``.

    Args:
        message: The internal error message (never sent to API clients).
        user_facing_message: Shown as ``userFacingErrorMessage`` (NC 33+), like a provider's
            ``UserFacingProcessingException``.
    """

    def __init__(self, message: str, *, user_facing_message: str | None = None) -> None:
        super().__init__(message)
        self.user_facing_message = user_facing_message


ProcessFunction = Callable[[Mapping[str, Any]], dict[str, Any]]
"""Turns the prepared input (files as :class:`InputFile`) into the output map.

File-typed output slots hold raw ``bytes`` (a list of them for list slots), as a PHP provider
returns them; the worker stores them as files and puts their ids in the task output.
"""

ShapeMap = Mapping[str, Shape]
EnumValueMap = Mapping[str, Sequence[EnumValue]]
DefaultMap = Mapping[str, str | int | float]


@dataclass(frozen=True)
class TaskTypeSpec:
    """A task type: its id, texts and mandatory shapes.

    Attributes:
        since: The first Nextcloud major version that registers it.
        internal: Whether it is an ``IInternalTaskType`` (``isInternal``, NC 33+).
    """

    id: str
    name: str
    description: str
    input_shape: ShapeMap
    output_shape: ShapeMap
    since: int = 30
    internal: bool = False


@dataclass(frozen=True)
class ProviderSpec:
    """A provider for one task type, with everything the provider decides."""

    id: str
    task_type: str
    process: ProcessFunction
    expected_runtime: int = 1
    input_shape_enum_values: EnumValueMap = field(default_factory=dict)
    input_shape_defaults: DefaultMap = field(default_factory=dict)
    optional_input_shape: ShapeMap = field(default_factory=dict)
    optional_input_shape_enum_values: EnumValueMap = field(default_factory=dict)
    optional_input_shape_defaults: DefaultMap = field(default_factory=dict)
    output_shape_enum_values: EnumValueMap = field(default_factory=dict)
    optional_output_shape: ShapeMap = field(default_factory=dict)
    optional_output_shape_enum_values: EnumValueMap = field(default_factory=dict)


@dataclass(frozen=True)
class AvailableTaskType:
    """A task type together with its preferred provider, as ``getAvailableTaskTypes`` pairs them."""

    spec: TaskTypeSpec
    provider: ProviderSpec

    @property
    def input_slots(self) -> dict[str, Shape]:
        """Mandatory then optional input slots (PHP ``$inputShape + $optionalInputShape``)."""
        return _union(self.spec.input_shape, self.provider.optional_input_shape)

    @property
    def output_slots(self) -> dict[str, Shape]:
        """Mandatory then optional output slots."""
        return _union(self.spec.output_shape, self.provider.optional_output_shape)

    def to_json(self, server_version: int) -> dict[str, Any]:
        """Return the task type as ``GET /tasktypes`` lists it (reference §5.2 key order)."""
        provider = self.provider
        data: dict[str, Any] = {
            "name": self.spec.name,
            "description": self.spec.description,
            "optionalInputShape": _shapes(provider.optional_input_shape),
            "inputShapeEnumValues": _enum_values(provider.input_shape_enum_values),
            "inputShapeDefaults": JsonObject(provider.input_shape_defaults),
            "inputShape": _shapes(self.spec.input_shape),
            "optionalInputShapeEnumValues": _enum_values(provider.optional_input_shape_enum_values),
            "optionalInputShapeDefaults": JsonObject(provider.optional_input_shape_defaults),
            "outputShape": _shapes(self.spec.output_shape),
            "outputShapeEnumValues": _enum_values(provider.output_shape_enum_values),
            "optionalOutputShape": _shapes(provider.optional_output_shape),
            "optionalOutputShapeEnumValues": _enum_values(
                provider.optional_output_shape_enum_values
            ),
        }
        if server_version >= 33:
            data["isInternal"] = self.spec.internal
        return data


def _union(first: ShapeMap, second: ShapeMap) -> dict[str, Shape]:
    merged = dict(first)
    for key, shape in second.items():
        merged.setdefault(key, shape)
    return merged


def _shapes(shapes: ShapeMap) -> JsonObject:
    return JsonObject({key: shape.to_json() for key, shape in shapes.items()})


def _enum_values(values: EnumValueMap) -> JsonObject:
    return JsonObject(
        {key: [{"name": v.name, "value": v.value} for v in items] for key, items in values.items()}
    )


class Registry:
    """The task types a server offers: each registered type whose first provider exists.

    Args:
        task_types: Task types in registration order (the order ``GET /tasktypes`` keeps).
        providers: Providers; the first one registered for a type is its preferred provider.
        server_version: Types newer than this Nextcloud major version are left out.
    """

    def __init__(
        self,
        task_types: Iterable[TaskTypeSpec],
        providers: Iterable[ProviderSpec],
        *,
        server_version: int,
    ) -> None:
        preferred: dict[str, ProviderSpec] = {}
        for provider in providers:
            preferred.setdefault(provider.task_type, provider)
        self._available = {
            spec.id: AvailableTaskType(spec, preferred[spec.id])
            for spec in task_types
            if spec.since <= server_version and spec.id in preferred
        }

    def get(self, task_type_id: str) -> AvailableTaskType | None:
        """Return the available task type with this id, or None."""
        return self._available.get(task_type_id)

    def all(self) -> list[AvailableTaskType]:
        """Return every available task type in registration order."""
        return list(self._available.values())
