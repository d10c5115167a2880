"""Fault-injection knobs for reliability tests: lost responses, seeded chaos, the request log."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sandbox_helpers import TP, client_for, ocs_data, schedule

from prefect_nextcloud.sandbox import FaultAction, NextcloudSandbox

Outcome = tuple[FaultAction | None, int | None]


def _outcomes(sb: NextcloudSandbox, client: httpx.Client, count: int) -> list[Outcome]:
    """Send ``count`` GET /tasks, ignoring connection errors; return what the sandbox did."""
    sb.clear_requests()
    for _ in range(count):
        with contextlib.suppress(httpx.TransportError):
            client.get(f"{TP}/tasks")
    return [(request.fault, request.status) for request in sb.requests_to("GET", r"/tasks$")]


def test_lost_response_creates_the_task(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_lost_response(r"/schedule$", method="POST")
    with pytest.raises(httpx.TransportError):
        schedule(alice, "core:text2text", {"input": "x"}, customId="lost-once")
    (task,) = sb.tasks(user_id="alice", custom_id="lost-once")
    request = sb.requests_to("POST", r"/schedule$")[-1]
    assert (request.status, request.fault, request.delivered) == (
        200,
        FaultAction.LOSE_RESPONSE,
        False,
    )
    # Only the next request was affected.
    retried = schedule(alice, "core:text2text", {"input": "x"}, customId="lost-once")
    assert ocs_data(retried)["task"]["id"] != task.id
    assert sb.requests_to("POST", r"/schedule$")[-1].delivered
    assert len(sb.tasks(user_id="alice", custom_id="lost-once")) == 2


def test_task_filters(sb: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client) -> None:
    schedule(alice, "core:text2text", {"input": "x"}, customId="filter-a", appId="one")
    schedule(alice, "core:text2text", {"input": "x"}, customId="filter-b", appId="two")
    schedule(bob, "core:text2text", {"input": "x"}, customId="filter-a", appId="one")
    assert len(sb.tasks(custom_id="filter-a")) == 2
    assert [t.user_id for t in sb.tasks(user_id="bob", custom_id="filter-a")] == ["bob"]
    assert [t.custom_id for t in sb.tasks(user_id="alice", app_id="two")] == ["filter-b"]
    assert sb.tasks(user_id="bob", custom_id="filter-b") == []


def test_chaos_is_deterministic_per_seed(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    def run(seed: int) -> list[Outcome]:
        sb.set_chaos(
            drop_rate=0.2, error_rate=0.2, lost_response_rate=0.2, seed=seed, path_regex=r"/tasks$"
        )
        return _outcomes(sb, alice, 40)

    first = run(7)
    assert run(7) == first
    assert run(8) != first


def test_chaos_rates_for_a_fixed_seed(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.set_chaos(
        drop_rate=0.1,
        error_rate=0.15,
        lost_response_rate=0.1,
        maintenance_rate=0.05,
        seed=42,
        path_regex=r"/tasks$",
    )
    counts = Counter(_outcomes(sb, alice, 200))
    # Expected 120 / 20 / 30 / 20 / 10; exact for seed 42 and 200 requests in a row.
    assert counts == {
        (None, 200): 120,
        (FaultAction.DROP, None): 23,
        (FaultAction.RESPOND, 502): 11,
        (FaultAction.RESPOND, 503): 15,
        (FaultAction.RESPOND, 504): 8,
        (FaultAction.LOSE_RESPONSE, 200): 14,
        (FaultAction.MAINTENANCE, 503): 9,
    }


def test_chaos_proxy_error_is_not_maintenance(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.set_chaos(error_rate=1.0, error_statuses=[503])
    response = alice.get(f"{TP}/tasks")
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>503 Service Unavailable</title>" in response.text
    assert "x-nextcloud-maintenance-mode" not in response.headers
    sb.set_chaos(maintenance_rate=1.0)
    assert alice.get(f"{TP}/tasks").headers["x-nextcloud-maintenance-mode"] == "1"


def test_chaos_drop_and_lost_response_on_schedule(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    sb.set_chaos(drop_rate=1.0, methods=["post"], path_regex=r"/schedule$")
    assert alice.get(f"{TP}/tasks").status_code == 200  # other methods pass
    with pytest.raises(httpx.TransportError):
        schedule(alice, "core:text2text", {"input": "x"}, customId="chaos-dropped")
    assert sb.tasks(custom_id="chaos-dropped") == []
    assert sb.requests_to("POST", r"/schedule$")[-1].status is None

    sb.set_chaos(lost_response_rate=1.0, methods=["POST"], path_regex=r"/schedule$")
    with pytest.raises(httpx.TransportError):
        schedule(alice, "core:text2text", {"input": "x"}, customId="chaos-lost")
    assert len(sb.tasks(custom_id="chaos-lost")) == 1

    sb.clear_chaos()
    assert schedule(alice, "core:text2text", {"input": "x"}).status_code == 200


def test_chaos_latency_does_not_block_other_requests(
    sb: NextcloudSandbox, alice: httpx.Client
) -> None:
    sb.set_chaos(latency_seconds=60, path_regex=r"/tasks/app/slow$")
    statuses: list[int] = []

    def slow() -> None:
        with client_for(sb, "alice") as client:
            client.timeout = httpx.Timeout(120)
            statuses.append(client.get(f"{TP}/tasks/app/slow").status_code)

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        sb.wait_for_delayed_requests(count=1)
        assert alice.get(f"{TP}/tasks/app/fast").status_code == 200
        assert thread.is_alive()  # the slow request is still held
    finally:
        sb.clear_chaos()  # ends the delay at once
        thread.join(timeout=10)
    assert statuses == [200]
    paths = [request.path for request in sb.requests_to("GET", r"/tasks/app/")[-2:]]
    assert paths == [f"{TP}/tasks/app/fast", f"{TP}/tasks/app/slow"]


@pytest.mark.parametrize(
    "settings",
    [
        {"drop_rate": -0.1},
        {"error_rate": 1.5},
        {"drop_rate": 0.6, "lost_response_rate": 0.6},
        {"error_rate": 0.5, "error_statuses": []},
        {"error_statuses": [200]},
        {"latency_seconds": -1},
    ],
)
def test_chaos_rejects_invalid_settings(sb: NextcloudSandbox, settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        sb.set_chaos(**settings)


def test_wait_for_delayed_requests_needs_chaos(sb: NextcloudSandbox) -> None:
    with pytest.raises(RuntimeError):
        sb.wait_for_delayed_requests()


def test_request_log_under_concurrent_load(sb: NextcloudSandbox) -> None:
    sb.clear_requests()
    threads, per_thread = 8, 40
    waited: list[int] = []
    waiter = threading.Thread(
        target=lambda: waited.append(
            len(sb.wait_for_requests("GET", r"/tasks$", count=threads * per_thread, timeout=60))
        )
    )
    waiter.start()

    statuses: list[int] = []

    def load() -> None:
        with client_for(sb, "bob") as client:
            for _ in range(per_thread):
                statuses.append(client.get(f"{TP}/tasks").status_code)

    workers = [threading.Thread(target=load) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    waiter.join()
    assert statuses == [200] * threads * per_thread
    assert waited == [threads * per_thread]
    logged = sb.requests
    assert len(logged) == threads * per_thread
    assert all(request.status == 200 and request.delivered for request in logged)
