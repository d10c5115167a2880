"""The app password travels only in the Authorization header: it leaks nowhere else.

One thorough run captures everything a real deployment could expose (logs at every level,
stdout/stderr, raised errors and their pickles, results, and what the Prefect API stores) over
successful, failing, timed-out and broken runs, then searches all of it for the password.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogWorker
from prefect.states import State
from security_helpers import (
    LogCapture,
    SecretScanner,
    basic_forms,
    closed_port,
    exception_surfaces,
    get_task_error,
    reachable_texts,
)

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    AsyncNextcloudClient,
    AuthenticationError,
    NextcloudClient,
    NextcloudConnectionError,
    NextcloudError,
    NextcloudHTTPError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
)
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.flows import analyze_image
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import RunOptions, run_task, transcribe_audio

WRONG_PASSWORD = "Zz9Wr-0ngP-4ssW-0rdX-Yy7Q"
FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}
OPTIONS = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)
POLL_PATH = r"/taskprocessing/task/\d+$"
LIST_PATH = r"/taskprocessing/tasks/app/"
NO_RETRY = RetryPolicy(max_elapsed_seconds=0)
TEXT_TASK: dict[str, Any] = {"task_type": "core:text2text", "task_input": {"input": "Hi"}}


# -- flows of the scenarios: each takes the credentials block as a parameter, as users do ------


@flow(name="security-run-task")
def run_task_flow(
    credentials: NextcloudCredentials,
    task_type: str,
    task_input: dict[str, Any],
    timeout_seconds: float = 30.0,
    poll_interval_seconds: float = 0.05,
) -> Any:
    return run_task(
        credentials,
        task_type,
        task_input,
        options=RunOptions(
            timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds
        ),
    )


@flow(name="security-transcribe")
def transcribe_flow(credentials: NextcloudCredentials, audio: str) -> Any:
    return transcribe_audio(credentials, audio, options=OPTIONS)


# -- capture ------------------------------------------------------------------------------------


class _Runs:
    """Runs scenario flows and keeps what each one exposed."""

    def __init__(self) -> None:
        self.flow_run_ids: list[UUID] = []
        self.states: list[State[Any]] = []
        self.results: list[Any] = []
        self.errors: list[BaseException] = []

    def succeed(self, run: Any, **parameters: Any) -> Any:
        state = run(**parameters, return_state=True)
        self._keep(state)
        assert state.is_completed(), state.message
        result = state.result()
        self.results.append(result)
        return result

    def fail(self, run: Any, expected: type[BaseException], **parameters: Any) -> Any:
        state = run(**parameters, return_state=True)
        self._keep(state)
        assert state.is_failed(), state
        with pytest.raises(expected) as info:
            state.result()
        self.errors.append(info.value)
        return info.value

    def _keep(self, state: State[Any]) -> None:
        self.states.append(state)
        self.flow_run_ids.append(state.state_details.flow_run_id)


def _run_every_scenario(sandbox: NextcloudSandbox, runs: _Runs, tmp_path: Path) -> None:
    # The client retries passing failures itself; short waits keep the runs quick.
    credentials = NextcloudCredentials(
        base_url=sandbox.base_url,
        user_id=sandbox.user_id,
        app_password=sandbox.app_password,
        retry_initial_delay_seconds=0.05,
    )
    wrong = NextcloudCredentials(
        base_url=sandbox.base_url, user_id=sandbox.user_id, app_password=WRONG_PASSWORD
    )
    unreachable = NextcloudCredentials(
        base_url=f"http://127.0.0.1:{closed_port()}",
        user_id=sandbox.user_id,
        app_password=sandbox.app_password,
        retry_seconds=0,
    )

    # A successful analysis through the shipped flow, which also leaves an artifact.
    file_id = sandbox.upload("Photos/sample.png", sample_image_bytes())
    analysis = runs.succeed(
        analyze_image,
        prompt="What is in it?",
        image_file_ids=[file_id],
        credentials=sandbox.credentials,
        **FAST,
    )
    assert "What is in it?" in analysis.analysis_text

    # A typed helper that uploads a local file (WebDAV PUT, PROPFIND, DELETE).
    recording = tmp_path / "memo.wav"
    recording.write_bytes(b"RIFF0000WAVEfmt ")
    transcript = runs.succeed(transcribe_flow, credentials=credentials, audio=f"file:{recording}")
    assert transcript.text.endswith("the sandbox recognises no speech.")

    # A transient 502 while polling is retried.
    sandbox.inject_error(LIST_PATH, status=502, times=1)
    runs.succeed(run_task_flow, credentials=credentials, **TEXT_TASK)
    assert [r.status for r in sandbox.requests_to("GET", LIST_PATH) if r.fault] == [502]

    # A task that fails on the server.
    sandbox.set_failing("core:text2text")
    runs.fail(run_task_flow, TaskFailedError, credentials=credentials, **TEXT_TASK)
    sandbox.set_failing("core:text2text", failing=False)

    # The right user with a wrong password.
    runs.fail(run_task_flow, AuthenticationError, credentials=wrong, **TEXT_TASK)

    # Nothing listens at the address.
    runs.fail(run_task_flow, NextcloudConnectionError, credentials=unreachable, **TEXT_TASK)

    # A task that never starts: the wait times out and cancels it.
    sandbox.pause_processing()
    timeout = runs.fail(
        run_task_flow,
        TaskTimeoutError,
        credentials=credentials,
        timeout_seconds=0.3,
        poll_interval_seconds=0.1,
        **TEXT_TASK,
    )
    assert timeout.cancelled is True
    sandbox.resume_processing()


def _scan_prefect_api(scanner: SecretScanner, runs: _Runs) -> None:
    """Everything the Prefect API stores about the runs: what its UI shows."""
    APILogWorker.drain_all(timeout=30)
    ids = FlowRunFilter(id=FlowRunFilterId(any_=runs.flow_run_ids))
    with get_client(sync_client=True) as api:
        for flow_run_id in runs.flow_run_ids:
            flow_run = api.read_flow_run(flow_run_id)
            scanner.scan(f"flow run {flow_run.name} parameters", repr(flow_run.parameters))
            scanner.scan(f"flow run {flow_run.name}", flow_run.model_dump_json())
            _scan_states(
                scanner, f"flow run {flow_run.name}", api.read_flow_run_states(flow_run_id)
            )
        task_runs = api.read_task_runs(flow_run_filter=ids)
        assert task_runs
        for task_run in task_runs:
            scanner.scan(f"task run {task_run.name} task_inputs", repr(task_run.task_inputs))
            scanner.scan(f"task run {task_run.name}", task_run.model_dump_json())
            _scan_states(
                scanner, f"task run {task_run.name}", api.read_task_run_states(task_run.id)
            )
        artifacts = api.read_artifacts(flow_run_filter=ids)
        assert any(artifact.key == "image-analysis" for artifact in artifacts)
        for artifact in artifacts:
            scanner.scan(f"artifact {artifact.key}", artifact.model_dump_json())
            scanner.scan(f"artifact {artifact.key} data", str(artifact.data))
        logs = _read_all_logs(api, LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids.id.any_)))
    messages = [log.message for log in logs]
    # The server received the logs of every kind of run, so the search below means something.
    assert any("is scheduled" in message for message in messages)
    assert any("AuthenticationError" in message for message in messages)
    assert any("NextcloudConnectionError" in message for message in messages)
    scanner.scan_all("flow-run log on the server", (log.model_dump_json() for log in logs))


def _read_all_logs(api: Any, log_filter: LogFilter) -> list[Any]:
    logs: list[Any] = []
    while True:
        page = api.read_logs(log_filter=log_filter, limit=200, offset=len(logs))
        logs += page
        if len(page) < 200:
            return logs


def _scan_states(scanner: SecretScanner, where: str, states: list[State[Any]]) -> None:
    for state in states:
        scanner.scan(f"{where} state {state.name} message", state.message)
        scanner.scan(f"{where} state {state.name}", state.model_dump_json())
        try:
            data = state.result(raise_on_failure=False)
        except Exception as error:  # no persisted result: nothing more to read
            scanner.scan(f"{where} state {state.name} result error", repr(error))
        else:
            scanner.scan(f"{where} state {state.name} result", repr(data))


def _scan_records(scanner: SecretScanner, records: list[logging.LogRecord]) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for index, record in enumerate(records):
        where = f"log record {index} ({record.name}, {record.levelname})"
        scanner.scan(f"{where} message", record.getMessage())
        scanner.scan(f"{where} msg", repr(record.msg))
        scanner.scan(f"{where} args", repr(record.args))
        scanner.scan(f"{where} attributes", repr(vars(record)))
        scanner.scan(f"{where} formatted", formatter.format(record))  # also fills exc_text
        scanner.scan(f"{where} exc_text", record.exc_text)
        scanner.scan(f"{where} stack", record.stack_info)


def test_the_app_password_leaks_nowhere(
    prefect_server: None,
    sandbox: NextcloudSandbox,
    captured_logs: LogCapture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", str(tmp_path))
    runs = _Runs()
    _run_every_scenario(sandbox, runs, tmp_path)
    out, err = capfd.readouterr()

    # Authentication worked: the successful runs above made authenticated calls.
    assert any(r.status == 200 and "/schedule" in r.path for r in sandbox.requests)
    assert [r.status for r in sandbox.requests if r.status == 401] == [401]  # the wrong one

    scanner = SecretScanner(
        {
            **basic_forms(sandbox.user_id, sandbox.app_password),
            **basic_forms(sandbox.user_id, WRONG_PASSWORD),
        }
    )
    levels = {record.levelno for record in captured_logs.records}
    names = {record.name.split(".")[0] for record in captured_logs.records}
    assert logging.DEBUG in levels
    assert {"httpx", "httpcore", "prefect"} <= names  # the capture really saw them
    _scan_records(scanner, captured_logs.records)
    scanner.scan("stdout", out)
    scanner.scan("stderr", err)
    for error in runs.errors:
        for where, surface in exception_surfaces(error).items():
            scanner.scan(f"{type(error).__name__}: {where}", surface)
    for state in runs.states:
        scanner.scan(f"final state {state.name}", repr(state))
        scanner.scan(f"final state {state.name} message", state.message)
    for result in runs.results:
        scanner.scan(f"result {type(result).__name__} repr", repr(result))
        scanner.scan(f"result {type(result).__name__} json", result.model_dump_json())
    _scan_prefect_api(scanner, runs)
    assert scanner.scanned > 500
    scanner.assert_clean()


def test_the_scanner_finds_every_form_of_the_password() -> None:
    scanner = SecretScanner(basic_forms("alice", "pw-1"))
    scanner.scan("header", "authorization: Basic YWxpY2U6cHctMQ==")
    scanner.scan("bytes", b"... YWxpY2U6cHctMQ== ...")
    scanner.scan("raw", "the password is pw-1")
    assert len(scanner.hits) == 4
    scanner.hits.clear()
    scanner.scan("clean", "alice **********")
    scanner.assert_clean()


# -- reprs and dumps ---------------------------------------------------------------------------

PASSWORD = "Secr3t-App-Passw0rd-Value"


@pytest.fixture
def offline_credentials() -> NextcloudCredentials:
    """Credentials of a server nobody contacts: building clients makes no connection."""
    return NextcloudCredentials(
        base_url="https://cloud.example.invalid", user_id="carol", app_password=PASSWORD
    )


def test_reprs_and_dumps_never_show_the_password(
    offline_credentials: NextcloudCredentials,
) -> None:
    scanner = SecretScanner(basic_forms("carol", PASSWORD))
    credentials = offline_credentials
    scanner.scan("credentials repr", repr(credentials))
    scanner.scan("credentials str", str(credentials))
    scanner.scan("credentials model_dump", repr(credentials.model_dump()))
    scanner.scan("credentials model_dump json", repr(credentials.model_dump(mode="json")))
    scanner.scan("credentials model_dump_json", credentials.model_dump_json())
    scanner.scan("credentials field", repr(credentials.app_password))
    with credentials.get_client() as client:
        _scan_client(scanner, client)
    async_client = credentials.get_async_client()
    _scan_client(scanner, async_client)
    asyncio.run(async_client.aclose())
    direct = NextcloudClient("https://cloud.example.invalid", "carol", PASSWORD)
    _scan_client(scanner, direct)
    direct.close()
    scanner.assert_clean()
    # The credentials still carry it, unwrapped only on purpose.
    assert credentials.app_password.get_secret_value() == PASSWORD


def _scan_client(scanner: SecretScanner, client: NextcloudClient | AsyncNextcloudClient) -> None:
    name = type(client).__name__
    scanner.scan(f"{name} repr", repr(client))
    scanner.scan(f"{name} str", str(client))
    scanner.scan(f"{name} format", f"{client}")
    http = client._http
    auth = http.auth
    scanner.scan(f"{name} httpx client repr", repr(http))
    scanner.scan(f"{name} auth repr", repr(auth))
    scanner.scan(f"{name} auth str", str(auth))
    scanner.scan(f"{name} settings repr", repr(client._settings))
    scanner.scan(f"{name} headers", repr(http.headers))


def test_construction_errors_never_show_the_password() -> None:
    scanner = SecretScanner(basic_forms("carol", PASSWORD))
    bad: list[tuple[dict[str, Any], str]] = [
        ({"base_url": "http://cloud.example.invalid"}, "Refusing plain http://"),
        ({"base_url": "ftp://cloud.example.invalid"}, "must start with https://"),
        (
            {
                "base_url": "https://x.example.invalid",
                "settings": ClientSettings(ca_bundle="/no/ca.pem"),
            },
            "not a file",
        ),
    ]
    for arguments, message in bad:
        with pytest.raises(ValueError, match=message) as info:
            NextcloudClient(user_id="carol", app_password=PASSWORD, **arguments)
        for where, surface in exception_surfaces(info.value).items():
            scanner.scan(f"{arguments}: {where}", surface)
    scanner.assert_clean()


def test_a_password_in_the_url_is_refused_without_echoing_it() -> None:
    scanner = SecretScanner(basic_forms("carol", PASSWORD))
    with pytest.raises(ValueError, match=r"(?i)url") as info:
        NextcloudCredentials(
            base_url=f"https://carol:{PASSWORD}@cloud.example.invalid",
            user_id="carol",
            app_password=PASSWORD,
        )
    scanner.scan("error", str(info.value))
    scanner.assert_clean()


# -- errors hold no reference to the request and its Authorization header ----------------------


def _raised_by(call: Any) -> NextcloudError:
    with pytest.raises(NextcloudError) as info:
        call()
    return info.value


def _deep_scan(error: BaseException, user_id: str, password: str) -> list[str]:
    scanner = SecretScanner(basic_forms(user_id, password))
    for path, text in reachable_texts(error):
        scanner.scan(path, text)
    return scanner.hits


def test_http_errors_hold_nothing_that_reaches_the_password(sandbox: NextcloudSandbox) -> None:
    sandbox.inject_error(POLL_PATH, status=502, times=1)
    sandbox.inject_error(POLL_PATH, status=302, headers={"Location": "https://x.invalid/"})
    client = NextcloudClient(
        sandbox.base_url, sandbox.user_id, sandbox.app_password, retry_policy=NO_RETRY
    )
    wrong = NextcloudClient(sandbox.base_url, sandbox.user_id, WRONG_PASSWORD)
    with client, wrong:
        errors = [
            _raised_by(lambda: client.get_task(1)),  # 502
            _raised_by(lambda: client.get_task(1)),  # 302
            _raised_by(lambda: client.get_task(12345)),  # 404
            _raised_by(lambda: wrong.get_task(1)),  # 401
        ]
    assert [type(e) for e in errors[:2]] == [ServerError, NextcloudHTTPError]
    assert isinstance(errors[3], AuthenticationError)
    for error in errors:
        assert _deep_scan(error, sandbox.user_id, sandbox.app_password) == []
        assert _deep_scan(error, sandbox.user_id, WRONG_PASSWORD) == []


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_connection_error_holds_nothing_that_reaches_the_password(face: str) -> None:
    error = get_task_error(face, f"http://127.0.0.1:{closed_port()}", "carol", PASSWORD)
    assert isinstance(error, NextcloudConnectionError)
    assert _deep_scan(error, "carol", PASSWORD) == []
