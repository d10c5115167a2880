"""Runs that share an idempotency key, in separate processes, schedule each task once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from new_files_support import comments
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.settings import PREFECT_API_URL, temporary_settings

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks.idempotency import app_id_for, key_scope
from prefect_nextcloud.tasks.run_lock import lock_name, run_lock

pytestmark = pytest.mark.usefixtures("prefect_server")

RUN = Path(__file__).with_name("concurrent_run.py")
BLOCK = "concurrent-runs-test"


def _start(arguments: list[str], home: Path) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(home),
    }
    return subprocess.Popen(
        [sys.executable, str(RUN), *arguments],
        cwd=RUN.parent,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_together(arguments: list[str], tmp_path: Path) -> list[list[list[Any]]]:
    """Start two runs in two processes at the same moment; what each returned."""
    processes = [_start(arguments, tmp_path / name) for name in ("a", "b")]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def test_two_processes_with_one_key_schedule_each_task_once(
    sandbox: NextcloudSandbox, tmp_path: Path
) -> None:
    sandbox.credentials.save(BLOCK, overwrite=True)
    # Slow schedule answers widen the window in which two unsynchronised runs would both
    # find nothing and both schedule.
    sandbox.set_chaos(latency_seconds=0.4, path_regex="/schedule$", methods=["POST"])
    first, second = _run_together(["batch", BLOCK, "nightly-2026-12-06", "10"], tmp_path)
    created = [r for r in sandbox.requests_to("POST", "/schedule$") if r.status == 200]
    assert len(created) == 10
    assert len(sandbox.tasks()) == 10
    assert first == second
    assert [text for _, text in first] == [
        sandbox.task(task_id).output["output"] for task_id, _ in first
    ]
    assert sorted(task_id for task_id, _ in first) == sorted(t.id for t in sandbox.tasks())


def test_two_runs_over_one_folder_process_and_comment_each_file_once(
    sandbox: NextcloudSandbox, tmp_path: Path
) -> None:
    sandbox.credentials.save(BLOCK, overwrite=True)
    files = [sandbox.upload(f"Photos/{name}.png", sample_image_bytes()) for name in "abcd"]
    # Slow schedules and slow state writes widen the windows in which unsynchronised runs
    # would both schedule, or both claim the answers to post.
    sandbox.set_chaos(
        latency_seconds=0.6,
        path_regex="(/schedule|/process-new-files/.*[.]json)$",
        methods=["POST", "PUT"],
    )
    first, second = _run_together(["folder", BLOCK, "/Photos"], tmp_path)
    created = [r for r in sandbox.requests_to("POST", "/schedule$") if r.status == 200]
    assert len(created) == 4
    assert [len(comments(sandbox.credentials, file_id)) for file_id in files] == [1, 1, 1, 1]
    answers = {file_id: text for file_id, ok, text in first + second if ok}
    assert sorted(answers) == sorted(files)
    for file_id in files:
        assert answers[file_id] in comments(sandbox.credentials, file_id)[0]


def test_without_the_lock_twins_are_cancelled_and_both_runs_agree(
    sandbox: NextcloudSandbox, tmp_path: Path
) -> None:
    sandbox.credentials.save(BLOCK, overwrite=True)
    sandbox.set_chaos(latency_seconds=0.4, path_regex="/schedule$", methods=["POST"])
    key = "no-lock-2026-12-06"
    app_id = app_id_for(key_scope(key))
    # An inactive limit under the lock's name cannot be taken: the runs cannot coordinate.
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=lock_name(app_id), limit=1, active=False)
        )
        try:
            first, second = _run_together(["batch", BLOCK, key, "10"], tmp_path)
        finally:
            client.delete_global_concurrency_limit_by_name(lock_name(app_id))
    assert first == second
    kept = sorted(task_id for task_id, _ in first)
    assert sorted(task.id for task in sandbox.tasks()) == kept
    created = [r for r in sandbox.requests_to("POST", "/schedule$") if r.status == 200]
    deleted = sandbox.requests_to("DELETE", "/taskprocessing/task/")
    # Every task beyond the 10 kept was a twin, deleted (by one run or both).
    assert len({request.path for request in deleted}) == len(created) - 10


def test_keys_share_a_fixed_set_of_locks() -> None:
    names = {lock_name(f"key-{n}") for n in range(1000)}
    assert len(names) == 16
    assert lock_name("same") == lock_name("same")


def test_without_the_prefect_api_scheduling_goes_on_unlocked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        run_lock("k") as held,
    ):
        assert held is False
    assert "Going on without it" in caplog.text
