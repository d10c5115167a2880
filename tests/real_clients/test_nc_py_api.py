"""nc_py_api, the most used Python client for Nextcloud, against the sandbox, unmodified.

nc_py_api runs in its own environment (.venv-clients, see nc_py_api_driver.py); every call goes
through both of its faces: the (deprecated) ``Nextcloud`` and ``AsyncNextcloud``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nc_py_api_proxy import Client, Driver, Node, NpaError, Sink, Stream

from prefect_nextcloud.sandbox import NextcloudSandbox, app_password_for

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    process = Driver()
    yield process
    process.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[NextcloudSandbox]:
    """Alice, an admin, and Bob."""
    users = {"alice": app_password_for("alice"), "bob": app_password_for("bob")}
    with NextcloudSandbox(users=users, admins=["alice"], rate_limit=10_000) as sb:
        yield sb


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> str:
    """Which nc_py_api client a test uses: ``Nextcloud`` or ``AsyncNextcloud``."""
    face: str = request.param
    return face


@pytest.fixture
def nc(face: str, driver: Driver, sandbox: NextcloudSandbox) -> Client:
    return Client(driver, face, sandbox.base_url, "alice", sandbox.app_password)


@pytest.fixture
def bob(face: str, driver: Driver, sandbox: NextcloudSandbox) -> Client:
    return Client(driver, face, sandbox.base_url, "bob", sandbox.app_password_of("bob"))


@pytest.fixture
def folder(request: pytest.FixtureRequest, nc: Client) -> str:
    """A fresh folder for the test, so tests sharing the sandbox never see each other's files."""
    name = request.node.name.replace("[", "-").rstrip("]")
    nc.files.mkdir(name)
    return name


def test_capabilities_and_version(nc: Client, sandbox: NextcloudSandbox) -> None:
    assert nc.get("srv_version")["major"] == sandbox.server_version
    capabilities = nc.get("capabilities")
    assert capabilities["core"]["webdav-root"] == "remote.php/webdav"
    assert capabilities["dav"]["chunking"] == "1.0"
    assert nc.check_capabilities(["files.bigfilechunking", "dav.chunking"]) == []
    assert nc.check_capabilities(["files.versioning", "files.undelete"]) == []
    assert nc.check_capabilities("files.locking") == ["files.locking"]


def test_user(nc: Client) -> None:
    assert nc.get("user") == "alice"


def test_upload_listdir_download(nc: Client, folder: str) -> None:
    files = nc.files
    uploaded = files.upload(f"{folder}/hello.txt", b"hello")
    files.mkdir(f"{folder}/sub")
    # niquests sends the dot segments as they are; the server resolves them, as Sabre does.
    files.upload(f"{folder}/sub/../notes.md", "# notes")
    listed = files.listdir(folder)
    assert sorted(node.name for node in listed) == ["hello.txt", "notes.md", "sub"]
    by_name = {node.name: node for node in listed}
    assert by_name["sub"].is_dir
    assert by_name["hello.txt"].file_id == uploaded.file_id
    assert by_name["hello.txt"].size == 5
    assert by_name["hello.txt"].mimetype == "text/plain"
    assert files.download(f"{folder}/hello.txt") == b"hello"
    sink = Sink()
    files.download2stream(f"{folder}/notes.md", sink)
    assert sink.data == b"# notes"
    assert files.by_path(f"{folder}/hello.txt").file_id == uploaded.file_id


def test_mkdir_and_makedirs(nc: Client, folder: str) -> None:
    files = nc.files
    made = files.makedirs(f"{folder}/a/b/c", exist_ok=True)
    assert made.is_dir
    assert made.user_path == f"{folder}/a/b/c/"
    assert files.makedirs(f"{folder}/a/b", exist_ok=True) is None
    with pytest.raises(NpaError) as info:
        files.mkdir(f"{folder}/a")
    assert info.value.status_code == 405


def test_move_keeps_the_file_id_and_respects_overwrite(nc: Client, folder: str) -> None:
    files = nc.files
    original = files.upload(f"{folder}/draft.txt", b"v1")
    files.mkdir(f"{folder}/done")
    moved = files.move(f"{folder}/draft.txt", f"{folder}/done/final.txt")
    assert moved.user_path == f"{folder}/done/final.txt"
    assert moved.file_id == original.file_id
    files.upload(f"{folder}/other.txt", b"v2")
    with pytest.raises(NpaError) as refused:
        files.move(f"{folder}/other.txt", f"{folder}/done/final.txt")
    assert refused.value.status_code == 412
    files.move(f"{folder}/other.txt", f"{folder}/done/final.txt", overwrite=True)
    assert files.download(f"{folder}/done/final.txt") == b"v2"
    with pytest.raises(NpaError) as missing:
        files.download(f"{folder}/other.txt")
    assert missing.value.status_code == 404


