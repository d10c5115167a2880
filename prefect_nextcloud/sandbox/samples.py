"""The sample files a sandbox started by hand holds: the bundled PNG and a few generated ones."""

from __future__ import annotations

from pathlib import Path

from prefect_nextcloud.sandbox.taskprocessing.media import png_image

__all__ = ["SAMPLE_IMAGE_NAME", "SAMPLE_IMAGE_PATH", "sample_files", "sample_image_bytes"]

SAMPLE_IMAGE_NAME = "sample.png"
SAMPLE_IMAGE_PATH = Path(__file__).parent / "assets" / SAMPLE_IMAGE_NAME

# Name, width and height of the generated images; the name also seeds their colours.
_GENERATED = (("dawn.png", 96, 64), ("meadow.png", 80, 80), ("harbour.png", 120, 72))


def sample_image_bytes() -> bytes:
    """Return the content of the bundled sample PNG (a 64 by 48 pixel RGB gradient)."""
    return SAMPLE_IMAGE_PATH.read_bytes()


def sample_files() -> dict[str, bytes]:
    """Return the files ``prefect-nextcloud sandbox`` starts with, by path below the home.

    Four small PNGs in ``Photos/``, the folder the ``image-report`` deployment reads.
    """
    files = {f"Photos/{SAMPLE_IMAGE_NAME}": sample_image_bytes()}
    for name, width, height in _GENERATED:
        files[f"Photos/{name}"] = png_image(name, width, height)
    return files
