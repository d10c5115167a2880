"""The relay's ASGI application: two POST routes that turn Nextcloud's pushes into events.

``POST /nextcloud/task/{token}`` takes task webhooks, ``POST /nextcloud/files`` the file events
of ``webhook_listeners``; any other method is 405, any other path 404. A path that holds no
token, or a file event without its header, is refused before its body is read; bodies are
capped in size and time; and emitting only hands the event to Prefect's events worker (a queue
served by its own thread). So a flood of forged requests neither blocks the event loop nor
keeps honest pushes from being emitted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prefect.events.worker import EventsWorker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from prefect_nextcloud.client.webhooks import TASK_WEBHOOK_PATH
from prefect_nextcloud.relay.answers import Ignored, Refused, answer
from prefect_nextcloud.relay.body import read_json
from prefect_nextcloud.relay.config import RelayConfig
from prefect_nextcloud.relay.file_events import (
    FILE_EVENTS_HEADER,
    check_file_events_header,
    file_events_event,
)
from prefect_nextcloud.relay.task_webhooks import check_token_form, task_webhook_event
from prefect_nextcloud.tasks.events import NextcloudEvent, emit_nextcloud_event

__all__ = ["FILE_EVENTS_PATH", "create_relay_app"]

FILE_EVENTS_PATH = "/nextcloud/files"
"""Where the relay's ``webhook_listeners`` listeners send file events."""

logger = logging.getLogger("prefect_nextcloud.relay")

_DRAIN_SECONDS = 10.0


def create_relay_app(config: RelayConfig) -> Starlette:
    """Build the relay's application.

    Args:
        config: The server and the relay secret.

    Returns:
        The ASGI application; serve it with :func:`prefect_nextcloud.relay.relay_server`, whose
        lifespan lets it send the events still queued at shutdown.
    """
    handlers = _Handlers(config)
    routes = [
        Route(TASK_WEBHOOK_PATH + "{token}", handlers.task_webhook, methods=["POST"]),
        Route(FILE_EVENTS_PATH, handlers.file_event, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=_events_worker)


@asynccontextmanager
async def _events_worker(app: Starlette) -> AsyncIterator[None]:
    """Start Prefect's events worker before the first push, and let it finish at shutdown.

    Starting it waits for its thread; done here, no request waits for that. At shutdown, once
    the last request is answered, what Prefect took but has not sent yet is sent; whatever is
    lost even so (Prefect unreachable for longer), the batches' polling still learns.
    """
    await asyncio.to_thread(EventsWorker.instance)
    yield
    await asyncio.to_thread(EventsWorker.drain_all, _DRAIN_SECONDS)


class _Handlers:
    def __init__(self, config: RelayConfig) -> None:
        self._config = config

    async def task_webhook(self, request: Request) -> Response:
        try:
            token = request.path_params["token"]
            check_token_form(token)
            event = task_webhook_event(self._config, token, await read_json(request))
        except (Refused, Ignored) as outcome:
            return answer(outcome, "a task webhook")
        return _emit(event)

    async def file_event(self, request: Request) -> Response:
        secret = self._config.secret.get_secret_value()
        try:
            check_file_events_header(request.headers.get(FILE_EVENTS_HEADER), secret)
            event = file_events_event(self._config, await read_json(request))
        except (Refused, Ignored) as outcome:
            return answer(outcome, "a file event")
        return _emit(event)


def _emit(event: NextcloudEvent) -> Response:
    """Hand the event to Prefect: 202 when it took it, 503 (logged) when it did not.

    Nextcloud never retries a push, so the status only tells its log (and the relay's) that an
    event was lost; the batch engine's polling still learns of every task's end.
    """
    resource_id = event.resource["prefect.resource.id"]
    try:
        taken = emit_nextcloud_event(event)
        problem = None if taken else "Prefect did not take it (are events turned off?)"
    except Exception as error:  # whatever Prefect raises, the push is answered
        problem = str(error)
    if problem is not None:
        logger.warning("Could not emit %s for %s: %s", event.name, resource_id, problem)
        return JSONResponse({"error": "the event could not be handed to Prefect"}, 503)
    logger.info("Emitted %s for %s", event.name, resource_id)
    return JSONResponse({"event": event.name, "id": str(event.id)}, 202)
