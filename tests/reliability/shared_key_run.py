"""One flow run of a batch under an idempotency key, started by the concurrent-runs test.

Usage: ``python shared_key_run.py BLOCK KEY SIZE``. It prints ``ready`` once Prefect is
imported, starts its flow run when a line arrives on standard input (so that two processes
start together), then prints each item's task id and answer as one JSON line.
"""

from __future__ import annotations

import json
import sys

from prefect import flow

from prefect_nextcloud.blocks.credentials import resolve_credentials
from prefect_nextcloud.tasks import ItemResult, run_tasks


@flow(name="shared-key-batch")
def shared_key_batch(credentials: str, idempotency_key: str, size: int) -> list[ItemResult]:
    return run_tasks(
        resolve_credentials(credentials),
        "core:text2text",
        [{"input": f"item {n}"} for n in range(size)],
        timeout_seconds=120.0,
        poll_interval_seconds=0.2,
    )


if __name__ == "__main__":
    block, key, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    results = shared_key_batch(block, key, size)
    answers = [[result.task.id if result.task else None, result.text] for result in results]
    print(json.dumps(answers), flush=True)
