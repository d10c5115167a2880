"""The ``/cloud`` OCS endpoints clients read first: ``capabilities`` and ``user``."""

from __future__ import annotations

import hashlib
from typing import Any

from prefect_nextcloud.sandbox.ocs.dispatcher import DataResult, OcsRequest, OcsRoute
from prefect_nextcloud.sandbox.ocs.envelope import php_json
from prefect_nextcloud.sandbox.release import version_numbers, version_string
from prefect_nextcloud.sandbox.storage.store import Store

__all__ = ["CloudController"]

# IURLGenerator::URL_REGEX_NO_MODIFIERS, which core sends as reference-regex.
_URL_REGEX = (
    r"(\s|\n|^)(https?:\/\/)([-A-Z0-9+_.]+(?::[0-9]+)?(?:\/[-A-Z0-9+&@#%?=~_|!:,.;()]*)*)(\s|\n|$)"
)
# SPACE_UNLIMITED: the sandbox sets no quota.
_UNLIMITED = -3
_FREE_BYTES = 100 * 1024**3
_SCOPED_FIELDS = (
    "phone",
    "address",
    "website",
    "twitter",
    "fediverse",
    "organisation",
    "role",
    "headline",
    "biography",
)


class CloudController:
    """``GET /cloud/capabilities`` (``#[PublicPage]``) and ``GET /cloud/user``.

    Capabilities list only what the sandbox implements: ``core``, ``bruteforce``, ``dav``
    chunking and the ``files`` section (no ``bulkupload``, versions or trash bin, as on a server
    where those are switched off). Anonymous callers get only the public ones, as upstream.

    Args:
        store: Users and their files (for the quota in ``cloud/user``).
        server_version: The emulated Nextcloud major version.
    """

    def __init__(self, store: Store, server_version: int) -> None:
        self._store = store
        self._version = server_version

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes."""
        return [
            OcsRoute("GET", "/cloud/capabilities", self.capabilities, public=True),
            OcsRoute("GET", "/cloud/user", self.user),
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
        return files

    def user(self, request: OcsRequest) -> DataResult:
        """``provisioning_api`` ``getCurrentUser``: the logged-in user's details."""
        user_id = request.user_id
        assert user_id is not None, "the route needs a login"
        with self._store.condition:
            home = self._store.node(user_id, "")
            used = 0 if home is None else self._store.size(home)
        data: dict[str, Any] = {
            "id": user_id,
            "lastLogin": 0,
            "backend": "Database",
            "subadmin": [],
            "quota": {
                "free": _FREE_BYTES,
                "used": used,
                "total": used + _FREE_BYTES,
                "relative": round(100 * used / (used + _FREE_BYTES), 2),
                "quota": _UNLIMITED,
            },
            "manager": "",
            "avatarScope": "v2-federated",
            "email": None,
            "emailScope": "v2-federated",
            "additional_mail": [],
            "additional_mailScope": [],
            "displayname": user_id,
            "display-name": user_id,
            "displaynameScope": "v2-federated",
        }
        for field in _SCOPED_FIELDS:
            data[field] = ""
            data[f"{field}Scope"] = "v2-local"
        data |= {
            "profile_enabled": "1",
            "profile_enabledScope": "v2-local",
            "pronouns": "",
            "pronounsScope": "v2-federated",
            "groups": [],
            "language": "en",
            "locale": "",
            "notify_email": None,
            "backendCapabilities": {"setDisplayName": True, "setPassword": True},
        }
        return DataResult(data)
