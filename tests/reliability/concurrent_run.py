"""One flow run started by the concurrent-runs tests, in a process of its own.

Usage: ``python concurrent_run.py batch BLOCK KEY SIZE`` (a batch under an idempotency key)
or ``python concurrent_run.py folder BLOCK FOLDER`` (process-new-files over a folder). It
prints ``ready`` once Prefect is imported, starts its flow run when a line arrives on
standard input (so that two processes start together), then prints what the run returned
as one JSON line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from prefect import flow

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.flows import process_new_files
from prefect_nextcloud.tasks import ItemResult, RunOptions, run_tasks


@flow(name="shared-key-batch")
def shared_key_batch(credentials: str, idempotency_key: str, size: int) -> list[ItemResult]:
    return run_tasks(
        resolve_credentials(credentials),
        "core:text2text",
        [{"input": f"item {n}"} for n in range(size)],
        options=RunOptions(timeout_seconds=120.0, poll_interval_seconds=0.2),
    )


def main(mode: str, block: str, *rest: str) -> list[Any]:
    if mode == "batch":
        key, size = rest
        results = shared_key_batch(block, key, int(size))
        return [[result.task.id if result.task else None, result.text] for result in results]
    [folder] = rest
    run = process_new_files(
        folder=folder,
        credentials=block,
        report_path="",
        timeout_seconds=120.0,
        poll_interval_seconds=0.2,
    )
    return [[outcome.file_id, outcome.ok, outcome.text] for outcome in run.outcomes]


if __name__ == "__main__":
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(main(*sys.argv[1:])), flush=True)
