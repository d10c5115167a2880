"""The OCS request pipeline of ``/ocs/v2.php`` and ``/ocs/v1.php``: what happens around a call.

Both entry points reach the same routes; v1 only renders differently (see ``ocs_response``).
In the server's order: request decoding, login (wrong credentials end here), route matching
(unknown route 404, wrong method 405), the security middleware (ExApp-only routes, login
required, CSRF), the rate limiter, then the controller, whose result is wrapped in the OCS
envelope in the negotiated format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from prefect_nextcloud.sandbox.http.auth import authenticate
from prefect_nextcloud.sandbox.http.phpcompat import parse_str, to_string
from prefect_nextcloud.sandbox.http.ratelimit import SlidingWindowLimiter
from prefect_nextcloud.sandbox.ocs.envelope import (
    RESPOND_NOT_FOUND,
    RESPOND_SERVER_ERROR,
    RESPOND_UNAUTHORISED,
    csrf_failed_response,
    legacy_content_type,
    legacy_response,
    negotiate_format,
    ocs_response,
    plain_json_response,
)
from prefect_nextcloud.sandbox.storage.store import Store

__all__ = [
    "DataResult",
    "OcsDispatcher",
    "OcsRequest",
    "OcsRoute",
    "ServerError",
    "message_result",
    "required_string_param",
    "string_param",
]

_INVALID_QUERY = (
    "Invalid query, please check the syntax. API specifications are here:"
    " http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n"
)
_INTERNAL_SERVER_ERROR = "Internal Server Error\n"


class ServerError(Exception):
    """An uncaught server-side error, answered with the generic 500 of ``ocs/v1.php``.

    Raised e.g. when a required controller argument is missing or has the wrong type (a PHP
    ``TypeError`` upstream).
    """


@dataclass(frozen=True)
class OcsRequest:
    """What a controller method receives.

    Attributes:
        user_id: The logged-in user; None only on ``#[PublicPage]`` routes.
        params: Query, body and URL parameters merged, as ``IRequest::getParam`` sees them.
    """

    user_id: str | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class DataResult:
    """A controller's ``DataResponse``: ``data`` goes into the envelope.

    An ``OCSException`` (e.g. ``OCSBadRequestException``) is ``data`` ``[]`` with its text as
    ``message``, which goes into ``meta.message``.
    """

    data: object
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


def message_result(text: str, status: int) -> DataResult:
    """Return a controller error: ``{"message": text}`` with an HTTP status."""
    return DataResult({"message": text}, status)


def string_param(params: Mapping[str, Any], name: str) -> str | None:
    """A ``?string`` controller argument; PHP's type check fails on anything but a string.

    Raises:
        ServerError: The value is not a string.
    """
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ServerError(f"Argument {name} must be of type string")
    return value


def required_string_param(params: Mapping[str, Any], name: str) -> str:
    """A ``string`` controller argument: missing or null is a PHP ``TypeError``.

    Raises:
        ServerError: The value is missing or not a string.
    """
    value = string_param(params, name)
    if value is None:
        raise ServerError(f"Argument {name} must be of type string, null given")
    return value


Handler = Callable[[OcsRequest], DataResult | Response]


@dataclass(frozen=True)
class OcsRoute:
    """One OCS route.

    Attributes:
        method: The HTTP verb.
        template: The path below ``/ocs/v2.php``, with ``{name}`` placeholders.
        handler: The controller method; None for ``#[ExAppRequired]`` routes, which a user
            session never reaches.
        csrf: False for ``#[NoCSRFRequired]`` methods.
        rate_limited: Whether ``#[UserRateLimit]`` applies.
        public: True for ``#[PublicPage]`` methods, which anonymous callers may use.
        anon_rate_limited: Whether ``#[AnonRateLimit]`` applies to anonymous callers.
    """

    method: str
    template: str
    handler: Handler | None
    csrf: bool = True
    rate_limited: bool = False
    public: bool = False
    anon_rate_limited: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        # \Z, not $: like Symfony's compiled routes (``D`` flag), a trailing line feed is no match.
        object.__setattr__(self, "pattern", re.compile(f"^{regex}\\Z"))


class OcsDispatcher:
    """Answers every request below ``/ocs/v2.php`` and ``/ocs/v1.php``.

    Args:
        store: Users (for login).
        routes: The routes in registration order.
        limiter: The ``#[UserRateLimit]`` limiter.
        anon_limiter: The ``#[AnonRateLimit]`` limiter, keyed on the client address.
    """

    def __init__(
        self,
        store: Store,
        routes: Sequence[OcsRoute],
        limiter: SlidingWindowLimiter,
        anon_limiter: SlidingWindowLimiter,
    ) -> None:
        self._store = store
        self._routes = list(routes)
        self._limiter = limiter
        self._anon_limiter = anon_limiter

    async def handle_v1(self, request: Request) -> Response:
        """Handle one request below ``/ocs/v1.php``."""
        return await self._handle(request, version=1)

    async def handle_v2(self, request: Request) -> Response:
        """Handle one request below ``/ocs/v2.php``."""
        return await self._handle(request, version=2)

    async def _handle(self, request: Request, *, version: int) -> Response:
        body = await request.body()
        query = parse_str(request.url.query)
        try:
            body_params = _body_params(request.headers, body)
        except ValueError:  # IRequest::throwDecodingExceptionIfAny()
            return _server_error(query, version)
        params: dict[str, Any] = {**query, **body_params}
        legacy_fmt = to_string(params.get("format", "xml"))
        authorization = request.headers.get("authorization")
        login = authenticate(authorization, self._store)
        if login.rejected:
            # Requests from the web UI's JavaScript must not trigger the browser's login dialog.
            scheme = (
                "DummyBasic"
                if request.headers.get("x-requested-with") == "XMLHttpRequest"
                else "Basic"
            )
            # ocs/v1.php passes no format for this answer, so it is XML whatever was asked.
            return legacy_response(
                statuscode=RESPOND_UNAUTHORISED,
                message="Unauthorised",
                fmt="xml",
                headers={"WWW-Authenticate": f'{scheme} realm="Authorisation Required"'},
                version=version,
            )

        method = "GET" if request.method == "HEAD" else request.method
        path = "/" + request.path_params["path"]
        allowed = False
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method != method:
                allowed = True
                continue
            params.update(match.groupdict())
            client = request.client.host if request.client else ""
            caller = _Caller(login.user_id, client, version)
            return self._secured_call(route, request.headers, caller, params)
        if allowed:
            return Response(
                b"", status_code=405, headers={"Content-Type": legacy_content_type(legacy_fmt)}
            )
        return legacy_response(
            statuscode=RESPOND_NOT_FOUND, message=_INVALID_QUERY, fmt=legacy_fmt, version=version
        )

    def _secured_call(
        self, route: OcsRoute, headers: Headers, caller: _Caller, params: dict[str, Any]
    ) -> Response:
        fmt = negotiate_format(params, headers.get("accept"))
        refusal = self._security_check(route, headers, caller, fmt)
        if refusal is not None:
            return refusal
        user_id = caller.user_id
        assert route.handler is not None
        try:
            # An unknown format fails in OCSController::buildResponse (DomainException).
            result = route.handler(OcsRequest(user_id, params)) if fmt in ("json", "xml") else None
        except ServerError:
            result = None
        if result is None:
            return _server_error(params, caller.version)
        if isinstance(result, Response):
            return result
        response = ocs_response(
            result.data,
            status=result.status,
            fmt=fmt,
            message=result.message,
            version=caller.version,
        )
        response.headers.update(result.headers)
        return response

    def _security_check(
        self, route: OcsRoute, headers: Headers, caller: _Caller, fmt: str
    ) -> Response | None:
        """SecurityMiddleware and RateLimitingMiddleware; None lets the request through."""
        user_id = caller.user_id
        if route.handler is None:
            return plain_json_response({"message": "ExApp required"}, 412)
        if user_id is None and not route.public:
            return ocs_response(
                [],
                status=RESPOND_UNAUTHORISED,
                fmt=fmt,
                message="Current user is not logged in",
                version=caller.version,
            )
        authorization = headers.get("authorization", "")
        if route.csrf and not (
            headers.get("ocs-apirequest") == "true" or authorization.startswith("Bearer ")
        ):
            return csrf_failed_response()
        if user_id is None:
            # Anonymous callers are counted per address against #[AnonRateLimit].
            limited = route.anon_rate_limited and not self._anon_limiter.attempt(
                (route.template, caller.address)
            )
        else:
            limited = route.rate_limited and not self._limiter.attempt((route.template, user_id))
        if limited:
            # RateLimitingMiddleware: an empty DataResponse that nothing wraps (reference §2).
            return Response(
                b"", status_code=429, headers={"Content-Type": "text/html; charset=UTF-8"}
            )
        return None


@dataclass(frozen=True)
class _Caller:
    user_id: str | None
    address: str
    version: int


def _server_error(params: Mapping[str, Any], version: int) -> Response:
    return legacy_response(
        statuscode=RESPOND_SERVER_ERROR,
        message=_INTERNAL_SERVER_ERROR,
        fmt=to_string(params.get("format", "xml")),
        version=version,
    )


def _body_params(headers: Headers, body: bytes) -> dict[str, Any]:
    r"""Decode a JSON or form body into parameters, as ``OC\AppFramework\Http\Request`` does.

    Raises:
        ValueError: The body claims to be JSON but is not.
    """
    content_type = headers.get("content-type", "")
    if "application/json" in content_type:
        if not body.strip():
            return {}
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            return decoded
        return {str(i): v for i, v in enumerate(decoded)} if isinstance(decoded, list) else {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_str(body.decode("utf-8", errors="replace"))
    return {}
