"""The workloads: what the sandbox does, what is asked of it, and the project's targets."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunSeconds, RunTimes

TASK_TYPE = "core:text2text"
ANALYSIS_TYPE = "core:analyze-images"
PROMPT = "Describe this image in one sentence."
SEED = 0
"""The sandbox's seed: it draws each task's run time from a range."""
NO_LIMIT = 10_000
"""A schedule limit no workload reaches."""
DEFAULT_POLL_SECONDS = 5.0
"""prefect-nextcloud's default poll interval, which every workload keeps."""
PLAIN_POLL_SECONDS = 1.0
"""The plain loop's own interval."""

IMPLEMENTATIONS = {
    "plain": "plain loop (1 s)",
    "project": "prefect-nextcloud, no push",
    "push": "prefect-nextcloud, push",
}
"""Each implementation and its column title."""


@dataclass(frozen=True)
class Target:
    """A figure of one implementation that must not exceed a limit."""

    implementation: str
    figure: str
    """A key of the figures the tables show (see ``figures.py``)."""
    limit: float
    text: str


@dataclass(frozen=True)
class Workload:
    """One scenario: the sandbox's behaviour, the work asked of it, and its targets.

    Attributes:
        tasks: Nextcloud tasks per measured run.
        runs: Measured runs; the tables show the median run's wall time.
        warm_up: Whether each implementation runs once, unmeasured, before its measured runs.
        analysis: The ``analyze_image`` flow on one image instead of ``run_tasks``.
    """

    name: str
    tasks: int
    run_seconds: RunSeconds
    workers: int
    targets: tuple[Target, ...]
    rate_limit: int = NO_LIMIT
    window_seconds: float = 120.0
    runs: int = 1
    warm_up: bool = False
    analysis: bool = False

    def heading(self) -> str:
        """What the workload is, in one line."""
        low, high = (
            self.run_seconds if isinstance(self.run_seconds, tuple) else (self.run_seconds,) * 2
        )
        duration = f"{low:g} s" if low == high else f"{low:g}-{high:g} s (seeded)"
        what = (
            f"the analyze_image flow on one image ({duration}), warm, median of {self.runs} runs"
            if self.analysis
            else f"{self.tasks} tasks of {duration}"
        )
        limit = (
            "no schedule limit"
            if self.rate_limit == NO_LIMIT
            else f"{self.rate_limit} schedules per {self.window_seconds:g} s"
        )
        workers = f"{self.workers} sandbox worker" + ("s" if self.workers > 1 else "")
        return f"{self.name}: {what}, {limit}, {workers}, poll interval {DEFAULT_POLL_SECONDS:g} s"

    def bound(self, task_ids: Iterable[int]) -> float:
        """The least makespan of one run of these tasks: each waits for its schedule window.

        The k-th task (in id order, which is schedule order) can be scheduled no sooner than
        ``k // rate_limit`` whole windows in, and ends its own run time later.
        """
        run_times = RunTimes(self.run_seconds, seed=SEED)
        return max(
            (
                (k // self.rate_limit) * self.window_seconds + run_times.for_task(task_id)
                for k, task_id in enumerate(sorted(task_ids))
            ),
            default=math.nan,
        )


_PUSH_BATCH = (
    Target("push", "requests_per_task", 1.02, "with push: ≤ 1.02 requests per task"),
    Target("push", "lag_median", 0.3, "with push: completion lag median ≤ 0.3 s"),
    Target(
        "push",
        "all_states_per_task",
        0.1,
        "with push: ≤ 0.1 Prefect states per task (the flow run's included)",
    ),
    Target("push", "cpu_ms_per_task", 3.0, "with push: ≤ 3 ms client CPU per task"),
    Target("project", "requests_per_task", 1.05, "without push: ≤ 1.05 requests per task"),
    Target(
        "project",
        "lag_median",
        0.25 * DEFAULT_POLL_SECONDS,
        f"without push: completion lag median ≤ 0.25 x poll interval "
        f"({0.25 * DEFAULT_POLL_SECONDS:g} s)",
    ),
)

_LIMITED = tuple(
    target
    for implementation, name in (("project", "without push"), ("push", "with push"))
    for target in (
        Target(implementation, "makespan_ratio", 1.05, f"{name}: makespan ≤ 1.05 x bound"),
        Target(implementation, "refused", 0, f"{name}: no 429 answer"),
    )
)

_ANALYSIS = (
    Target("project", "wall_over_plain", 1.5, "without push: wall time ≤ plain loop's + 1.5 s"),
    Target("push", "wall_over_plain", 0.5, "with push: wall time ≤ plain loop's + 0.5 s"),
)

WORKLOADS = {
    workload.name: workload
    for workload in (
        Workload("tasks-2s", 100, 2.0, workers=100, targets=_PUSH_BATCH),
        Workload(
            "single-analysis",
            1,
            2.0,
            workers=1,
            targets=_ANALYSIS,
            runs=5,
            warm_up=True,
            analysis=True,
        ),
        Workload(
            "rate-limited", 60, 2.0, workers=20, targets=_LIMITED, rate_limit=20, window_seconds=12
        ),
        Workload("tasks-2-30s", 100, (2.0, 30.0), workers=100, targets=()),
    )
}
