"""Naming files in Nextcloud: :class:`NextcloudPath` and its place in a WebDAV URL."""

from __future__ import annotations

import re
from typing import Any, Self
from urllib.parse import quote

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from prefect_nextcloud.client.checks import check_unicode

__all__ = ["DAV_FILES", "NextcloudPath", "dav_path"]

DAV_FILES = "/remote.php/dav/files"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class NextcloudPath(str):
    """A file or folder in a user's Nextcloud files, by its path below the user's home.

    A string, so it works as a Prefect task or flow parameter (a text field in the UI) and
    serialises as plain JSON. The path is normalised: it starts with ``/``, repeated and
    trailing slashes are dropped. ``.`` and ``..`` segments, control characters (NUL included),
    lone surrogates and the empty string are rejected.

    Example:
        ```python
        path = NextcloudPath("/Photos/receipt.jpg")
        path.name, path.parent  # ("receipt.jpg", NextcloudPath("/Photos"))
        ```
    """

    __slots__ = ()

    def __new__(cls, path: str) -> Self:
        """Check and normalise a path.

        Args:
            path: E.g. ``/Photos/receipt.jpg``; a missing leading ``/`` is added.

        Raises:
            ValueError: The path is empty, has ``.`` or ``..`` segments or control characters.
        """
        if isinstance(path, cls):
            return path
        if not isinstance(path, str):
            raise ValueError(f"A Nextcloud path must be a string, got {type(path).__name__}.")
        if not path.strip():
            raise ValueError("A Nextcloud path must not be empty; the home folder is '/'.")
        if _CONTROL.search(path):
            raise ValueError(f"The Nextcloud path {path!r} contains a control character.")
        check_unicode(f"The Nextcloud path {path!r}", path)
        segments = [segment for segment in path.split("/") if segment]
        if any(segment in (".", "..") for segment in segments):
            raise ValueError(
                f"The Nextcloud path {path!r} has a '.' or '..' segment; give the path from "
                "the home folder, e.g. '/Photos/receipt.jpg'."
            )
        return super().__new__(cls, "/" + "/".join(segments))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @property
    def parts(self) -> tuple[str, ...]:
        """The names from the home folder down; empty for the home folder itself."""
        return tuple(self.split("/")[1:]) if self != "/" else ()

    @property
    def name(self) -> str:
        """The last name of the path (``""`` for the home folder)."""
        return self.rpartition("/")[2]

    @property
    def parent(self) -> NextcloudPath:
        """The folder that holds this path (the home folder is its own parent)."""
        return NextcloudPath(self.rpartition("/")[0] or "/")

    @property
    def is_root(self) -> bool:
        """Whether this is the user's home folder, ``/``."""
        return self == "/"

    def __truediv__(self, name: str) -> NextcloudPath:
        """Return the path of ``name`` inside this folder (``name`` may hold slashes)."""
        return NextcloudPath(f"{self}/{name}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(),
            serialization=core_schema.to_string_ser_schema(),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(
            description="A path in the user's Nextcloud files, e.g. /Photos/receipt.jpg.",
            examples=["/Photos/receipt.jpg"],
        )
        return json_schema


def dav_path(user_id: str, path: str) -> str:
    """Return the URL path of a user's file on the WebDAV endpoint, every segment encoded.

    Args:
        user_id: The owner's login name.
        path: The path below the owner's home.

    Returns:
        E.g. ``/remote.php/dav/files/alice/My%20Photos/a.jpg``.
    """
    segments = [user_id, *NextcloudPath(path).parts]
    return DAV_FILES + "".join("/" + quote(segment, safe="") for segment in segments)
