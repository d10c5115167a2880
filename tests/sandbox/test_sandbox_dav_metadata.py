"""WebDAV file metadata: checksums, modification and creation times, and PROPPATCH."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"
S = "{http://sabredav.org/ns}"
NAMESPACES = (
    'xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns" '
    'xmlns:x="urn:example"'
)
MTIME = 1_700_000_000
MTIME_HTTP = "Tue, 14 Nov 2023 22:13:20 GMT"


@pytest.fixture
def dav(sb: NextcloudSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sb.base_url}/remote.php/dav/files/alice",
        auth=("alice", sb.app_password_of("alice")),
        timeout=5,
    ) as client:
        yield client


def _error(response: httpx.Response) -> tuple[str, str]:
    root = ET.fromstring(response.content)
    return root.findtext(f"{S}exception") or "", root.findtext(f"{S}message") or ""


def _propfind(dav: httpx.Client, path: str, *props: str) -> ET.Element:
    """The single d:response of a Depth 0 PROPFIND for the given properties."""
    body = f"<d:propfind {NAMESPACES}><d:prop>{''.join(props)}</d:prop></d:propfind>"
    response = dav.request("PROPFIND", path, content=body, headers={"Depth": "0"})
    assert response.status_code == 207, response.text
    (entry,) = ET.fromstring(response.content).findall(f"{DAV}response")
    return entry


def _found(entry: ET.Element) -> ET.Element:
    """The d:prop of the 200 propstat (empty when nothing was found)."""
    for propstat in entry.findall(f"{DAV}propstat"):
        if propstat.findtext(f"{DAV}status") == "HTTP/1.1 200 OK":
            prop = propstat.find(f"{DAV}prop")
            assert prop is not None
            return prop
    return ET.Element("empty")


def _proppatch(dav: httpx.Client, path: str, body: str, **headers: str) -> httpx.Response:
    return dav.request(
        "PROPPATCH",
        path,
        content=f"<d:propertyupdate {NAMESPACES}>{body}</d:propertyupdate>",
        headers=headers,
    )


def _statuses(response: httpx.Response) -> dict[str, str]:
    """Each property of a PROPPATCH answer (Clark notation) with its status line."""
    assert response.status_code == 207, response.text
    (entry,) = ET.fromstring(response.content).findall(f"{DAV}response")
    return {
        prop.tag: propstat.findtext(f"{DAV}status") or ""
        for propstat in entry.findall(f"{DAV}propstat")
        for prop in propstat.findall(f"{DAV}prop/*")
    }


# -- checksums ------------------------------------------------------------------------------


def test_put_stores_the_checksum_that_get_head_and_propfind_return(dav: httpx.Client) -> None:
    put = dav.put("/sum.txt", content=b"data", headers={"OC-Checksum": "SHA1:abc,MD5:def"})
    assert put.status_code == 201
    assert "oc-checksum" not in put.headers  # only downloads carry it
    assert dav.get("/sum.txt").headers["oc-checksum"] == "SHA1:abc,MD5:def"
    assert dav.head("/sum.txt").headers["oc-checksum"] == "SHA1:abc,MD5:def"
    checksums = _found(_propfind(dav, "/sum.txt", "<oc:checksums/>")).find(f"{OC}checksums")
    assert checksums is not None
    assert [item.text for item in checksums] == ["SHA1:abc", "MD5:def"]


def test_rewriting_a_file_without_a_checksum_drops_the_stored_one(dav: httpx.Client) -> None:
    dav.put("/stale.txt", content=b"one", headers={"OC-Checksum": "SHA1:one"})
    assert dav.put("/stale.txt", content=b"two").status_code == 204
    assert "oc-checksum" not in dav.get("/stale.txt").headers
    entry = _propfind(dav, "/stale.txt", "<oc:checksums/>")
    assert entry.findtext(f"{DAV}propstat/{DAV}status") == "HTTP/1.1 404 Not Found"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("sha1", "SHA1:" + hashlib.sha1(b"payload").hexdigest()),
        ("MD5", "MD5:" + hashlib.md5(b"payload").hexdigest()),
        ("sha256", "SHA256:" + hashlib.sha256(b"payload").hexdigest()),
        ("adler32", f"ADLER32:{zlib.adler32(b'payload'):08x}"),
        ("crc32b", f"CRC32B:{zlib.crc32(b'payload'):08x}"),
    ],
)
def test_patch_recalculates_and_stores_the_checksum(
    dav: httpx.Client, algorithm: str, expected: str
) -> None:
    dav.put("/hashed.bin", content=b"payload", headers={"OC-Checksum": "SHA1:client-sent"})
    response = dav.request("PATCH", "/hashed.bin", headers={"X-Recalculate-Hash": algorithm})
    assert response.status_code == 204
    assert response.headers["oc-checksum"] == expected
    assert response.headers["content-length"] == "0"
    assert dav.get("/hashed.bin").headers["oc-checksum"] == expected


def test_patch_refuses_unknown_algorithms_and_folders(dav: httpx.Client) -> None:
    dav.put("/plain.txt", content=b"x")
    unknown = dav.request("PATCH", "/plain.txt", headers={"X-Recalculate-Hash": "nohash"})
    assert unknown.status_code == 500
    assert _error(unknown) == (
        "ValueError",
        "hash_file(): Argument #1 ($algo) must be a valid hashing algorithm",
    )
    assert "oc-checksum" not in dav.get("/plain.txt").headers
    dav.request("MKCOL", "/patch-folder")
    folder = dav.request("PATCH", "/patch-folder", headers={"X-Recalculate-Hash": "sha1"})
    assert folder.status_code == 501
    assert _error(folder)[0] == "Sabre\\DAV\\Exception\\NotImplemented"


def test_x_hash_answers_the_content_hashes(dav: httpx.Client) -> None:
    response = dav.put("/hash-me.txt", content=b"hash me", headers={"X-HASH": "all"})
    assert response.headers["x-hash-md5"] == hashlib.md5(b"hash me").hexdigest()
    assert response.headers["x-hash-sha1"] == hashlib.sha1(b"hash me").hexdigest()
    assert response.headers["x-hash-sha256"] == hashlib.sha256(b"hash me").hexdigest()
    only_md5 = dav.put("/hash-me.txt", content=b"again", headers={"X-HASH": "md5"})
    assert "x-hash-md5" in only_md5.headers
    assert "x-hash-sha1" not in only_md5.headers


# -- modification and creation times ---------------------------------------------------------


def test_x_oc_mtime_sets_the_modification_time(dav: httpx.Client) -> None:
    response = dav.put("/dated.txt", content=b"d", headers={"X-OC-MTime": f"{MTIME}.9"})
    assert response.status_code == 201
    assert response.headers["x-oc-mtime"] == "accepted"
    assert dav.get("/dated.txt").headers["last-modified"] == MTIME_HTTP
    prop = _found(_propfind(dav, "/dated.txt", "<d:getlastmodified/>"))
    assert prop.findtext(f"{DAV}getlastmodified") == MTIME_HTTP


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0x6553f100", 'X-OC-MTime header must be a valid integer (unix timestamp), got "0x6553f100".'),
        ("yesterday", 'X-OC-MTime header must be a valid integer (unix timestamp), got "yesterday".'),
        ("86400", 'X-OC-MTime header must be a valid positive unix timestamp greater than one day, '
         'got "86400".'),
    ],
)  # fmt: skip
def test_a_bad_mtime_fails_after_the_content_was_written(
    dav: httpx.Client, value: str, message: str
) -> None:
    dav.put("/bad-mtime.txt", content=b"before")
    response = dav.put("/bad-mtime.txt", content=b"after", headers={"X-OC-MTime": value})
    assert response.status_code == 500
    assert "x-oc-mtime" not in response.headers
    assert _error(response) == ("InvalidArgumentException", message)
    assert dav.get("/bad-mtime.txt").content == b"after"


def test_x_oc_ctime_sets_the_creation_time(dav: httpx.Client) -> None:
    response = dav.put("/born.txt", content=b"b", headers={"X-OC-CTime": str(MTIME)})
    assert response.headers["x-oc-ctime"] == "accepted"
    prop = _found(_propfind(dav, "/born.txt", "<nc:creation_time/>", "<d:creationdate/>"))
    assert prop.findtext(f"{NC}creation_time") == str(MTIME)
    assert prop.findtext(f"{DAV}creationdate") == "2023-11-14T22:13:20+00:00"


# -- PROPPATCH ------------------------------------------------------------------------------


def test_proppatch_lastmodified_touches_the_file(dav: httpx.Client) -> None:
    dav.put("/touched.txt", content=b"t", headers={"OC-Checksum": "SHA1:old"})
    etag = dav.get("/touched.txt").headers["etag"]
    body = f"<d:set><d:prop><d:lastmodified>{MTIME}</d:lastmodified></d:prop></d:set>"
    response = _proppatch(dav, "/touched.txt", body)
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert _statuses(response) == {f"{DAV}lastmodified": "HTTP/1.1 200 OK"}
    assert ET.fromstring(response.content).findtext(f"{DAV}response/{DAV}href") == (
        "/remote.php/dav/files/alice/touched.txt"
    )
    got = dav.get("/touched.txt")
    assert got.headers["last-modified"] == MTIME_HTTP
    assert got.headers["etag"] != etag
    # The scan after the touch sees a changed file and drops its checksum.
    assert "oc-checksum" not in got.headers
    minimal = _proppatch(dav, "/touched.txt", body, Prefer="return=minimal")
    assert minimal.status_code == 204
    assert minimal.content == b""


def test_a_protected_property_fails_the_whole_proppatch(dav: httpx.Client) -> None:
    dav.put("/guarded.txt", content=b"g")
    before = dav.get("/guarded.txt").headers["last-modified"]
    body = (
        "<d:set><d:prop><x:color>red</x:color><d:lastmodified>1700000000</d:lastmodified>"
        "<d:getlastmodified>Tue, 14 Nov 2023 22:13:20 GMT</d:getlastmodified></d:prop></d:set>"
    )
    response = _proppatch(dav, "/guarded.txt", body, Prefer="return=minimal")
    assert _statuses(response) == {
        f"{DAV}getlastmodified": "HTTP/1.1 403 Forbidden",
        f"{DAV}lastmodified": "HTTP/1.1 424 Failed Dependency",
        "{urn:example}color": "HTTP/1.1 424 Failed Dependency",
    }
    assert dav.get("/guarded.txt").headers["last-modified"] == before
    entry = _propfind(dav, "/guarded.txt", "<x:color/>")
    assert entry.findtext(f"{DAV}propstat/{DAV}status") == "HTTP/1.1 404 Not Found"


@pytest.mark.parametrize(
    ("prop", "value"),
    [("d:lastmodified", ""), ("nc:creation_time", "0"), ("d:displayname", "renamed.txt")],
)
def test_empty_values_and_displayname_are_refused(dav: httpx.Client, prop: str, value: str) -> None:
    dav.put("/refuse.txt", content=b"r")
    body = f"<d:set><d:prop><{prop}>{value}</{prop}><oc:favorite>1</oc:favorite></d:prop></d:set>"
    statuses = _statuses(_proppatch(dav, "/refuse.txt", body))
    assert list(statuses.values()) == ["HTTP/1.1 403 Forbidden", "HTTP/1.1 424 Failed Dependency"]
    assert _found(_propfind(dav, "/refuse.txt", "<oc:favorite/>")).findtext(f"{OC}favorite") == "0"


def test_an_unreadable_lastmodified_is_a_500(dav: httpx.Client) -> None:
    dav.put("/unreadable.txt", content=b"u")
    body = "<d:set><d:prop><d:lastmodified>Tue, 14 Nov 2023</d:lastmodified></d:prop></d:set>"
    response = _proppatch(dav, "/unreadable.txt", body)
    assert response.status_code == 500
    assert _error(response)[0] == "InvalidArgumentException"


def test_favorite_etag_and_creation_time(dav: httpx.Client) -> None:
    dav.put("/fav.txt", content=b"f")
    body = (
        "<d:set><d:prop><oc:favorite>true</oc:favorite><d:getetag>chosen-etag</d:getetag>"
        "<d:creationdate>2023-11-14T22:13:20Z</d:creationdate></d:prop></d:set>"
    )
    assert set(_statuses(_proppatch(dav, "/fav.txt", body)).values()) == {"HTTP/1.1 200 OK"}
    prop = _found(_propfind(dav, "/fav.txt", "<oc:favorite/>", "<nc:creation_time/>"))
    assert prop.findtext(f"{OC}favorite") == "1"
    assert prop.findtext(f"{NC}creation_time") == str(MTIME)
    assert dav.get("/fav.txt").headers["etag"] == '"chosen-etag"'
    removed = _proppatch(dav, "/fav.txt", "<d:remove><d:prop><oc:favorite/></d:prop></d:remove>")
    assert _statuses(removed) == {f"{OC}favorite": "HTTP/1.1 204 No Content"}
    assert _found(_propfind(dav, "/fav.txt", "<oc:favorite/>")).findtext(f"{OC}favorite") == "0"


def test_other_properties_are_kept_as_dead_properties(dav: httpx.Client) -> None:
    dav.request("MKCOL", "/dead")
    body = "<d:set><d:prop><x:color>red &amp; blue</x:color></d:prop></d:set>"
    assert _statuses(_proppatch(dav, "/dead", body)) == {"{urn:example}color": "HTTP/1.1 200 OK"}
    moved = dav.request(
        "MOVE", "/dead", headers={"Destination": "/remote.php/dav/files/alice/dead-moved"}
    )
    assert moved.status_code == 201
    prop = _found(_propfind(dav, "/dead-moved", "<x:color/>"))
    assert prop.findtext("{urn:example}color") == "red & blue"
    removed = _proppatch(dav, "/dead-moved", "<d:remove><d:prop><x:color/></d:prop></d:remove>")
    assert _statuses(removed) == {"{urn:example}color": "HTTP/1.1 204 No Content"}
    entry = _propfind(dav, "/dead-moved", "<x:color/>")
    assert entry.findtext(f"{DAV}propstat/{DAV}status") == "HTTP/1.1 404 Not Found"


def test_proppatch_needs_a_propertyupdate_and_an_existing_node(dav: httpx.Client) -> None:
    malformed = dav.request("PROPPATCH", "/", content=b"<d:propfind xmlns:d='DAV:'/>")
    assert malformed.status_code == 400
    assert _error(malformed)[0] == "Sabre\\DAV\\Exception\\BadRequest"
    body = "<d:set><d:prop><oc:favorite>1</oc:favorite></d:prop></d:set>"
    assert _proppatch(dav, "/no-such-file.txt", body).status_code == 404
