"""Fixtures: a sandbox on a loopback address of the test's own, and the relay for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from relay_helpers import RunningRelay, relay_config, with_relay

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for


@pytest.fixture
def test_host(request: pytest.FixtureRequest) -> str:
    """A loopback address of the test's own, 127.x.y.z derived from its name.

    Event ids derive from the resource (host, port, task or file id) and Prefect drops an id it
    has seen, so no two tests may share a host and port: every sandbox counts ids from 1.
    """
    digest = hashlib.sha256(request.node.nodeid.encode()).digest()
    return f"127.{digest[0]}.{digest[1]}.{max(digest[2], 2)}"


@pytest.fixture
def sandbox(test_host: str) -> Iterator[NextcloudSandbox]:
    """A fresh sandbox with two users, alice (the admin) and bob, on the test's own host."""
    users = {user: app_password_for(user) for user in ("alice", "bob")}
    with NextcloudSandbox(host=test_host, users=users) as running:
        yield running


@pytest.fixture
def relay(sandbox: NextcloudSandbox) -> Iterator[RunningRelay]:
    """The relay for the sandbox, sending events to the Prefect test server."""
    with RunningRelay(relay_config(sandbox)) as running:
        yield running


@pytest.fixture
def relay_credentials(sandbox: NextcloudSandbox, relay: RunningRelay) -> NextcloudCredentials:
    """The sandbox's first user, with the relay's address and secret."""
    return with_relay(sandbox.credentials, relay.url)
