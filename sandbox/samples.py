"""The sample image bundled with the sandbox (a 64 by 48 pixel RGB gradient PNG)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_IMAGE_NAME", "SAMPLE_IMAGE_PATH", "sample_image_bytes"]

SAMPLE_IMAGE_NAME = "sample.png"
SAMPLE_IMAGE_PATH = Path(__file__).parent / "assets" / SAMPLE_IMAGE_NAME


def sample_image_bytes() -> bytes:
    """Return the content of the bundled sample PNG."""
    return SAMPLE_IMAGE_PATH.read_bytes()
