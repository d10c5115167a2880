"""WebDAV's HTTP side: ranges, conditional requests, HEAD, OPTIONS, Depth and the legacy root."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox

DAV = "{DAV:}"
S = "{http://sabredav.org/ns}"
FILES = "/remote.php/dav/files/alice"
LEGACY = "/remote.php/webdav"
DAV_FEATURES = (
    "1, 3, extended-mkcol, access-control, calendarserver-principal-property-search, "
    "nc-paginate, nextcloud-checksum-update, nc-calendar-search, nc-enable-birthday-calendar"
)
CORE_METHODS = "OPTIONS, GET, HEAD, DELETE, PROPFIND, PUT, PROPPATCH, COPY, MOVE, REPORT"
DUMMY = (
    b"This is the WebDAV interface. It can only be accessed by WebDAV clients such as the "
    b"Nextcloud desktop sync client."
)


def _error(response: httpx.Response) -> tuple[str, str, str | None]:
    """The exception, message and s:header of a Sabre error body."""
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    return (
        root.findtext(f"{S}exception") or "",
        root.findtext(f"{S}message") or "",
        root.findtext(f"{S}header"),
    )


def _hrefs(response: httpx.Response) -> list[str]:
    assert response.status_code == 207, response.text
    root = ET.fromstring(response.content)
    return [item.findtext(f"{DAV}href") or "" for item in root.findall(f"{DAV}response")]


# -- Range ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("BYTES=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-30", b"0123456789", "bytes 0-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=4-0", b"456789", "bytes 4-9/10"),  # an end of 0 counts as none
        ("bytes=-0", b"", "bytes 10-9/10"),
    ],
)
def test_a_single_range_is_a_206(
    dav: httpx.Client, header: str, body: bytes, content_range: str
) -> None:
    dav.put(f"{FILES}/digits.txt", content=b"0123456789")
    response = dav.get(f"{FILES}/digits.txt", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == body
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["etag"] == response.headers["oc-etag"]


@pytest.mark.parametrize(
    "header", ["bytes=0-1,4-5", "bytes=0-1, 4-5", "bytes = 0-1", "items=0-1", "bytes=-"]
)
def test_other_ranges_send_the_whole_file(dav: httpx.Client, header: str) -> None:
    dav.put(f"{FILES}/whole.txt", content=b"0123456789")
    response = dav.get(f"{FILES}/whole.txt", headers={"Range": header})
    assert (response.status_code, response.content) == (200, b"0123456789")
    assert "content-range" not in response.headers


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("bytes=10-", "The start offset (10) exceeded the size of the entity (10)"),
        ("bytes=6-3", "The end offset (3) is lower than the start offset (6)"),
    ],
)
def test_an_unsatisfiable_range_is_a_416(dav: httpx.Client, header: str, message: str) -> None:
    dav.put(f"{FILES}/short.txt", content=b"0123456789")
    etag = dav.get(f"{FILES}/short.txt").headers["etag"]
    response = dav.get(f"{FILES}/short.txt", headers={"Range": header})
    assert response.status_code == 416
    assert _error(response)[:2] == ("Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable", message)
    # Sabre sends no Content-Range here, but keeps the headers it had set before.
    assert "content-range" not in response.headers
    assert response.headers["etag"] == etag


def test_empty_files_and_if_range(dav: httpx.Client) -> None:
    dav.put(f"{FILES}/empty.txt", content=b"")
    empty = dav.get(f"{FILES}/empty.txt", headers={"Range": "bytes=0-5"})
    assert (empty.status_code, empty.content) == (200, b"")
    dav.put(f"{FILES}/ranged.txt", content=b"0123456789")
    etag = dav.get(f"{FILES}/ranged.txt").headers["etag"]
    same = dav.get(f"{FILES}/ranged.txt", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert (same.status_code, same.content) == (206, b"01")
    other = dav.get(f"{FILES}/ranged.txt", headers={"Range": "bytes=0-1", "If-Range": '"old"'})
    assert (other.status_code, other.content) == (200, b"0123456789")
    old_date = "Mon, 01 Jan 2001 00:00:00 GMT"
    older = dav.get(f"{FILES}/ranged.txt", headers={"Range": "bytes=0-1", "If-Range": old_date})
    assert older.status_code == 200


def test_head_with_a_range_hits_sabres_type_error(dav: httpx.Client) -> None:
    dav.put(f"{FILES}/head.txt", content=b"0123456789")
    plain = dav.head(f"{FILES}/head.txt")
    assert (plain.status_code, plain.headers["content-length"]) == (200, "10")
    ranged = dav.head(f"{FILES}/head.txt", headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 500
    assert ranged.headers["etag"] == plain.headers["etag"]
    # The range is checked before the failing seek, so an unsatisfiable one is still a 416.
    beyond = dav.head(f"{FILES}/head.txt", headers={"Range": "bytes=50-"})
    assert beyond.status_code == 416


def test_put_with_content_range_is_refused(dav: httpx.Client) -> None:
    response = dav.put(
        f"{FILES}/partial.txt", content=b"ab", headers={"Content-Range": "bytes 0-1/4"}
    )
    assert response.status_code == 400
    assert _error(response)[1] == "Content-Range on PUT requests are forbidden."
    assert dav.get(f"{FILES}/partial.txt").status_code == 404


# -- conditional requests -------------------------------------------------------------------


def test_if_match_allows_only_the_current_etag(dav: httpx.Client) -> None:
    etag = dav.put(f"{FILES}/locked.txt", content=b"v1").headers["etag"]
    updated = dav.put(f"{FILES}/locked.txt", content=b"v2", headers={"If-Match": f'"x", {etag}'})
    assert updated.status_code == 204
    stale = dav.put(f"{FILES}/locked.txt", content=b"v3", headers={"If-Match": etag})
    assert stale.status_code == 412
    assert _error(stale) == (
        "Sabre\\DAV\\Exception\\PreconditionFailed",
        "An If-Match header was specified, but none of the specified ETags matched.",
        "If-Match",
    )
    assert stale.headers["etag"] == updated.headers["etag"]
    assert dav.get(f"{FILES}/locked.txt").content == b"v2"
    weak = dav.get(f"{FILES}/locked.txt", headers={"If-Match": f"W/{updated.headers['etag']}"})
    assert weak.status_code == 412


def test_if_match_on_a_missing_file_or_a_folder(dav: httpx.Client) -> None:
    missing = dav.put(f"{FILES}/never.txt", content=b"x", headers={"If-Match": "*"})
    assert missing.status_code == 412
    assert _error(missing)[1] == "An If-Match header was specified and the resource did not exist"
    dav.request("MKCOL", f"{FILES}/cond-folder")
    folder_etag = ET.fromstring(
        dav.request("PROPFIND", f"{FILES}/cond-folder", headers={"Depth": "0"}).content
    ).findtext(f".//{DAV}getetag")
    assert folder_etag
    # A collection never matches a list of tags, whatever its etag; "*" only needs it to exist.
    refused = dav.request("PROPFIND", f"{FILES}/cond-folder", headers={"If-Match": folder_etag})
    assert refused.status_code == 412
    assert "etag" not in refused.headers
    allowed = dav.request("PROPFIND", f"{FILES}/cond-folder", headers={"If-Match": "*"})
    assert allowed.status_code == 207


def test_if_none_match_star_makes_put_create_only(dav: httpx.Client) -> None:
    created = dav.put(f"{FILES}/once.txt", content=b"first", headers={"If-None-Match": "*"})
    assert created.status_code == 201
    again = dav.put(f"{FILES}/once.txt", content=b"second", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert _error(again)[1:] == (
        "An If-None-Match header was specified, but the ETag matched (or * was specified).",
        "If-None-Match",
    )
    assert dav.get(f"{FILES}/once.txt").content == b"first"


def test_if_none_match_answers_304_to_get_only(dav: httpx.Client) -> None:
    etag = dav.put(f"{FILES}/cached.txt", content=b"c").headers["etag"]
    cached = dav.get(f"{FILES}/cached.txt", headers={"If-None-Match": f'"other", {etag}'})
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["etag"] == etag
    assert "oc-etag" not in cached.headers  # a 304 leaves before afterMethod
    star = dav.get(f"{FILES}/cached.txt", headers={"If-None-Match": "*"})
    assert star.status_code == 304
    assert "etag" not in star.headers  # Sabre reads the etag only to compare a list
    # HEAD reaches the check as HEAD, not GET: a 412.
    assert dav.head(f"{FILES}/cached.txt", headers={"If-None-Match": etag}).status_code == 412
    changed = dav.get(f"{FILES}/cached.txt", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


@pytest.mark.parametrize("method", ["DELETE", "MOVE", "COPY"])
def test_a_stale_etag_stops_delete_move_and_copy(dav: httpx.Client, method: str) -> None:
    etag = dav.put(f"{FILES}/kept-{method}.txt", content=b"k").headers["etag"]
    dav.put(f"{FILES}/kept-{method}.txt", content=b"kept")
    response = dav.request(
        method,
        f"{FILES}/kept-{method}.txt",
        headers={"If-Match": etag, "Destination": f"{FILES}/target-{method}.txt"},
    )
    assert response.status_code == 412
    assert dav.get(f"{FILES}/kept-{method}.txt").content == b"kept"
    assert dav.get(f"{FILES}/target-{method}.txt").status_code == 404


def test_modified_and_unmodified_since(dav: httpx.Client) -> None:
    dav.put(f"{FILES}/dates.txt", content=b"d", headers={"X-OC-MTime": "1700000000"})
    later, earlier = "Wed, 15 Nov 2023 00:00:00 GMT", "Mon, 13 Nov 2023 00:00:00 GMT"
    fresh = dav.get(f"{FILES}/dates.txt", headers={"If-Modified-Since": later})
    assert fresh.status_code == 304
    assert fresh.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    # Sabre answers 304 to any method here, so even this PUT writes nothing.
    put = dav.put(f"{FILES}/dates.txt", content=b"new", headers={"If-Modified-Since": later})
    assert put.status_code == 304
    assert dav.get(f"{FILES}/dates.txt").content == b"d"
    assert dav.get(f"{FILES}/dates.txt", headers={"If-Modified-Since": earlier}).status_code == 200
    refused = dav.put(f"{FILES}/dates.txt", content=b"x", headers={"If-Unmodified-Since": earlier})
    assert refused.status_code == 412
    assert _error(refused)[2] == "If-Unmodified-Since"
    missing = dav.get(f"{FILES}/no-dates.txt", headers={"If-Modified-Since": later})
    assert missing.status_code == 404


# -- HEAD, GET and OPTIONS on collections ---------------------------------------------------


@pytest.mark.parametrize(
    "path", [f"{FILES}/", "/remote.php/dav/", "/remote.php/dav/files", f"{LEGACY}/"]
)
def test_get_and_head_of_a_collection_are_the_dummy_answer(dav: httpx.Client, path: str) -> None:
    got = dav.get(path)
    assert (got.status_code, got.content) == (200, DUMMY)
    head = dav.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert {"etag", "last-modified", "oc-etag"}.isdisjoint(head.headers)


def test_options(dav: httpx.Client) -> None:
    dav.put(f"{FILES}/opt.txt", content=b"o")
    expected = [
        (f"{FILES}/opt.txt", f"{CORE_METHODS}, PATCH"),
        (f"{FILES}/", CORE_METHODS),
        (f"{FILES}/not-yet", f"{CORE_METHODS}, MKCOL"),
        ("/remote.php/dav/", f"{CORE_METHODS}, SEARCH"),
        ("/remote.php/dav/uploads/alice/", CORE_METHODS),
    ]
    for path, allow in expected:
        response = dav.request("OPTIONS", path)
        assert response.status_code == 200
        assert response.headers["allow"] == allow, path
        assert response.headers["dav"] == DAV_FEATURES
        assert response.headers["ms-author-via"] == "DAV"
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-length"] == "0"
        assert ("dasl" in response.headers) == path.endswith("/dav/")
    assert dav.request("OPTIONS", "/remote.php/dav/").headers["dasl"] == "<DAV:basicsearch>"


# -- PROPFIND Depth -------------------------------------------------------------------------


def test_depth_infinity_lists_the_whole_tree(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    for path in ("tree/b.txt", "tree/a/deep/c.txt", "tree/a/x.txt", "tree/z/.keep"):
        sb.upload(path, b"t")
    base = f"{FILES}/tree/"
    everything = [
        base,
        f"{base}a/",
        f"{base}a/deep/",
        f"{base}a/deep/c.txt",
        f"{base}a/x.txt",
        f"{base}b.txt",
        f"{base}z/",
        f"{base}z/.keep",
    ]
    infinity = dav.request("PROPFIND", base, headers={"Depth": "infinity"})
    assert _hrefs(infinity) == everything
    assert infinity.headers["dav"] == DAV_FEATURES
    assert infinity.headers["vary"] == "Brief,Prefer"
    two = dav.request("PROPFIND", base, headers={"Depth": "2"})
    assert _hrefs(two) == [href for href in everything if href != f"{base}a/deep/c.txt"]
    for depth in ("Infinity", "one", None):
        headers = {} if depth is None else {"Depth": depth}
        listed = _hrefs(dav.request("PROPFIND", base, headers=headers))
        assert listed == [base, f"{base}a/", f"{base}b.txt", f"{base}z/"], depth


def test_prefer_minimal_drops_missing_properties(dav: httpx.Client) -> None:
    dav.put(f"{FILES}/minimal.txt", content=b"m")
    body = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:nothing/></d:prop></d:propfind>'
    full = dav.request("PROPFIND", f"{FILES}/minimal.txt", content=body)
    assert len(ET.fromstring(full.content).findall(f".//{DAV}propstat")) == 2
    minimal = dav.request(
        "PROPFIND", f"{FILES}/minimal.txt", content=body, headers={"Prefer": "return=minimal"}
    )
    (propstat,) = ET.fromstring(minimal.content).findall(f".//{DAV}propstat")
    assert propstat.findtext(f"{DAV}status") == "HTTP/1.1 200 OK"


# -- /remote.php/webdav ---------------------------------------------------------------------


def test_the_legacy_root_is_the_users_files(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    file_id = sb.upload("legacy/doc.txt", b"legacy")
    assert dav.get(f"{LEGACY}/legacy/doc.txt").content == b"legacy"
    listing = dav.request("PROPFIND", f"{LEGACY}/legacy", headers={"Depth": "1"})
    assert _hrefs(listing) == [f"{LEGACY}/legacy/", f"{LEGACY}/legacy/doc.txt"]
    assert listing.headers["dav"] == "1, 3, extended-mkcol, nextcloud-checksum-update"
    put = dav.put(f"{LEGACY}/legacy/new.txt", content=b"n", headers={"OC-Checksum": "MD5:1"})
    assert put.status_code == 201
    assert dav.get(f"{FILES}/legacy/new.txt").headers["oc-checksum"] == "MD5:1"
    moved = dav.request(
        "MOVE", f"{LEGACY}/legacy/doc.txt", headers={"Destination": f"{LEGACY}/legacy/moved.txt"}
    )
    assert moved.status_code == 201
    assert moved.headers["oc-fileid"] == f"{file_id:08d}ocsandbox000"
    assert dav.get(f"{FILES}/legacy/moved.txt").content == b"legacy"
    elsewhere = dav.request(
        "MOVE", f"{LEGACY}/legacy/moved.txt", headers={"Destination": f"{FILES}/legacy/x.txt"}
    )
    assert elsewhere.status_code == 403
    assert _error(elsewhere)[1] == (
        f"Requested uri ({FILES}/legacy/x.txt) is out of base uri ({LEGACY}/)"
    )
    options = dav.request("OPTIONS", f"{LEGACY}/legacy/moved.txt")
    assert options.headers["allow"] == f"{CORE_METHODS}, PATCH"
    assert options.headers["dav"] == "1, 3, extended-mkcol, nextcloud-checksum-update"
    search = dav.request("SEARCH", f"{LEGACY}/", headers={"Content-Type": "text/xml"})
    assert search.status_code == 501
    assert httpx.get(f"{sb.base_url}{LEGACY}/legacy/moved.txt").status_code == 401
