"""The ASGI app: OCS, WebDAV and ``status.php`` inside the test controls, the overview beside."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from prefect_nextcloud.sandbox.faults.control import HttpControl
from prefect_nextcloud.sandbox.faults.middleware import ControlMiddleware
from prefect_nextcloud.sandbox.ocs.dispatcher import OcsDispatcher
from prefect_nextcloud.sandbox.ocs.envelope import php_json
from prefect_nextcloud.sandbox.overview.endpoint import OverviewEndpoints
from prefect_nextcloud.sandbox.release import status_payload
from prefect_nextcloud.sandbox.webdav.endpoint import DAV_ROOT, LEGACY_ROOT, WebDav

__all__ = ["create_app"]


class _AnyPathConvertor(Convertor[str]):
    """Like Starlette's ``path`` convertor, but also matching line feeds (a decoded ``%0A``).

    Nextcloud's router matches any character in a path parameter; Starlette's ``.*`` stops at a
    line feed, which would leave such requests to Starlette's own text/plain 404.
    """

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sandbox_any_path", _AnyPathConvertor())

_OCS_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_DAV_METHODS = [
    "GET",
    "PUT",
    "DELETE",
    "MKCOL",
    "PROPFIND",
    "PROPPATCH",
    "PATCH",
    "MOVE",
    "COPY",
    "LOCK",
    "UNLOCK",
    "OPTIONS",
    "REPORT",
    "SEARCH",
    "POST",
]


def create_app(
    *,
    ocs: OcsDispatcher,
    webdav: WebDav,
    control: HttpControl,
    server_version: int,
    overview: OverviewEndpoints,
) -> ASGIApp:
    """Assemble the ASGI application.

    Args:
        ocs: Answers ``/ocs/v2.php/…`` and ``/ocs/v1.php/…``.
        webdav: Answers ``/remote.php/dav/…`` and the legacy ``/remote.php/webdav/…``.
        control: Request log and injected failures, applied before everything else.
        server_version: Nextcloud major version reported by ``status.php``.
        overview: Answers ``/`` and ``/sandbox/overview.json``, outside the test controls.

    Returns:
        The application to serve.
    """
    status = status_payload(server_version)

    async def status_php(request: Request) -> Response:
        return Response(php_json(status, hex_tag=False), media_type="application/json")

    routes = [
        Route("/ocs/v2.php/{path:sandbox_any_path}", ocs.handle_v2, methods=_OCS_METHODS),
        Route("/ocs/v1.php/{path:sandbox_any_path}", ocs.handle_v1, methods=_OCS_METHODS),
        Route(DAV_ROOT, webdav.handle, methods=_DAV_METHODS),
        Route(f"{DAV_ROOT}/{{path:sandbox_any_path}}", webdav.handle, methods=_DAV_METHODS),
        Route(LEGACY_ROOT, webdav.handle_legacy, methods=_DAV_METHODS),
        Route(
            f"{LEGACY_ROOT}/{{path:sandbox_any_path}}",
            webdav.handle_legacy,
            methods=_DAV_METHODS,
        ),
        Route("/status.php", status_php),
    ]
    app = Starlette(routes=routes)
    # Nextcloud's router never redirects to add or drop a trailing slash.
    app.router.redirect_slashes = False
    # Looking at the overview is neither logged nor failed: it must not change what tests count.
    return Router(
        overview.routes(), redirect_slashes=False, default=ControlMiddleware(app, control)
    )
