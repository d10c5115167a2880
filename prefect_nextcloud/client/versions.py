"""Which Nextcloud version offers what: the server's version, and when task types appeared."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from prefect_nextcloud.client.errors import UnexpectedResponseError

__all__ = [
    "LEGACY_TEXT_TYPES",
    "TASK_PROCESSING_SINCE",
    "TASK_TYPE_SINCE",
    "ServerVersion",
    "needs_newer_server",
    "parse_status",
]

TASK_PROCESSING_SINCE = 30
"""The first major version with the Task Processing API (older ones: TextProcessing only)."""

# Reference §7: the release that registered each core task type.
TASK_TYPE_SINCE: dict[str, int] = {
    "core:text2text": 30,
    "core:text2text:headline": 30,
    "core:text2text:topics": 30,
    "core:text2text:summary": 30,
    "core:text2text:formalization": 30,
    "core:text2text:simplification": 30,
    "core:text2text:reformulation": 30,
    "core:text2text:chat": 30,
    "core:text2text:translate": 30,
    "core:text2image": 30,
    "core:audio2text": 30,
    "core:contextwrite": 30,
    "core:generateemoji": 30,
    "core:text2text:changetone": 31,
    "core:text2text:chatwithtools": 31,
    "core:contextagent:interaction": 31,
    "core:text2text:proofread": 31,
    "core:text2speech": 32,
    "core:audio2audio:chat": 32,
    "core:contextagent:audio-interaction": 32,
    "core:analyze-images": 32,
    "core:image2text:ocr": 33,
    "core:text2text:reformatparagraphs": 34,
    "core:text2text:improve": 35,
    "core:image2image": 35,
    "core:audio2text:subtitles": 35,
    "core:audio2audio:translate": 35,
}

# The TextProcessing API (Nextcloud 27.1-29) knows these four text types by PHP class name.
LEGACY_TEXT_TYPES: dict[str, str] = {
    "core:text2text": "OCP\\TextProcessing\\FreePromptTaskType",
    "core:text2text:headline": "OCP\\TextProcessing\\HeadlineTaskType",
    "core:text2text:summary": "OCP\\TextProcessing\\SummaryTaskType",
    "core:text2text:topics": "OCP\\TextProcessing\\TopicsTaskType",
}


@dataclass(frozen=True, order=True)
class ServerVersion:
    """A Nextcloud server's version, as ``/status.php`` reports it."""

    major: int
    minor: int = 0
    micro: int = 0

    @property
    def has_task_processing(self) -> bool:
        """Whether the server has the Task Processing API (Nextcloud 30+)."""
        return self.major >= TASK_PROCESSING_SINCE

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.micro}"


def parse_status(response: httpx.Response, endpoint: str) -> ServerVersion:
    """Read the version from a ``/status.php`` answer.

    Raises:
        UnexpectedResponseError: The answer is not Nextcloud's status JSON.
    """
    try:
        version = str(response.json()["version"])
    except (ValueError, KeyError, TypeError, RecursionError):
        version = ""
    # At most 9 ASCII digits a part, so that int() never meets a number it refuses to convert.
    match = re.match(r"^(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?!\d)", version, re.ASCII)
    if not match:
        raise UnexpectedResponseError(
            f"{endpoint} ({response.status_code}) did not report a Nextcloud version; check "
            "that base_url is the Nextcloud root.",
            endpoint=endpoint,
            status_code=response.status_code,
        )
    major, minor, micro = (int(part) if part else 0 for part in match.groups())
    return ServerVersion(major, minor, micro)


def needs_newer_server(task_type: str, version: ServerVersion) -> str | None:
    """Explain why ``task_type`` cannot exist on a server this old, or return ``None``."""
    if not version.has_task_processing:
        if task_type in LEGACY_TEXT_TYPES:
            return None
        since = max(TASK_TYPE_SINCE.get(task_type, 0), TASK_PROCESSING_SINCE)
    else:
        since = TASK_TYPE_SINCE.get(task_type, 0)
    if version.major >= since:
        return None
    return f"{task_type} needs Nextcloud {since}+, and this server runs Nextcloud {version}."
