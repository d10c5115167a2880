"""The decorator of this package's flows: a Prefect flow that leaves no Nextcloud task running."""

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Flow, flow

from prefect_nextcloud.tasks.idempotency import cancel_outstanding_tasks

__all__ = ["nextcloud_flow"]

P = ParamSpec("P")
R = TypeVar("R")


def nextcloud_flow(*, name: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """Decorator: make a function a Prefect flow that cancels its outstanding Nextcloud tasks.

    The flow carries :func:`~prefect_nextcloud.tasks.idempotency.cancel_outstanding_tasks` as
    its ``on_cancellation`` and ``on_crashed`` hook, so a cancelled or crashed run leaves none
    of the tasks it scheduled running (a crashed run with an ``idempotency_key`` leaves them
    for a re-run with the same key to adopt).

    Args:
        name: The flow's name in Prefect.
    """
    return flow(
        name=name,
        on_cancellation=[cancel_outstanding_tasks],
        on_crashed=[cancel_outstanding_tasks],
    )
