"""Outgoing webhooks, delivered from one background thread: tasks' and listeners' alike."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from prefect_nextcloud.sandbox.ocs.envelope import php_json

__all__ = ["WebhookSender"]

_logger = logging.getLogger(__name__)
_HTTP_METHODS = {"HTTP:GET": "GET", "HTTP:POST": "POST", "HTTP:PUT": "PUT", "HTTP:DELETE": "DELETE"}


class WebhookSender:
    """Sends each queued request once, in order; failures are only logged, as on the server.

    Task webhooks (``Manager::runWebhook``) go through :meth:`submit`; other requests, such as
    the ``webhook_listeners`` app's calls, through :meth:`deliver`.

    Args:
        timeout: Seconds per delivery (the server uses 30; the sandbox keeps shutdown quick).
    """

    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, str, bytes, dict[str, str]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the deliveries already queued."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self._timeout + 1)
            self._thread = None

    def submit(self, uri: str | None, method: str | None, task_json: dict[str, Any]) -> None:
        """Queue a task's webhook if the task asked for one.

        Only the ``HTTP:<METHOD>`` variants are delivered; ``AppAPI:…`` webhooks need AppAPI,
        which the sandbox lacks, and any other method string is ignored, as on the server.
        """
        if uri and method in _HTTP_METHODS:
            # Plain json_encode() upstream: slashes escaped, no JSON_HEX_TAG.
            body = php_json({"task": task_json}, hex_tag=False)
            self.deliver(_HTTP_METHODS[method], uri, body, {"Content-Type": "application/json"})

    def deliver(self, method: str, uri: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Queue one request, sent once."""
        self._queue.put((method, uri, body, dict(headers)))

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            for item in iter(self._queue.get, None):
                method, uri, body, headers = item
                try:
                    client.request(method, uri, content=body, headers=headers)
                except httpx.HTTPError as error:
                    # The path may hold a token: only the server is named.
                    target, reason = urlsplit(uri).netloc, type(error).__name__
                    _logger.warning("Webhook %s to %s failed: %s", method, target, reason)
