"""Many Nextcloud tasks: a plain polling loop and prefect-nextcloud, side by side, on the sandbox.

Run it with ``python3 dev.py bench`` (about ten minutes; not part of the test suite). Each
workload runs against a fresh sandbox in this process; each implementation runs in a child
process of its own, so that its CPU time and memory are its own. The sandbox's request log
gives the request counts and, with each task's ``endedAt``, the detection lag.

Workloads:
    tasks-2-30s    100 text tasks that run 2-30 s each (seeded), no schedule limit.
    rate-limited   60 text tasks under the server's limit of 20 schedules per 120 s.
    image-report   the ``image_report`` flow over a folder of 50 images (20 per 120 s).

The plain loop is the seed script's algorithm made to handle many tasks: schedule every
task, then poll each pending task every interval until it is done. Like the seed, it gives
up on a task whose schedule call fails (e.g. the 429 past the limit).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import RunOptions

POLL_INTERVAL_SECONDS = 5.0
TASK_TYPE = "core:text2text"
PROMPT = "Describe this image in one sentence."
SCHEDULE = "/ocs/v2.php/taskprocessing/schedule"


@dataclass(frozen=True)
class Workload:
    """One scenario: how the sandbox behaves and what is asked of it."""

    name: str
    tasks: int
    run_seconds: float | tuple[float, float]
    rate_limit: int
    window_seconds: float
    workers: int
    images: int = 0

    def bound(self) -> float:
        """The least makespan possible: full windows of schedules, then the longest run."""
        full_windows = math.ceil(self.tasks / self.rate_limit) - 1
        longest = max(self.run_seconds) if isinstance(self.run_seconds, tuple) else self.run_seconds
        return full_windows * self.window_seconds + longest


WORKLOADS = {
    workload.name: workload
    for workload in (
        Workload("tasks-2-30s", 100, (2.0, 30.0), 10_000, 120.0, workers=100),
        Workload("rate-limited", 60, 2.0, 20, 120.0, workers=20),
        Workload("image-report", 51, 2.0, 20, 120.0, workers=20, images=50),
    )
}


# -- the child processes ---------------------------------------------------------------------


def _plain_loop(workload: Workload, base_url: str, user: str, password: str) -> dict[str, Any]:
    """Schedule everything, then poll each pending task every interval (the seed's way)."""
    client = httpx.Client(
        base_url=base_url,
        auth=(user, password),
        headers={"OCS-APIRequest": "true", "Accept": "application/json"},
        params={"format": "json"},
        timeout=30,
    )
    pending: set[int] = set()
    lost = 0
    if workload.images:  # the image analyses of the report (the loop writes no report)
        file_ids = [int(i) for i in os.environ["BENCH_FILE_IDS"].split(",")]
        requests = [
            {"type": "core:analyze-images", "input": {"images": [i], "input": PROMPT}}
            for i in file_ids
        ]
    else:
        requests = [
            {"type": TASK_TYPE, "input": {"input": f"Text {n}"}} for n in range(workload.tasks)
        ]
    for body in requests:
        response = client.post(SCHEDULE, json={**body, "appId": "plain"})
        if response.status_code != 200:
            lost += 1  # the seed throws: this task's result is lost
            continue
        pending.add(response.json()["ocs"]["data"]["task"]["id"])
    done = 0
    while pending:
        for task_id in sorted(pending):
            task = client.get(f"/ocs/v2.php/taskprocessing/task/{task_id}").json()
            if task["ocs"]["data"]["task"]["status"] not in ("STATUS_SCHEDULED", "STATUS_RUNNING"):
                pending.discard(task_id)
                done += 1
        if pending:
            time.sleep(POLL_INTERVAL_SECONDS)
    return {"ok": done, "lost": lost}


def _project(workload: Workload, base_url: str, user: str, password: str) -> dict[str, Any]:
    """The same work through prefect-nextcloud, on a temporary Prefect server."""
    from prefect import flow  # noqa: PLC0415 - only the project's child needs Prefect
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId  # noqa: PLC0415
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    from prefect_nextcloud import NextcloudCredentials  # noqa: PLC0415
    from prefect_nextcloud.flows import image_report  # noqa: PLC0415
    from prefect_nextcloud.tasks import run_tasks  # noqa: PLC0415

    credentials = NextcloudCredentials(
        base_url=base_url,
        user_id=user,
        app_password=password,
        schedule_limit=workload.rate_limit,
        schedule_window_seconds=workload.window_seconds,
    )

    @flow
    def batch() -> int:
        results = run_tasks(
            credentials,
            TASK_TYPE,
            [{"input": f"Text {n}"} for n in range(workload.tasks)],
            options=RunOptions(poll_interval_seconds=POLL_INTERVAL_SECONDS),
        )
        return sum(result.ok for result in results)

    with prefect_test_harness(server_startup_timeout=180):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        started = time.perf_counter()
        if workload.images:  # the flow as shipped, at its default poll interval
            state = image_report(
                credentials=credentials,
                folder="/Photos",
                prompt=PROMPT,
                max_images=workload.images,
                return_state=True,
            )
            ok = state.result().image_count - state.result().failed_count
        else:
            state = batch(return_state=True)
            ok = state.result()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        with get_client(sync_client=True) as client:
            flow_run_id = state.state_details.flow_run_id
            runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            task_runs = client.read_task_runs(flow_run_filter=runs)
            task_states = sum(len(client.read_task_run_states(run.id)) for run in task_runs)
            flow_states = len(client.read_flow_run_states(flow_run_id))
    return {
        "ok": ok,
        "lost": workload.tasks - ok if not workload.images else workload.images - ok,
        "cpu": cpu,
        "wall": wall,
        "task_runs": len(task_runs),
        "task_states": task_states,
        "flow_states": flow_states,
        "rss_growth_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
    }


def child(workload_name: str, implementation: str) -> None:
    """Run one implementation of one workload and print its figures as JSON."""
    workload = WORKLOADS[workload_name]
    arguments = (
        workload,
        os.environ["BENCH_URL"],
        os.environ["BENCH_USER"],
        os.environ["BENCH_PASSWORD"],
    )
    cpu = time.process_time()
    started = time.perf_counter()
    figures = (_plain_loop if implementation == "plain" else _project)(*arguments)
    figures.setdefault("cpu", time.process_time() - cpu)
    figures.setdefault("wall", time.perf_counter() - started)
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


# -- the parent: sandboxes, children, figures ------------------------------------------------


def _detection_lags(sandbox: NextcloudSandbox, poll_path: str) -> list[float]:
    """Per task: from its end to the first look answered after it.

    The server's ``endedAt`` has whole seconds: the end is taken as ``endedAt + 0.5``, and the
    first look answered from ``endedAt`` on as the one that saw it (so a figure may be up to a
    second off either way).
    """
    looks = sorted(r.answered_at for r in sandbox.requests if r.matches("GET", poll_path))
    lags = []
    for task in sandbox.tasks():
        if task.ended_at is None:
            continue
        ended = task.ended_at + 0.5
        seen = next((at for at in looks if at >= task.ended_at), None)
        if seen is not None:
            lags.append(max(seen - ended, 0.0))
    return lags


def measure(workload: Workload, implementation: str) -> dict[str, Any]:
    """Run one implementation of one workload against a fresh sandbox."""
    with NextcloudSandbox(
        run_seconds=workload.run_seconds,
        workers=workload.workers,
        rate_limit=workload.rate_limit,
        rate_limit_period_seconds=workload.window_seconds,
    ) as sandbox:
        file_ids = [
            sandbox.upload(f"Photos/photo-{n:02}.png", sample_image_bytes())
            for n in range(workload.images)
        ]
        sandbox.clear_requests()
        environment = {
            **os.environ,
            "BENCH_URL": sandbox.base_url,
            "BENCH_USER": sandbox.user_id,
            "BENCH_PASSWORD": sandbox.app_password,
            "BENCH_FILE_IDS": ",".join(map(str, file_ids)),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        completed = subprocess.run(  # noqa: S603 - this script, with fixed arguments
            [sys.executable, __file__, "--child", workload.name, implementation],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            sys.exit(f"{workload.name}/{implementation} failed:\n{completed.stderr[-4000:]}")
        figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        poll_path = r"/task/\d+$" if implementation == "plain" else r"/tasks/app/"
        lags = _detection_lags(sandbox, poll_path)
        created = sandbox.tasks()
        figures.update(
            requests=len(sandbox.requests),
            refused=sum(1 for r in sandbox.requests if r.status == 429),
            created=len(created),
            lag_mean=sum(lags) / len(lags) if lags else float("nan"),
            lag_max=max(lags, default=float("nan")),
        )
    return figures


def _table(workload: Workload, rows: dict[str, dict[str, Any]]) -> str:
    per = workload.images or workload.tasks
    unit = "image" if workload.images else "task"

    lines = [
        f"### {workload.name}: {workload.tasks} tasks, run {workload.run_seconds} s, "
        f"limit {workload.rate_limit} per {workload.window_seconds:g} s, "
        f"poll interval {POLL_INTERVAL_SECONDS:g} s",
        "",
        "| figure | plain loop | prefect-nextcloud |",
        "| --- | --- | --- |",
    ]
    figures = [
        ("results returned", lambda f: f"{f['ok']} of {per}"),
        ("results lost", lambda f: str(f["lost"])),
        ("Nextcloud tasks created", lambda f: str(f["created"])),
        ("429 answers", lambda f: str(f["refused"])),
        (f"Nextcloud requests per {unit}", lambda f: format(f["requests"] / per, ".2f")),
        ("Prefect task runs", lambda f: str(f.get("task_runs", 0))),
        (
            "Prefect state changes per Nextcloud task (task runs / with flow run)",
            lambda f: (
                f"{f['task_states'] / workload.tasks:.2f} / "
                f"{(f['task_states'] + f['flow_states']) / workload.tasks:.2f}"
                if "task_states" in f
                else "0"
            ),
        ),
        (f"client CPU per {unit} (ms)", lambda f: format(f["cpu"] * 1000 / per, ".1f")),
        ("peak memory of the client process (MiB)", lambda f: format(f["peak_rss_mib"], ".0f")),
        (
            "makespan (s) / bound (s) = ratio",
            lambda f: (
                f"{f['wall']:.1f} / {workload.bound():.1f} = {f['wall'] / workload.bound():.2f}"
            ),
        ),
        (
            "detection lag mean / max (s)",
            lambda f: f"{f['lag_mean']:.1f} / {f['lag_max']:.1f}",
        ),
    ]
    for name, show in figures:
        lines.append(f"| {name} | {show(rows['plain'])} | {show(rows['project'])} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run the chosen workloads (all by default) and print a markdown table for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)} (all)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        child(*arguments.child)
        return 0
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}\n"
    )
    for name in arguments.workloads or WORKLOADS:
        workload = WORKLOADS[name]
        rows = {impl: measure(workload, impl) for impl in ("plain", "project")}
        print(_table(workload, rows) + "\n", flush=True)
        print(f"<!-- raw: {json.dumps(rows)} -->\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
