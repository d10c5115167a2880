"""Optional pacing of schedule calls across processes, through a Prefect global rate limit.

Within one process, :class:`~prefect_nextcloud.client.pacing.SchedulePacer` keeps schedule
calls within the server's window. Several workers (or flows served in several processes)
share the window only through the Prefect server: create a global concurrency limit named
``nextcloud-schedule`` and every schedule takes a slot of it first. Whether it exists is
looked up once a minute per process, so a server without it costs no API call per schedule
and logs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.logging import get_logger
from prefect.settings import PREFECT_API_URL

from prefect_nextcloud._cache import BoundedCache

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
# Prefect answers 422 to a request for more slots than the limit has at all, 423 when too
# few are free now: either way fewer are asked for.
_TOO_MANY = frozenset({422, _HTTP_LOCKED})


@dataclass(frozen=True)
class _Lookup:
    decay: float | None
    """The limit's slot decay per second, or ``None`` without an active limit."""


# Lookups by Prefect API URL, each used for _LOOKUP_TTL_SECONDS; a few APIs at most.
_MAX_APIS = 16
_configured: BoundedCache[str, _Lookup] = BoundedCache(_MAX_APIS)
_logger = get_logger("prefect_nextcloud")


def _known_absent() -> bool:
    """Whether the limit is known not to exist, from a recent lookup: then no client is built."""
    api_url = PREFECT_API_URL.value()
    known = _configured.get(str(api_url)) if api_url else None
    return known is not None and known.decay is None


def _decay(client: SyncPrefectClient, api_url: str) -> float | None:
    """The limit's slot decay per second, or ``None`` when there is no active limit."""
    known = _configured.get(api_url)
    if known is not None:
        return known.decay
    decay: float | None
    try:
        limit = client.read_global_concurrency_limit_by_name(SCHEDULE_RATE_LIMIT)
        decay = limit.slot_decay_per_second if limit.active else None
    except Exception:  # a missing limit, an older server: no pacing
        decay = None
    _store(api_url, decay)
    return decay


def _store(api_url: str, decay: float | None) -> None:
    """Remember a lookup for a while."""
    _configured.put(api_url, _Lookup(decay), ttl_seconds=_LOOKUP_TTL_SECONDS)


def forget_schedule_limit() -> None:
    """Look the limit up again on next use (after creating or deleting it in this process)."""
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
            if error.response.status_code not in _TOO_MANY:
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
            _configured.pop(api_url)
            return wanted, 0.0
        _logger.warning("Could not take a %s slot: %s", SCHEDULE_RATE_LIMIT, error)
    except (httpx.HTTPError, RuntimeError) as error:
        _logger.warning("Could not take a %s slot: %s", SCHEDULE_RATE_LIMIT, error)
    return wanted, 0.0
