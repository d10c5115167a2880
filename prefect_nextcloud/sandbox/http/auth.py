"""Who a request comes from: HTTP Basic (login + app password) or a Bearer app password."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from prefect_nextcloud.sandbox.storage.store import Store

__all__ = ["Login", "authenticate"]


@dataclass(frozen=True)
class Login:
    """The outcome of checking a request's credentials.

    Attributes:
        user_id: The logged-in user, or None.
        rejected: True when Basic credentials were sent but are wrong; the server then refuses
            the request outright instead of treating it as anonymous.
    """

    user_id: str | None
    rejected: bool = False


def authenticate(authorization: str | None, store: Store) -> Login:
    """Check an Authorization header the way ``OC::handleLogin`` does.

    A Bearer token is tried as an app password and ignored if unknown. Basic credentials count
    only when both login and password are non-empty (PHP's ``PHP_AUTH_USER``/``PHP_AUTH_PW``);
    then they must be right.

    Args:
        authorization: The header value, if any.
        store: Holds the users and their app passwords.

    Returns:
        The login.
    """
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        return Login(store.user_for_token(value.strip()))
    credentials = _basic_credentials(value) if scheme.lower() == "basic" else None
    if credentials is None:
        return Login(None)
    user_id, password = credentials
    if store.check_password(user_id, password):
        return Login(user_id)
    return Login(None, rejected=True)


def _basic_credentials(value: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user_id, separator, password = decoded.partition(":")
    return (user_id, password) if separator and user_id and password else None
