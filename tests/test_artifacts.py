"""What a batch leaves in the UI: a progress artifact that moves, and a table naming files by path."""

from __future__ import annotations

import logging
import re
from typing import Any
from uuid import UUID

import pytest
from flow_helpers import artifact_of
from prefect import flow
from prefect.context import get_run_context

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import ItemResult, RunOptions, analyze_image_batch, run_tasks
from prefect_nextcloud.tasks import progress as progress_module
from prefect_nextcloud.tasks.batch.report import LONG_ANSWER_CHARS

pytestmark = pytest.mark.usefixtures("prefect_server")

FAST = RunOptions(timeout_seconds=30.0, poll_interval_seconds=0.05)


def _flow_run_id() -> UUID:
    return get_run_context().flow_run.id  # type: ignore[union-attr]


def _rows(markdown: str) -> dict[str, list[str]]:
    """The table's rows by their first cell, split at the pipes that are not escaped."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| #"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0]] = cells
    return rows


def test_the_result_table_names_each_file_by_path_with_its_status_duration_and_answer() -> None:
    with NextcloudSandbox(run_seconds=1.0, workers=3) as sandbox:
        odd = sandbox.upload("Photos/a|b *c*.png", sample_image_bytes())
        listed = sandbox.upload("Photos/listed.png", sample_image_bytes())
        text = sandbox.upload("Notes/notes.txt", b"not an image")
        credentials = sandbox.credentials

        @flow
        def describe() -> tuple[list[ItemResult], UUID]:
            results = analyze_image_batch(
                credentials,
                "What | is *this*?",
                ["nc:/Photos/a|b *c*.png", listed, text],
                artifact_key="images",
                options=FAST,
                file_paths={listed: "/Photos/listed.png"},
            )
            return results, _flow_run_id()

        results, flow_run_id = describe()
        tasks = {task.id: task for task in sandbox.tasks()}

    assert [result.ok for result in results] == [True, True, False]
    table = str(artifact_of(flow_run_id, "images").data)
    rows = _rows(table)
    assert len(rows) == 3
    link = f"{credentials.base_url}/index.php/f"
    assert rows["0"][1] == f"[/Photos/a\\|b \\*c\\*.png]({link}/{odd})"
    assert rows["1"][1] == f"[/Photos/listed.png]({link}/{listed})"
    assert rows["2"][1] == f"[file {text}]({link}/{text})"  # given by id alone
    for result, row in zip(results, rows.values(), strict=True):
        assert result.task is not None
        task = tasks[result.task.id]
        assert task.started_at is not None
        assert task.ended_at is not None
        assert row[2] == ("succeeded" if result.ok else "failed")
        assert row[3] == f"{task.id} ({'successful' if result.ok else 'failed'})"
        assert row[4] == f"{task.ended_at - task.started_at} s"  # the server's own times
    # The whole answer, its pipes and stars escaped so the row stays one row.
    answer = results[0].text or ""
    assert "What | is *this*?" in answer
    assert rows["0"][5] == answer.replace("|", "\\|").replace("*", "\\*")
    assert "not an image the sandbox can read" in rows["2"][5]


def test_a_long_answer_is_cut_in_the_table_and_shown_whole_below_it() -> None:
    long_text = "A long paragraph | with a pipe. " * 40
    inputs = [{"input": "One line.\nTwo lines."}, {"input": long_text}]
    with NextcloudSandbox() as sandbox:
        credentials = sandbox.credentials

        @flow
        def texts() -> tuple[list[ItemResult], UUID]:
            results = run_tasks(
                credentials, "core:text2text", inputs, artifact_key="texts", options=FAST
            )
            return results, _flow_run_id()

        results, flow_run_id = texts()

    table = str(artifact_of(flow_run_id, "texts").data)
    rows = _rows(table)
    short, long_answer = (result.text or "" for result in results)
    assert len(long_answer) > LONG_ANSWER_CHARS
    # Line breaks become <br> inside the cell: the row stays one line of the table.
    assert rows["0"][5] == "<br>".join(short.replace("_", "\\_").splitlines())
    assert rows["1"][5].endswith("… [whole answer below](#answer-1)")
    assert len(rows["1"][5]) < 500
    section = table[table.index("### Answer 1") :]
    assert "\n".join(f"> {line}" for line in long_answer.splitlines()) in section


def test_the_progress_artifact_moves_with_the_answers_at_most_once_per_look(
    monkeypatch: pytest.MonkeyPatch, task_run_records: list[logging.LogRecord]
) -> None:
    shown: list[tuple[float, str | None]] = []
    update = progress_module.update_progress_artifact

    def recorded(artifact_id: UUID, progress: float, description: str | None = None) -> Any:
        shown.append((progress, description))
        return update(artifact_id, progress, description=description)

    monkeypatch.setattr(progress_module, "update_progress_artifact", recorded)
    inputs = [{"input": f"Paragraph {n}."} for n in range(4)]
    with NextcloudSandbox(run_seconds=(0.2, 1.0), seed=7) as sandbox:
        credentials = sandbox.credentials

        @flow
        def summaries() -> UUID:
            run_tasks(credentials, "core:text2text:summary", inputs, options=FAST)
            return _flow_run_id()

        flow_run_id = summaries()
        looks = len(sandbox.requests_to("GET", "/tasks/app/"))

    progress = artifact_of(flow_run_id, "nextcloud-batch-progress")
    assert progress.data == 100.0
    assert progress.description == (
        "Batch of 4 core:text2text:summary tasks: 4/4 done (4 succeeded, 0 failed)."
    )
    values = [value for value, _ in shown]
    assert values == sorted(values)
    assert values[-1] == 100.0
    assert len(set(values)) >= 2  # it moved as answers arrived, not only at the end
    assert len(shown) + 1 <= looks  # created once, then at most one update per look
    assert all(re.match(r"Batch of 4 .*: \d/4 done \(\d succeeded", d or "") for _, d in shown)
    awaited = [r for r in task_run_records if r.getMessage().startswith("Awaiting Nextcloud:")]
    assert len(awaited) == 1  # once per batch, not per poll
    assert "4 core:text2text:summary task(s), until " in awaited[0].getMessage()