def test_copy_makes_a_new_file(nc: Client, folder: str) -> None:
    files = nc.files
    original = files.upload(f"{folder}/a.txt", b"same")
    copied = files.copy(f"{folder}/a.txt", f"{folder}/b.txt")
    assert copied.user_path == f"{folder}/b.txt"
    assert copied.file_id != original.file_id
    assert files.download(f"{folder}/b.txt") == b"same"


def test_delete(nc: Client, folder: str) -> None:
    files = nc.files
    files.mkdir(f"{folder}/gone")
    files.upload(f"{folder}/gone/x.txt", b"x")
    files.delete(f"{folder}/gone")
    assert files.listdir(folder) == []
    files.delete(f"{folder}/gone", not_fail=True)
    with pytest.raises(NpaError) as info:
        files.delete(f"{folder}/gone")
    assert info.value.status_code == 404


def test_by_id_and_find(nc: Client, folder: str) -> None:
    files = nc.files
    png = b"\x89PNG\r\n\x1a\n"
    image = files.upload(f"{folder}/cat.png", png)
    files.upload(f"{folder}/dog.PNG", png)
    files.mkdir(f"{folder}/deep")
    files.upload(f"{folder}/deep/bird.png", png)
    files.upload(f"{folder}/notes.txt", b"text")
    assert files.by_id(image.file_id).user_path == f"{folder}/cat.png"
    assert files.by_id(int(image.file_id[:8])).user_path == f"{folder}/cat.png"
    assert files.by_id(999_999) is None
    found = files.find(["like", "name", "%.png"], path=folder)
    assert sorted(node.name for node in found) == ["bird.png", "cat.png", "dog.PNG"]
    images = files.find(["and", "like", "mime", "image/%", "gt", "size", 1], path=folder)
    assert len(images) == 3
    assert files.find(["eq", "name", "notes.txt"], path=folder)[0].size == 4


def test_favorites_and_the_whole_tree(nc: Client, folder: str) -> None:
    files = nc.files
    files.makedirs(f"{folder}/a/b", exist_ok=True)
    files.upload(f"{folder}/a/b/deep.txt", b"deep")
    files.upload(f"{folder}/top.txt", b"top")
    files.setfav(f"{folder}/a/b/deep.txt", True)
    # depth=-1 sends Depth: infinity, which Nextcloud answers with the whole subtree.
    tree = files.listdir(folder, depth=-1)
    assert sorted(node.user_path for node in tree) == [
        f"{folder}/a/",
        f"{folder}/a/b/",
        f"{folder}/a/b/deep.txt",
        f"{folder}/top.txt",
    ]
    assert [node.name for node in tree if node.favorite] == ["deep.txt"]
    assert [node.name for node in files.find(["eq", "favorite", 1], path=folder)] == ["deep.txt"]
    files.setfav(f"{folder}/a/b/deep.txt", False)
    assert not any(node.favorite for node in files.listdir(folder, depth=-1))


def test_favorites_by_criteria(nc: Client, folder: str) -> None:
    files = nc.files
    files.upload(f"{folder}/liked.txt", b"like")
    files.upload(f"{folder}/other.txt", b"other")
    files.setfav(f"{folder}/liked.txt", True)
    found = [node.user_path for node in files.list_by_criteria(["favorite"])]
    assert [path for path in found if path.startswith(f"{folder}/")] == [f"{folder}/liked.txt"]


def test_system_tags(nc: Client, folder: str) -> None:
    files = nc.files
    files.upload(f"{folder}/tagged.txt", b"tagged")
    node = files.by_path(f"{folder}/tagged.txt")  # an upload's node has no fileid
    name = f"npa {folder}"
    files.create_tag(name)
    with pytest.raises(NpaError) as taken:
        files.create_tag(name.upper())
    assert taken.value.status_code == 409
    tag = files.tag_by_name(name)
    assert (tag.user_visible, tag.user_assignable) == (True, True)
    files.assign_tag(node.fileid, tag.tag_id)
    with pytest.raises(NpaError) as twice:
        files.assign_tag(node.fileid, tag.tag_id)
    assert twice.value.status_code == 409
    assert [found.tag_id for found in files.get_tags(node.fileid)] == [tag.tag_id]
    by_tag = files.list_by_criteria(tags=[tag.tag_id])
    assert [found.user_path for found in by_tag] == [f"{folder}/tagged.txt"]
    files.update_tag(tag.tag_id, name=f"{name} renamed")
    assert files.tag_by_name(f"{name} renamed").tag_id == tag.tag_id
    files.unassign_tag(node.fileid, tag.tag_id)
    assert files.get_tags(node.fileid) == []
    files.delete_tag(tag.tag_id)  # Alice is an admin
    assert tag.tag_id not in [found.tag_id for found in files.list_tags()]


