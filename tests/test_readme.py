"""The README's examples run as written, against the sandbox; each of its blocks is accounted for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from readme_examples import ROOT, code_blocks, commands, readme_example, run_script

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import ItemResult, cancel_outstanding_tasks, run_tasks

pytestmark = pytest.mark.usefixtures("prefect_server")


def run_example(name: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute the README's Python example ``name`` (with these names given) and return its names."""
    namespace = dict(namespace or {})
    exec(compile(readme_example(name), f"README.md ({name})", "exec"), namespace)
    return namespace


def run_shell(name: str) -> str:
    """Run the README's shell example ``name`` and return what it printed."""
    return run_script(commands(name))


def test_every_block_is_run_by_a_test_or_says_why_not() -> None:
    blocks = code_blocks()
    unmarked = [block.line for block in blocks if block.name is None and block.reason is None]
    assert unmarked == [], "README blocks (by line) with neither an example nor a not-run comment"
    names = [block.name for block in blocks if block.name is not None]
    assert len(names) == len(set(names)), names
    # Each example is run by a test, and the tests run no example the README lacks.
    tests = Path(__file__).resolve().parent
    fetched = {
        name
        for path in tests.rglob("*.py")
        for name in re.findall(
            r'(?:readme_example|commands|run_example|run_shell)\(\s*"([a-z0-9-]+)"',
            path.read_text(),
        )
    }
    assert fetched == set(names)


def test_ci_runs_the_quickstart_as_printed() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in commands("quickstart"):
        assert command in ci


def _delete_the_nextcloud_block() -> None:
    with get_client(sync_client=True) as client:
        try:
            block = client.read_block_document_by_name(
                "nextcloud", "nextcloud-credentials", include_secrets=False
            )
        except ObjectNotFound:
            return
        client.delete_block_document(block.id)


@pytest.fixture
def no_nextcloud_block() -> Iterator[None]:
    """No saved block named ``nextcloud`` before the test, nor after it."""
    _delete_the_nextcloud_block()
    yield
    _delete_the_nextcloud_block()


@pytest.mark.usefixtures("no_nextcloud_block")
def test_the_credentials_block_is_registered_and_saved_as_printed() -> None:
    assert "Nextcloud Credentials" in run_shell("register-block")
    run_example("save-block")
    saved = NextcloudCredentials.load("nextcloud", _sync=True)
    assert isinstance(saved, NextcloudCredentials)
    assert saved.base_url == "https://cloud.example.com"
    assert saved.app_password.get_secret_value() == "xxxxx-xxxxx-xxxxx-xxxxx-xxxxx"


def test_describe_and_summarize(sandbox: NextcloudSandbox) -> None:
    sandbox.credentials.save("nextcloud", overwrite=True)
    file_id = sandbox.upload("photo.png", sample_image_bytes())
    flow = run_example("describe-and-summarize")["describe_and_summarize"]
    assert flow(file_id).startswith("Sandbox summary of 1 paragraph (")


def test_answers_are_acted_on_as_they_come(
    sandbox: NextcloudSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    given = {
        "ItemResult": ItemResult,
        "run_tasks": run_tasks,
        "credentials": sandbox.credentials,
        "texts": ["The first text.", "The second text."],
    }
    run_example("on-results", given)
    printed = [line for line in capsys.readouterr().out.splitlines() if "Sandbox summary" in line]
    assert sorted(line.split(" ", 1)[0] for line in printed) == ["0", "1"]


def test_many_tasks_at_once(sandbox: NextcloudSandbox) -> None:
    sandbox.credentials.save("nextcloud", overwrite=True)
    file_ids = [sandbox.upload(f"photo-{i}.png", sample_image_bytes()) for i in range(3)]
    summaries = run_example("describe-folder")["describe_folder"](file_ids)
    assert len(summaries) == 3
    assert all(summary.startswith("Sandbox summary of 1 paragraph (") for summary in summaries)
    assert len(sandbox.tasks()) == 6  # three analyses, three summaries


def test_files_example(sandbox: NextcloudSandbox, tmp_path: Path) -> None:
    sandbox.upload("Photos/receipt.jpg", sample_image_bytes())
    recording = tmp_path / "memo.wav"
    recording.write_bytes(b"RIFF....WAVE")
    flow = run_example("files-example")["files_example"]
    names = flow(sandbox.credentials, recording)
    assert len(names) == 1
    with sandbox.credentials.get_client() as client:
        report = client.download_file("/Reports/receipt.md").decode()
        generated = client.get_file_info("/Photos/Generated")
    assert "the sandbox recognises no speech" in report
    assert "PNG" in report
    assert generated.is_folder


def test_the_deployments_example_runs_as_printed(sandbox: NextcloudSandbox) -> None:
    block_id = sandbox.credentials.save("nextcloud", overwrite=True)
    # The worker polls once and stops, instead of serving until Ctrl-C.
    *setup, start_worker = commands("deploy")
    output = run_script([*setup, f"{start_worker} --run-once"])
    for name in ("analyze-image", "image-report", "process-new-files"):
        assert f"{name}/{name}" in output
    with get_client(sync_client=True) as client:
        stored = {deployment.name: deployment for deployment in client.read_deployments()}
    for name in ("analyze-image", "image-report", "process-new-files"):
        # The form shows the saved block picked: the parameter refers to it by id.
        assert stored[name].parameters["credentials"] == {
            "$ref": {"block_document_id": str(block_id)}
        }
        assert sandbox.app_password not in stored[name].model_dump_json()


def test_the_global_limit_is_created_as_printed() -> None:
    assert commands("global-limit-again") == commands("global-limit")  # shown twice
    run_shell("global-limit")
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name("nextcloud-schedule")
        finally:
            client.delete_global_concurrency_limit_by_name("nextcloud-schedule")
    assert limit.limit == 10
    assert limit.slot_decay_per_second == pytest.approx(0.0833)
    # Within Nextcloud's 20 schedules in any 120 s, as the README's rule says.
    assert limit.limit + 120 * limit.slot_decay_per_second <= 20


def test_the_cancellation_hooks_example() -> None:
    my_flow = run_example("cancel-hooks")["my_flow"]
    assert my_flow.on_cancellation_hooks == [cancel_outstanding_tasks]
    assert my_flow.on_crashed_hooks == [cancel_outstanding_tasks]
    assert my_flow() is None


def test_the_sandbox_from_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "photo.png").write_bytes(sample_image_bytes())
    monkeypatch.chdir(tmp_path)
    names = run_example("sandbox-in-python")
    assert isinstance(names["credentials"], NextcloudCredentials)
    assert isinstance(names["file_id"], int)
