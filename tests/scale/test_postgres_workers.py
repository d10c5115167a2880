"""Scale-out: 10 image-report flow runs on two process workers, a Prefect server on PostgreSQL.

All runs use ONE Nextcloud user, whose schedule calls are limited by the sandbox as Nextcloud
limits them (20 per sliding window; the window is 20 s here instead of 120 s, to keep the run
short, and the credentials block says so). Each flow run is its own process, so only the
``nextcloud-schedule`` global concurrency limit, created as the README says, keeps them
together within the window.

Marked ``scale`` and so left out of a plain pytest run: ``python3 dev.py scale`` runs it, installs
and starts what it needs, and leaves the logs and figures in ``.artifacts/scale/``.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.flows import Flow
from prefect.settings import PREFECT_API_URL, temporary_settings
from scale_stack import ARTIFACTS, ROOT, ScaleStack

from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.sandbox.samples import sample_files

pytestmark = pytest.mark.scale

FLOW_RUNS = 10
WORKERS = ("scale-worker-1", "scale-worker-2")
RUNS_PER_WORKER = 5  # each worker's --limit: both must take runs
POOL = "scale"
BLOCK = "nextcloud-scale"
# The sandbox's schedule limit per user, and its sliding window (Nextcloud: 20 per 120 s).
SCHEDULE_LIMIT = 20
WINDOW_SECONDS = 20.0
# The README's rule for the global limit: limit + window * decay <= the server's limit.
GCL_LIMIT = 10
GCL_DECAY = 0.45
GCL_BOUND = GCL_LIMIT + WINDOW_SECONDS * GCL_DECAY  # 19 in any 20 s
# The Prefect server's database pool, as one would size it for several workers (Prefect's
# defaults are 5 and 10); set either variable to run with another size.
SERVER_SETTINGS = {
    name: os.environ.get(name, default)
    for name, default in (
        ("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", "10"),
        ("PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW", "20"),
    )
}
RUN_TIMEOUT_SECONDS = 600.0
SCHEDULE_PATH = r"/taskprocessing/schedule$"


def peak_in_window(times: list[float], window: float) -> int:
    """The most events in any ``window`` seconds (each event starting a window)."""
    ordered = sorted(times)
    return max(
        (
            bisect.bisect_right(ordered, start + window - 1e-9) - i
            for i, start in enumerate(ordered)
        ),
        default=0,
    )


def runs_by_worker(logs: dict[str, str]) -> dict[str, list[str]]:
    """Flow run ids each worker ran, read from its log.

    Both workers may pick up the same scheduled run; the server lets one move it to Pending
    and tells the other to abort its submission, which the worker logs.
    """
    ran = {}
    for worker, log in logs.items():
        submitted = re.findall(
            rf"Worker '{re.escape(worker)}' submitting flow run '([0-9a-f-]+)'", log
        )
        aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]+)'", log))
        ran[worker] = [run for run in submitted if run not in aborted]
    return ran


class ConnectionSampler(threading.Thread):
    """Samples the Prefect database's open connections every two seconds."""

    def __init__(self, stack: ScaleStack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(2.0):
            if (count := self.stack.database_connections()) is not None:
                self.samples.append(count)


def test_ten_flow_runs_on_two_workers_share_one_users_schedule_window() -> None:
    began = time.monotonic()
    figures: dict[str, Any] = {}
    with (
        ScaleStack(server_settings=SERVER_SETTINGS) as stack,
        NextcloudSandbox(
            pickup_delay_seconds=0.5,
            run_seconds=1.0,
            workers=4,
            rate_limit=SCHEDULE_LIMIT,
            rate_limit_period_seconds=WINDOW_SECONDS,
        ) as sandbox,
        temporary_settings(updates={PREFECT_API_URL: stack.api_url}),
    ):
        figures["setup_seconds"] = round(time.monotonic() - began, 1)
        images = sample_files()
        for path, data in images.items():
            sandbox.upload(path, data)
        sandbox.credentials.save(BLOCK, overwrite=True)
        assert sandbox.credentials.schedule_limit == SCHEDULE_LIMIT
        assert sandbox.credentials.schedule_window_seconds == WINDOW_SECONDS
        # As README's "Running several workers" says, with this window's numbers.
        stack.prefect("gcl", "create", "nextcloud-schedule", "--limit", str(GCL_LIMIT),
                      "--slot-decay-per-second", str(GCL_DECAY))  # fmt: skip
        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        deployment_id = Flow.from_source(
            source=str(ROOT), entrypoint="flows/image_report.py:image_report"
        ).deploy(name="scale", work_pool_name=POOL, print_next_steps=False, ignore_warnings=True)
        for worker in WORKERS:
            stack.start_worker(
                worker,
                POOL,
                limit=RUNS_PER_WORKER,
                extra={
                    "PREFECT_WORKER_QUERY_SECONDS": "2",
                    "PREFECT_LOGGING_EXTRA_LOGGERS": "prefect_nextcloud",
                },
            )
        sampler = ConnectionSampler(stack)
        sampler.start()
        sandbox.clear_requests()

        started = time.monotonic()
        created_at = time.time()
        with get_client(sync_client=True) as client:
            ids = [
                client.create_flow_run_from_deployment(
                    deployment_id,
                    parameters={
                        "folder": "/Photos",
                        "report_path": f"/Reports/scale-{n:02}.md",
                        "credentials": BLOCK,
                        "poll_interval_seconds": 2.0,
                        "timeout_seconds": RUN_TIMEOUT_SECONDS,
                    },
                ).id
                for n in range(FLOW_RUNS)
            ]
            while True:
                runs = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids))
                )
                if len(runs) == FLOW_RUNS and all(r.state and r.state.is_final() for r in runs):
                    break
                assert time.monotonic() - started < RUN_TIMEOUT_SECONDS, [
                    (str(r.id), r.state_name) for r in runs
                ]
                time.sleep(2.0)
        wall = time.monotonic() - started
        sampler.stop.set()
        sampler.join(timeout=15)

        # -- what happened -------------------------------------------------------------------
        states = {str(r.id): r.state_name for r in runs}
        timing = [(r.start_time, r.end_time) for r in runs if r.start_time and r.end_time]
        submitted = runs_by_worker({worker: stack.worker_log(worker) for worker in WORKERS})
        reports = {}
        with sandbox.credentials.get_client() as nextcloud:
            for n in range(FLOW_RUNS):
                path = f"/Reports/scale-{n:02}.md"
                try:
                    reports[path] = nextcloud.download_file(path).decode()
                except Exception as error:  # recorded, and asserted below
                    reports[path] = f"missing: {error}"
        tasks = sandbox.tasks()
        schedules = sandbox.requests_to("POST", SCHEDULE_PATH)
        accepted = [r.answered_at for r in schedules if r.status == 200]
        keys = Counter((t.app_id, t.custom_id) for t in tasks)
        inputs = Counter((t.app_id, json.dumps(t.input, sort_keys=True)) for t in tasks)
        figures.update(
            flow_runs=FLOW_RUNS,
            completed=sum(1 for state in states.values() if state == "Completed"),
            wall_seconds=round(wall, 1),
            flow_run_seconds_max=round(max((e - s).total_seconds() for s, e in timing), 1),
            last_flow_run_running_after_seconds=round(
                max(s.timestamp() for s, _ in timing) - created_at, 1
            ),
            first_schedule_after_seconds=round(min(accepted, default=created_at) - created_at, 1),
            last_schedule_after_seconds=round(max(accepted, default=created_at) - created_at, 1),
            aborted_duplicate_submissions=sum(
                stack.worker_log(worker).count("Aborted submission of flow run")
                for worker in WORKERS
            ),
            flow_runs_per_worker={worker: len(ids_) for worker, ids_ in submitted.items()},
            nextcloud_tasks=len(tasks),
            expected_tasks=FLOW_RUNS * (len(images) + 1),
            successful_tasks=sum(1 for t in tasks if t.status == "STATUS_SUCCESSFUL"),
            duplicate_custom_ids=sum(count - 1 for count in keys.values()),
            duplicate_inputs=sum(count - 1 for count in inputs.values()),
            schedule_requests=len(schedules),
            schedule_429=sum(1 for r in schedules if r.status == 429),
            all_429=sum(1 for r in sandbox.requests if r.status == 429),
            requests=len(sandbox.requests),
            peak_schedules_in_window=peak_in_window(accepted, WINDOW_SECONDS),
            window_seconds=WINDOW_SECONDS,
            server_limit=SCHEDULE_LIMIT,
            gcl=f"limit {GCL_LIMIT}, slot decay {GCL_DECAY}/s, bound {GCL_BOUND:g}",
            least_possible_seconds=round(
                (FLOW_RUNS * (len(images) + 1) - GCL_LIMIT) / GCL_DECAY, 1
            ),
            database_connections_max=max(sampler.samples, default=None),
            server_settings=SERVER_SETTINGS,
            states=states,
        )
        reports_ok = [
            path
            for path, text in reports.items()
            if all(f"## {Path(name).name}" in text for name in images)
            and "Not analyzed" not in text
            and "## Summary" in text
        ]
        figures["reports_complete"] = len(reports_ok)
    figures["total_seconds"] = round(time.monotonic() - began, 1)
    (ARTIFACTS / "figures.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print("\n" + json.dumps({k: v for k, v in figures.items() if k != "states"}, indent=2))

    assert figures["completed"] == FLOW_RUNS, states
    assert figures["reports_complete"] == FLOW_RUNS, reports
    assert figures["nextcloud_tasks"] == figures["expected_tasks"]
    assert figures["successful_tasks"] == figures["expected_tasks"]
    assert figures["duplicate_custom_ids"] == 0
    assert figures["duplicate_inputs"] == 0
    assert figures["schedule_429"] == 0
    assert figures["peak_schedules_in_window"] <= SCHEDULE_LIMIT
    # Both workers ran flow runs, and each flow run ran on exactly one of them.
    assert all(len(submitted[worker]) > 0 for worker in WORKERS), submitted
    assert sorted(UUID(i) for ids_ in submitted.values() for i in ids_) == sorted(ids), submitted
