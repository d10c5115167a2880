"""Typed results of the task helpers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from prefect_nextcloud.client.models import Task, TaskFile

__all__ = [
    "ChatMessage",
    "FilesResult",
    "OutputFile",
    "TextResult",
    "TextsResult",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    task: Task = Field(description="The finished Nextcloud task.")

    @property
    def task_id(self) -> int:
        """The id of the Nextcloud task that produced this result."""
        return self.task.id


class TextResult(_Result):
    """The text a task produced (its ``output`` slot)."""

    text: str = Field(description="The generated text.")


class TextsResult(_Result):
    """A list of texts: topics, or one OCR text per input file."""

    texts: list[str] = Field(description="The texts, in order.")


OutputFile = TaskFile
"""A file a task produced: its bytes, the server's file name and content type."""


class FilesResult(_Result):
    """Files a task produced: generated images, or synthesized speech."""

    files: list[TaskFile] = Field(description="The downloaded files, in output order.")


class ChatMessage(BaseModel):
    """One earlier message of a chat, for the ``history`` of ``chat``."""

    model_config = ConfigDict(frozen=True)

    role: str = Field(
        description='Who said it: "human" or "assistant".', pattern="^(human|assistant)$"
    )
    content: str = Field(description="What was said.")
