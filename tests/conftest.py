"""Shared fixtures: one Prefect test server per session, and a fresh sandbox per test."""

from __future__ import annotations

import logging
import os

# Before Prefect is imported: no telemetry, and no warnings about task calls outside flows.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
# The test server stores events every half second (Prefect's default is 5 s): tests that read
# events back wait that long.
os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL", "0.5")

from collections.abc import Iterator

import pytest
from faces import BothFaces
from prefect.testing.utilities import prefect_test_harness

from prefect_nextcloud._compat import PREFECT_TASK_RUN_LOGGER
from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.client.pacing import SchedulePacer
from prefect_nextcloud.client.plans import ServerMemory
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks.global_limit import forget_schedule_limit

USERS = {"alice": "Xq7Lm-P2vRt-9KcWd-Hn4Zs-Bf8Jy", "bob": "Tg5Nw-Y3pKe-7RmVa-Qc2Ls-Dh6Ux"}


MAX_LINE = 1000
MAX_REPORT_LINES = 400


def _bounded(text: str) -> str:
    """A failure report cut to lines of at most MAX_LINE characters, MAX_REPORT_LINES lines."""
    lines = [
        line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}… ({len(line):,} characters)"
        for line in text.splitlines()
    ]
    if len(lines) > MAX_REPORT_LINES:
        cut = len(lines) - MAX_REPORT_LINES
        lines = [
            *lines[: MAX_REPORT_LINES // 2],
            f"… ({cut} lines cut)",
            *lines[-MAX_REPORT_LINES // 2 :],
        ]
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep failure output readable: a failing example of megabytes prints as a few lines."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and report.longrepr is not None:
        report.longrepr = _bounded(str(report.longrepr))
        report.sections = [(title, _bounded(content)) for title, content in report.sections]


class _Records(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def task_run_records() -> Iterator[list[logging.LogRecord]]:
    """Every record of Prefect's task-run logger, at DEBUG and up, while the test runs."""
    logger = logging.getLogger(PREFECT_TASK_RUN_LOGGER)
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect API server (about 10 s to start), shared by the whole session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def _forget_servers() -> Iterator[None]:
    """Sandboxes reuse ports, so no test may see what a client learned about an earlier one."""
    ServerMemory.forget_all()
    SchedulePacer.forget_all()
    forget_schedule_limit()
    yield
    ServerMemory.forget_all()
    SchedulePacer.forget_all()


@pytest.fixture
def sandbox() -> Iterator[NextcloudSandbox]:
    """A fresh sandbox with two users, processing tasks without delay."""
    with NextcloudSandbox(users=USERS) as sb:
        yield sb


@pytest.fixture
def credentials(sandbox: NextcloudSandbox) -> NextcloudCredentials:
    """Credentials of the sandbox's first user."""
    return sandbox.credentials


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, credentials: NextcloudCredentials) -> BothFaces:
    """A client call through the sync face, then the async one."""
    return BothFaces(credentials, request.param)
