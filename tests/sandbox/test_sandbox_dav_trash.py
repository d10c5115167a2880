"""The trash bin over WebDAV: deleting into it, listing, downloading, restoring, emptying."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import (
    DAV_NS,
    NC_NS,
    OC_NS,
    dav_client,
    dav_error,
    dav_responses,
    found,
    propfind_body,
)

from prefect_nextcloud.sandbox import NextcloudSandbox

TRASH = "/remote.php/dav/trashbin/alice/trash"
TRASH_PROPS = (
    "nc:trashbin-filename",
    "nc:trashbin-original-location",
    "nc:trashbin-deletion-time",
    "oc:fileid",
    "d:getetag",
)


@pytest.fixture
def dav(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    with dav_client(sb, "alice") as client:
        yield client


def trash(dav: httpx.Client, path: str = "/trashbin/alice/trash") -> dict[str, dict[str, str]]:
    """What a Depth 1 PROPFIND below the trash bin lists, by href (without the trash prefix)."""
    response = dav.request(
        "PROPFIND", path, content=propfind_body(*TRASH_PROPS), headers={"Depth": "1"}
    )
    return {
        href.removeprefix(TRASH): found(entry) for href, entry in dav_responses(response).items()
    }


def delete(dav: httpx.Client, path: str) -> str:
    """Delete a file or folder; its name in the trash bin."""
    assert dav.delete(f"/files/alice/{path}").status_code == 204
    name = path.rpartition("/")[2]
    [entry] = [entry for entry in trash(dav) if entry.startswith(f"/{name}.d")]
    return entry.lstrip("/").rstrip("/")


def restore(dav: httpx.Client, name: str, **headers: str) -> httpx.Response:
    destination = f"{dav.base_url}/trashbin/alice/restore/{name}"
    return dav.request(
        "MOVE", f"/trashbin/alice/trash/{name}", headers={"Destination": destination, **headers}
    )


def file_id(dav: httpx.Client, path: str) -> int | None:
    response = dav.request("PROPFIND", f"/files/alice/{path}", content=propfind_body("oc:fileid"))
    if response.status_code == 404:
        return None
    [entry] = dav_responses(response).values()
    return int(found(entry)[f"{OC_NS}fileid"])


def test_a_deleted_file_is_listed_with_where_it_was(
    sb: NextcloudSandbox, dav: httpx.Client
) -> None:
    original = sb.upload("Docs/report.pdf", b"%PDF-1.4 report", user_id="alice")
    name = delete(dav, "Docs/report.pdf")
    deleted_at = name.rpartition(".d")[2]
    assert trash(dav)[f"/{name}"] == {
        f"{NC_NS}trashbin-filename": "report.pdf",
        f"{NC_NS}trashbin-original-location": "Docs/report.pdf",
        f"{NC_NS}trashbin-deletion-time": deleted_at,
        f"{OC_NS}fileid": str(original),
        f"{DAV_NS}getetag": deleted_at,
    }
    assert file_id(dav, "Docs/report.pdf") is None
    download = dav.get(f"/trashbin/alice/trash/{name}")
    assert download.content == b"%PDF-1.4 report"
    assert download.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert download.headers["etag"] == deleted_at


def test_restoring_puts_the_file_back_with_its_id(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    original = sb.upload("Keep/notes.txt", b"first", user_id="alice")
    name = delete(dav, "Keep/notes.txt")
    assert restore(dav, name).status_code == 201
    assert file_id(dav, "Keep/notes.txt") == original
    assert f"/{name}" not in trash(dav)

    # A file of that name has come meanwhile: the restored one is renamed.
    name = delete(dav, "Keep/notes.txt")
    sb.upload("Keep/notes.txt", b"second", user_id="alice")
    assert restore(dav, name).status_code == 201
    assert file_id(dav, "Keep/notes (restored).txt") == original

    # Its folder is gone: it comes back to the home folder.
    name = delete(dav, "Keep/notes (restored).txt")
    assert dav.delete("/files/alice/Keep").status_code == 204
    assert restore(dav, name).status_code == 201
    assert file_id(dav, "notes (restored).txt") == original


def test_restore_refuses_overwrite_false_and_other_folders(
    sb: NextcloudSandbox, dav: httpx.Client
) -> None:
    sb.upload("overwrite.txt", b"o", user_id="alice")
    name = delete(dav, "overwrite.txt")
    # restore/ answers PHP's null for any child, which Sabre takes for an existing node.
    refused = restore(dav, name, Overwrite="F")
    assert (refused.status_code, dav_error(refused)[0]) == (
        412,
        "Sabre\\DAV\\Exception\\PreconditionFailed",
    )
    nowhere = dav.request(
        "MOVE",
        f"/trashbin/alice/trash/{name}",
        headers={"Destination": f"{dav.base_url}/trashbin/alice/nowhere/x"},
    )
    assert nowhere.status_code == 409


def test_a_deleted_folder_keeps_what_it_held(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    inner = sb.upload("Album/2024/beach.png", b"png", user_id="alice")
    name = delete(dav, "Album")
    assert name.startswith("Album.d")
    below = trash(dav, f"/trashbin/alice/trash/{name}/2024")
    assert below[f"/{name}/2024/beach.png"][f"{NC_NS}trashbin-original-location"] == (
        "Album/2024/beach.png"
    )
    assert restore(dav, name).status_code == 201
    assert file_id(dav, "Album/2024/beach.png") == inner


def test_deleting_from_the_trash_bin_and_emptying_it(
    sb: NextcloudSandbox, dav: httpx.Client
) -> None:
    sb.upload("gone/one.txt", b"1", user_id="alice")
    sb.upload("gone/two.txt", b"2", user_id="alice")
    one = delete(dav, "gone/one.txt")
    delete(dav, "gone/two.txt")
    assert dav.delete(f"/trashbin/alice/trash/{one}").status_code == 204
    assert dav.get(f"/trashbin/alice/trash/{one}").status_code == 404
    assert dav.delete("/trashbin/alice/trash").status_code == 204
    assert list(trash(dav)) == ["/"]


def test_only_the_users_own_trash_bin(dav: httpx.Client) -> None:
    foreign = dav.request("PROPFIND", "/trashbin/bob/trash")
    assert (foreign.status_code, dav_error(foreign)[1]) == (403, "")
    unknown = dav.request("PROPFIND", "/trashbin/carol/trash")
    assert unknown.status_code == 404
