"""WebDAV below /remote.php/dav/files/<user>/."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"


@pytest.fixture
def dav(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sb.base_url}/remote.php/dav/files/alice",
        auth=("alice", sb.app_password_of("alice")),
        timeout=5,
    ) as client:
        yield client


def _exception(response: httpx.Response) -> str:
    error = ET.fromstring(response.content)
    exception = error.findtext("{http://sabredav.org/ns}exception")
    assert exception is not None
    return exception


def test_put_get_overwrite(dav: httpx.Client) -> None:
    created = dav.put("/dav-put.txt", content=b"one")
    assert created.status_code == 201
    file_id = created.headers["oc-fileid"]
    assert file_id.endswith("ocsandbox000")
    assert created.headers["etag"].startswith('"')
    overwritten = dav.put("/dav-put.txt", content=b"two")
    assert overwritten.status_code == 204
    assert overwritten.headers["oc-fileid"] == file_id
    got = dav.get("/dav-put.txt")
    assert (got.status_code, got.content) == (200, b"two")
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["etag"] == overwritten.headers["etag"]


def test_put_needs_existing_parent(dav: httpx.Client) -> None:
    response = dav.put("/missing-folder/file.txt", content=b"x")
    assert response.status_code == 409
    assert _exception(response) == "Sabre\\DAV\\Exception\\Conflict"


def test_mkcol(dav: httpx.Client) -> None:
    assert dav.request("MKCOL", "/dav-folder").status_code == 201
    again = dav.request("MKCOL", "/dav-folder")
    assert again.status_code == 405
    assert _exception(again) == "Sabre\\DAV\\Exception\\MethodNotAllowed"
    assert dav.request("MKCOL", "/no/such/parent").status_code == 409
    assert dav.put("/dav-folder/inside.txt", content=b"in").status_code == 201
    assert dav.put("/dav-folder", content=b"x").status_code == 409


def test_delete(dav: httpx.Client) -> None:
    dav.request("MKCOL", "/dav-trash")
    dav.put("/dav-trash/a.txt", content=b"a")
    assert dav.delete("/dav-trash").status_code == 204
    missing = dav.get("/dav-trash/a.txt")
    assert missing.status_code == 404
    assert _exception(missing) == "Sabre\\DAV\\Exception\\NotFound"
    assert dav.delete("/dav-trash").status_code == 404


def test_propfind_requested_properties(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    file_id = sb.upload("props/photo.png", b"\x89PNG\r\n\x1a\nrest")
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        "<d:prop><oc:fileid/><d:getcontentlength/><d:getcontenttype/><d:resourcetype/>"
        "<d:getetag/><d:getlastmodified/><oc:size/><d:displayname/><oc:no-such-prop/>"
        "</d:prop></d:propfind>"
    )
    response = dav.request("PROPFIND", "/props/photo.png", content=body, headers={"Depth": "0"})
    assert response.status_code == 207
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    (entry,) = ET.fromstring(response.content).findall(f"{DAV}response")
    assert entry.findtext(f"{DAV}href") == "/remote.php/dav/files/alice/props/photo.png"
    found, missing = entry.findall(f"{DAV}propstat")
    assert found.findtext(f"{DAV}status") == "HTTP/1.1 200 OK"
    prop = found.find(f"{DAV}prop")
    assert prop is not None
    assert prop.findtext(f"{OC}fileid") == str(file_id)
    assert prop.findtext(f"{DAV}getcontentlength") == "12"
    assert prop.findtext(f"{OC}size") == "12"
    assert prop.findtext(f"{DAV}getcontenttype") == "image/png"
    assert prop.findtext(f"{DAV}displayname") == "photo.png"
    assert (prop.findtext(f"{DAV}getetag") or "").startswith('"')
    assert (prop.findtext(f"{DAV}getlastmodified") or "").endswith(" GMT")
    resource_type = prop.find(f"{DAV}resourcetype")
    assert resource_type is not None
    assert list(resource_type) == []
    assert missing.findtext(f"{DAV}status") == "HTTP/1.1 404 Not Found"
    assert missing.find(f"{DAV}prop/{OC}no-such-prop") is not None


def test_propfind_depth_one_lists_children(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("listing/b.txt", b"bb")
    sb.upload("listing/a.txt", b"a")
    sb.upload("listing/sub/c.txt", b"ccc")
    response = dav.request("PROPFIND", "/listing", headers={"Depth": "1"})
    entries = ET.fromstring(response.content).findall(f"{DAV}response")
    hrefs = [entry.findtext(f"{DAV}href") for entry in entries]
    base = "/remote.php/dav/files/alice/listing/"
    assert hrefs == [base, base + "a.txt", base + "b.txt", base + "sub/"]
    folder_props = entries[0].find(f"{DAV}propstat/{DAV}prop")
    assert folder_props is not None
    assert folder_props.find(f"{DAV}resourcetype/{DAV}collection") is not None
    assert folder_props.findtext(f"{DAV}quota-used-bytes") == "6"


def test_propfind_missing(dav: httpx.Client) -> None:
    assert dav.request("PROPFIND", "/nothing-here", headers={"Depth": "0"}).status_code == 404


def test_authentication_required(sb: NextcloudSandbox) -> None:
    url = f"{sb.base_url}/remote.php/dav/files/alice/"
    for auth in (None, ("alice", "wrong")):
        response = httpx.request("PROPFIND", url, auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="Nextcloud", charset="UTF-8"'
        assert _exception(response) == "Sabre\\DAV\\Exception\\NotAuthenticated"


def test_other_users_home(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("private.txt", b"bob's", user_id="bob")
    bob_home = f"{sb.base_url}/remote.php/dav/files/bob"
    auth = ("alice", sb.app_password_of("alice"))
    assert httpx.get(f"{bob_home}/private.txt", auth=auth).status_code == 404
    assert httpx.put(f"{bob_home}/x.txt", auth=auth, content=b"x").status_code == 403
    listing = httpx.request("PROPFIND", f"{bob_home}/", auth=auth, headers={"Depth": "1"})
    assert listing.status_code == 207
    assert len(ET.fromstring(listing.content).findall(f"{DAV}response")) == 1


def test_large_upload_is_streamed(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    data = bytes(range(256)) * 40_000  # about 10 MB, sent in chunks

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]

    created = dav.put("/big.bin", content=chunks())
    assert created.status_code == 201
    got = dav.get("/big.bin")
    assert got.content == data
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["content-type"] == "application/octet-stream"
    [logged] = sb.requests_to("PUT", r"/big\.bin$")
    assert logged.body == b""  # uploads are not kept in the request log


def test_folder_ids(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    made = dav.request("MKCOL", "/ids")
    file_id = sb.upload("ids/inner.txt", b"x")
    body = (
        '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        "<d:prop><oc:fileid/></d:prop></d:propfind>"
    )
    response = dav.request("PROPFIND", "/ids", content=body, headers={"Depth": "1"})
    found = [
        (entry.findtext(f"{DAV}href"), entry.findtext(f"{DAV}propstat/{DAV}prop/{OC}fileid"))
        for entry in ET.fromstring(response.content).findall(f"{DAV}response")
    ]
    folder_id = int(made.headers["oc-fileid"][:8])
    base = "/remote.php/dav/files/alice/ids/"
    assert found == [(base, str(folder_id)), (base + "inner.txt", str(file_id))]
    missing = dav.request("PROPFIND", "/ids/nothing", content=body, headers={"Depth": "0"})
    assert missing.status_code == 404
    assert _exception(missing) == "Sabre\\DAV\\Exception\\NotFound"


def test_line_feed_in_file_name(dav: httpx.Client) -> None:
    assert dav.put("/line%0Afeed.txt", content=b"lf").status_code == 201
    response = dav.get("/line%0Afeed.txt")
    assert response.content == b"lf"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''line%0Afeed.txt; filename=\"line%0Afeed.txt\""
    )
