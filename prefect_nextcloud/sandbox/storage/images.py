"""Read honest facts (format, pixel size) from image bytes by parsing their headers.

Only the headers are read; nothing is decoded. Supported: PNG, JPEG, GIF, WebP and BMP.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ImageFacts", "read_image_facts"]

# JPEG start-of-frame markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class ImageFacts:
    """What the headers of an image say.

    Attributes:
        format: ``"PNG"``, ``"JPEG"``, ``"GIF"``, ``"WebP"`` or ``"BMP"``.
        mime_type: The matching MIME type, e.g. ``"image/png"``.
        width: Width in pixels.
        height: Height in pixels.
    """

    format: str
    mime_type: str
    width: int
    height: int


def read_image_facts(data: bytes) -> ImageFacts | None:
    """Return the format and pixel size of an image, or None when the bytes are no known image.

    Args:
        data: The file content.

    Returns:
        The facts, or None for other or truncated content.
    """
    for magic, read in _READERS:
        if data.startswith(magic):
            try:
                return read(data)
            except struct.error:  # truncated header
                return None
    return None


def _png(data: bytes) -> ImageFacts | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageFacts("PNG", "image/png", width, height)


def _gif(data: bytes) -> ImageFacts:
    width, height = struct.unpack("<HH", data[6:10])
    return ImageFacts("GIF", "image/gif", width, height)


def _jpeg(data: bytes) -> ImageFacts | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageFacts("JPEG", "image/jpeg", width, height)
        pos += 2 + length
    return None


def _webp(data: bytes) -> ImageFacts | None:
    if data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageFacts("WebP", "image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageFacts("WebP", "image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageFacts("WebP", "image/webp", width, height)
    return None


def _bmp(data: bytes) -> ImageFacts | None:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
    elif header_size >= 40:
        width, height = struct.unpack("<ii", data[18:26])
    else:
        return None
    # A negative height marks a top-down bitmap.
    return ImageFacts("BMP", "image/bmp", abs(width), abs(height))


_READERS: tuple[tuple[bytes | tuple[bytes, ...], Callable[[bytes], ImageFacts | None]], ...] = (
    (b"\x89PNG\r\n\x1a\n", _png),
    ((b"GIF87a", b"GIF89a"), _gif),
    (b"\xff\xd8", _jpeg),
    (b"RIFF", _webp),
    (b"BM", _bmp),
)
