"""Per-run bookkeeping stays bounded in a long-lived process, and ends with the run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.tasks import batch, idempotency, waiting
from prefect_nextcloud.tasks.options import RunOptions

CREDENTIALS = NextcloudCredentials(
    base_url="https://cloud.example.com", user_id="alice", app_password="secret-app-password"
)


def _in_flow_run(monkeypatch: pytest.MonkeyPatch) -> Any:
    run = SimpleNamespace(id=uuid4(), run_count=1)
    context = SimpleNamespace(flow_run=run, parameters={})
    monkeypatch.setattr(idempotency.FlowRunContext, "get", classmethod(lambda cls: context))
    return run


def test_many_runs_in_one_process_keep_a_bounded_record(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(1000):
        _in_flow_run(monkeypatch)
        idempotency.derive_custom_id("core:text2text", {"input": "Hi"})
        idempotency.remember_scheduled(CREDENTIALS, "pfnc-app")
    assert len(idempotency._used) <= 256
    assert len(idempotency._counts) <= 256 * 16
    for _ in range(1000):
        key = uuid4()
        batch._remember(key, batch._start("core:text2text", [{"input": "x"}], None, None, None))
        waiting._watch(key)
    assert len(batch._batches) <= 256
    assert len(waiting._watches) <= 256


def test_the_cleanup_hook_releases_the_runs_record(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _in_flow_run(monkeypatch)
    idempotency.remember_scheduled(CREDENTIALS, "pfnc-app")
    assert run.id in idempotency._used
    flow_run = SimpleNamespace(id=run.id, parameters={}, flow_id=uuid4())
    monkeypatch.setattr(NextcloudCredentials, "get_client", _unreachable)
    idempotency.cancel_outstanding_tasks(None, flow_run, None)  # type: ignore[arg-type]
    assert run.id not in idempotency._used


def _unreachable(self: Any) -> Any:
    from prefect_nextcloud.client.errors import NextcloudConnectionError

    raise NextcloudConnectionError("unreachable in this test")


def test_run_options_refuse_infinite_waits() -> None:
    with pytest.raises(ValueError, match="finite"):
        RunOptions(timeout_seconds=float("inf")).check()