def trashed(nc: Client, path: str) -> list[Node]:
    return [node for node in nc.files.trashbin_list() if node.trashbin_original_location == path]


def test_trash_bin(nc: Client, folder: str) -> None:
    files = nc.files
    files.upload(f"{folder}/old.txt", b"old")
    original = files.by_path(f"{folder}/old.txt")
    files.delete(f"{folder}/old.txt")
    [item] = trashed(nc, f"{folder}/old.txt")
    assert (item.trashbin_filename, item.fileid) == ("old.txt", original.fileid)
    files.trashbin_restore(item)
    assert files.by_path(f"{folder}/old.txt").file_id == original.file_id
    assert trashed(nc, f"{folder}/old.txt") == []
    files.delete(f"{folder}/old.txt")
    [item] = trashed(nc, f"{folder}/old.txt")
    files.trashbin_delete(item)
    assert trashed(nc, f"{folder}/old.txt") == []
    files.upload(f"{folder}/last.txt", b"last")
    files.delete(f"{folder}/last.txt")
    files.trashbin_cleanup()
    assert files.trashbin_list() == []


class Clock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_versions(driver: Driver, face: str) -> None:
    clock = Clock()
    with NextcloudSandbox(clock=clock) as sandbox:
        nc = Client(driver, face, sandbox.base_url, sandbox.user_id, sandbox.app_password)
        node = nc.files.upload("notes.txt", b"first")
        clock.now += 60
        nc.files.upload("notes.txt", b"second")
        versions = nc.files.get_versions(node)
        assert sorted(version.name for version in versions) == ["1700000000", "1700000060"]
        assert all(version.is_version for version in versions)
        [first] = [version for version in versions if version.name == "1700000000"]
        nc.files.restore_version(first)
        assert nc.files.download("notes.txt") == b"first"


def test_users(nc: Client, bob: Client) -> None:
    me = nc.users.get_user()
    assert (me.user_id, me.display_name, me.groups, me.language) == (
        "alice",
        "alice",
        ["admin"],
        "en",
    )
    other = nc.users.get_user("bob")  # Alice is an admin
    assert (other.user_id, other.enabled, other.groups) == ("bob", True, [])
    assert other.storage_location.endswith("/bob")
    with pytest.raises(NpaError) as hidden:
        bob.users.get_user("alice")
    assert (hidden.value.type_name, hidden.value.status_code) == ("NextcloudExceptionNotFound", 404)


@pytest.mark.parametrize("chunk_size", [5 * MiB, 64 * 1024], ids=["v2", "byte-ranges"])
def test_chunked_upload(nc: Client, folder: str, chunk_size: int) -> None:
    size = 11 * MiB if chunk_size == 5 * MiB else 256_000
    data = bytes(range(256)) * (size // 256)
    node = nc.files.upload_stream(f"{folder}/big.bin", Stream(data), chunk_size=chunk_size)
    assert node.user_path == f"{folder}/big.bin"
    assert nc.files.download(f"{folder}/big.bin") == data


def test_raw_ocs_calls_to_task_processing(nc: Client, sandbox: NextcloudSandbox) -> None:
    types = nc.ocs("GET", "/ocs/v2.php/taskprocessing/tasktypes")["types"]
    assert "core:text2text:summary" in types
    body = {"input": {"input": "One.\n\nTwo."}, "type": "core:text2text:summary", "appId": "npa"}
    task = nc.ocs("POST", "/ocs/v2.php/taskprocessing/schedule", json=body)["task"]
    assert task["status"] == "STATUS_SCHEDULED"
    sandbox.wait_for_status(task["id"], "SUCCESSFUL")
    done = nc.ocs("GET", f"/ocs/v1.php/taskprocessing/task/{task['id']}")["task"]
    assert done["status"] == "STATUS_SUCCESSFUL"
    assert done["output"]["output"]
    with pytest.raises(NpaError) as info:
        nc.ocs("GET", "/ocs/v2.php/taskprocessing/task/999999")
    assert info.value.status_code == 404


def test_another_users_files_stay_hidden(nc: Client, sandbox: NextcloudSandbox) -> None:
    secret = sandbox.upload("private.txt", b"bob's", user_id="bob")
    assert nc.files.by_id(secret) is None


@pytest.mark.parametrize("version", [30, 31, 32, 35])
def test_other_server_versions(driver: Driver, version: int) -> None:
    with NextcloudSandbox(server_version=version) as sandbox:
        nc = Client(driver, "async", sandbox.base_url, sandbox.user_id, sandbox.app_password)
        assert nc.get("srv_version")["major"] == version
        nc.files.upload("v.txt", b"v")
        assert [node.name for node in nc.files.listdir()] == ["v.txt"]
