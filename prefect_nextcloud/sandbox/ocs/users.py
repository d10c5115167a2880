"""The provisioning API's user reads: ``GET /cloud/user`` and ``GET /cloud/users/{userId}``.

Both answer ``getUserData``: id, login times, backend, quota, e-mail, display name (as
``displayname`` and ``display-name``), the profile fields, groups, language and the backend's
capabilities; reading oneself adds the ``…Scope`` keys. Admins also get ``enabled`` and
``storageLocation``, and may read anyone. Anyone else reading another user gets the
``OCSException`` of code 998 with an empty message (on v2 HTTP 404, on v1 HTTP 200), while an
unknown user is ``User does not exist`` with status 404, so the two answers tell whether a user
exists. Sources: Nextcloud's ``apps/provisioning_api/lib/Controller/UsersController.php``
(``getUser``, ``getCurrentUser``) and ``AUserData.php`` (``getUserData``, ``fillStorageInfo``).
"""

from __future__ import annotations

from typing import Any

from prefect_nextcloud.sandbox.http.phpcompat import to_string
from prefect_nextcloud.sandbox.ocs.dispatcher import DataResult, OcsRequest, OcsRoute
from prefect_nextcloud.sandbox.ocs.envelope import RESPOND_NOT_FOUND
from prefect_nextcloud.sandbox.storage.store import Store

__all__ = ["UsersController"]

# SPACE_UNLIMITED: the sandbox sets no quota.
_UNLIMITED = -3
_FREE_BYTES = 100 * 1024**3
# The data folder of Nextcloud's container image, where getHome() puts each user.
_DATA_DIRECTORY = "/var/www/html/data"
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


class UsersController:
    """``GET /cloud/user`` and ``GET /cloud/users/{userId}`` (``#[NoAdminRequired]``).

    Args:
        store: Users, their groups and their files (for the quota).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def routes(self) -> list[OcsRoute]:
        """Return the controller's routes."""
        return [
            OcsRoute("GET", "/cloud/user", self.current_user),
            OcsRoute("GET", "/cloud/users/{userId}", self.user),
        ]

    def current_user(self, request: OcsRequest) -> DataResult:
        """``getCurrentUser``: the logged-in user's details, with the scopes."""
        caller = request.user_id
        assert caller is not None, "the route needs a login"
        data = self._user_data(caller, caller, scopes=True)
        assert data is not None, "everyone may read themselves"
        return DataResult(data)

    def user(self, request: OcsRequest) -> DataResult:
        """``getUser``: one user's details, for admins or the user themselves."""
        caller = request.user_id
        assert caller is not None, "the route needs a login"
        target = to_string(request.params["userId"])
        if target not in self._store.user_ids:
            return DataResult([], 404, message="User does not exist")
        data = self._user_data(target, caller, scopes=target == caller)
        if data is None:  # getUserData's answer when the caller may not read the user
            return DataResult([], RESPOND_NOT_FOUND)
        return DataResult(data)

    def _user_data(self, target: str, caller: str, *, scopes: bool) -> dict[str, Any] | None:
        """``AUserData::getUserData``; None when ``caller`` may not read ``target``."""
        data: dict[str, Any] = {}
        if self._store.is_admin(caller):
            data["enabled"] = True
            data["storageLocation"] = f"{_DATA_DIRECTORY}/{target}"
        elif caller != target:
            return None
        data |= {
            "id": target,
            "lastLogin": 0,
            "backend": "Database",
            "subadmin": [],
            "quota": self._quota(target),
            "manager": "",
            "avatarScope": "v2-federated",
            "email": None,
            "emailScope": "v2-federated",
            "additional_mail": [],
            "additional_mailScope": [],
            "displayname": target,
            "display-name": target,
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
            "groups": self._store.groups_of(target),
            "language": "en",
            "locale": "",
            "notify_email": None,
            "backendCapabilities": {"setDisplayName": True, "setPassword": True},
        }
        if not scopes:
            data = {key: value for key, value in data.items() if not key.endswith("Scope")}
        return data

    def _quota(self, user_id: str) -> dict[str, Any]:
        with self._store.condition:
            home = self._store.node(user_id, "")
            used = 0 if home is None else self._store.size(home)
        return {
            "free": _FREE_BYTES,
            "used": used,
            "total": used + _FREE_BYTES,
            "relative": round(100 * used / (used + _FREE_BYTES), 2),
            "quota": _UNLIMITED,
        }
