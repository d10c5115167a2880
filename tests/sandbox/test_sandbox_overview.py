"""The overview at ``/``: files with their comments, tasks with their answers, over real HTTP."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for
from prefect_nextcloud.sandbox.overview.views import time_text

OVERVIEW = "/sandbox/overview.json"


def _page(sandbox: NextcloudSandbox, **params: str) -> str:
    response = httpx.get(f"{sandbox.base_url}/", params=params, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def _overview(sandbox: NextcloudSandbox, **params: str) -> Any:
    response = httpx.get(f"{sandbox.base_url}{OVERVIEW}", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def _files_of(overview: Any, user_id: str) -> dict[str, Any]:
    (user,) = [user for user in overview["users"] if user["user_id"] == user_id]
    return {file["path"]: file for file in user["files"]}


def test_the_page_lists_a_file_its_comment_and_a_finished_task_with_its_answer(
    sb: NextcloudSandbox,
) -> None:
    file_id = sb.upload("Overview/cat.png", b"png bytes")
    with sb.credentials_for("alice").get_client() as client:
        comment_id = client.post_comment(file_id, "A cat\non a mat")
        task = client.schedule_task(
            "core:text2text", {"input": "Describe the cat"}, custom_id="overview-1"
        )
    done = sb.wait_for_status(task.id, "SUCCESSFUL")
    answer = done.output["output"] if done.output else ""
    assert answer

    page = _page(sb)
    file_row = page.index("<td>/Overview/cat.png</td>")
    task_row = page.index(f"<tr><td>{task.id}</td><td>alice</td><td>core:text2text</td>")
    assert page.index("<td>SUCCESSFUL</td><td>prefect-nextcloud</td><td>overview-1</td>") > task_row
    assert page.index(f"output:<pre>{html.escape(answer)}</pre>") > task_row
    assert '<a href="#tasks">' in page
    assert f'<a href="{OVERVIEW}">' in page

    listed = _files_of(_overview(sb), "alice")["/Overview/cat.png"]
    assert listed["file_id"] == file_id
    assert listed["size"] == len(b"png bytes")
    (listed_comment,) = listed["comments"]
    assert listed_comment["id"] == comment_id
    assert listed_comment["author"] == "alice"
    assert listed_comment["message"] == "A cat\non a mat"
    shown = f"<li>alice, {time_text(listed_comment['created'])} (comment {comment_id}):"
    assert page.index(f"{shown}<pre>A cat\non a mat</pre>") > file_row


def test_file_outputs_by_id_errors_and_newest_first(sb: NextcloudSandbox) -> None:
    sb.set_failing("core:text2text:summary")
    with sb.credentials_for("bob").get_client() as client:
        images = client.schedule_task("core:text2image", {"input": "cat", "numberOfImages": 2})
        failed = client.schedule_task("core:text2text:summary", {"input": "long text"})
    sb.complete_pending()
    output_ids = sb.task(images.id).output
    assert output_ids is not None

    tasks = _overview(sb)["tasks"]
    assert [task["id"] for task in tasks] == sorted((t.id for t in sb.tasks()), reverse=True)
    by_id = {task["id"]: task for task in tasks}
    assert by_id[images.id]["answer"] == [
        {"slot": "images", "texts": [], "file_ids": output_ids["images"]}
    ]
    assert by_id[failed.id]["status"] == "STATUS_FAILED"
    assert by_id[failed.id]["error_message"] == "Failing as set by AppConfig"

    page = _page(sb)
    files = "".join(f"<pre>file {file_id}</pre>" for file_id in output_ids["images"])
    assert f"images:{files}" in page
    assert '<span class="failed">Error:</span><pre>Failing as set by AppConfig</pre>' in page


def test_names_and_messages_are_escaped(sb: NextcloudSandbox) -> None:
    file_id = sb.upload("Escapes/<b>&.png", b"x")
    with sb.credentials_for("alice").get_client() as client:
        client.post_comment(file_id, '<script>alert("x")</script> & more')

    page = _page(sb)
    assert "<td>/Escapes/&lt;b&gt;&amp;.png</td>" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page
    assert "<b>" not in page
    assert "<script" not in page
    assert "/Escapes/<b>&.png" in _files_of(_overview(sb), "alice")


def test_no_password_is_shown(sb: NextcloudSandbox) -> None:
    file_id = sb.upload("Secrets/notes.txt", b"nothing to see")
    with sb.credentials_for("alice").get_client() as client:
        client.post_comment(file_id, "a comment")
        client.schedule_task("core:text2text", {"input": "a prompt"})
    sb.complete_pending()

    shown = _page(sb) + httpx.get(f"{sb.base_url}{OVERVIEW}", timeout=5).text
    for user_id in ("alice", "bob"):
        password = app_password_for(user_id)
        assert password not in shown
        assert base64.b64encode(f"{user_id}:{password}".encode()).decode() not in shown
    assert "password" not in shown.lower()


def test_one_users_files_and_tasks(sb: NextcloudSandbox) -> None:
    sb.upload("Only/alice.txt", b"a")
    sb.upload("Only/bob.txt", b"b", user_id="bob")
    with sb.credentials_for("bob").get_client() as client:
        task = client.schedule_task("core:text2text", {"input": "bob's"})

    overview = _overview(sb, user="bob")
    assert [user["user_id"] for user in overview["users"]] == ["bob"]
    assert "/Only/bob.txt" in _files_of(overview, "bob")
    assert {task["user_id"] for task in overview["tasks"]} == {"bob"}
    assert task.id in {task["id"] for task in overview["tasks"]}
    assert "/Only/alice.txt" not in _page(sb, user="bob")

    unknown = httpx.get(f"{sb.base_url}{OVERVIEW}", params={"user": "carol"}, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json() == {
        "message": "The sandbox has no user 'carol'; its users are: alice, bob."
    }


def test_looking_is_neither_logged_nor_failed(sb: NextcloudSandbox) -> None:
    sb.clear_requests()
    sb.inject_maintenance("", times=1)

    assert _page(sb)
    assert _overview(sb)
    assert sb.requests == []

    # The maintenance fault is still waiting for the API, which answers as before.
    status = httpx.get(f"{sb.base_url}/status.php", timeout=5)
    assert status.status_code == 503
    assert httpx.get(f"{sb.base_url}/index.php", timeout=5).status_code == 404
    assert [(r.path, r.status) for r in sb.requests] == [("/status.php", 503), ("/index.php", 404)]


@pytest.fixture
def open_sandbox() -> Iterator[NextcloudSandbox]:
    """A sandbox bound to every interface, reached over loopback."""
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(host="0.0.0.0", users=users) as sandbox:
        sandbox.upload("alice.txt", b"a")
        sandbox.upload("bob.txt", b"b", user_id="bob")
        yield sandbox


def test_bound_beyond_loopback_the_overview_asks_for_a_login(
    open_sandbox: NextcloudSandbox,
) -> None:
    url = f"http://127.0.0.1:{open_sandbox.port}"
    alice = ("alice", app_password_for("alice"))
    for path in ("/", OVERVIEW):
        refused = httpx.get(url + path, timeout=5)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic ")
        wrong = httpx.get(url + path, auth=("alice", "wrong-password"), timeout=5)
        assert wrong.status_code == 401

    overview = httpx.get(url + OVERVIEW, auth=alice, timeout=5).json()
    assert [user["user_id"] for user in overview["users"]] == ["alice"]
    assert "bob.txt" not in httpx.get(url + "/", auth=alice, timeout=5).text

    other = httpx.get(url + OVERVIEW, params={"user": "bob"}, auth=alice, timeout=5)
    assert other.status_code == 403
    assert "Logged in as 'alice', not 'bob'" in other.json()["message"]
