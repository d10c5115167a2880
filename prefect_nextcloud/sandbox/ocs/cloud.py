"""The ``/cloud/capabilities`` OCS endpoint, which clients read first."""

from __future__ import annotations

import hashlib
from typing import Any

from prefect_nextcloud.sandbox.ocs.dispatcher import DataResult, OcsRequest, OcsRoute
from prefect_nextcloud.sandbox.ocs.envelope import php_json
from prefect_nextcloud.sandbox.release import version_numbers, version_string

__all__ = ["CloudController"]

# IURLGenerator::URL_REGEX_NO_MODIFIERS, which core sends as reference-regex.
_URL_REGEX = (
    r"(\s|\n|^)(https?:\/\/)([-A-Z0-9+_.]+(?::[0-9]+)?(?:\/[-A-Z0-9+&@#%?=~_|!:,.;()]*)*)(\s|\n|$)"
)


class CloudController:
    """``GET /cloud/capabilities`` (``#[PublicPage]``).

    Capabilities list only what the sandbox implements: ``core``, ``bruteforce``, ``dav``
    chunking and the ``files`` section with the trash bin (``undelete``) and versions (no
    ``bulkupload``, as on a server where it is switched off). Anonymous callers get only the
    public ones, as upstream. Sources: the ``Capabilities.php`` of Nextcloud's ``files``,
    ``files_trashbin`` and ``files_versions`` apps.

    Args:
        server_version: The emulated Nextcloud major version.
    """

    def __init__(self, server_version: int) -> None:
        self._version = server_version

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes."""
        return [
            OcsRoute("GET", "/cloud/capabilities", self.capabilities, public=True),
        ]

    def capabilities(self, request: OcsRequest) -> DataResult:
        """The version block and the capabilities (public ones only without login)."""
        major, minor, micro = version_numbers(self._version)
        version = {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": version_string(self._version),
            "edition": "",
            "extendedSupport": False,
        }
        capabilities: dict[str, Any] = {"bruteforce": {"delay": 0, "allow-listed": False}}
        if request.user_id is not None:
            capabilities = {
                "core": {
                    "pollinterval": 60,
                    "webdav-root": "remote.php/webdav",
                    "reference-api": True,
                    "reference-regex": _URL_REGEX,
                    "mod-rewrite-working": False,
                },
                **capabilities,
                "dav": {"chunking": "1.0"},
                "files": self._files(),
            }
        result = {"version": version, "capabilities": capabilities}
        # OCSController::getCapabilities sets md5(json_encode($result)) as ETag.
        etag = hashlib.md5(php_json(result, hex_tag=False), usedforsecurity=False).hexdigest()
        return DataResult(result, headers={"ETag": f'"{etag}"'})

    def _files(self) -> dict[str, Any]:
        files: dict[str, Any] = {}
        if self._version >= 30:
            forbidden = [".htaccess"]
            files = {
                "$comment": '"blacklisted_files" is deprecated as of Nextcloud 30, use '
                '"forbidden_filenames" instead',
                "blacklisted_files": forbidden,
                "forbidden_filenames": forbidden,
                "forbidden_filename_basenames": [],
                "forbidden_filename_characters": ["\\", "/"],
                "forbidden_filename_extensions": [".filepart", ".part"],
            }
        else:
            files = {"blacklisted_files": [".htaccess"]}
        files["bigfilechunking"] = True
        if self._version >= 31:
            files["chunked_upload"] = {"max_size": 100 * 1024**2, "max_parallel_count": 5}
            files["file_conversions"] = []
        files["undelete"] = True
        files |= {"versioning": True, "version_labeling": True, "version_deletion": True}
        return files
