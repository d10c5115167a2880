"""Connection settings shared by the credentials block and the clients."""

from __future__ import annotations

import ipaddress
import os
import ssl
import warnings
from urllib.parse import urlsplit

import httpx

from prefect_nextcloud._cache import BoundedCache

__all__ = [
    "URL_NOT_SHOWN",
    "is_loopback",
    "may_hold_credentials",
    "normalize_base_url",
    "tls_verification",
]


URL_NOT_SHOWN = "<not shown: it contains '@', so it may hold a password>"
"""What validation errors show instead of a URL that may carry credentials."""
_SHOWN_CHARACTERS = 200


def may_hold_credentials(url: object) -> bool:
    """Whether ``url`` (text, bytes or any object) has an ``@``, as a URL with credentials has.

    Error messages and validation errors must not repeat such a URL: the part before the
    ``@`` may be a password, however it is spelt (``user:pw@``, ``:pw@``, percent-encoded).
    """
    if isinstance(url, bytes | bytearray):
        return b"@" in url
    try:
        return "@" in str(url)
    except Exception:  # an object whose str() fails cannot show a password either
        return False


def normalize_base_url(url: str) -> str:
    """Return the server root for any form of the Nextcloud address a user may paste.

    Trailing slashes and a trailing ``/index.php`` are removed; sub-path installations such as
    ``https://host/nextcloud`` keep their path.

    Args:
        url: The address, e.g. ``https://cloud.example.com/index.php/``.

    Returns:
        The root, e.g. ``https://cloud.example.com``.

    Raises:
        ValueError: The address is not an absolute http(s) URL with a host. The message never
            repeats an address that may carry a password.
    """
    if not isinstance(url, str):
        raise ValueError(f"The Nextcloud URL must be a string, got {type(url).__name__}.")
    if may_hold_credentials(url):
        # Not repeated in the message: the part before "@" may be a password.
        raise ValueError(
            "The Nextcloud URL must not contain a user name or password (it has an '@'); put "
            "the user in user_id and the app password in app_password."
        )
    shown = repr(url[:_SHOWN_CHARACTERS] + ("..." if len(url) > _SHOWN_CHARACTERS else ""))
    usage = "Use the address you open Nextcloud with in a browser, e.g. https://cloud.example.com."
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"The Nextcloud URL {shown} is malformed ({error}). {usage}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"The Nextcloud URL must start with https:// (or http://) and name a host, got "
            f"{shown}. {usage}"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"The Nextcloud URL must not carry a query or fragment (after '?' or '#'): "
            f"{parts.scheme}://{parts.netloc}{parts.path}?... {usage}"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/index.php"):
        path = path.removesuffix("/index.php").rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(url: str) -> bool:
    """Whether the URL points at this machine (``localhost`` or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MAX_WARNED_SERVERS = 64
"""The most servers whose unverified TLS was warned about that are remembered (LRU)."""
_warned_insecure: BoundedCache[str, bool] = BoundedCache(MAX_WARNED_SERVERS)
# Verifying SSL contexts by trust store (CA bundle path and modification time, or None).
_ssl_contexts: BoundedCache[tuple[str | None, int | None], ssl.SSLContext] = BoundedCache(8)


def tls_verification(
    base_url: str, *, verify_tls: bool, ca_bundle: str | None
) -> ssl.SSLContext | bool:
    """Build the ``verify`` argument for httpx.

    Args:
        base_url: The server root, named in the warning.
        verify_tls: Whether certificates are checked.
        ca_bundle: Path to a PEM file of trusted certificate authorities, if not the system's.

    Returns:
        An SSL context, or ``False`` when verification is off (warned once per server, among
        the last :data:`MAX_WARNED_SERVERS`).
    """
    if not verify_tls:
        if _warned_insecure.add(base_url, True):
            warnings.warn(
                f"TLS certificate verification is OFF for {base_url}: anyone on the network "
                "path can read the app password. Prefer ca_bundle with your own CA.",
                stacklevel=3,
            )
        return False
    if ca_bundle:
        try:
            return _ssl_context(ca_bundle, os.stat(ca_bundle).st_mtime_ns)
        except (ssl.SSLError, OSError) as error:
            raise ValueError(
                f"ca_bundle {ca_bundle!r} could not be read as PEM certificates ({error}); give "
                "the path of a PEM file with your certificate authority."
            ) from None
    return _ssl_context(None, None)


def _ssl_context(ca_bundle: str | None, modified_ns: int | None) -> ssl.SSLContext:
    """A verifying SSL context, built once per trust store: loading one costs ~30 ms of CPU.

    Clients share it (contexts are safe to share); a changed ``ca_bundle`` file is read anew.
    """
    if ca_bundle is None:
        return _ssl_contexts.get_or_put((None, None), httpx.create_ssl_context)
    return _ssl_contexts.get_or_put(
        (ca_bundle, modified_ns), lambda: ssl.create_default_context(cafile=ca_bundle)
    )
