"""Nextcloud tasks three ways: a plain loop, and prefect-nextcloud without and with push.

Run it with ``python3 dev.py bench [WORKLOAD ...]`` (about five minutes for all; not part of the
test suite). One temporary Prefect server serves the whole run. Each workload gets a sandbox of
its own, and its three implementations run on it one after the other, each in a child process
of its own (``child.py``), so that the CPU time measured is the client's alone:

- plain loop: the seed script's algorithm made to handle many tasks (``plain_loop.py``);
- prefect-nextcloud, no push: ``run_tasks`` in a flow, or the shipped ``analyze_image`` flow;
- prefect-nextcloud, push: the same, with ``prefect-nextcloud relay`` running in a process of
  its own and the credentials naming it.

The sandbox's request log gives the requests, its records each task's precise end; the child
notes when each answer became known (``on_results``), on the same wall clock.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import prefect
import stack
from figures import Figures, compare_with_plain, figures, table
from workloads import IMPLEMENTATIONS, NO_LIMIT, WORKLOADS, Workload

from prefect_nextcloud.sandbox import sample_image_bytes


def measure_workload(
    workload: Workload, number: int, environment: dict[str, str], logs: Path
) -> dict[str, Figures]:
    """Run the three implementations of one workload on its sandbox; return their figures."""
    rows: dict[str, Figures] = {}
    with stack.sandbox_for(workload, number) as sandbox:
        spec: dict[str, Any] = {"workload": workload.name, "base_url": sandbox.base_url}
        if workload.analysis:
            spec["file_id"] = sandbox.upload("Photos/photo.png", sample_image_bytes())
        for implementation in IMPLEMENTATIONS:
            if rows and workload.rate_limit != NO_LIMIT:
                time.sleep(workload.window_seconds)  # the last one's schedules leave the window
            sandbox.clear_requests()
            relay = (
                stack.relay(sandbox.base_url, environment, logs / f"relay-{workload.name}.log")
                if implementation == "push"
                else nullcontext(None)
            )
            with relay as relay_url:
                report = stack.run_child(
                    {**spec, "implementation": implementation, "relay_url": relay_url},
                    environment,
                )
            tasks = {task.id: task for task in sandbox.tasks()}
            rows[implementation] = figures(workload, report, sandbox.requests, tasks)
    compare_with_plain(rows)
    return rows


def machine() -> str:
    """The machine and the software measured on it."""
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}, "
        f"Prefect {prefect.__version__}; load average {_load()} at the start"
    )


def _load() -> str:
    return " / ".join(f"{load:.1f}" for load in os.getloadavg()) + " (1 / 5 / 15 min)"


def main(argv: list[str]) -> int:
    """Run the chosen workloads (all by default) and print a markdown table for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)} (all)")
    names = parser.parse_args(argv).workloads or list(WORKLOADS)
    if unknown := [name for name in names if name not in WORKLOADS]:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}"
        )
    # No telemetry from the Prefect server, the relay or the children (they inherit it).
    os.environ.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    print(machine() + "\n", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="prefect-nextcloud-bench-") as logs,
        stack.prefect_server() as api_url,
    ):
        environment = stack.child_environment(api_url, secrets.token_urlsafe(32))
        for number, name in enumerate(names):
            workload = WORKLOADS[name]
            rows = measure_workload(workload, number, environment, Path(logs))
            print(table(workload, rows) + "\n", flush=True)
    print(f"Load average at the end: {_load()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
