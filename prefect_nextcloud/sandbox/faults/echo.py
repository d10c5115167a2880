"""The answer of a misconfigured server or proxy that quotes the request's credentials.

Some reverse proxies and debug pages echo the request headers in their error bodies; PHP
pages dump ``$_SERVER`` with ``PHP_AUTH_PW``. This answer does all of it at once, in the body
the endpoint's kind of client reads: SabreDAV's XML error on WebDAV paths, the OCS envelope
elsewhere. A redirect status also carries a ``Location`` with ``user:password@`` in it.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, quote

from starlette.responses import Response

from prefect_nextcloud.sandbox.ocs.envelope import ocs_response
from prefect_nextcloud.sandbox.webdav.sabre_xml import sabre_error

__all__ = ["credentials_echo"]

_HOST = "cloud.example.invalid"


def _login(authorization: str) -> tuple[str, str]:
    """The user and password of a Basic header; empty strings when it is not one."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user_id, _, password = decoded.partition(":")
    return user_id, password


def credentials_echo(status: int, path: str, query_string: str, authorization: str) -> Response:
    """Answer ``status`` with a message quoting ``authorization`` and the password in it.

    Args:
        status: The HTTP status.
        path: The request path, which decides the kind of body.
        query_string: The raw query string (its ``format`` picks OCS JSON or XML).
        authorization: The request's ``Authorization`` header, as sent.

    Returns:
        The response.
    """
    user_id, password = _login(authorization)
    token = authorization.partition(" ")[2]
    url = f"https://{quote(user_id, safe='')}:{quote(password, safe='')}@{_HOST}{path}"
    message = (
        f"Upstream refused the request. Authorization: {authorization} | credentials {token} "
        f"| PHP_AUTH_USER={user_id} PHP_AUTH_PW={password} | retry at {url}"
    )
    headers = {"Location": url} if 300 <= status < 400 else {}
    if path.startswith("/remote.php/"):
        return sabre_error(status, "ServiceUnavailable", message, headers)
    fmt = dict(parse_qsl(query_string)).get("format", "xml")
    response = ocs_response([], status=status, fmt=fmt, message=message)
    response.headers.update(headers)
    return response
