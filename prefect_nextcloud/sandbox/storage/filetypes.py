"""MIME types of stored files: by name (what Nextcloud stores) and by content (what it sniffs)."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from prefect_nextcloud.sandbox.storage.images import read_image_facts

__all__ = ["has_preview", "mime_type_for_name", "sniff_mime_type"]

# Nextcloud maps extensions with its own table; these are the common ones, the rest fall back to
# Python's table and then to application/octet-stream, like an unknown extension upstream.
_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
}

# The MIME types of the preview providers a default install enables (``enabledPreviewProviders``).
_PREVIEWED = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/bmp",
        "image/webp",
        "text/plain",
        "text/markdown",
        "audio/mpeg",
    }
)


def has_preview(mime_type: str) -> bool:
    """Whether a default install previews this MIME type (``IPreview::isMimeSupported``)."""
    return mime_type in _PREVIEWED


def mime_type_for_name(name: str) -> str:
    """Return the MIME type Nextcloud would store for a file name (by its extension)."""
    suffix = PurePosixPath(name).suffix.lower()
    return (
        _BY_EXTENSION.get(suffix) or mimetypes.types_map.get(suffix) or "application/octet-stream"
    )


def sniff_mime_type(data: bytes) -> str | None:
    """Guess a MIME type from content, as PHP's ``mime_content_type`` does for common files.

    Args:
        data: The file content.

    Returns:
        The sniffed type, or None where libmagic would answer ``application/octet-stream`` (the
        server then falls back to the stored type).
    """
    if not data:
        return "application/x-empty"
    facts = read_image_facts(data)
    if facts is not None:
        return facts.mime_type
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "audio/x-wav"  # libmagic's name for WAV
    return "text/plain" if _is_text(data) else None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
