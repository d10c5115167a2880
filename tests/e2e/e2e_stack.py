"""Real processes for the end-to-end tests: a Prefect server, the sandbox and a worker.

Each process runs in its own process group with its output in a log file under
``.artifacts/e2e/``; :meth:`Stack.stop_all` ends every one of them, whatever happened.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "e2e"
BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Poll ``check`` until it returns something other than None (or falsy), or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Waited {timeout:g} s for {what}.")
        time.sleep(interval)


@dataclass
class Process:
    """One started process and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def exited(self) -> bool:
        """True once the process has ended."""
        return self.popen.poll() is not None


@dataclass
class Stack:
    """The processes of one end-to-end run, sharing a Prefect home and API URL."""

    home: Path
    logs: Path = ARTIFACTS
    prefect_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    relay_port: int = field(default_factory=free_port)
    processes: list[Process] = field(default_factory=list)

    @property
    def ui_url(self) -> str:
        """The Prefect UI, served by the same ``prefect server start``."""
        return f"http://127.0.0.1:{self.prefect_port}"

    @property
    def api_url(self) -> str:
        """The Prefect API."""
        return f"{self.ui_url}/api"

    @property
    def sandbox_url(self) -> str:
        """The Nextcloud sandbox."""
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def relay_url(self) -> str:
        """The relay, when started: the sandbox calls it on loopback."""
        return f"http://127.0.0.1:{self.relay_port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of every process: its own Prefect home, server and SQLite file."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "NEXTCLOUD_"))
        }
        environment.update(
            PREFECT_HOME=str(self.home),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
            # The cron schedules of deployment.yaml must not start runs during the test.
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
            # The worker looks for runs every 2 s instead of 10 s.
            PREFECT_WORKER_QUERY_SECONDS="2",
            PYTHONUNBUFFERED="1",
        )
        return environment

    def start(self, name: str, *command: str, cwd: Path | None = None, **extra_env: str) -> Process:
        """Start a command of the project environment in its own process group."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{name}.log"
        log = log_path.open("wb")
        popen = subprocess.Popen(
            [str(BIN / command[0]), *command[1:]],
            cwd=cwd or self.home,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, log_path, log)
        self.processes.append(process)
        return process

    def cli(self, *command: str, cwd: Path | None = None, timeout: float = 180) -> str:
        """Run a command of the project environment to its end; its output is logged too."""
        started = time.monotonic()
        result = subprocess.run(
            [str(BIN / command[0]), *command[1:]],
            cwd=cwd or ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = result.stdout + result.stderr
        with (self.logs / "commands.log").open("a") as log:
            log.write(
                f"$ {' '.join(command)}  (exit code {result.returncode}, "
                f"{time.monotonic() - started:.1f} s)\n{output}\n"
            )
        if result.returncode:
            raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{output}")
        return output

    def start_prefect_server(self) -> None:
        """``prefect server start`` on its own port, with a fresh SQLite database."""
        server = self.start(
            "prefect-server",
            "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.prefect_port),
        )  # fmt: skip

        def healthy() -> bool:
            self.check_running(server)
            try:
                return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the Prefect server to answer", healthy, timeout=180)

    def start_sandbox(self, *options: str) -> Callable[[], None]:
        """Start the sandbox CLI, saving its credentials as the ``nextcloud`` block.

        Returns:
            A function that waits until the sandbox serves and has saved the block.
        """
        sandbox = self.start(
            "sandbox",
            "prefect-nextcloud", "sandbox", "--port", str(self.sandbox_port),
            "--save-block", "nextcloud", *options,
        )  # fmt: skip

        def ready() -> bool:
            self.check_running(sandbox)
            output = sandbox.output()
            if "Could not save the Prefect block" in output:
                raise AssertionError(f"The sandbox could not save its block:\n{output}")
            return "Saved these credentials as the Prefect block 'nextcloud'" in output

        return lambda: wait_for("the sandbox to serve and save its block", ready, timeout=180)

    def start_worker(self, pool: str) -> Callable[[], None]:
        """Start ``prefect worker start`` in a temporary directory of its own, not the checkout.

        Nothing tells it where the checkout is: the deployments name their flows by module
        path, which each flow run imports from the installed package.

        Returns:
            A function that waits until the worker has started.
        """
        workdir = self.home / "worker"
        workdir.mkdir(exist_ok=True)
        worker = self.start("worker", "prefect", "worker", "start", "--pool", pool, cwd=workdir)

        def polling() -> bool:
            self.check_running(worker)
            return "started!" in worker.output()

        return lambda: wait_for("the worker to start", polling, timeout=180)

    def start_relay(self, credentials: str) -> None:
        """Start ``prefect-nextcloud relay`` on :attr:`relay_url`, reading a saved block.

        Returns once the relay answers.
        """
        relay = self.start(
            "relay", "prefect-nextcloud", "relay", "--credentials", credentials,
            "--port", str(self.relay_port),
        )  # fmt: skip

        def answering() -> bool:
            self.check_running(relay)
            try:  # the file events path takes POST only: 405 means the relay is serving
                answer = httpx.get(f"{self.relay_url}/nextcloud/files", timeout=2)
            except httpx.HTTPError:
                return False
            return answer.status_code == 405

        wait_for("the relay to answer", answering, timeout=120)

    def check_running(self, process: Process) -> None:
        """Fail at once, with its output, if a process has ended."""
        if process.exited():
            raise AssertionError(
                f"{process.name} exited with {process.popen.returncode}:\n{process.output()}"
            )

    def stop_all(self) -> None:
        """End every process (SIGTERM first, then SIGKILL), newest first.

        Not SIGINT: a shell's background job, and so everything it starts, ignores it.
        """
        for process in reversed(self.processes):
            _signal(process, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.popen.wait(timeout=10)
            _signal(process, signal.SIGKILL)  # anything the process left in its group
            process.log.close()

    def log_tails(self, lines: int = 80) -> str:
        """The last lines of every process's log, for a failure report."""
        parts = []
        for process in self.processes:
            tail = process.output().splitlines()[-lines:]
            parts.append(f"----- {process.name} ({process.log_path}) -----\n" + "\n".join(tail))
        return "\n".join(parts)


