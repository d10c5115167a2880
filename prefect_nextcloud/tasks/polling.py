"""Prefect task retries as the polling loop, and a wait that reads as a wait.

A polling task's function makes one attempt: it looks at the server once and either returns
the result or raises :class:`TaskStillRunning` with the delay it wants before the next look.
:func:`retry_while_pending` tells Prefect to retry on that signal (and on a transient
failure of the look itself), and :class:`PollDelays` hands Prefect the attempt's own delay,
so each wait is as long as the server's state suggests instead of one fixed interval.

Prefect logs every retry at INFO as "Task run failed with exception: … - Retry n/N";
for the still-running signal that line is a poll, not a failure, so :class:`QuietPolls` turns
it into a DEBUG line (or drops it when DEBUG is off). A successful wait therefore shows only
this package's own INFO lines: status changes and progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, ParamSpec, SupportsIndex, TypeVar, overload

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun
from prefect.utilities.annotations import BaseAnnotation
from prefect.utilities.callables import get_call_parameters

__all__ = [
    "MAX_POLLS",
    "PollDelays",
    "PollingTask",
    "QuietPolls",
    "TaskStillRunning",
    "polling_task",
    "retry_while_pending",
]

P = ParamSpec("P")
R = TypeVar("R")

MAX_POLLS = 100_000
"""Prefect's retry cap for polling tasks: a backstop only, the attempts end the wait."""

MIN_DELAY_SECONDS = 0.05
_next_delay: ContextVar[float | None] = ContextVar("prefect_nextcloud_next_delay", default=None)


class TaskStillRunning(Exception):
    """Raised by an attempt while Nextcloud work is still pending: "look again later".

    It is the only "poll again" signal; the retry rule of polling tasks retries on it.

    Args:
        message: What is still pending.
        retry_after: Seconds to wait before the next attempt; the poll interval when omitted.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        return (_still_running, (str(self), self.retry_after))


def _still_running(message: str, retry_after: float | None) -> TaskStillRunning:
    return TaskStillRunning(message, retry_after=retry_after)


def _raised(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except BaseException as error:
        return error
    return None


def retry_while_pending(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Poll again while work is pending; anything else ends the task run.

    An attempt turns a passing failure of its look into :class:`TaskStillRunning` itself,
    for as long as the block's retry budget lasts.
    """
    error = _raised(state)
    if not isinstance(error, TaskStillRunning):
        return False
    if error.retry_after is not None:
        _next_delay.set(max(MIN_DELAY_SECONDS, error.retry_after))
    return True


class PollDelays(list[float]):
    """A retry-delay list whose every entry is the delay the last attempt asked for.

    Prefect reads ``retry_delay_seconds[n]`` right after the retry rule ran, in the same
    context; the rule stores the attempt's ``retry_after`` there. Without one, the interval
    given here applies.

    Args:
        interval: The delay when the attempt named none.
    """

    def __init__(self, interval: float) -> None:
        super().__init__([interval])
        self.interval = interval

    @overload
    def __getitem__(self, index: SupportsIndex) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> float | list[float]:
        if isinstance(index, slice):
            return super().__getitem__(index)
        wanted = _next_delay.get()
        _next_delay.set(None)
        return self.interval if wanted is None else wanted


class QuietPolls(logging.Filter):
    """Turn Prefect's retry line for :class:`TaskStillRunning` into a DEBUG line.

    Installed once on the ``prefect.task_runs`` logger; other retries stay as they are.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the still-running retry line, which becomes DEBUG."""
        args = record.args
        if not (
            record.levelno == logging.INFO
            and isinstance(args, tuple)
            and len(args) > 1
            and isinstance(args[1], TaskStillRunning)
        ):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg, record.args = "Polling again: %s", (args[1],)
        return True


def _install_quiet_polls() -> None:
    logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(existing, QuietPolls) for existing in logger.filters):
        logger.addFilter(QuietPolls())


_install_quiet_polls()


def _scalar(value: Any, pick: Any) -> Any:
    if isinstance(value, BaseAnnotation):
        value = value.unwrap()
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        values = list(value)
        return pick(values) if values else None
    return value


# Arguments that Task.__call__, submit and map take for the engine, not for the function.
_ENGINE_KWARGS = frozenset({"return_state", "wait_for", "deferred"})


class PollingTask(Task[P, R]):
    """A Prefect task whose retries are its polls.

    Its retries repeat the attempt while the function raises :class:`TaskStillRunning`; the
    function's own deadlines end the wait, so the retry count is only a backstop. Calling,
    submitting or mapping it takes the delay after a failed look from the call's own
    ``poll_interval_seconds``. An explicit ``with_options(retries=...)`` is kept as given.
    """

    def _for_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Task[P, R]:
        call_kwargs = {key: value for key, value in kwargs.items() if key not in _ENGINE_KWARGS}
        parameters = get_call_parameters(self.fn, args, call_kwargs)
        interval = _scalar(parameters.get("poll_interval_seconds"), min)
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not 0 < interval < float("inf")
        ):
            return Task.with_options(self)  # the attempt refuses the interval with a ValueError
        return Task.with_options(self, retry_delay_seconds=PollDelays(float(interval)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task, as ``Task.__call__`` does."""
        return self._for_call(args, kwargs)(*args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        """Submit the task, as ``Task.submit`` does."""
        return self._for_call(args, kwargs).submit(*args, **kwargs)

    def map(self, *args: Any, **kwargs: Any) -> Any:
        """Map the task over its arguments, as ``Task.map`` does."""
        return self._for_call(args, kwargs).map(*args, **kwargs)

    def with_options(self, **options: Any) -> Task[P, R]:
        """Configure a copy, as ``Task.with_options`` does; it stays a polling task."""
        configured = super().with_options(**options)
        if "retries" not in options and "retry_delay_seconds" not in options:
            configured.__class__ = PollingTask
        return configured


def polling_task(
    *, name: str, poll_interval_seconds: float
) -> Callable[[Callable[P, R]], PollingTask[P, R]]:
    """Decorator: make a function whose attempts raise :class:`TaskStillRunning` a task.

    Args:
        name: The task's name in Prefect.
        poll_interval_seconds: The delay after a failed look when the call names none.
    """

    def decorate(fn: Callable[P, R]) -> PollingTask[P, R]:
        return PollingTask(
            fn,
            name=name,
            retries=MAX_POLLS,
            retry_delay_seconds=PollDelays(poll_interval_seconds),
            retry_condition_fn=retry_while_pending,
            persist_result=False,
        )

    return decorate
