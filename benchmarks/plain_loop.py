"""The plain loop: the seed script's algorithm made to handle many tasks.

Schedule each task, then ``GET /task/{id}`` for each pending task every second; a task whose
schedule fails is given up (the seed raises, and that task's result is lost).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from workloads import PLAIN_POLL_SECONDS

from prefect_nextcloud.sandbox import DEFAULT_APP_PASSWORD, DEFAULT_USER_ID

TASKPROCESSING = "/ocs/v2.php/taskprocessing"
PENDING = ("STATUS_SCHEDULED", "STATUS_RUNNING")


def run_plain_loop(base_url: str, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Schedule one task per body and look at each pending one every second until it ends.

    Args:
        base_url: The Nextcloud server.
        bodies: One schedule body (``type``, ``input``, ``appId``) per task.

    Returns:
        ``known``: when each task's end was seen (unix time, by task id); ``ok``: how many
        succeeded; ``lost``: how many could not be scheduled.
    """
    with httpx.Client(
        base_url=base_url,
        auth=(DEFAULT_USER_ID, DEFAULT_APP_PASSWORD),
        headers={"OCS-APIRequest": "true", "Accept": "application/json"},
        params={"format": "json"},
        timeout=30,
    ) as client:
        pending: list[int] = []
        for body in bodies:
            response = client.post(f"{TASKPROCESSING}/schedule", json=body)
            if response.status_code == 200:
                pending.append(response.json()["ocs"]["data"]["task"]["id"])
        known: dict[int, float] = {}
        ok = 0
        while pending:
            round_started = time.monotonic()
            for task_id in list(pending):
                task = client.get(f"{TASKPROCESSING}/task/{task_id}").json()["ocs"]["data"]["task"]
                if task["status"] not in PENDING:
                    known[task_id] = time.time()
                    ok += task["status"] == "STATUS_SUCCESSFUL"
                    pending.remove(task_id)
            if pending:
                time.sleep(max(round_started + PLAIN_POLL_SECONDS - time.monotonic(), 0.0))
    return {"known": known, "ok": ok, "lost": len(bodies) - len(known)}
