"""Push gathering: the tasks of a batch that end a moment apart are read in one listing.

After the first push, the attempt keeps gathering the pushes of the tasks the server expects to
end shortly after it, so that a batch whose schedules took a while still costs one look.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect import flow

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for
from prefect_nextcloud.tasks import ItemResult, RunOptions, run_tasks

pytestmark = pytest.mark.usefixtures("prefect_server")

TEXTS = [f"Text {n}" for n in range(5)]
SCHEDULE_LATENCY_SECONDS = 0.3
"""Each schedule call's delay: four go out at once, the fifth one latency later."""


@pytest.fixture
def sandbox(test_host: str) -> Iterator[NextcloudSandbox]:
    """A sandbox whose tasks run one second each, at once, as its providers estimate."""
    users = {user: app_password_for(user) for user in ("alice", "bob")}
    with NextcloudSandbox(
        host=test_host, users=users, run_seconds=1.0, workers=len(TEXTS)
    ) as running:
        yield running


def test_tasks_ending_a_moment_apart_cost_one_listing(
    sandbox: NextcloudSandbox, relay_credentials: NextcloudCredentials
) -> None:
    sandbox.set_chaos(
        latency_seconds=SCHEDULE_LATENCY_SECONDS, path_regex="/schedule$", methods={"POST"}
    )
    # Due-time looks would come ten minutes past the expected end: only pushes end the wait.
    options = RunOptions(timeout_seconds=1200.0, poll_interval_seconds=600.0)

    @flow
    def batch() -> list[ItemResult]:
        return run_tasks(
            relay_credentials, "core:text2text", [{"input": t} for t in TEXTS], options=options
        )

    results = batch()

    assert [result.ok for result in results] == [True] * len(TEXTS)
    assert len(sandbox.requests_to("POST", "/taskprocessing/schedule$")) == len(TEXTS)
    # The fifth task ends a latency after the other four: its push is awaited, not listed apart.
    assert len(sandbox.requests_to("GET", "/tasks/app/")) == 1
