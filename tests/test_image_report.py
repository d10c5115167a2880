"""The image_report flow against the sandbox: a report of every image in a folder."""

from __future__ import annotations

import pytest
from flow_helpers import artifact_of

from prefect_nextcloud.flows import image_report
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

pytestmark = pytest.mark.usefixtures("prefect_server")

FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}


def read_report(sandbox: NextcloudSandbox, path: str) -> str:
    with sandbox.credentials.get_client() as client:
        return client.download_file(path).decode()


def test_report_has_a_section_per_image_and_the_summary(sandbox: NextcloudSandbox) -> None:
    ids = [sandbox.upload(name, sample_image_bytes()) for name in ("Photos/b.png", "Photos/a.png")]
    state = image_report(
        folder="/Photos",
        prompt="What is in it?",
        report_path="/Reports/photos.md",
        credentials=sandbox.credentials,
        return_state=True,
        **FAST,
    )
    result = state.result()
    assert (result.report_path, result.image_count) == ("/Reports/photos.md", 2)
    assert result.summary
    with sandbox.credentials.get_client() as client:
        assert result.report_file_id == client.get_file_id("/Reports/photos.md")
    report = read_report(sandbox, "/Reports/photos.md")
    assert report.index("## a.png") < report.index("## b.png")
    assert "`/Photos/a.png`" in report
    assert "`/Photos/b.png`" in report
    assert f"## Summary\n\n{result.summary}" in report
    tasks = sandbox.tasks()
    analyses = [task for task in tasks if task.type == "core:analyze-images"]
    assert sorted(task.input["images"][0] for task in analyses) == sorted(ids)
    assert [task.type for task in tasks if task not in analyses] == ["core:text2text:summary"]
    for task in analyses:
        assert task.output is not None
        assert f"(Nextcloud task {task.id})\n\n> {task.output['output']}\n" in report
    assert artifact_of(state.state_details.flow_run_id, "image-report").data == report


def test_a_failed_image_gets_a_section_saying_why(sandbox: NextcloudSandbox) -> None:
    file_id = sandbox.upload("Photos/a.png", sample_image_bytes())
    sandbox.set_failing("core:analyze-images")
    result = image_report(credentials=sandbox.credentials, **FAST)
    assert (result.image_count, result.failed_count, result.summary) == (1, 1, None)
    [task] = sandbox.tasks()
    assert task.status == "STATUS_FAILED"
    report = read_report(sandbox, "/Reports/image-report.md")
    section = report[report.index("## a.png") :]
    link = f"{sandbox.credentials.base_url}/index.php/f/{file_id}"
    assert section.startswith(
        f"## a.png\n\n[`/Photos/a.png`]({link}) (Nextcloud task {task.id})\n\n"
    )
    assert "**Not analyzed:** " in section


def test_non_images_are_skipped(sandbox: NextcloudSandbox) -> None:
    sandbox.upload("Photos/a.jpg", sample_image_bytes())
    sandbox.upload("Photos/notes.txt", b"not an image")
    sandbox.upload("Photos/Trips/b.png", sample_image_bytes())
    result = image_report(credentials=sandbox.credentials, summarize_report=False, **FAST)
    assert (result.image_count, result.summary) == (1, None)
    report = read_report(sandbox, "/Reports/image-report.md")
    assert "`/Photos/a.jpg`" in report
    assert "notes.txt" not in report
    assert "Trips" not in report
    assert [task.type for task in sandbox.tasks()] == ["core:analyze-images"]


def test_max_images_limits_the_analyses(sandbox: NextcloudSandbox) -> None:
    for name in ("a", "b", "c"):
        sandbox.upload(f"Photos/{name}.png", sample_image_bytes())
    result = image_report(credentials=sandbox.credentials, max_images=2, **FAST)
    assert result.image_count == 2
    assert len(sandbox.tasks()) == 3  # two analyses and the summary
    assert "1 more image(s) were left out" in read_report(sandbox, "/Reports/image-report.md")


def test_an_empty_folder_gives_a_report_saying_so(sandbox: NextcloudSandbox) -> None:
    sandbox.upload("Photos/readme.txt", b"no images here")
    result = image_report(credentials=sandbox.credentials, **FAST)
    assert (result.image_count, result.summary) == (0, None)
    assert "No images found" in read_report(sandbox, "/Reports/image-report.md")
    assert sandbox.tasks() == []
