"""The README's "Try the sandbox" section: its commands run as printed, and match the command."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from readme_examples import README, ROOT, commands, run_script

from prefect_nextcloud import cli
from prefect_nextcloud.sandbox import DEFAULT_APP_PASSWORD, DEFAULT_USER_ID, sample_image_bytes


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_export_line_has_the_sandbox_defaults() -> None:
    section = _section("Try the sandbox")
    assert (
        f"export NEXTCLOUD_URL=http://127.0.0.1:8080 NEXTCLOUD_USER={DEFAULT_USER_ID} "
        f"NEXTCLOUD_APP_PASSWORD={DEFAULT_APP_PASSWORD}"
    ) in section


def test_the_flag_table_lists_every_sandbox_flag() -> None:
    documented = set(re.findall(r"^\| `(--[a-z-]+)", _section("Try the sandbox"), re.MULTILINE))
    parser = argparse.ArgumentParser()
    cli._add_sandbox_commands(parser)
    actual = {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert documented == actual


@pytest.fixture
def sandbox_port() -> Iterator[int]:
    """The README's sandbox command, run as printed, on a free port and with no task delay.

    The port the README names may be taken on a shared machine, and tasks of 2-30 s would make
    a slow test: the options appended to the printed command override those two.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    [start] = commands("sandbox-start")
    overrides = f" --port {port} --run-seconds 0 --pickup-delay 0"
    process = subprocess.Popen(
        ["bash", "-c", start + overrides],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    printed = []
    try:
        for line in process.stdout:  # until it serves, or ends
            printed.append(line)
            if line.startswith("Press Ctrl-C to stop."):
                break
        assert process.poll() is None, "".join(printed)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, to dev.py and the sandbox it started
        process.communicate(timeout=30)


def test_the_try_the_sandbox_session_runs_as_printed(
    sandbox_port: int, prefect_server: None, tmp_path: Path
) -> None:
    # Your pictures: three photos in ~/Pictures/holiday of a home of this test's own.
    holiday = tmp_path / "Pictures" / "holiday"
    holiday.mkdir(parents=True)
    for name in ("beach.jpg", "hill.jpg", "town.jpg"):
        (holiday / name).write_bytes(sample_image_bytes())
    # The second terminal, then a look at what the flow did, in one shell.
    session = [*commands("sandbox-session"), *commands("sandbox-views")]
    on_this_port = [line.replace("127.0.0.1:8080", f"127.0.0.1:{sandbox_port}") for line in session]
    output = run_script(on_this_port, HOME=str(tmp_path))
    # The upload put the photos into /Photos, next to the sandbox's four sample images ...
    for name in ("beach.jpg", "hill.jpg", "town.jpg"):
        assert f"/Photos/{name}" in output
    # ... the flow described all seven and wrote its report ...
    assert "image_count=7" in output
    assert "failed_count=0" in output
    assert "/Reports/image-report.md" in output
    # ... and the tasks view lists the seven analyses and the summary.
    assert output.count("core:analyze-images") == 7
    assert output.count("core:text2text:summary") == 1
