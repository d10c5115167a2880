"""Small, deterministic media files for the fake providers: PNG images, WAV sounds, SRT text.

Everything is derived from a seed string, so the same input always gives the same bytes, and
different inputs (or image indexes) give visibly different files.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
import zlib

__all__ = ["png_image", "srt_subtitles", "wav_tone"]

_WAV_RATE = 8000


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode("utf-8")).digest()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_image(seed: str, width: int = 64, height: int = 64) -> bytes:
    """Return an RGB PNG with a horizontal gradient whose colours come from ``seed``.

    Args:
        seed: Decides the colours; equal seeds give equal bytes.
        width: Pixels, at least 1.
        height: Pixels, at least 1.

    Returns:
        A valid PNG file.
    """
    digest = _digest(seed)
    start, end = digest[:3], digest[3:6]
    row = bytearray(b"\x00")  # filter type None
    for x in range(width):
        weight = x / max(width - 1, 1)
        row += bytes(round(a + (b - a) * weight) for a, b in zip(start, end, strict=True))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"tEXt", b"Comment\x00Fake image made by the Nextcloud sandbox")
        + _png_chunk(b"IDAT", zlib.compress(bytes(row) * height, 9))
        + _png_chunk(b"IEND", b"")
    )


def wav_tone(seed: str, seconds: float = 0.25) -> bytes:
    """Return a mono 16-bit 8 kHz WAV with a sine tone whose pitch (220-880 Hz) comes from ``seed``.

    Args:
        seed: Decides the pitch; equal seeds give equal bytes.
        seconds: Length of the sound.

    Returns:
        A valid WAV file.
    """
    frequency = 220 + int.from_bytes(_digest(seed)[:2], "big") % 661
    frames = b"".join(
        struct.pack("<h", round(12000 * math.sin(2 * math.pi * frequency * n / _WAV_RATE)))
        for n in range(int(_WAV_RATE * seconds))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_WAV_RATE)
        out.writeframes(frames)
    return buffer.getvalue()


def srt_subtitles(text: str) -> bytes:
    """Return a one-cue SubRip file showing ``text`` for the first two seconds."""
    return f"1\n00:00:00,000 --> 00:00:02,000\n{text}\n".encode()
