"""How the relay answers a request it emits nothing for: refused (4xx) or ignored (200)."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse

__all__ = ["Ignored", "Refused", "answer"]

logger = logging.getLogger("prefect_nextcloud.relay")


class Refused(Exception):
    """The request is refused and nothing is emitted.

    Args:
        status: The HTTP status: 400 malformed, 403 bad token or header, 408 too slow,
            413 too large.
        reason: Said to the caller and logged; it never holds a secret, a token or the body.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Ignored(Exception):
    """A genuine push the relay does not turn into an event; answered 200.

    E.g. a task that has not ended, or a file outside every user's files: the sender did
    nothing wrong, and an error status would only fill its log with warnings.

    Args:
        reason: Said to the caller and logged.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def answer(outcome: Refused | Ignored, what: str) -> JSONResponse:
    """Log the outcome for ``what`` (e.g. "a task webhook") and build its response."""
    if isinstance(outcome, Refused):
        logger.info("Refused %s (%s): %s", what, outcome.status, outcome.reason)
        return JSONResponse({"error": outcome.reason}, status_code=outcome.status)
    logger.info("Ignored %s: %s", what, outcome.reason)
    return JSONResponse({"ignored": outcome.reason})
