"""What a client learns the server version from: ``status.php`` and ``/cloud/capabilities``."""

from __future__ import annotations

from typing import Any

from prefect_nextcloud.sandbox.dispatcher import DataResult, OcsRequest, OcsRoute

__all__ = ["CapabilitiesController", "status_payload", "version_numbers"]


def version_numbers(server_version: int) -> tuple[int, int, int]:
    """Return (major, minor, micro) of the emulated release: 27 stands for 27.1.0."""
    return (server_version, 1 if server_version == 27 else 0, 0)


def _version_string(server_version: int) -> str:
    return ".".join(str(part) for part in version_numbers(server_version))


def status_payload(server_version: int) -> dict[str, Any]:
    """Return the JSON of ``GET /status.php`` (no login needed)."""
    version = _version_string(server_version)
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


class CapabilitiesController:
    """``GET /ocs/v2.php/cloud/capabilities`` (``#[PublicPage]``), reduced to the version block.

    Args:
        server_version: The emulated Nextcloud major version.
    """

    def __init__(self, server_version: int) -> None:
        self._version = server_version

    def routes(self) -> list[OcsRoute]:
        """Return the controller's route."""
        return [OcsRoute("GET", "/cloud/capabilities", self.capabilities, public=True)]

    def capabilities(self, request: OcsRequest) -> DataResult:
        """The version block and a minimal ``core`` capability."""
        major, minor, micro = version_numbers(self._version)
        version = {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": _version_string(self._version),
            "edition": "",
            "extendedSupport": False,
        }
        core = {"pollinterval": 60, "webdav-root": "remote.php/webdav"}
        return DataResult({"version": version, "capabilities": {"core": core}})
