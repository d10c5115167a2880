"""File types recognised from their first bytes, so raw ``bytes`` can get a fitting file name."""

from __future__ import annotations

__all__ = ["RECOGNISED_TYPES", "extension_for"]

RECOGNISED_TYPES = "PNG, JPEG, GIF, WebP, TIFF, WAV, MP3, FLAC, Ogg, M4A/MP4 or PDF"
"""The formats :func:`extension_for` knows, for messages."""

_PREFIXES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"%PDF-", "pdf"),
    (b"ID3", "mp3"),
    (b"fLaC", "flac"),
    (b"OggS", "ogg"),
)


def extension_for(data: bytes) -> str | None:
    """Return the usual file extension of content in a recognised format, without the dot.

    Args:
        data: The content (only its first bytes are read).

    Returns:
        ``"png"``, ``"jpg"``, ``"gif"``, ``"webp"``, ``"tiff"``, ``"wav"``, ``"mp3"``,
        ``"flac"``, ``"ogg"``, ``"m4a"``, ``"mp4"`` or ``"pdf"``; None for anything else.
    """
    for prefix, extension in _PREFIXES:
        if data.startswith(prefix):
            return extension
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if data[8:12] == b"WEBP" else "wav"
    if data[4:8] == b"ftyp":
        return "m4a" if data[8:12] == b"M4A " else "mp4"
    if _mpeg_audio_frame(data):
        return "mp3"
    return None


def _mpeg_audio_frame(data: bytes) -> bool:
    """An MPEG audio frame header without ID3 tag: 11 sync bits, a valid version and layer."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0b11, (data[1] >> 1) & 0b11
    bitrate = data[2] >> 4
    # Version 01 and layer 00 are reserved (AAC's ADTS headers use layer 00); bitrate 1111 is bad.
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111
