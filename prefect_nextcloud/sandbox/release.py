"""The emulated release: its version numbers and ``status.php``."""

from __future__ import annotations

from typing import Any

__all__ = ["status_payload", "version_numbers", "version_string"]


def version_numbers(server_version: int) -> tuple[int, int, int]:
    """Return (major, minor, micro) of the emulated release: 27 stands for 27.1.0."""
    return (server_version, 1 if server_version == 27 else 0, 0)


def version_string(server_version: int) -> str:
    """Return the version string, e.g. ``"33.0.0"``."""
    return ".".join(str(part) for part in version_numbers(server_version))


def status_payload(server_version: int) -> dict[str, Any]:
    """Return the JSON of ``GET /status.php`` (no login needed)."""
    version = version_string(server_version)
    return {
        "installed": True,
        "maintenance": False,
        "needsDbUpgrade": False,
        "version": f"{version}.0",
        "versionstring": version,
        "edition": "",
        "productname": "Nextcloud",
        "extendedSupport": False,
    }
