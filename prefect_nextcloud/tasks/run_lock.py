"""One run at a time for work that runs share, coordinated by the Prefect server.

Runs that share an idempotency key (a scheduled run that outlasts its interval, a retried
deployment run, two workers) schedule the same Nextcloud tasks, and runs over one folder
deliver the same answers. Before a shared batch lists and schedules (or a folder's run claims
answers to post), it takes a lock: a slot of a Prefect global concurrency limit of 1 slot,
held under a lease that Prefect renews while the holder lives and that expires when the holder
dies. The run that waited then looks again and finds what the other did.

Keys are spread over :data:`LOCK_COUNT` limits named ``nextcloud-lock-0`` … ``-f``,
created on first use: a fixed set, so neither the Prefect server nor this process keeps
anything per key. Two unrelated keys that share a limit only take turns at scheduling.

When the lock cannot be had (the Prefect API is down, or the limit cannot be created), the
batch schedules without it and relies on its safety net: a later listing that finds two
tasks under one custom id keeps the oldest and cancels the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.logging import get_logger

__all__ = ["LOCK_COUNT", "LOCK_PREFIX", "lock_name", "run_lock"]

LOCK_PREFIX = "nextcloud-lock-"
LOCK_COUNT = 16
LEASE_SECONDS = 60.0
"""The lease of a held lock: renewed by Prefect while the holder lives (60 s is its minimum)."""
WAIT_SECONDS = 120.0
"""How long a run waits for another to finish before going on without the lock."""

_logger = get_logger("prefect_nextcloud")


def lock_name(key: str) -> str:
    """The name of the Prefect limit that serialises the work under ``key``."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest(), 16) % LOCK_COUNT
    return f"{LOCK_PREFIX}{bucket:x}"


def _create(name: str) -> None:
    # Another process may create it first.
    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


def _acquire(stack: ExitStack, name: str) -> None:
    stack.enter_context(
        concurrency(
            name,
            occupy=1,
            timeout_seconds=WAIT_SECONDS,
            lease_duration=LEASE_SECONDS,
            strict=True,
            raise_on_lease_renewal_failure=False,
        )
    )


@contextmanager
def run_lock(key: str) -> Iterator[bool]:
    """Hold the lock of ``key`` for the duration of the block.

    Args:
        key: What the runs share, e.g. the batch's app id.

    Yields:
        Whether the lock is held; ``False`` when it could not be had, with a warning.
    """
    name = lock_name(key)
    with ExitStack() as stack:
        failure: Exception | None = None
        try:
            _acquire(stack, name)
        except TimeoutError as error:  # another run holds it for too long
            failure = error
        except Exception:  # most likely the limit does not exist yet
            try:
                _create(name)
                _acquire(stack, name)
            except Exception as error:
                failure = error
        if failure is not None:
            _logger.warning(
                "Could not take the Prefect concurrency limit %r that keeps runs sharing work "
                "from doing it twice (%s: %s). Going on without it: a run at the same moment "
                "may do the same work (a duplicate Nextcloud task is cancelled at the next "
                "look).",
                name,
                type(failure).__name__,
                failure,
            )
        yield failure is None
