"""``GET /`` and ``GET /sandbox/overview.json``: who may look, and at which users."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from prefect_nextcloud.sandbox.http.auth import authenticate
from prefect_nextcloud.sandbox.overview.collect import SandboxContents
from prefect_nextcloud.sandbox.overview.page import error_page, overview_page
from prefect_nextcloud.sandbox.storage.store import Store

__all__ = ["OVERVIEW_JSON_PATH", "OverviewEndpoints"]

OVERVIEW_JSON_PATH = "/sandbox/overview.json"
"""Where the overview is served as JSON."""

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Nextcloud sandbox", charset="UTF-8"'}


@dataclass(frozen=True)
class _Refusal:
    status: int
    title: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)


class OverviewEndpoints:
    """Serves the overview page and its JSON.

    Args:
        contents: Takes the snapshots shown.
        store: Checks the logins.
        host: The address the sandbox is bound to: the pages are open on a loopback address
            and ask for a sandbox user's login on any other.
    """

    def __init__(self, contents: SandboxContents, store: Store, *, host: str) -> None:
        self._contents = contents
        self._store = store
        self._open = _is_loopback(host)

    def routes(self) -> list[Route]:
        """The routes of the page and the JSON (``GET`` and ``HEAD`` only)."""
        return [
            Route("/", self.page, methods=["GET"]),
            Route(OVERVIEW_JSON_PATH, self.json, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        """Answer ``GET /`` with the overview as HTML."""
        shown = self._shown_users(request)
        if isinstance(shown, _Refusal):
            html = error_page(shown.title, shown.message)
            return HTMLResponse(html, status_code=shown.status, headers=shown.headers)
        query = request.url.query
        json_url = f"{OVERVIEW_JSON_PATH}?{query}" if query else OVERVIEW_JSON_PATH
        return HTMLResponse(overview_page(self._contents.overview(shown), json_url))

    async def json(self, request: Request) -> Response:
        """Answer ``GET /sandbox/overview.json`` with the overview as JSON."""
        shown = self._shown_users(request)
        if isinstance(shown, _Refusal):
            body = {"message": shown.message}
            return JSONResponse(body, status_code=shown.status, headers=shown.headers)
        return JSONResponse(self._contents.overview(shown))

    def _shown_users(self, request: Request) -> list[str] | _Refusal | None:
        """The users to show (None: the whole sandbox), or why the request is refused."""
        wanted = request.query_params.get("user")
        if self._open:
            if wanted is None:
                return None
            if wanted not in self._contents.user_ids:
                users = ", ".join(self._contents.user_ids)
                return _Refusal(
                    404,
                    "No such user",
                    f"The sandbox has no user {wanted!r}; its users are: {users}.",
                )
            return [wanted]
        login = authenticate(request.headers.get("authorization"), self._store)
        if login.user_id is None:
            return _Refusal(
                401,
                "Login required",
                "This sandbox listens on more than loopback, so its overview asks for a login: "
                "a sandbox user and that user's app password.",
                _CHALLENGE,
            )
        if wanted not in (None, login.user_id):
            return _Refusal(
                403,
                "Not your files",
                f"Logged in as {login.user_id!r}, not {wanted!r}: a sandbox that listens on more "
                "than loopback shows each user only their own files and tasks. Log in as that "
                "user instead.",
            )
        return [login.user_id]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False
