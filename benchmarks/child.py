"""One implementation of one workload, in a process of its own; prints its figures as JSON.

The parent passes ``BENCH_SPEC`` (workload, implementation, the sandbox's address, the relay's
and the image's file id) and, for push, ``NEXTCLOUD_RELAY_SECRET``. The process's own CPU time
is read with ``time.process_time()`` (every thread of the process, nothing estimated): before
the measured runs (interpreter start, imports, warm-up) and over them.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from plain_loop import run_plain_loop
from workloads import ANALYSIS_TYPE, PROMPT, TASK_TYPE, WORKLOADS, Workload

Run = Callable[[], dict[str, Any]]


def plain_runner(workload: Workload, spec: dict[str, Any]) -> Run:
    """One run of the plain loop over the workload's tasks."""
    if workload.analysis:
        task_input: dict[str, Any] = {"images": [spec["file_id"]], "input": PROMPT}
        bodies = [{"type": ANALYSIS_TYPE, "input": task_input, "appId": "plain"}]
    else:
        bodies = [
            {"type": TASK_TYPE, "input": {"input": f"Text {n}"}, "appId": "plain"}
            for n in range(workload.tasks)
        ]
    return lambda: run_plain_loop(spec["base_url"], bodies)


def project_runner(workload: Workload, spec: dict[str, Any]) -> tuple[Run, Callable[[], object]]:
    """One run through prefect-nextcloud, and the warm-up before the measured runs."""
    # Imported here: the plain loop's process never loads Prefect.
    import project  # noqa: PLC0415

    credentials = project.credentials_for(workload, spec["base_url"], spec.get("relay_url"))
    if workload.analysis:
        analysis = partial(project.run_analysis, credentials, spec["file_id"])
        return analysis, analysis
    return partial(project.run_batch, credentials, workload.tasks), project.warm_up


def measure(workload: Workload, spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up if the workload asks for it, then time the measured runs."""
    warm_up: Callable[[], object] | None
    if spec["implementation"] == "plain":
        run = plain_runner(workload, spec)
        warm_up = run if workload.warm_up else None
    else:
        run, warm_up = project_runner(workload, spec)
    if warm_up is not None:
        warm_up()
    # As a long-running script or worker would after its imports: what imports and set-up
    # created lives as long as the process, so no full collection needs to walk it again.
    gc.freeze()
    startup_cpu = time.process_time()
    started = time.time()
    runs = []
    for _ in range(workload.runs):
        run_started = time.time()
        outcome = run()
        returned = time.time() - run_started
        # A flow run's answer is known (to the API, so to a deployment's caller) at its final
        # state; a direct call returns once Prefect has also ended the run's heartbeat.
        answered = outcome.pop("answered_at", run_started + returned) - run_started
        runs.append({**outcome, "wall": answered, "returned": returned})
    return {
        "startup_cpu": startup_cpu,
        "cpu": time.process_time() - startup_cpu,
        "started": started,
        "runs": runs,
    }


def main() -> int:
    """Measure, then (outside the measurement) read the Prefect states of each flow run."""
    spec = json.loads(os.environ["BENCH_SPEC"])
    figures = measure(WORKLOADS[spec["workload"]], spec)
    if spec["implementation"] != "plain":
        import project  # noqa: PLC0415

        for run in figures["runs"]:
            project.add_prefect_states(run)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
