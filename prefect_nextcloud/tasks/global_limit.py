"""Optional pacing of schedule calls across processes, through a Prefect global rate limit.

Within one process, :class:`~prefect_nextcloud.client.pacing.SchedulePacer` keeps schedule
calls within the server's window. Several workers (or flows served in several processes)
share the window only through the Prefect server: create a global concurrency limit named
``nextcloud-schedule`` and every schedule takes a slot of it first. Whether it exists is
looked up once a minute per process, so a server without it costs no API call per schedule
and logs nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.logging import get_logger
from prefect.settings import PREFECT_API_URL

__all__ = [
    "SCHEDULE_RATE_LIMIT",
    "forget_schedule_limit",
    "schedule_limit_exists",
    "take_schedule_slots",
]

SCHEDULE_RATE_LIMIT = "nextcloud-schedule"
"""The name of the Prefect global concurrency limit that paces schedule calls, if created."""

_LOOKUP_TTL_SECONDS = 60.0
_HTTP_NOT_FOUND = 404
_HTTP_LOCKED = 423

_lock = threading.Lock()
# API URL -> (the limit's slot decay per second, or None without the limit; when looked up).
# An entry is used for _LOOKUP_TTL_SECONDS and dropped with the next lookup after that; at
# most _MAX_APIS Prefect APIs are remembered at once.
_MAX_APIS = 16
_configured: OrderedDict[str, tuple[float | None, float]] = OrderedDict()
_logger = get_logger("prefect_nextcloud")


def _known_absent() -> bool:
    """Whether the limit is known not to exist, from a recent lookup: then no client is built."""
    api_url = PREFECT_API_URL.value()
    with _lock:
        known = _configured.get(str(api_url)) if api_url else None
    fresh = known is not None and time.monotonic() - known[1] < _LOOKUP_TTL_SECONDS
    return fresh and known is not None and known[0] is None


def _decay(client: SyncPrefectClient, api_url: str) -> float | None:
    """The limit's slot decay per second, or ``None`` when there is no active limit."""
    with _lock:
        known = _configured.get(api_url)
    if known is not None and time.monotonic() - known[1] < _LOOKUP_TTL_SECONDS:
        return known[0]
    decay: float | None
    try:
        limit = client.read_global_concurrency_limit_by_name(SCHEDULE_RATE_LIMIT)
        decay = limit.slot_decay_per_second if limit.active else None
    except Exception:  # a missing limit, an older server: no pacing
        decay = None
    _store(api_url, decay)
    return decay


def _store(api_url: str, decay: float | None) -> None:
    """Remember a lookup, dropping the ones that are out of date or beyond the newest few."""
    now = time.monotonic()
    with _lock:
        for stale in [
            url for url, (_, seen) in _configured.items() if now - seen >= _LOOKUP_TTL_SECONDS
        ]:
            del _configured[stale]
        _configured[api_url] = (decay, now)
        _configured.move_to_end(api_url)
        while len(_configured) > _MAX_APIS:
            _configured.popitem(last=False)


def forget_schedule_limit() -> None:
    """Look the limit up again on next use (after creating or deleting it in this process)."""
    with _lock:
        _configured.clear()


def schedule_limit_exists() -> bool:
    """Whether the ``nextcloud-schedule`` limit exists on the Prefect server.

    Looked up once a minute per process.
    """
    if _known_absent():
        return False
    try:
        with get_client(sync_client=True) as client:
            return _decay(client, str(client.api_url)) is not None
    except (httpx.HTTPError, RuntimeError):
        return False


def _increment(client: SyncPrefectClient, wanted: int, next_slot: float) -> tuple[int, float]:
    """Take as many of ``wanted`` slots as are free: all, else half as many, down to one."""
    slots = wanted
    while True:
        try:
            client.increment_concurrency_slots(
                names=[SCHEDULE_RATE_LIMIT], slots=slots, mode="rate_limit"
            )
        except httpx.HTTPStatusError as error:
            if error.response.status_code != _HTTP_LOCKED:
                raise
            if slots == 1:
                return 0, next_slot
            slots //= 2
        else:
            return slots, 0.0 if slots == wanted else next_slot


def take_schedule_slots(wanted: int) -> tuple[int, float]:
    """Take up to ``wanted`` slots of the ``nextcloud-schedule`` limit, without waiting.

    Args:
        wanted: How many schedule calls the caller would like to send now.

    Returns:
        How many it may send, and when fewer than ``wanted``, the seconds until trying again
        makes sense. Without the limit (or without a Prefect API) all ``wanted``, at once.
    """
    if wanted <= 0:
        return 0, 0.0
    if _known_absent():
        return wanted, 0.0
    api_url = ""
    try:
        with get_client(sync_client=True) as client:
            api_url = str(client.api_url)
            decay = _decay(client, api_url)
            if decay is None:
                return wanted, 0.0
            # A slot frees up every 1/decay seconds; a limit without decay frees none by time.
            return _increment(client, wanted, 1 / decay if decay > 0 else _LOOKUP_TTL_SECONDS)
    except httpx.HTTPStatusError as error:
        if error.response.status_code == _HTTP_NOT_FOUND:  # deleted since the lookup
            with _lock:
                _configured.pop(api_url, None)
            return wanted, 0.0
        _logger.warning("Could not take a %s slot: %s", SCHEDULE_RATE_LIMIT, error)
    except (httpx.HTTPError, RuntimeError) as error:
        _logger.warning("Could not take a %s slot: %s", SCHEDULE_RATE_LIMIT, error)
    return wanted, 0.0
