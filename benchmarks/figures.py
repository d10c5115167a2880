"""The figures of one implementation of a workload, and the markdown table of all three."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workloads import IMPLEMENTATIONS, Workload

from prefect_nextcloud.sandbox import RecordedRequest, TaskSnapshot

Figures = dict[str, Any]


def figures(
    workload: Workload,
    report: Mapping[str, Any],
    requests: Sequence[RecordedRequest],
    tasks: Mapping[int, TaskSnapshot],
) -> Figures:
    """Combine a child's report with what the sandbox saw during its measured runs.

    Args:
        workload: The workload.
        report: What the child printed (see ``child.py``).
        requests: The sandbox's request log since the child started.
        tasks: The sandbox's tasks by id.
    """
    asked = workload.tasks * workload.runs
    runs = report["runs"]
    measured = [r for r in requests if r.answered_at >= report["started"]]
    lags = [
        known_at - _precise_end(tasks[int(task_id)])
        for run in runs
        for task_id, known_at in run["known"].items()
    ]
    wall = statistics.median(run["wall"] for run in runs)
    returned = statistics.median(run["returned"] for run in runs)
    bound = statistics.median(
        workload.bound(int(task_id) for task_id in run["known"]) for run in runs
    )
    states = [run["task_states"] for run in runs if "task_states" in run]
    flow_states = sum(run.get("flow_states", 0) for run in runs)
    return {
        "ok": sum(run["ok"] for run in runs),
        "lost": sum(run["lost"] for run in runs),
        "created": sum(1 for r in measured if r.matches("POST", "/schedule$") and r.status == 200),
        "refused": sum(1 for r in measured if r.status == 429),
        "requests_per_task": len(measured) / asked,
        "task_runs": sum(run.get("task_runs", 0) for run in runs),
        "states_per_task": sum(states) / asked if states else math.nan,
        "all_states_per_task": (sum(states) + flow_states) / asked if states else math.nan,
        "cpu_ms_per_task": report["cpu"] * 1000 / asked,
        "startup_cpu": report["startup_cpu"],
        "lag_median": statistics.median(lags) if lags else math.nan,
        "lag_max": max(lags, default=math.nan),
        "wall": wall,
        "returned": returned,
        "bound": bound,
        "makespan_ratio": wall / bound,
    }


def _precise_end(task: TaskSnapshot) -> float:
    if task.ended_at_precise is None:
        raise RuntimeError(f"Task {task.id} has no precise end: the sandbox's workers set it.")
    return task.ended_at_precise


def compare_with_plain(rows: Mapping[str, Figures]) -> None:
    """Add each implementation's wall time past the plain loop's."""
    for row in rows.values():
        row["wall_over_plain"] = row["wall"] - rows["plain"]["wall"]


def _number(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _rows(workload: Workload) -> list[tuple[str, Callable[[Figures], str]]]:
    asked = workload.tasks * workload.runs
    makespan = "wall time, median run" if workload.runs > 1 else "makespan"
    return [
        ("results returned", lambda f: f"{f['ok']} of {asked}"),
        ("results lost", lambda f: str(f["lost"])),
        ("Nextcloud tasks created", lambda f: str(f["created"])),
        ("429 answers", lambda f: str(f["refused"])),
        ("Nextcloud requests per task", lambda f: _number(f["requests_per_task"], 2)),
        ("Prefect task runs", lambda f: str(f["task_runs"])),
        (
            "Prefect states per task: task runs / with the flow run",
            lambda f: (
                f"{_number(f['states_per_task'], 2)} / {_number(f['all_states_per_task'], 2)}"
            ),
        ),
        ("client CPU per task, measured runs (ms)", lambda f: _number(f["cpu_ms_per_task"], 1)),
        (
            "client CPU before them: start, imports, warm-up (s)",
            lambda f: f"{f['startup_cpu']:.1f}",
        ),
        (
            "completion lag median / max (s)",
            lambda f: f"{_number(f['lag_median'], 2)} / {_number(f['lag_max'], 2)}",
        ),
        (
            f"{makespan} / bound (s) = ratio",
            lambda f: f"{f['wall']:.1f} / {f['bound']:.1f} = {f['makespan_ratio']:.2f}",
        ),
        ("the call returned after (s)", lambda f: f"{f['returned']:.1f}"),
    ]


def table(workload: Workload, rows: Mapping[str, Figures]) -> str:
    """The heading, a table (a row per figure, a column per implementation), the targets."""
    lines = [
        f"#### {workload.heading()}",
        "",
        "| figure | " + " | ".join(IMPLEMENTATIONS.values()) + " |",
        "| --- |" + " --- |" * len(IMPLEMENTATIONS),
    ]
    for name, show in _rows(workload):
        cells = " | ".join(show(rows[implementation]) for implementation in IMPLEMENTATIONS)
        lines.append(f"| {name} | {cells} |")
    if workload.targets:
        lines.append("")
    for target in workload.targets:
        value = rows[target.implementation][target.figure]
        verdict = "met" if value <= target.limit else "**missed**"
        lines.append(f"- Target {target.text}: {verdict} ({value:.3g})")
    return "\n".join(lines)
