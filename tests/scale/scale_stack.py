"""Start and stop what a production-like Prefect setup runs: PostgreSQL, the server, workers.

Used by ``test_postgres_workers.py`` (run by ``python3 dev.py scale``). Everything is started
as a child process of the test, on free loopback ports, in a temporary directory; every log
ends up in ``.artifacts/scale/``, and :meth:`ScaleStack.close` stops it all, the PostgreSQL
cluster included, whatever happened before.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Self

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "scale"
VENV_BIN = Path(sys.executable).parent
DATABASE = "prefect"
DATABASE_USER = "prefect"
# PostgreSQL refuses to run as root: as root, the cluster runs as this user (Debian's package
# creates it).
POSTGRES_SYSTEM_USER = "postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs; installs the package when missing."""

    def found() -> list[str]:
        return sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))

    if not found():
        if os.geteuid() != 0:
            sys.exit("PostgreSQL is not installed: run `sudo apt-get install -y postgresql`.")
        print("Installing Debian's postgresql package ...", flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
        if subprocess.run(install, env=environment, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], env=environment, check=True)
            subprocess.run(install, env=environment, check=True)
    # The newest major version, when several are installed.
    return Path(max(found(), key=lambda path: int(Path(path).parts[-3]))).parent


class ScaleStack:
    """PostgreSQL, a Prefect server on it and process workers, each a child process.

    Use it as a context manager; :attr:`api_url` is the Prefect API, :attr:`environment` the
    variables a Prefect client (or worker) needs to use it.
    """

    def __init__(self, *, server_settings: Mapping[str, str] | None = None) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="prefect-nextcloud-scale-"))
        self.pg_data = self.tmp / "pgdata"
        self.pg_log = self.tmp / "postgresql.log"
        self.pg_port = free_port()
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}/api"
        self.database_url = (
            f"postgresql+asyncpg://{DATABASE_USER}@127.0.0.1:{self.pg_port}/{DATABASE}"
        )
        self.server_settings = dict(server_settings or {})
        self.environment = {
            **os.environ,
            "PREFECT_HOME": str(self.tmp / "prefect-home"),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._pg_started = False
        self._as_user: list[str] = []
        self._previous_sigterm: Any = signal.SIG_DFL
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(POSTGRES_SYSTEM_USER)
            except KeyError:
                sys.exit(f"Running as root needs a {POSTGRES_SYSTEM_USER!r} user for PostgreSQL.")
            self._as_user = ["runuser", "-u", POSTGRES_SYSTEM_USER, "--"]
            shutil.chown(self.tmp, user=POSTGRES_SYSTEM_USER)

    def __enter__(self) -> Self:
        # A SIGTERM (a CI job's timeout, `kill`) ends the test through close() too: the children
        # run in sessions of their own, so nothing else would stop them.
        self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self.start_postgres()
            self.start_server()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- PostgreSQL --------------------------------------------------------------------------

    def _pg(self, program: str, *arguments: str) -> None:
        command = [*self._as_user, str(postgres_bin() / program), *arguments]
        subprocess.run(command, check=True, capture_output=True, cwd=self.tmp)

    def start_postgres(self) -> None:
        """An unprivileged cluster in the temporary directory, on a free port, trusting loopback."""
        started = time.monotonic()
        self._pg(
            "initdb", "-D", str(self.pg_data), "-U", DATABASE_USER, "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.tmp} "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        self._pg_started = True
        self._pg("pg_ctl", "-D", str(self.pg_data), "-l", str(self.pg_log), "-o", options,
                 "-w", "-t", "60", "start")  # fmt: skip
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", DATABASE_USER,
                 DATABASE)  # fmt: skip
        print(f"PostgreSQL on port {self.pg_port} ({time.monotonic() - started:.1f} s)", flush=True)

    def database_connections(self) -> int | None:
        """How many connections the Prefect database has open right now."""
        query = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{DATABASE}'"
        command = [
            str(postgres_bin().parent / "bin" / "psql"), "-h", "127.0.0.1", "-p",
            str(self.pg_port), "-U", DATABASE_USER, "-d", DATABASE, "-tAc", query,
        ]  # fmt: skip
        if not Path(command[0]).exists():
            command[0] = shutil.which("psql") or "psql"
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=True)
            return int(done.stdout.strip())
        except (subprocess.SubprocessError, ValueError, OSError):
            return None

    # -- Prefect -----------------------------------------------------------------------------

    def spawn(self, name: str, command: list[str], environment: Mapping[str, str]) -> None:
        """Start a child process with its output in ``.artifacts/scale/{name}.log``."""
        log = (ARTIFACTS / f"{name}.log").open("wb")
        self._logs[name] = log
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(environment),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_server(self, timeout: float = 180.0) -> None:
        """``prefect server start`` on the cluster; waits until ``/api/health`` answers."""
        started = time.monotonic()
        environment = {
            **self.environment,
            "PREFECT_API_DATABASE_CONNECTION_URL": self.database_url,
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            **self.server_settings,
        }
        self.spawn(
            "prefect-server",
            [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
             "--port", str(self.api_port), "--no-ui", "--analytics-off"],
            environment,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["prefect-server"].poll() is not None:
                raise RuntimeError(
                    "the Prefect server exited; see .artifacts/scale/prefect-server.log"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.api_url}/health", timeout=5) as answer,
            ):
                if answer.status == 200:
                    took = time.monotonic() - started
                    print(f"Prefect server at {self.api_url} ({took:.1f} s)", flush=True)
                    return
            time.sleep(0.5)
        raise RuntimeError(f"the Prefect server did not answer within {timeout:g} s")

    def prefect(self, *arguments: str) -> str:
        """Run a ``prefect`` CLI command against the server; returns its output."""
        done = subprocess.run(
            [str(VENV_BIN / "prefect"), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start_worker(self, name: str, pool: str, *, limit: int, extra: Mapping[str, str]) -> None:
        """A process worker named ``name`` on ``pool``, running at most ``limit`` flow runs."""
        self.spawn(
            name,
            [str(VENV_BIN / "prefect"), "worker", "start", "--pool", pool, "--type", "process",
             "--name", name, "--limit", str(limit), "--install-policy", "never"],
            {**self.environment, **extra},
        )  # fmt: skip

    def worker_log(self, name: str) -> str:
        """What a worker (or the server) has written so far."""
        return (ARTIFACTS / f"{name}.log").read_text(errors="replace")

    # -- the end -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop workers, then the server, then PostgreSQL; keep the logs; remove the rest."""
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 15)  # the worker's flow-run processes too
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, 9)
                    process.wait(timeout=10)
        for log in self._logs.values():
            log.close()
        if self._pg_started:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "fast", "-w", "-t", "60", "stop")
            self._pg_started = False
        if self.pg_log.exists():
            shutil.copyfile(self.pg_log, ARTIFACTS / "postgresql.log")
        shutil.rmtree(self.tmp, ignore_errors=True)
        signal.signal(signal.SIGTERM, self._previous_sigterm)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")
