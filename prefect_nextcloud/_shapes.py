"""The slot types of Task Processing (``EShapeType`` on the server), shared by client and sandbox.

They are the API's own vocabulary: the client reads them from task type declarations, the
sandbox declares its task types with them (``lib/public/TaskProcessing/EShapeType.php``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ShapeType"]


class ShapeType(StrEnum):
    """The type of an input or output slot; the value is the name the API sends."""

    NUMBER = "Number"
    TEXT = "Text"
    IMAGE = "Image"
    AUDIO = "Audio"
    VIDEO = "Video"
    FILE = "File"
    ENUM = "Enum"
    LIST_OF_NUMBERS = "ListOfNumbers"
    LIST_OF_TEXTS = "ListOfTexts"
    LIST_OF_IMAGES = "ListOfImages"
    LIST_OF_AUDIOS = "ListOfAudios"
    LIST_OF_VIDEOS = "ListOfVideos"
    LIST_OF_FILES = "ListOfFiles"

    @property
    def is_list(self) -> bool:
        """Whether the slot holds a list."""
        return self.value.startswith("ListOf")

    @property
    def scalar(self) -> ShapeType:
        """The type of the slot's items (``getScalarType``); a scalar type is its own."""
        # "ListOfImages" holds "Image"s; no scalar type's name starts with "ListOf" or ends in "s".
        return ShapeType(self.value.removeprefix("ListOf").removesuffix("s"))

    @property
    def is_file(self) -> bool:
        """Whether the slot (or its items) holds file ids (``isFileType``)."""
        return self.scalar in _FILE_TYPES


_FILE_TYPES = frozenset({ShapeType.IMAGE, ShapeType.AUDIO, ShapeType.VIDEO, ShapeType.FILE})
