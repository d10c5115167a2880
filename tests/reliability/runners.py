"""A Prefect runner serving a script's flows in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

SERVING = "polling for scheduled runs"
"""What Prefect's ``serve()`` prints, and the served scripts too, once they serve."""


@contextmanager
def served(script: Path) -> Iterator[list[str]]:
    """Run ``script`` against the test's Prefect server until it serves; yield its output.

    The output is read to the end in a thread, so that neither the runner nor its flow runs
    ever block on a full pipe; the list grows as the runner writes.
    """
    environment = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=script.parent,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    serving = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if SERVING in line:
                serving.set()
        serving.set()  # the runner exited: stop waiting

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        serving.wait(timeout=120)
        if process.poll() is not None or not serving.is_set():
            pytest.fail(f"{script.name} did not start serving:\n" + "".join(output[-40:]))
        yield output
    finally:
        process.terminate()  # the runner stops gracefully, unless it takes too long
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        reader.join(timeout=10)
