"""The parent's running parts: a Prefect server, a sandbox per workload, the relay, children."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness
from workloads import SEED, Workload

from prefect_nextcloud.sandbox import NextcloudSandbox

HERE = Path(__file__).resolve().parent
SERVER_STARTUP_SECONDS = 180
RELAY_STARTUP_SECONDS = 60.0


@contextmanager
def prefect_server() -> Iterator[str]:
    """A temporary Prefect server (its own SQLite database) for every child; yields its API URL."""
    with prefect_test_harness(server_startup_timeout=SERVER_STARTUP_SECONDS):
        yield str(PREFECT_API_URL.value())


def sandbox_for(workload: Workload, number: int) -> NextcloudSandbox:
    """The workload's sandbox, on a loopback address of its own.

    Prefect drops an event whose id it has seen, and task events' ids derive from the server's
    host, port and task id: a host per workload keeps them apart on the one Prefect server.
    """
    return NextcloudSandbox(
        host=f"127.0.0.{10 + number}",
        run_seconds=workload.run_seconds,
        workers=workload.workers,
        rate_limit=workload.rate_limit,
        rate_limit_period_seconds=workload.window_seconds,
        seed=SEED,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def relay(server_url: str, environment: Mapping[str, str], log: Path) -> Iterator[str]:
    """``prefect-nextcloud relay`` for the server, in a process of its own; yields its URL.

    Args:
        server_url: The Nextcloud server whose pushes it takes.
        environment: Holds the Prefect API URL and ``NEXTCLOUD_RELAY_SECRET``.
        log: Where its output goes.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "prefect-nextcloud"), "relay", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - the project's own command
            command,
            env={**environment, "NEXTCLOUD_URL": server_url},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_listening(url, process, log)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + RELAY_STARTUP_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)  # any answer (a 404) means it serves
        except httpx.TransportError:
            time.sleep(0.1)  # the next look at the port
        else:
            return
    ended = "" if process.poll() is None else f" (it exited with code {process.returncode})"
    sys.exit(
        f"The relay did not answer on {url} within {RELAY_STARTUP_SECONDS:g} s{ended}; its "
        f"output:\n{log.read_text()}"
    )


def run_child(spec: Mapping[str, Any], environment: Mapping[str, str]) -> dict[str, Any]:
    """Run ``child.py`` with this spec; return the figures it prints."""
    completed = subprocess.run(  # noqa: S603 - this benchmark's own script
        [sys.executable, str(HERE / "child.py")],
        env={**environment, "BENCH_SPEC": json.dumps(spec)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(
            f"{spec['workload']} / {spec['implementation']} failed (exit code "
            f"{completed.returncode}):\n{completed.stderr[-6000:]}"
        )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def child_environment(api_url: str, relay_secret: str) -> dict[str, str]:
    """The children's and the relay's environment: the Prefect server and the relay secret."""
    return {**os.environ, "PREFECT_API_URL": api_url, "NEXTCLOUD_RELAY_SECRET": relay_secret}
