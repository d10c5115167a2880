"""``prefect-nextcloud relay``: the command serves the relay, and says what is missing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import SecretStr
from relay_helpers import SECRET, push_on_end, task_events_until, with_relay

from prefect_nextcloud import cli
from prefect_nextcloud.client.webhooks import TASK_WEBHOOK_PATH
from prefect_nextcloud.relay import file_events_token
from prefect_nextcloud.sandbox import NextcloudSandbox

STARTUP_SECONDS = 60.0


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def relay_process(
    sandbox: NextcloudSandbox, test_host: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The command, run as a user runs it, with the relay settings in its environment."""
    port = free_port(test_host)
    environment = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEXTCLOUD_URL": sandbox.base_url,
        "NEXTCLOUD_RELAY_SECRET": SECRET,
    }
    command = [
        sys.executable,
        "-m",
        "prefect_nextcloud.cli",
        "relay",
        "--host",
        test_host,
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield process, f"http://{test_host}:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_until_listening(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(url + "/")
        except httpx.TransportError:
            time.sleep(0.1)  # the next try to connect, not a synchronisation
        else:
            return
    raise AssertionError(f"the relay did not start: {process.communicate()}")


@pytest.mark.usefixtures("prefect_server")
def test_the_command_relays_until_interrupted_and_logs_no_secret(
    sandbox: NextcloudSandbox, relay_process: tuple[subprocess.Popen[str], str]
) -> None:
    process, url = relay_process
    wait_until_listening(url, process)
    forged = httpx.post(url + TASK_WEBHOOK_PATH + "0" * 64, content=b'{"task": {}}')
    task = push_on_end(with_relay(sandbox.credentials, url), "job-1")
    [event] = task_events_until(sandbox, task)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)

    assert forged.status_code == 400
    assert event.event == "nextcloud.task.succeeded"
    assert process.returncode == 0
    assert "Emitted nextcloud.task.succeeded" in err
    for secret in (SECRET, file_events_token(SECRET)):
        assert secret not in out + err
    assert TASK_WEBHOOK_PATH + "0" not in out + err
    uri = with_relay(sandbox.credentials, url).task_webhook_uri("alice", "relay-tests", "job-1")
    assert uri is not None
    assert uri.rsplit("/", 1)[1] not in out + err


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["relay", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("NEXTCLOUD_URL", "NEXTCLOUD_RELAY_SECRET", "NEXTCLOUD_RELAY_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEXTCLOUD_URL", "https://cloud.example.com")
    return monkeypatch


def test_a_missing_or_short_secret_is_named_and_never_repeated(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([], capsys)
    assert code == 1
    assert "The environment has no relay secret: set NEXTCLOUD_RELAY_SECRET" in err
    environment.setenv("NEXTCLOUD_RELAY_SECRET", "Short-Secret-42")
    code, _, err = run([], capsys)
    assert code == 1
    assert "NEXTCLOUD_RELAY_SECRET is too short" in err
    assert "Short-Secret-42" not in err


def test_the_relay_needs_a_prefect_api(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("NEXTCLOUD_RELAY_SECRET", SECRET)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        code, _, err = run([], capsys)
    assert code == 1
    assert "PREFECT_API_URL is not set" in err


def test_the_registration_needs_the_relays_address(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("NEXTCLOUD_RELAY_SECRET", SECRET)
    code, _, err = run(["--listener-registration"], capsys)
    assert code == 1
    assert "set relay_url in the credentials block, or NEXTCLOUD_RELAY_URL" in err
    environment.setenv("NEXTCLOUD_RELAY_URL", "https://relay.example.com/")
    code, out, _ = run(["--listener-registration"], capsys)
    assert code == 0
    assert out.count("curl ") == 3
    assert out.count("https://relay.example.com/nextcloud/files") == 3


@pytest.mark.usefixtures("prefect_server")
def test_a_saved_block_gives_the_server_and_the_secret(
    sandbox: NextcloudSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.credentials.save("relay-without-secret", overwrite=True)
    code, _, err = run(["--credentials", "relay-without-secret", "--listener-registration"], capsys)
    assert code == 1
    assert "The credentials block 'relay-without-secret' has no relay secret" in err
    credentials = sandbox.credentials.model_copy(
        update={"relay_url": "https://relay.example.com", "relay_secret": SecretStr(SECRET)}
    )
    credentials.save("relay", overwrite=True)
    code, out, _ = run(["--credentials", "relay", "--listener-registration"], capsys)
    assert code == 0
    assert sandbox.base_url + "/ocs/v2.php/apps/webhook_listeners/api/v1/webhooks" in out
    assert file_events_token(SECRET) in out