def wait_for_end(stack: Stack, flow_run_ids: list[UUID], timeout: float = 240) -> list[Any]:
    """Poll the API until every flow run is in a final state."""
    deadline = time.monotonic() + timeout
    with prefect_api(stack.api_url) as client:
        while True:
            flow_runs = [client.read_flow_run(flow_run_id) for flow_run_id in flow_run_ids]
            if all(run.state and run.state.is_final() for run in flow_runs):
                return flow_runs
            if time.monotonic() > deadline:
                states = {run.name: run.state and run.state.name for run in flow_runs}
                raise TimeoutError(f"Flow runs not finished after {timeout:g} s: {states}")
            for process in stack.processes:
                stack.check_running(process)
            time.sleep(1)


def saved_credentials(stack: Stack) -> Any:
    """The credentials block the sandbox saved as ``nextcloud``, as the deployments load it."""
    from prefect_nextcloud.blocks import NextcloudCredentials

    with prefect_api(stack.api_url):
        return NextcloudCredentials.load("nextcloud", _sync=True)


def assert_completed(flow_run: Any) -> None:
    """Fail, naming the run and its state, unless the flow run completed."""
    assert flow_run.state.is_completed(), (flow_run.name, flow_run.state)


def artifact_of(stack: Stack, flow_run: Any, key: str) -> str:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with prefect_api(stack.api_url) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
        )
    by_key = {artifact.key: artifact for artifact in artifacts}
    assert key in by_key, sorted(str(k) for k in by_key)
    return str(by_key[key].data)


def _signal(process: Process, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signum)


@contextmanager
def prefect_api(api_url: str) -> Iterator[Any]:
    """A synchronous Prefect client of the stack's server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        yield client
