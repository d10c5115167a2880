"""Sandbox life cycle, credentials block and the foreground server."""

from __future__ import annotations

import io
import re
import threading

import httpx
import pytest

from prefect_nextcloud.sandbox import (
    DEFAULT_APP_PASSWORD,
    DEFAULT_USER_ID,
    NextcloudSandbox,
    sample_image_bytes,
    serve_forever,
)
from prefect_nextcloud.sandbox.samples import sample_files
from prefect_nextcloud.sandbox.storage.images import read_image_facts


def test_start_and_stop() -> None:
    sandbox = NextcloudSandbox()
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    sandbox.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.base_url)
        assert httpx.get(f"{sandbox.base_url}/status.php").status_code == 200
        with pytest.raises(RuntimeError):
            sandbox.start()
    finally:
        sandbox.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.base_url}/status.php")


def test_defaults_and_credentials() -> None:
    with NextcloudSandbox() as sandbox:
        assert (sandbox.user_id, sandbox.app_password) == (DEFAULT_USER_ID, DEFAULT_APP_PASSWORD)
        credentials = sandbox.credentials
        assert credentials.base_url == sandbox.base_url
        assert credentials.user_id == "alice"
        assert credentials.app_password.get_secret_value() == DEFAULT_APP_PASSWORD


def test_invalid_options() -> None:
    with pytest.raises(ValueError, match="server_version"):
        NextcloudSandbox(server_version=26)
    with pytest.raises(ValueError, match="server_version"):
        NextcloudSandbox(server_version=36)
    with pytest.raises(ValueError, match="users"):
        NextcloudSandbox(users={})


def test_upload_ids_are_unique_across_users() -> None:
    users = {"alice": "aaaaa-aaaaa-aaaaa-aaaaa-aaaaa", "bob": "bbbbb-bbbbb-bbbbb-bbbbb-bbbbb"}
    sandbox = NextcloudSandbox(users=users)
    first = sandbox.upload("same.txt", b"1")
    second = sandbox.upload("same.txt", b"2", user_id="bob")
    assert first != second
    assert sandbox.upload("/same.txt", b"3") == first
    with pytest.raises(KeyError):
        sandbox.upload("x.txt", b"", user_id="carol")


def test_serve_forever_prints_how_to_connect() -> None:
    stop = threading.Event()
    out = io.StringIO()
    printed = threading.Event()

    class Output(io.StringIO):
        def flush(self) -> None:
            out.write(self.getvalue())
            self.seek(0)
            self.truncate()
            if "Ctrl-C" in out.getvalue():
                printed.set()

    options = {"run_seconds": (2.0, 30.0), "workers": 3, "failing_task_types": ["core:text2text"]}
    thread = threading.Thread(
        target=serve_forever,
        kwargs={"port": 0, "stop": stop, "out": Output(), **options},
        daemon=True,
    )
    thread.start()
    try:
        assert printed.wait(10)
        text = out.getvalue()
        url = re.search(r"at (http://\S+)", text)
        assert url
        assert "then runs 2-30 s; 3 workers; failing: core:text2text" in text
        assert DEFAULT_APP_PASSWORD in text
        assert (
            f"export NEXTCLOUD_URL={url.group(1)} NEXTCLOUD_USER=alice "
            f"NEXTCLOUD_APP_PASSWORD={DEFAULT_APP_PASSWORD}"
        ) in text
        assert f"prefect-nextcloud sandbox upload PATH --to /Photos --url {url.group(1)}" in text
        samples = dict(re.findall(r"(/Photos/\S+\.png) \((\d+)\)", text))
        assert set(samples) == {f"/{path}" for path in sample_files()}
        image_url = f"{url.group(1)}/remote.php/dav/files/alice/Photos/sample.png"
        auth = ("alice", DEFAULT_APP_PASSWORD)
        assert httpx.get(image_url, auth=auth).content == sample_image_bytes()
        ids = httpx.request(
            "PROPFIND",
            image_url,
            auth=auth,
            content=b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
            b"<oc:fileid/></d:prop></d:propfind>",
        )
        assert f"<oc:fileid>{samples['/Photos/sample.png']}</oc:fileid>" in ids.text
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_sample_files_are_small_distinct_images() -> None:
    files = sample_files()
    assert len(files) == 4
    assert all(path.startswith("Photos/") and path.endswith(".png") for path in files)
    facts = [read_image_facts(data) for data in files.values()]
    assert all(fact is not None and fact.format == "PNG" for fact in facts)
    assert len(set(files.values())) == 4
    assert sum(len(data) for data in files.values()) < 10_000
