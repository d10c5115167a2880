"""Per-run bookkeeping stays bounded in a long-lived process, and ends with the run."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.tasks import global_limit, idempotency, waiting
from prefect_nextcloud.tasks.batch import items as batches

CREDENTIALS = NextcloudCredentials(
    base_url="https://cloud.example.com", user_id="alice", app_password="secret-app-password"
)


def _in_flow_run(monkeypatch: pytest.MonkeyPatch, parameters: dict[str, Any] | None = None) -> Any:
    run = SimpleNamespace(id=uuid4(), run_count=1)
    context = SimpleNamespace(flow_run=run, parameters=parameters or {})
    monkeypatch.setattr(idempotency.FlowRunContext, "get", classmethod(lambda cls: context))
    return run


def test_many_runs_in_one_process_keep_a_bounded_record(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(1000):
        _in_flow_run(monkeypatch)
        idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
        idempotency.remember_scheduled(CREDENTIALS, "pfnc-app")
    assert len(idempotency._used) <= 256
    assert len(idempotency._counts) <= 256
    for _ in range(1000):
        key = uuid4()
        batches.remember(
            key, batches.start_batch("core:text2text", [{"input": "x"}], None, None, None)
        )
        waiting._watch(key)
    assert len(batches._batches) <= 256
    assert len(waiting._watches) <= 256


def test_the_cleanup_hook_releases_the_runs_record(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _in_flow_run(monkeypatch)
    idempotency.remember_scheduled(CREDENTIALS, "pfnc-app")
    assert run.id in idempotency._used
    flow_run = FlowRun(id=run.id, name="a-run", parameters={}, flow_id=uuid4())
    monkeypatch.setattr(NextcloudCredentials, "get_client", _unreachable)
    idempotency.cancel_outstanding_tasks(None, flow_run, None)  # type: ignore[arg-type]
    assert run.id not in idempotency._used


def test_the_cleanup_hook_releases_the_runs_record_when_it_leaves_the_tasks_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _in_flow_run(monkeypatch, {"idempotency_key": "nightly"})
    idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
    idempotency.remember_scheduled(CREDENTIALS, "pfnc-app")
    flow_run = FlowRun(
        id=run.id, name="a-run", parameters={"idempotency_key": "nightly"}, flow_id=uuid4()
    )
    crashed = SimpleNamespace(is_crashed=lambda: True)
    monkeypatch.undo()  # the hook runs after the flow run, outside its context
    idempotency.cancel_outstanding_tasks(None, flow_run, crashed)  # type: ignore[arg-type]
    assert run.id not in idempotency._used
    assert not [attempt for attempt in idempotency._counts if attempt[0] == run.id]


def test_a_long_run_never_reuses_the_id_of_an_earlier_identical_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _in_flow_run(monkeypatch)
    long_run = idempotency.FlowRunContext.get
    first = idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
    for index in range(5000):
        idempotency.derive_custom_id("core:text2text", {"input": f"text {index}"})
        if index % 50 == 0:  # other runs come and go meanwhile
            _in_flow_run(monkeypatch)
            idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
            monkeypatch.setattr(idempotency.FlowRunContext, "get", long_run)
    again = idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
    assert first is not None
    assert again is not None
    assert (first[-2:], again[-2:]) == (":0", ":1")
    assert first[:-2] == again[:-2]


def test_a_polled_batch_or_wait_outlives_those_that_stopped_polling() -> None:
    polled = uuid4()
    batches.remember(
        polled, batches.start_batch("core:text2text", [{"input": "x"}], None, None, None)
    )
    waiting._watch(polled)
    for _ in range(1000):
        key = uuid4()
        batches.remember(
            key, batches.start_batch("core:text2text", [{"input": "x"}], None, None, None)
        )
        waiting._watch(key)
        assert batches.recall(polled) is not None
        waiting._watch(polled)
    assert polled in waiting._watches
    batches.forget(polled)
    waiting._done(polled)
    assert batches.recall(polled) is None
    assert polled not in waiting._watches


def test_schedule_limit_lookups_expire_and_stay_few(monkeypatch: pytest.MonkeyPatch) -> None:
    global_limit.forget_schedule_limit()
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    for index in range(100):
        global_limit._store(f"http://prefect-{index}/api", None)
    assert len(global_limit._configured) <= 16
    clock[0] += global_limit._LOOKUP_TTL_SECONDS
    global_limit._store("http://prefect-new/api", 1.0)
    assert list(global_limit._configured) == ["http://prefect-new/api"]
    global_limit.forget_schedule_limit()


def _unreachable(self: Any) -> Any:
    from prefect_nextcloud.client.errors import NextcloudConnectionError

    raise NextcloudConnectionError("unreachable in this test")
