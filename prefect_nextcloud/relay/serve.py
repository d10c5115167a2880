"""Serving the relay with uvicorn, and running it until interrupted."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import uvicorn
from prefect.settings import PREFECT_API_URL
from starlette.types import ASGIApp

from prefect_nextcloud.client.webhooks import TASK_WEBHOOK_PATH
from prefect_nextcloud.relay.app import create_relay_app
from prefect_nextcloud.relay.config import RelayConfig

__all__ = ["relay_server", "serve_relay"]

logger = logging.getLogger("prefect_nextcloud.relay")

_TOKEN_IN_PATH = re.compile(re.escape(TASK_WEBHOOK_PATH) + r"[^/?#\s]+")


class _TokenRedaction(logging.Filter):
    """Replaces the token of a task webhook's path in uvicorn's access log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(TASK_WEBHOOK_PATH + "<token>", arg)
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


_REDACTION = _TokenRedaction()


def relay_server(app: ASGIApp, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the relay's application.

    Without uvicorn's access log, and with task tokens redacted from it should it come back on:
    a task webhook's path holds its token. On asyncio's own event loop with h11, whose
    transports set ``TCP_NODELAY`` on every connection, so an answer is never held back
    waiting for more bytes.

    Args:
        app: The application, from :func:`prefect_nextcloud.relay.create_relay_app`.
        host: The interface to listen on.
        port: The TCP port.
    """
    # uvicorn's switch empties the access logger, but any later logging configuration (Prefect's,
    # an operator's) can give it handlers again; the filter keeps tokens out whatever handles it.
    access_logger = logging.getLogger("uvicorn.access")
    if _REDACTION not in access_logger.filters:
        access_logger.addFilter(_REDACTION)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http="h11",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def serve_relay(config: RelayConfig, *, host: str, port: int) -> None:
    """Serve the relay until Ctrl-C or SIGTERM (then the events still queued are sent).

    Args:
        config: The server and the relay secret.
        host: The interface to listen on; loopback unless a reverse proxy elsewhere needs more.
        port: The TCP port.

    Raises:
        ValueError: No Prefect API is configured to send the events to.
    """
    api_url = PREFECT_API_URL.value()
    if not api_url:
        raise ValueError(
            "The relay sends events to a Prefect server, and PREFECT_API_URL is not set; set "
            "it, e.g. `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`."
        )
    logger.setLevel(logging.INFO)
    server = relay_server(create_relay_app(config), host=host, port=port)
    # Only the API's host: its URL may carry a login.
    api_host = urlsplit(str(api_url)).netloc.rpartition("@")[2]
    logger.info(
        "Relaying pushes of %s to the Prefect API on %s; listening on %s:%s",
        config.server_url,
        api_host,
        host,
        port,
    )
    server.run()
