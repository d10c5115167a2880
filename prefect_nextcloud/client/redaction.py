"""Redaction: credentials removed from every text built from a server's answer.

Some proxies and misconfigured servers echo the request's ``Authorization`` header, or the
password itself, in their error pages. Whatever such an answer says must not reach an
exception, a log record, a flow run's state or an event with the credentials in it.

:func:`redact` is the one step every such text passes through; :class:`Redactor` applies it
with one login's secrets to the errors and tasks a client hands back.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import quote, quote_plus

from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.models import Task, TaskListing

__all__ = ["REDACTED", "Redactor", "redact", "secret_forms"]

E = TypeVar("E", bound=NextcloudError)
T = TypeVar("T")
TaskT = TypeVar("TaskT", bound=Task)

REDACTED = "[redacted]"
"""What stands where a credential was."""

# A header or server variable quoted with its value: "Authorization: Basic abc",
# "'authorization': 'Bearer xyz'", PHP's "[HTTP_AUTHORIZATION] => Basic abc" or
# "[PHP_AUTH_PW] => secret". The value is an optional scheme word and one token.
_HEADER = re.compile(
    r"((?<![a-z0-9])(?:(?:http_|proxy-)?authorization|php_auth_pw)[\"'\]]?\s*(?:=>|[:=])\s*"
    r"[\"']?)(?:[a-z][\w-]*[ \t]+)?[^\s\"',;<>]+",
    re.IGNORECASE,
)
# A token after "Basic" or "Bearer" outside any header; _encoded() tells it from prose.
_SCHEME_TOKEN = re.compile(r"\b(basic|bearer)(\s+)([\w+/.~-]{8,}=*)", re.IGNORECASE)
# The userinfo of a URL that carries a password: "scheme://user:password@".
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*):[^\s/?#]*@", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _base64_forms(raw: str) -> set[str]:
    """``raw`` in standard and URL-safe base64, each with and without padding."""
    encoded = {
        base64.b64encode(raw.encode()).decode(),
        base64.urlsafe_b64encode(raw.encode()).decode(),
    }
    return encoded | {form.rstrip("=") for form in encoded}


def _text_forms(password: str) -> set[str]:
    """The password as URLs, JSON (PHP's too, which escapes ``/``) and HTML/XML may write it."""
    url = {quote(password, safe=""), quote(password), quote_plus(password)}
    url |= {_PERCENT.sub(lambda hexa: hexa.group().lower(), form) for form in url}
    escaped = json.dumps(password)[1:-1]
    return (
        {password, escaped, escaped.replace("/", "\\/")}
        | url
        | {html.escape(password), html.escape(password, quote=False)}
    )


def secret_forms(user_id: str, password: str) -> frozenset[str]:
    """Every form in which a login's password may come back in an answer.

    Args:
        user_id: The login name.
        password: Its (app) password.

    Returns:
        The password raw, URL-encoded (upper- and lowercase escapes), JSON- and HTML-escaped;
        and base64 of ``user_id:password`` (the ``Authorization: Basic`` value) and of the
        password alone, standard and URL-safe, padded and not.
    """
    return frozenset(
        _text_forms(password) | _base64_forms(f"{user_id}:{password}") | _base64_forms(password)
    )


def _encoded(token: str) -> bool:
    """Whether a word after ``Basic``/``Bearer`` is a credential rather than prose."""
    return any(char.isdigit() or char in "+/=" for char in token) or any(
        char.isupper() for char in token[1:]
    )


def _scheme_token(match: re.Match[str]) -> str:
    scheme, space, token = match.groups()
    return f"{scheme}{space}{REDACTED}" if _encoded(token) else match.group()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from a text built from a server's answer.

    Removes every occurrence of ``secrets`` (longest first), the value of any
    ``Authorization`` or ``Proxy-Authorization`` header quoted in the text, any token that
    looks encoded after ``Basic`` or ``Bearer``, and the password of any ``user:password@``
    in a URL, known or not. Each becomes :data:`REDACTED`.

    Args:
        text: The text, e.g. an error message that quotes the server.
        secrets: The exact strings to remove, e.g. :func:`secret_forms` of the login.

    Returns:
        The text without them; unchanged when it held none.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    text = _HEADER.sub(rf"\g<1>{REDACTED}", text)
    text = _SCHEME_TOKEN.sub(_scheme_token, text)
    return _USERINFO.sub(rf"\g<1>:{REDACTED}@", text)


class Redactor:
    """Applies :func:`redact` with one login's secrets to what a client hands back.

    Args:
        user_id: The login name.
        password: Its (app) password.
    """

    __slots__ = ("_secrets",)

    def __init__(self, user_id: str, password: str) -> None:
        self._secrets = secret_forms(user_id, password)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{len(self._secrets)} secret forms>)"

    def text(self, text: str) -> str:
        """The text without this login's credentials, or any other (see :func:`redact`)."""
        return redact(text, self._secrets)

    def error(self, error: E) -> E:
        """Redact an error in place and cut it from the exceptions it was raised with.

        Every text attribute (the message, the server's message, the endpoint), every text
        argument and note is redacted, and the task of a :class:`TaskError` too. Its
        ``__cause__`` and ``__context__`` are dropped: they may hold a parser's error with
        the whole body it read, or an httpx error with the request.

        Returns:
            The same error, for ``raise redactor.error(error)``.
        """
        for name, value in list(vars(error).items()):
            if isinstance(value, str):
                setattr(error, name, self.text(value))
            elif isinstance(value, Task):
                setattr(error, name, self.task(value))
        error.args = tuple(self.text(arg) if isinstance(arg, str) else arg for arg in error.args)
        notes = getattr(error, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [self.text(note) if isinstance(note, str) else note for note in notes]
        error.__cause__ = error.__context__ = None
        error.__suppress_context__ = True
        return error

    def result(self, value: T) -> T:
        """A call's result with the tasks in it redacted; any other result as it is."""
        if isinstance(value, Task):
            return self.task(value)
        if isinstance(value, TaskListing):
            tasks = [self.task(task) for task in value.tasks]
            return value.model_copy(update={"tasks": tasks})
        if isinstance(value, list):
            value[:] = [self.task(item) if isinstance(item, Task) else item for item in value]
        return value

    def task(self, task: TaskT) -> TaskT:
        """The task with its ``userFacingErrorMessage`` redacted; the task itself if clean."""
        message = task.user_facing_error_message
        if message is None or (cleaned := self.text(message)) == message:
            return task
        return task.model_copy(update={"user_facing_error_message": cleaned})
