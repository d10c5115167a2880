#!/usr/bin/env python3
"""Set up the project and run it: ``python3 dev.py demo`` or ``python3 dev.py test``.

Needs only Python 3.11+ with pip. The first run creates ``.tools/`` (a virtual environment
holding uv), ``.venv/`` (the project and its locked dependencies, from ``uv.lock``) and
``.venv-clients/`` (third-party Nextcloud clients the tests run against the sandbox). The project
is installed editable: an edit is what runs next, with no reinstall.

Commands:
    demo      Run the image-analysis flow against a local Nextcloud sandbox.
    test      Lint, format check, type check, then the whole test suite (extra args go to pytest).
    e2e       The end-to-end tests (tests/e2e): a real Prefect server, worker and sandbox run
              deployment.yaml's deployments, and Chromium starts a run from the Prefect UI
              (2-5 min; logs and screenshots in .artifacts/e2e/; extra args go to pytest).
    sandbox   Run the sandbox in the foreground (``--port N`` to choose the port).
    bench     Measure a plain polling loop and this project without and with push, side by
              side, on the sandbox (~5 min; extra args: workload names).
    scale     Scale-out test: PostgreSQL, a Prefect server on it, two process workers and 10
              image-report runs against one Nextcloud user (~5 min; logs in .artifacts/scale/).
    setup     Only create or refresh the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
# nc_py_api's niquests brings urllib3-future, which overwrites urllib3 and so cannot share .venv.
CLIENTS = ROOT / ".venv-clients"
BIN = "Scripts" if os.name == "nt" else "bin"
UV_VERSION = "0.13.9"


def run(*command: str | Path, check: bool = True) -> int:
    """Run a command in the repository root and return its exit code."""
    return subprocess.run([str(part) for part in command], cwd=ROOT, check=check).returncode


def tool(name: str) -> Path:
    """The path of a command installed in the project environment."""
    return VENV / BIN / name


def setup() -> None:
    """Create the tool and project environments, or bring them up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"prefect-nextcloud needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    uv = TOOLS / BIN / "uv"
    if not uv.exists():
        print("Setting up uv in .tools/ (first run only) ...", flush=True)
        venv.create(TOOLS, with_pip=True, clear=True)
        run(TOOLS / BIN / "python", "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")
    print("Installing prefect-nextcloud and its locked dependencies into .venv/ ...", flush=True)
    os.environ["UV_PROJECT_ENVIRONMENT"] = str(VENV)
    run(uv, "sync", "--locked", "--python", sys.executable, "--quiet")
    os.environ["UV_PROJECT_ENVIRONMENT"] = str(CLIENTS)
    run(uv, "sync", "--locked", "--only-group", "nc-py-api", "--no-install-project",
        "--python", sys.executable, "--quiet")  # fmt: skip
    os.environ["UV_PROJECT_ENVIRONMENT"] = str(VENV)


def typecheck() -> int:
    """Run mypy on the package and the project's entrypoint folders (see pyproject.toml)."""
    return run(tool("mypy"), check=False)


def test(pytest_args: list[str]) -> int:
    """Lint, check formatting and types, then run the test suite."""
    steps = [
        ("ruff check", lambda: run(tool("ruff"), "check", ".", check=False)),
        ("ruff format --check", lambda: run(tool("ruff"), "format", "--check", ".", check=False)),
        ("mypy", typecheck),
        ("pytest", lambda: run(tool("pytest"), *pytest_args, check=False)),
    ]
    for name, step in steps:
        print(f"== {name}", flush=True)
        if code := step():
            print(f"{name} failed (exit code {code}).", file=sys.stderr)
            return code
    return 0


def e2e(pytest_args: list[str]) -> int:
    """Run the end-to-end tests, one at a time: they share one stack of real processes."""
    return run(tool("pytest"), "tests/e2e", "-m", "e2e", "-n", "0", "--timeout", "900",
               *pytest_args, check=False)  # fmt: skip


def scale(pytest_args: list[str]) -> int:
    """Run the scale-out test on PostgreSQL (left out of a plain pytest run by its marker)."""
    return run(tool("pytest"), "tests/scale", "-m", "scale", "-n", "0", "-s", "--timeout", "900",
               *pytest_args, check=False)  # fmt: skip


def bench(args: list[str]) -> int:
    """Run the benchmark (benchmarks/bench.py): all workloads, or those named."""
    return run(tool("python"), ROOT / "benchmarks" / "bench.py", *args, check=False)


def cli(command: str) -> Callable[[list[str]], int]:
    """A command of the package's own command line (``prefect-nextcloud demo|sandbox``)."""
    return lambda args: run(tool("prefect-nextcloud"), command, *args, check=False)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "demo": cli("demo"),
    "test": test,
    "e2e": e2e,
    "scale": scale,
    "sandbox": cli("sandbox"),
    "bench": bench,
    "setup": lambda args: 0,
}


def main(argv: list[str]) -> int:
    """Dispatch the command line."""
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    setup()
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
