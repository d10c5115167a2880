"""Flow parameter types as the Prefect UI's run form shows them.

Prefect titles every form field with the parameter's name and renders a union as a choice of
JSON types. These annotations give each field a human title, type file references as plain text
(a list of strings, never JSON with quotes), show an optional text as a text box whose empty
value means "not set", and keep numeric bounds in the schema, while Python callers keep the
wider types (a file id as an ``int``, credentials as a block object). Credentials are taken only
as a saved block, never as the block's fields written out, which would store the app password
with the run's parameters. A deployment step
(:func:`~prefect_nextcloud.deployments.steps.saved_credentials_reference`) gives deployments
the saved block as the credentials form's preselected choice.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, GetJsonSchemaHandler, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from prefect_nextcloud.blocks.credentials import NextcloudCredentials, ensure_block_or_name

__all__ = [
    "ClearableText",
    "CredentialsParameter",
    "FileReferences",
    "IdempotencyKey",
    "OptionalText",
    "PollIntervalSeconds",
    "TimeoutSeconds",
    "titled",
]


def titled(title: str) -> FieldInfo:
    """The form label of a parameter (Prefect's own label is the parameter's name)."""
    label: FieldInfo = Field(json_schema_extra={"title": title})
    return label


class _WithoutNull:
    """Leave ``null`` out of a field's schema, so the form shows the other type alone.

    An optional parameter stays optional: it has a default, which is what an empty form
    field means.
    """

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        choices = [choice for choice in schema.get("anyOf", []) if choice != {"type": "null"}]
        if "anyOf" in schema:
            del schema["anyOf"]
            if len(choices) == 1:
                schema.update(choices[0])
            else:
                schema["anyOf"] = choices
        return schema


class _SavedBlockPicker:
    """Show the credentials as a picker of the saved blocks, and refuse the block's fields.

    The form shows a field whose schema is a reference to a block type as a picker of the saved
    blocks of that type, and a field with several choices as a toggle between them: so the
    schema holds the block reference alone, without the choice of a name or of ``null``. For a
    block field of a deployment run, Prefect accepts either the block's definition or a
    ``{"$ref": ...}`` reference to a saved block. The definition keeps what the forms need to
    offer the saved blocks (title, block type) and its required fields, but no type or field
    types: a block's name (a string) still matches it, and an object matching neither is
    reported as missing ``$ref`` instead of by jsonschema's catch-all message, which repeats the
    whole object. The field allows an object holding ``$ref`` alone: the block's fields written
    out, app password included, are refused before the run is stored, by an error that names
    them but not their values.
    """

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        [reference] = [choice for choice in schema.pop("anyOf") if "$ref" in choice]
        definition = handler.resolve_ref_schema(reference)
        for key in ("type", "properties", "additionalProperties"):
            definition.pop(key, None)
        schema.update(reference)
        schema.update({"properties": {"$ref": {}}, "additionalProperties": False})
        return schema


def _empty_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _block_or_name(value: Any) -> Any:
    # ensure_block_or_name raises a TypeError, which pydantic passes on as it is: a ValueError
    # would become a ValidationError repeating the input, and Prefect logs all the parameters
    # of a run whose validation fails that way.
    return ensure_block_or_name(_empty_is_none(value))


def _one_or_many(value: Any) -> Any:
    """A single reference, or several typed one per line, become a list."""
    if isinstance(value, str):
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        return lines if len(lines) > 1 else value
    return value


ClearableText = Annotated[str | None, BeforeValidator(_empty_is_none), _WithoutNull()]
"""Text with a default that may be cleared; empty (or only spaces) means none."""

OptionalText = Annotated[ClearableText, Field(json_schema_extra={"default": ""})]
"""Text that is not set unless typed: the form starts empty (a ``null`` default fails the form's
own check of a text field), and empty means ``None``."""

FileReferences = Annotated[
    list[int | str] | int | str,
    BeforeValidator(_one_or_many),
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1}),
]
"""Files typed as text, one per item: a Nextcloud path written ``nc:/Photos/a.jpg``, a file id
(digits), or a file on the worker written ``file:/data/a.jpg``. Python callers may also pass one
reference, or a file id as an ``int``."""

TimeoutSeconds = Annotated[float, Field(gt=0, le=7 * 24 * 3600), titled("Timeout (seconds)")]
"""How long a Nextcloud task may take, up to a week."""

PollIntervalSeconds = Annotated[float, Field(gt=0, le=3600), titled("Poll interval (seconds)")]
"""The longest wait between two looks at a task, up to an hour."""

CredentialsParameter = Annotated[
    NextcloudCredentials | str | None,
    BeforeValidator(_block_or_name),
    _SavedBlockPicker(),
    titled("Nextcloud credentials"),
]
"""A saved credentials block, picked in the form; none: the environment. Through the API and
from Python the name of a saved block works too, and from Python a block object, saved or not
(Prefect stores it with the app password masked), but never a ``dict`` of its fields."""

IdempotencyKey = Annotated[OptionalText, titled("Idempotency key")]
"""Runs with the same key share their Nextcloud tasks."""
