"""Fixtures: one two-user sandbox per test module, reset after each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import client_for

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for
from prefect_nextcloud.sandbox.taskprocessing.tasktypes import CORE_TASK_TYPES


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[NextcloudSandbox]:
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, rate_limit=10_000) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def admin_sandbox() -> Iterator[NextcloudSandbox]:
    """A sandbox of its own for the module: Alice is a user, Bob an admin."""
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, admins=["bob"]) as sandbox:
        yield sandbox


@pytest.fixture
def sb(module_sandbox: NextcloudSandbox) -> Iterator[NextcloudSandbox]:
    yield module_sandbox
    module_sandbox.resume_processing()
    module_sandbox.clear_faults()
    module_sandbox.clear_chaos()
    for task_type in CORE_TASK_TYPES:
        module_sandbox.set_failing(task_type.id, failing=False)


@pytest.fixture
def alice(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    with client_for(sb, "alice") as client:
        yield client


@pytest.fixture
def bob(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    with client_for(sb, "bob") as client:
        yield client


@pytest.fixture
def dav(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    """Alice's WebDAV client at the server root: paths start with ``/remote.php/``.

    Modules that want another root define their own ``dav``.
    """
    with httpx.Client(
        base_url=sb.base_url, auth=("alice", sb.app_password_of("alice")), timeout=5
    ) as client:
        yield client
