"""A flow run cancelled while a polling task waits: the task run ends Cancelled, its work tidied.

To cancel a flow run that a runner or worker started, Prefect (3.9) sends its process SIGTERM,
which Prefect raises as ``TerminationSignal`` in the main thread wherever it stands: in an
attempt, or in Prefect's own wait between two attempts. Prefect's task engine reports that as
a crash (the task run ``Crashed``, two ERROR lines), and the task's code may never run again.

A polling task called from a flow therefore keeps a :class:`CancelWatch` for as long as the
call lasts. Each attempt of a batch registers what to do if the run is cancelled
(:func:`on_cancel`). When the signal leaves the call and the API shows the flow run cancelling,
the watch does that in the flow run's own process, where its logger, its artifacts and the
batch's ``on_results`` are, then sets the task run ``Cancelled`` through the API; Prefect's
crash lines for that task run become DEBUG lines (:func:`is_cancellation` tells
:class:`~prefect_nextcloud._compat.QuietCancellation` which). Any other termination stays a
crash, as Prefect reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal
from prefect.states import Cancelled

from prefect_nextcloud._compat import cancel_watcher, watching_cancellation
from prefect_nextcloud.tasks.progress import run_logger

__all__ = ["CancelWatch", "is_cancellation", "on_cancel", "watching"]

_CANCELLED = "The flow run was cancelled."


class CancelWatch:
    """What a polling task call does if its flow run is cancelled while the call lasts.

    Args:
        flow_run_id: The flow run the call belongs to.
    """

    def __init__(self, flow_run_id: UUID) -> None:
        self.flow_run_id = flow_run_id
        self.task_runs: dict[str, Callable[[], None]] = {}
        self._cancelling: bool | None = None

    def cancelling(self) -> bool:
        """Whether the flow run is being cancelled, as the API says (asked once, when needed)."""
        if self._cancelling is None:
            try:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(self.flow_run_id).state
            except Exception as error:  # cannot tell: Prefect's own crash report stands
                run_logger().debug("Could not read the flow run's state: %s", error)
                state = None
            self._cancelling = state is not None and (state.is_cancelling() or state.is_cancelled())
        return self._cancelling

    def end(self) -> None:
        """Tidy up each registered task run's work, then set the task run ``Cancelled``."""
        logger = run_logger()
        for task_run_id, tidy_up in self.task_runs.items():
            try:
                tidy_up()
            except Exception as error:  # the task run still ends Cancelled
                logger.warning(
                    "Could not tidy up after task run %s (%s); the flow's cancellation hook "
                    "cancels the Nextcloud tasks it left.",
                    task_run_id,
                    error,
                )
            try:
                with get_client(sync_client=True) as client:
                    client.set_task_run_state(
                        UUID(task_run_id), Cancelled(message=_CANCELLED), force=True
                    )
            except Exception as error:
                logger.warning(
                    "Could not set task run %s Cancelled (%s); it shows as Crashed, though the "
                    "flow run was cancelled.",
                    task_run_id,
                    error,
                )


@contextmanager
def watching() -> Iterator[None]:
    """Watch the polling task called inside: on the flow run's cancellation, end it as such.

    Outside a flow run there is nothing to watch; the call runs as it is.
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        yield
        return
    watch = CancelWatch(context.flow_run.id)
    with watching_cancellation(watch):
        try:
            yield
        except TerminationSignal:
            if watch.task_runs and watch.cancelling():
                watch.end()
            raise


def on_cancel(task_run_id: UUID | None, tidy_up: Callable[[], None]) -> None:
    """Register what the task run ``task_run_id`` does if its flow run is cancelled.

    Args:
        task_run_id: The calling task run; nothing is registered outside one.
        tidy_up: Called in the flow run's process once it is known to be cancelling.
    """
    watch = cancel_watcher()
    if watch is not None and task_run_id is not None:
        watch.task_runs[str(task_run_id)] = tidy_up


def is_cancellation(record: logging.LogRecord, handled: BaseException | None) -> bool:
    """Whether a log record is Prefect's crash report of a watched task run being cancelled.

    Args:
        record: A record of Prefect's task-run logger.
        handled: The exception being handled while it was logged.
    """
    watch = cancel_watcher()
    return (
        isinstance(handled, TerminationSignal)
        and watch is not None
        and getattr(record, "task_run_id", None) in watch.task_runs
        and watch.cancelling()
    )
