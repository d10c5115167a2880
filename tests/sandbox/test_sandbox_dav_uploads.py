"""Chunked uploads below /remote.php/dav/uploads/<user>/ and file comments."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
S = "{http://sabredav.org/ns}"
FILES = "/remote.php/dav/files/alice"
UPLOADS = "/remote.php/dav/uploads/alice"


def _message(response: httpx.Response) -> str:
    return ET.fromstring(response.content).findtext(f"{S}message") or ""


def _target(sb: NextcloudSandbox, path: str) -> dict[str, str]:
    return {"Destination": f"{sb.base_url}{FILES}/{path}"}


def _upload(dav: httpx.Client, name: str, chunks: dict[str, bytes], **headers: str) -> None:
    assert dav.request("MKCOL", f"{UPLOADS}/{name}", headers=headers).status_code == 201
    for chunk, data in chunks.items():
        assert dav.put(f"{UPLOADS}/{name}/{chunk}", content=data).status_code == 201


def test_v2_chunked_upload(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("up/.keep", b"")
    target = _target(sb, "up/big.bin")
    _upload(dav, "web-1", {"2": b"world", "1": b"hello ", "10": b"!"}, **target)
    done = dav.request("MOVE", f"{UPLOADS}/web-1/.file", headers=target)
    assert done.status_code == 201
    assert done.headers["oc-fileid"].endswith("ocsandbox000")
    # Natural order of the names: 1, 2, 10; the gap from 3 to 9 is no concern on local storage.
    assert dav.get(f"{FILES}/up/big.bin").content == b"hello world!"
    assert dav.delete(f"{UPLOADS}/web-1").status_code == 404  # assembled uploads are gone


def test_byte_range_chunks_and_overwrite(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    file_id = sb.upload("up2/file.txt", b"old")
    _upload(
        dav,
        "ng-1",
        {"000000000000000-000000000000003": b"new", "000000000000003-000000000000005": b"er"},
    )
    done = dav.request("MOVE", f"{UPLOADS}/ng-1/.file", headers=_target(sb, "up2/file.txt"))
    assert done.status_code == 204
    assert done.headers["oc-fileid"] == f"{file_id:08d}ocsandbox000"
    assert dav.get(f"{FILES}/up2/file.txt").content == b"newer"


@pytest.mark.parametrize(
    ("name", "chunks", "joined"),
    [
        ("gap", {"3": b"c", "1": b"a"}, b"ac"),
        (
            "overlap",
            {"000000000000000-000000000000002": b"ab", "000000000000001-000000000000003": b"bc"},
            b"abbc",
        ),
        ("names", {"part-b": b"3", "part-a10": b"2", "part-a9": b"1"}, b"123"),
    ],
)
def test_chunks_join_in_natural_name_order_as_on_local_storage(
    sb: NextcloudSandbox, dav: httpx.Client, name: str, chunks: dict[str, bytes], joined: bytes
) -> None:
    sb.upload("up3/.keep", b"")
    _upload(dav, name, chunks)
    done = dav.request("MOVE", f"{UPLOADS}/{name}/.file", headers=_target(sb, f"up3/{name}.bin"))
    assert done.status_code == 201
    assert dav.get(f"{FILES}/up3/{name}.bin").content == joined


def test_destination_on_mkcol_is_ignored(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("up5/.keep", b"")
    _upload(dav, "elsewhere", {"1": b"data"}, **_target(sb, "up5/announced.bin"))
    done = dav.request("MOVE", f"{UPLOADS}/elsewhere/.file", headers=_target(sb, "up5/real.bin"))
    assert done.status_code == 201
    assert dav.get(f"{FILES}/up5/real.bin").content == b"data"
    assert dav.get(f"{FILES}/up5/announced.bin").status_code == 404


def test_wrong_total_length_stores_nothing(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("up3/file.txt", b"untouched")
    _upload(dav, "bad", {"1": b"abc"})
    target = {**_target(sb, "up3/file.txt"), "OC-Total-Length": "10"}
    response = dav.request("MOVE", f"{UPLOADS}/bad/.file", headers=target)
    assert response.status_code == 400
    assert _message(response) == "Chunks on server do not sum up to 10 but to 3 bytes"
    assert dav.get(f"{FILES}/up3/file.txt").content == b"untouched"
    assert dav.delete(f"{UPLOADS}/bad").status_code == 204


def test_the_final_move_applies_mtime_and_checksum(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("up6/.keep", b"")
    _upload(dav, "meta", {"1": b"chunked ", "2": b"content"})
    headers = {
        **_target(sb, "up6/meta.txt"),
        "X-OC-MTime": "1700000000",
        "OC-Checksum": "SHA1:0123abcd",
        "OC-Total-Length": "15",
    }
    done = dav.request("MOVE", f"{UPLOADS}/meta/.file", headers=headers)
    assert done.status_code == 201
    assert done.headers["x-oc-mtime"] == "accepted"
    assert done.headers["etag"] == done.headers["oc-etag"]
    got = dav.get(f"{FILES}/up6/meta.txt")
    assert got.content == b"chunked content"
    assert got.headers["oc-checksum"] == "SHA1:0123abcd"
    assert got.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_upload_folder_errors(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    assert dav.request("MKCOL", f"{UPLOADS}/twice").status_code == 201
    again = dav.request("MKCOL", f"{UPLOADS}/twice")
    assert again.status_code == 405
    assert _message(again) == "The resource you tried to create already exists"
    orphan = dav.put(f"{UPLOADS}/never/1", content=b"x")
    assert orphan.status_code == 409
    missing = dav.request("MOVE", f"{UPLOADS}/never/.file", headers=_target(sb, "x.bin"))
    assert missing.status_code == 404
    assert _message(missing) == "File with name //never could not be located"
    sb.upload("up4/dir/.keep", b"")
    onto_folder = dav.request("MOVE", f"{UPLOADS}/twice/.file", headers=_target(sb, "up4/dir"))
    assert onto_folder.status_code == 400
    assert _message(onto_folder) == "The given destination files/alice/up4/dir is a directory."
    assert dav.request("MKCOL", "/remote.php/dav/uploads/bob/x").status_code == 403
    # OPTIONS offers MKCOL only where no upload folder exists yet.
    assert dav.request("OPTIONS", f"{UPLOADS}/fresh").headers["allow"].endswith(", MKCOL")
    assert not dav.request("OPTIONS", f"{UPLOADS}/twice").headers["allow"].endswith(", MKCOL")
    assert dav.request("PROPFIND", f"{UPLOADS}/fresh").status_code == 404
    assert dav.request("PROPFIND", f"{UPLOADS}/twice/no-chunk").status_code == 404
    # Deleting the virtual .file deletes the whole upload (FutureFile::delete).
    assert dav.delete(f"{UPLOADS}/twice/.file").status_code == 204
    assert dav.request("PROPFIND", f"{UPLOADS}/twice").status_code == 404


# -- comments -------------------------------------------------------------------------------


def _comment(dav: httpx.Client, file_id: int, message: str, **extra: str) -> httpx.Response:
    body = {"actorType": "users", "verb": "comment", "message": message, **extra}
    return dav.post(
        f"/remote.php/dav/comments/files/{file_id}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )


REPORT = (
    '<?xml version="1.0"?><oc:filter-comments xmlns:D="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<oc:limit>{limit}</oc:limit><oc:offset>{offset}</oc:offset></oc:filter-comments>"
)


def test_comments_create_and_list(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    file_id = sb.upload("comments/photo.png", b"png")
    first = _comment(dav, file_id, "  A cat on a sofa.  ")
    assert first.status_code == 201
    location = first.headers["content-location"]
    assert location.startswith(f"/remote.php/dav/comments/files/{file_id}/")
    second = _comment(dav, file_id, "Second")
    report = dav.request(
        "REPORT",
        f"/remote.php/dav/comments/files/{file_id}",
        content=REPORT.format(limit=20, offset=0),
    )
    assert report.status_code == 207
    responses = ET.fromstring(report.content).findall(f"{DAV}response")
    assert [item.findtext(f"{DAV}href") for item in responses] == [
        second.headers["content-location"],
        location,
    ]
    prop = responses[1].find(f"{DAV}propstat/{DAV}prop")
    assert prop is not None
    assert prop.findtext(f"{OC}message") == "A cat on a sofa."
    assert prop.findtext(f"{OC}actorId") == "alice"
    assert prop.findtext(f"{OC}actorType") == "users"
    assert prop.findtext(f"{OC}verb") == "comment"
    assert prop.findtext(f"{OC}objectId") == str(file_id)
    assert (prop.findtext(f"{OC}creationDateTime") or "").endswith(" GMT")
    assert [child.tag.removeprefix(OC) for child in prop][:4] == [
        "id",
        "parentId",
        "topmostParentId",
        "childrenCount",
    ]
    paged = dav.request(
        "REPORT",
        f"/remote.php/dav/comments/files/{file_id}",
        content=REPORT.format(limit=1, offset=1),
    )
    assert len(ET.fromstring(paged.content).findall(f"{DAV}response")) == 1
    listing = dav.request(
        "PROPFIND", f"/remote.php/dav/comments/files/{file_id}", headers={"Depth": "1"}
    )
    assert len(ET.fromstring(listing.content).findall(f"{DAV}response")) == 3
    count = dav.request(
        "PROPFIND",
        f"{FILES}/comments/photo.png",
        content=b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
        b"<oc:comments-count/><oc:comments-href/></d:prop></d:propfind>",
    )
    assert ET.fromstring(count.content).findtext(f".//{OC}comments-count") == "2"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ({"actorType": "users", "verb": "comment", "message": "x" * 1001}, "application/json",
         400, "Message exceeds allowed character limit of 1000"),
        ({"actorType": "guests", "verb": "comment", "message": "x"}, "application/json",
         400, 'Invalid actor "guests"'),
        ({"actorType": "users", "verb": "", "message": "x"}, "application/json",
         400, "Invalid input values"),
        ({"actorType": "users", "verb": "comment", "message": "x"}, "text/plain", 415, ""),
    ],
)  # fmt: skip
def test_comment_errors(
    sb: NextcloudSandbox,
    dav: httpx.Client,
    body: dict[str, str],
    content_type: str,
    status: int,
    message: str,
) -> None:
    file_id = sb.upload("comments/bad.png", b"png")
    response = dav.post(
        f"/remote.php/dav/comments/files/{file_id}",
        content=json.dumps(body),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == status
    assert _message(response) == message


def test_comments_on_missing_or_foreign_files(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    bobs = sb.upload("secret.png", b"png", user_id="bob")
    for file_id in (bobs, 999_999):
        response = _comment(dav, file_id, "hi")
        assert response.status_code == 404
        assert _message(response) == "Entity does not exist or is not available"


def test_comments_go_away_with_their_file(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    file_id = sb.upload("comments/temp.png", b"png")
    assert _comment(dav, file_id, "soon gone").status_code == 201
    assert dav.delete(f"{FILES}/comments/temp.png").status_code == 204
    assert _comment(dav, file_id, "late").status_code == 404
