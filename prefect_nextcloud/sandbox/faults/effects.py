"""What an injected failure does to one request: the actions and their fixed responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["FaultAction", "FaultEffect"]


class FaultAction(Enum):
    """What an injected failure does to a request."""

    RESPOND = "respond"
    """Answer with a fixed response instead of processing the request."""
    MAINTENANCE = "maintenance"
    """Answer as a server in maintenance mode does, without processing the request."""
    DROP = "drop"
    """Close the connection without processing the request or answering."""
    LOSE_RESPONSE = "lose_response"
    """Process the request normally, then close the connection without answering."""
    REWRITE = "rewrite"
    """Process the request normally, then answer with its JSON body changed."""
    ECHO_CREDENTIALS = "echo_credentials"
    """Answer with an error that quotes the request's credentials, as a misconfigured server
    or proxy does (see :mod:`.echo`)."""


@dataclass(frozen=True)
class FaultEffect:
    """One failure to apply to one request.

    Attributes:
        action: What happens.
        status: The HTTP status of a :attr:`FaultAction.RESPOND` or
            :attr:`FaultAction.ECHO_CREDENTIALS` response.
        body: Its body.
        headers: Its headers.
        rewrite: For :attr:`FaultAction.REWRITE`, what turns the decoded JSON answer into
            the one sent.
    """

    action: FaultAction
    status: int = 0
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    rewrite: Callable[[Any], Any] | None = None
