"""The relay served on a loopback port, and the events it leaves in the Prefect test server."""

from __future__ import annotations

import contextvars
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventResourceFilter
from prefect.events.schemas.events import Event
from pydantic import SecretStr

from prefect_nextcloud.blocks import NextcloudCredentials
from prefect_nextcloud.client.models import Task
from prefect_nextcloud.relay import (
    RelayConfig,
    create_relay_app,
    listener_registration_commands,
    relay_server,
)
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks.events import ENDED_STATUSES, task_resource_id

# Distinctive, so that a leak anywhere is found by searching for it.
SECRET = "RelaySecret-Zq8vW3xK-do-not-leak-7Hn2Lp5Rt9Yc"
APP_ID = "relay-tests"
# The server stores events in batches (tests/conftest.py makes them frequent): wait within this.
STORED_WITHIN_SECONDS = 30.0


class RunningRelay:
    """The relay's application, served by uvicorn as ``prefect-nextcloud relay`` serves it.

    The listening socket is bound and listening before the server's thread starts, so requests
    can be sent at once: they wait in the backlog until uvicorn accepts them. The thread runs in
    a copy of the current context, so it sees the Prefect test server's settings.
    """

    def __init__(self, config: RelayConfig) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(1024)
        port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._server = relay_server(create_relay_app(config), host="127.0.0.1", port=port)
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run,
            args=(self._server.run,),
            kwargs={"sockets": [self._socket]},
            name="relay",
            daemon=True,
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def relay_config(sandbox: NextcloudSandbox, public_url: str | None = None) -> RelayConfig:
    return RelayConfig(server_url=sandbox.base_url, secret=SecretStr(SECRET), public_url=public_url)


def with_relay(credentials: NextcloudCredentials, relay_url: str) -> NextcloudCredentials:
    """The credentials, with the relay's address and secret as a flow's block would hold them."""
    return credentials.model_copy(
        update={"relay_url": relay_url, "relay_secret": SecretStr(SECRET)}
    )


def push_on_end(
    credentials: NextcloudCredentials, custom_id: str, task_input: str = "hello"
) -> Task:
    """Schedule a task that Nextcloud pushes to the relay when it ends."""
    uri = credentials.task_webhook_uri(credentials.user_id, APP_ID, custom_id)
    with credentials.get_client() as client:
        return client.schedule_task(
            "core:text2text",
            {"input": task_input},
            app_id=APP_ID,
            custom_id=custom_id,
            webhook_uri=uri,
            webhook_method="HTTP:POST",
        )


def webhook_body(task: Task) -> bytes:
    """The body Nextcloud sends to a task's webhook: ``{"task": <the task's JSON>}``."""
    task_json = task.model_dump(mode="json", by_alias=True, exclude={"output_files"})
    return json.dumps({"task": task_json}).encode()


def stored_events(prefix: str, until: Callable[[Event], bool]) -> list[Event]:
    """The stored events of resources whose id starts with ``prefix``, oldest first, once one of
    them satisfies ``until``.

    Push last what a test waits for: the relay emits in the order pushes arrive, and the server
    stores in that order, so the events before it are stored by then. The wait is bounded: the
    server persists events in batches, which no client call can await.
    """
    # Not EventsWorker.drain_all(): it stops the worker, and a push the relay emits meanwhile
    # would find it stopped. The worker sends each event as soon as it has it.
    resource = EventResourceFilter(id_prefix=[prefix])
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            # A new filter each time: its time window ends when it is made.
            query = EventFilter(resource=resource)
            events = client.read_events(filter=query, limit=50).events
            if any(until(event) for event in events) or time.monotonic() > deadline:
                return sorted(events, key=lambda event: event.occurred)
            time.sleep(0.2)  # the next look at the store, not a synchronisation


def task_events_until(sandbox: NextcloudSandbox, task: Task) -> list[Event]:
    """The sandbox's stored task events, once the end of ``task`` is among them."""
    prefix = task_resource_id(sandbox.base_url, task.id).removesuffix(str(task.id))
    return stored_events(
        prefix,
        lambda event: (
            event.payload.get("task_id") == task.id
            and event.event.rsplit(".", 1)[1] in ENDED_STATUSES.values()
        ),
    )


def register_listeners(sandbox: NextcloudSandbox, config: RelayConfig) -> None:
    """Run the printed registration calls (curl, in bash) as the sandbox's admin."""
    commands = listener_registration_commands(config)
    environment = {
        **os.environ,
        "NEXTCLOUD_ADMIN_USER": sandbox.user_id,
        "NEXTCLOUD_ADMIN_PASSWORD": sandbox.app_password,
    }
    done = subprocess.run(
        ["bash", "-c", f"set -e\n{commands}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.replace("}{", "}\n{").splitlines()]
    assert [answer["ocs"]["meta"]["statuscode"] for answer in answers] == [200, 200, 200]
