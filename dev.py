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
    package   Build the sdist and the wheel into dist/, check them with twine, and try the wheel
              in a fresh environment: import, block registration, the command, a sandbox task.
    docs      Build the documentation site into site/, every warning an error (``--serve`` to
              preview it at http://127.0.0.1:8000 while editing).
    setup     Only create or refresh the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
# nc_py_api's niquests brings urllib3-future, which overwrites urllib3 and so cannot share .venv.
CLIENTS = ROOT / ".venv-clients"
BIN = "Scripts" if os.name == "nt" else "bin"
UV_VERSION = "0.13.9"
# `dev.py test` should take at most this long on two cores; CI's log shows how long it took.
TEST_BUDGET_MINUTES = 6
# pytest's JUnit report of the last `dev.py test`, where the summary line takes its counts.
TEST_REPORT = ROOT / ".artifacts" / "tests" / "report.xml"
DIST = ROOT / "dist"
PACKAGE_SMOKE = ROOT / "tests" / "package_smoke.py"


def run(
    *command: str | Path, check: bool = True, cwd: Path = ROOT, env: Mapping[str, str] | None = None
) -> int:
    """Run a command (in the repository root unless told) and return its exit code."""
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, check=check).returncode


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
    """Lint, check formatting and types, then run the test suite and weigh its time."""
    started = time.monotonic()
    steps = [
        ("ruff check", lambda: run(tool("ruff"), "check", ".", check=False)),
        ("ruff format --check", lambda: run(tool("ruff"), "format", "--check", ".", check=False)),
        ("mypy", typecheck),
        ("pytest", lambda: suite(pytest_args, started)),
    ]
    return run_steps(steps)


def run_steps(steps: list[tuple[str, Callable[[], int]]]) -> int:
    """Run named steps in order, stopping at the first that fails; return its exit code."""
    for name, step in steps:
        print(f"== {name}", flush=True)
        if code := step():
            print(f"{name} failed (exit code {code}).", file=sys.stderr)
            return code
    return 0


def suite(pytest_args: list[str], started: float) -> int:
    """Run pytest, then say what it counted and how long all checks since ``started`` took."""
    TEST_REPORT.unlink(missing_ok=True)  # no counts of an earlier run
    suite_started = time.monotonic()
    code = run(tool("pytest"), "--durations=15", f"--junitxml={TEST_REPORT}", *pytest_args,
               check=False)  # fmt: skip
    now = time.monotonic()
    print(f"tests: {outcomes(TEST_REPORT)} in {minutes(now - suite_started)} (lint, types and "
          f"tests {minutes(now - started)}; budget {TEST_BUDGET_MINUTES} min)", flush=True)  # fmt: skip
    if now - started > TEST_BUDGET_MINUTES * 60:
        print(f"WARNING: dev.py test took longer than its budget of {TEST_BUDGET_MINUTES} min. "
              "Unless the machine was busy, see what grew among the slowest durations above "
              "and make it faster.", flush=True)  # fmt: skip
    return code


def outcomes(report: Path) -> str:
    """What pytest's JUnit report counts, as ``1359 passed, 1 skipped``."""
    if not report.exists():
        return "no report"
    counts = dict.fromkeys(("passed", "failed", "skipped", "xfailed"), 0)
    for case in ElementTree.parse(report).iter("testcase"):  # noqa: S314 (pytest's own file)
        found = {child.tag: child.get("type") for child in case}
        if "failure" in found or "error" in found:
            counts["failed"] += 1
        elif "skipped" in found:
            counts["xfailed" if found["skipped"] == "pytest.xfail" else "skipped"] += 1
        else:
            counts["passed"] += 1
    return ", ".join(f"{number} {name}" for name, number in counts.items() if number) or "none run"


def minutes(seconds: float) -> str:
    """A duration as ``4 min 12 s``, or ``12 s`` under a minute."""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


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


def package(args: list[str]) -> int:
    """Build the sdist and the wheel, check their metadata, and try the wheel where it is alone."""
    shutil.rmtree(DIST, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="prefect-nextcloud-package-") as scratch:
        fresh = Path(scratch)
        steps: list[tuple[str, Callable[[], int]]] = [
            ("python -m build", lambda: build(args)),
            ("twine check", lambda: run(tool("twine"), "check", "--strict", *DIST.iterdir(), check=False)),
            ("fresh environment with only the wheel", lambda: install_wheel(fresh)),
            ("prefect-nextcloud --help", lambda: run(fresh_tool(fresh, "prefect-nextcloud"), "--help", cwd=fresh, check=False)),
            ("prefect block register -m prefect_nextcloud", lambda: register_block(fresh)),
            ("import and a sandbox round trip", lambda: run(fresh_tool(fresh, "python"), "-I", PACKAGE_SMOKE, ROOT, cwd=fresh, check=False)),
        ]  # fmt: skip
        return run_steps(steps)


def build(args: list[str]) -> int:
    """Build the sdist, then the wheel from it, into dist/ (extra args go to ``python -m build``)."""
    # build's uv installer makes the isolated build environment in about a second, pip's in 7.
    environment = {**os.environ, "PATH": os.pathsep.join((str(TOOLS / BIN), os.environ["PATH"]))}
    return run(tool("python"), "-m", "build", "--installer", "uv", "--outdir", DIST, *args, ROOT,
               env=environment, check=False)  # fmt: skip


def fresh_tool(folder: Path, name: str) -> Path:
    """The path of a command in the fresh environment that ``install_wheel`` makes in ``folder``."""
    return folder / "venv" / BIN / name


def install_wheel(folder: Path) -> int:
    """Make a fresh environment with only the wheel and its dependencies, at uv.lock's versions."""
    uv = TOOLS / BIN / "uv"
    [wheel] = DIST.glob("*.whl")
    constraints = folder / "constraints.txt"
    # The lock's versions conflict with one pin of Prefect's that pyproject.toml overrides.
    overrides = folder / "overrides.txt"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides.write_text("\n".join(pyproject["tool"]["uv"]["override-dependencies"]) + "\n")
    return (
        run(uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet",
            "--output-file", constraints, check=False)
        or run(uv, "venv", "--quiet", "--python", sys.executable, folder / "venv", check=False)
        or run(uv, "pip", "install", "--quiet", "--python", fresh_tool(folder, "python"),
               "--constraint", constraints, "--override", overrides, wheel, check=False)
    )  # fmt: skip


def register_block(folder: Path) -> int:
    """Register the block type with the fresh environment's Prefect, on a temporary server."""
    environment = {
        **{name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"},
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # Prefect's temporary server gets 20 s to start; a busy 2-core machine can take longer.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    command = [fresh_tool(folder, "prefect"), "block", "register", "-m", "prefect_nextcloud"]
    result = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True,
                            check=False)  # fmt: skip
    print(result.stdout + result.stderr, end="")
    if result.returncode == 0 and "Nextcloud Credentials" not in result.stdout:
        print("The block type 'Nextcloud Credentials' was not registered.", file=sys.stderr)
        return 1
    return result.returncode


def docs(args: list[str]) -> int:
    """Build the documentation site with every warning an error, or serve it with ``--serve``."""
    # Material prints a notice of its end of maintenance on every build; the README mentions it.
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if args[:1] == ["--serve"]:
        return run(tool("mkdocs"), "serve", *args[1:], env=environment, check=False)
    return run(tool("mkdocs"), "build", "--strict", *args, env=environment, check=False)


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
    "package": package,
    "docs": docs,
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
