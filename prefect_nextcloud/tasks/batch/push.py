"""Push: wake a waiting attempt the moment Nextcloud reports that one of its tasks ended.

When the credentials name a relay, each task is scheduled with a ``webhookUri`` pointing at
it; ``prefect-nextcloud relay`` turns each call into a Prefect event
(``nextcloud.task.succeeded``, ``.failed`` or ``.cancelled``, labelled with the task's app
id). An attempt with tasks pending subscribes to the events of its own app id on Prefect's
event stream before it schedules anything, and :meth:`PushListener.wait` returns as soon as
one of its tasks is reported (after gathering the others that end with it, or are expected to
end within a moment of it).

Push only ever makes a look come sooner. A webhook Nextcloud never sends, a relay that is
down or a Prefect server without the event stream turns it off for the attempt, with one
debug line: the due-time looks of :func:`~prefect_nextcloud.tasks.batch.timing.next_delay`
still find every task.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Self

from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.events.schemas.events import ResourceSpecification

from prefect_nextcloud.tasks.events import EVENT_PREFIX

__all__ = ["ENDED_EVENTS", "PushListener"]

ENDED_EVENTS = [f"{EVENT_PREFIX}.{status}" for status in ("succeeded", "failed", "cancelled")]
"""The events that say a task has ended."""
CONNECT_SECONDS = 5.0
"""How long an attempt waits for the subscription before it goes on without push."""
GATHER_QUIET_SECONDS = 0.05
"""After a push, how long a pause in further pushes ends the gathering."""
GATHER_MAX_SECONDS = 0.5
"""After a push, the longest time spent gathering the pushes of tasks that end with it."""

_logger = logging.getLogger(__name__)
_UNAVAILABLE = -1  # put on the queue when the subscription ends


class PushListener:
    """The ended-task events of one app id, received on a thread of their own.

    Use it as a context manager around an attempt; :attr:`available` tells whether pushes
    can arrive.

    Args:
        app_id: The app id of the batch's tasks.
    """

    def __init__(self, app_id: str) -> None:
        self._app_id = app_id
        self._pushed: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="nextcloud-push", daemon=True)
        self._closed = threading.Event()
        self.available = False

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(CONNECT_SECONDS)
        if not self.available:
            _logger.debug("No push for app id %s: the event stream did not answer", self._app_id)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        loop, listening = self._loop, self._listening
        if loop is not None and listening is not None:
            loop.call_soon_threadsafe(listening.cancel)
        self._thread.join(CONNECT_SECONDS)

    def wait(self, expected: Mapping[int, float], timeout: float) -> set[int]:
        """Wait up to ``timeout`` seconds for any of the tasks to be reported ended.

        Once one is, the others are gathered too, so that one look serves them all: those
        expected to end within :data:`GATHER_MAX_SECONDS` of it (before or after) are waited
        for up to that long, and any other until a short pause in the pushes.

        Args:
            expected: The tasks still pending, each with the monotonic time it is expected to
                end (the past when it is late).
            timeout: The longest wait, in seconds: until the next due look.

        Returns:
            The ids among ``expected`` reported ended; empty when none was before the timeout,
            or when the subscription ended (then :attr:`available` is ``False``).
        """
        pushed: set[int] = set()
        awaited: set[int] = set()
        end = time.monotonic() + timeout
        cap = end
        while self.available and len(pushed) < len(expected):
            now = time.monotonic()
            if pushed:
                end = cap if awaited - pushed else min(cap, now + GATHER_QUIET_SECONDS)
            if now >= end:
                break
            try:
                task_id = self._pushed.get(timeout=end - now)
            except queue.Empty:
                break
            if task_id == _UNAVAILABLE:
                self.available = False
            elif task_id in expected:
                if not pushed:
                    cap = min(cap, time.monotonic() + GATHER_MAX_SECONDS)
                    awaited = _ending_with(expected, cap)
                pushed.add(task_id)
        return pushed

    def _run(self) -> None:
        try:
            asyncio.run(self._subscribe())
        except asyncio.CancelledError:
            pass
        except Exception as error:  # push is an optimisation: polling goes on without it
            _logger.debug("Push for app id %s ended: %s", self._app_id, error)
        finally:
            self._ready.set()
            self._pushed.put(_UNAVAILABLE)

    async def _subscribe(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._listening = asyncio.current_task()
        if self._closed.is_set():
            return
        events = EventFilter(
            event=EventNameFilter(name=ENDED_EVENTS),
            resource=EventResourceFilter(
                labels=ResourceSpecification({"nextcloud.app-id": self._app_id})
            ),
        )
        async with get_events_subscriber(filter=events, reconnection_attempts=1) as subscriber:
            self.available = True
            self._ready.set()
            async for event in subscriber:
                task_id = event.payload.get("task_id")
                if isinstance(task_id, int) and not isinstance(task_id, bool):
                    self._pushed.put(task_id)


def _ending_with(expected: Mapping[int, float], cap: float) -> set[int]:
    """The tasks expected to end within the gathering that ends at ``cap`` (or as long before)."""
    since = cap - 2 * GATHER_MAX_SECONDS
    return {task_id for task_id, at in expected.items() if since <= at <= cap}
