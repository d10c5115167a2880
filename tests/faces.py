"""Run the same client call through the sync or the async face."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect_nextcloud import NextcloudCredentials


class BothFaces:
    """Calls a client method on a fresh sync or async client."""

    def __init__(self, credentials: NextcloudCredentials, face: str) -> None:
        self.credentials = credentials
        self.face = face

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.face == "sync":
            with self.credentials.get_client() as client:
                return getattr(client, method)(*args, **kwargs)

        async def call() -> Any:
            async with self.credentials.get_async_client() as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(call())
