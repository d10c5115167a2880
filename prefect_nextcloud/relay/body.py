"""Reading a push's body: capped in size and time, then decoded as JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

from prefect_nextcloud.relay.answers import Refused

__all__ = ["BODY_SECONDS", "MAX_BODY_BYTES", "read_json"]

MAX_BODY_BYTES = 64 * 1024
"""The largest body taken; a task whose input and output are larger is learned by polling."""
BODY_SECONDS = 10.0
"""How long a body may take to arrive; Nextcloud sends it at once."""


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """Read the request's body, at most ``limit`` bytes, and decode it as JSON.

    The declared ``Content-Length`` is checked before anything is read, and the bytes are
    counted as they arrive (a chunked body declares no length).

    Raises:
        Refused: 413 when the body is larger than ``limit``, 408 when it takes longer than
            :data:`BODY_SECONDS`, 400 when it is not JSON or the client went away.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"the body is larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, f"the body did not arrive within {BODY_SECONDS:g} s") from None
    except ClientDisconnect:
        raise Refused(400, "the client closed the connection before sending the body") from None
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not JSON") from None
