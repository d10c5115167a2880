"""WebDAV as clients use it: SEARCH, MOVE, COPY, unknown paths and ``..``, with Sabre's answers."""

from __future__ import annotations

import base64
import http.client
import xml.etree.ElementTree as ET

import httpx
import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
S = "{http://sabredav.org/ns}"
FILES = "/remote.php/dav/files/alice"


def _error(response: httpx.Response) -> tuple[str, str]:
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{DAV}error"
    return root.findtext(f"{S}exception") or "", root.findtext(f"{S}message") or ""


def _search(where: str, scope: str = "/files/alice/", select: str = "<d:displayname/>") -> str:
    return (
        '<?xml version="1.0"?><d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        f"<d:basicsearch><d:select><d:prop>{select}</d:prop></d:select>"
        f"<d:from><d:scope><d:href>{scope}</d:href><d:depth>infinity</d:depth></d:scope></d:from>"
        f"<d:where>{where}</d:where></d:basicsearch></d:searchrequest>"
    )


def _hrefs(response: httpx.Response) -> list[str]:
    assert response.status_code == 207, response.text
    root = ET.fromstring(response.content)
    return [item.findtext(f"{DAV}href") or "" for item in root.findall(f"{DAV}response")]


def _send_search(dav: httpx.Client, body: str, content_type: str = "text/xml") -> httpx.Response:
    return dav.request(
        "SEARCH", "/remote.php/dav/", content=body, headers={"Content-Type": content_type}
    )


# -- SEARCH -------------------------------------------------------------------------------


def test_search_by_name_mime_and_id(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    cat = sb.upload("search/cat.PNG", b"png")
    sb.upload("search/sub/dog.png", b"png")
    sb.upload("search/notes.txt", b"text")
    like = "<d:like><d:prop><d:displayname/></d:prop><d:literal>%.png</d:literal></d:like>"
    found = _hrefs(_send_search(dav, _search(like, "/files/alice/search")))
    assert found == [f"{FILES}/search/cat.PNG", f"{FILES}/search/sub/dog.png"]
    mime = "<d:eq><d:prop><d:getcontenttype/></d:prop><d:literal>text/plain</d:literal></d:eq>"
    assert _hrefs(_send_search(dav, _search(mime, "/files/alice/search"))) == [
        f"{FILES}/search/notes.txt"
    ]
    by_id = (
        f"<d:eq><d:prop><oc:fileid/></d:prop><d:literal>{cat:08d}ocsandbox000</d:literal></d:eq>"
    )
    response = _send_search(dav, _search(by_id, select="<oc:fileid/><oc:size/><d:getetag/>"))
    assert _hrefs(response) == [f"{FILES}/search/cat.PNG"]
    assert response.headers["content-type"] == 'application/xml; charset="utf-8"'
    prop = ET.fromstring(response.content).find(f"{DAV}response/{DAV}propstat/{DAV}prop")
    assert prop is not None
    assert prop.findtext(f"{OC}fileid") == str(cat)
    assert prop.findtext(f"{OC}size") == "3"


def test_search_combines_orders_and_limits(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("combo/a.txt", b"1")
    sb.upload("combo/b.txt", b"333")
    sb.upload("combo/c.md", b"22")
    where = (
        "<d:or><d:gt><d:prop><oc:size/></d:prop><d:literal>1</d:literal></d:gt>"
        "<d:not><d:is-collection/></d:not></d:or>"
    )
    body = _search(where, "/files/alice/combo").replace(
        "</d:where>",
        "</d:where><d:orderby><d:order><d:prop><oc:size/></d:prop><d:descending/></d:order>"
        "</d:orderby><d:limit><d:nresults>2</d:nresults></d:limit>",
    )
    assert _hrefs(_send_search(dav, body)) == [f"{FILES}/combo/b.txt", f"{FILES}/combo/c.md"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<d:searchrequest", "Parse error: "),
        ('<x:other xmlns:x="urn:x"/>', "Unexpected document type: {urn:x}other"),
        ('<d:searchrequest xmlns:d="DAV:"/>', "Unexpected xml content for searchrequest"),
        (
            '<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:prop/></d:select>'
            "</d:basicsearch></d:searchrequest>",
            "Parse error: Missing {DAV:}where from {DAV:}basicsearch",
        ),
        (
            _search("<d:eq><d:prop><d:owner/></d:prop><d:literal>x</d:literal></d:eq>"),
            "Unsupported property for search or order: {DAV:}owner",
        ),
    ],
)
def test_search_refuses_bad_bodies(dav: httpx.Client, body: str, message: str) -> None:
    response = _send_search(dav, body)
    assert response.status_code == 400
    assert response.text.startswith(message)


def test_search_needs_an_xml_body_and_the_root(dav: httpx.Client) -> None:
    response = _send_search(dav, _search(""), content_type="application/json")
    assert response.status_code == 501
    assert _error(response) == (
        "Sabre\\DAV\\Exception\\NotImplemented",
        "There was no plugin in the system that was willing to handle this SEARCH method.",
    )
    elsewhere = dav.request("SEARCH", f"{FILES}/", content=_search(""))
    assert elsewhere.status_code == 501


def test_search_scope_must_exist(dav: httpx.Client) -> None:
    response = _send_search(dav, _search("", "/files/alice/nowhere"))
    assert response.status_code == 404
    assert _error(response)[1] == "File with name //nowhere could not be located"


# -- MOVE and COPY --------------------------------------------------------------------------


def _to(sb: NextcloudSandbox, path: str) -> dict[str, str]:
    return {"Destination": f"{sb.base_url}{FILES}/{path}"}


def test_move_and_copy(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    moved_id = sb.upload("mc/a.txt", b"a")
    sb.upload("mc/folder/inner.txt", b"i")
    response = dav.request("MOVE", f"{FILES}/mc/a.txt", headers=_to(sb, "mc/b.txt"))
    assert response.status_code == 201
    assert response.headers["oc-fileid"] == f"{moved_id:08d}ocsandbox000"
    assert dav.get(f"{FILES}/mc/a.txt").status_code == 404
    copy = dav.request("COPY", f"{FILES}/mc/folder", headers=_to(sb, "mc/copy"))
    assert copy.status_code == 201
    assert copy.headers["oc-fileid"] != dav.request("PROPFIND", f"{FILES}/mc/folder").headers.get(
        "oc-fileid"
    )
    assert dav.get(f"{FILES}/mc/copy/inner.txt").content == b"i"
    overwrite = dav.request(
        "MOVE", f"{FILES}/mc/b.txt", headers={**_to(sb, "mc/copy/inner.txt"), "Overwrite": "T"}
    )
    assert overwrite.status_code == 204
    assert dav.get(f"{FILES}/mc/copy/inner.txt").content == b"a"


@pytest.mark.parametrize(
    ("source", "headers", "status", "exception", "message"),
    [
        ("mc2/a.txt", {}, 400, "BadRequest", "The destination header was not supplied"),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/alice/mc2/z.txt", "Overwrite": "maybe"},
            400,
            "BadRequest",
            "The HTTP Overwrite header should be either T or F",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/elsewhere/z.txt"},
            403,
            "Forbidden",
            "Requested uri (/elsewhere/z.txt) is out of base uri (/remote.php/dav/)",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/alice/missing/z.txt"},
            409,
            "Conflict",
            "The destination node is not found",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/alice/mc2/b.txt/z.txt"},
            415,
            "UnsupportedMediaType",
            "The destination node is not a collection",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/alice/mc2/b.txt", "Overwrite": "F"},
            412,
            "PreconditionFailed",
            "The destination node already exists, and the overwrite header is set to false",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/alice/mc2/a.txt"},
            403,
            "Forbidden",
            "Source and destination uri are identical.",
        ),
        (
            "mc2",
            {"Destination": "/remote.php/dav/files/alice/mc2/inside"},
            409,
            "Conflict",
            "The destination may not be part of the same subtree as the source path.",
        ),
        (
            "mc2/nothing.txt",
            {"Destination": "/remote.php/dav/files/alice/mc2/z.txt"},
            404,
            "NotFound",
            "File with name /mc2/nothing.txt could not be located",
        ),
        (
            "mc2/a.txt",
            {"Destination": "/remote.php/dav/files/bob/z.txt"},
            403,
            "Forbidden",
            "Permission denied",
        ),
    ],
)
def test_move_errors_change_nothing(
    sb: NextcloudSandbox,
    dav: httpx.Client,
    source: str,
    headers: dict[str, str],
    status: int,
    exception: str,
    message: str,
) -> None:
    sb.upload("mc2/a.txt", b"a")
    sb.upload("mc2/b.txt", b"b")
    response = dav.request("MOVE", f"{FILES}/{source}", headers=headers)
    assert response.status_code == status
    assert _error(response) == (f"Sabre\\DAV\\Exception\\{exception}", message)
    assert dav.get(f"{FILES}/mc2/a.txt").content == b"a"
    assert dav.get(f"{FILES}/mc2/b.txt").content == b"b"


def test_move_onto_an_existing_file_without_overwrite_names_the_header(
    sb: NextcloudSandbox, dav: httpx.Client
) -> None:
    sb.upload("ow/a.txt", b"a")
    sb.upload("ow/b.txt", b"b")
    response = dav.request(
        "MOVE", f"{FILES}/ow/a.txt", headers={**_to(sb, "ow/b.txt"), "Overwrite": "F"}
    )
    assert response.status_code == 412
    header = ET.fromstring(response.content).findtext(f"{S}header")
    assert header == "Overwrite"


# -- unknown paths and dot segments ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/remote.php/dav/nothing", "File not found: nothing in 'root'"),
        ("/remote.php/dav/files/carol/x", "Principal with name carol not found"),
        (f"{FILES}/missing.txt", "File with name //missing.txt could not be located"),
        (f"{FILES}/no/such/file", "File with name //no could not be located"),
        (f"{FILES}/%2E%2E/bob/x", "File with name //.. could not be located"),
    ],
)
def test_unknown_paths_get_sabre_404s(dav: httpx.Client, path: str, message: str) -> None:
    response = dav.get(path)
    assert response.status_code == 404
    assert _error(response) == ("Sabre\\DAV\\Exception\\NotFound", message)


def _raw_get(sb: NextcloudSandbox, raw_path: str) -> tuple[int, bytes]:
    """GET a path exactly as written: httpx would resolve its dot segments itself."""
    connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    token = base64.b64encode(f"alice:{sb.app_password_of('alice')}".encode()).decode()
    try:
        connection.request("GET", raw_path, headers={"Authorization": f"Basic {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_literal_dot_segments_are_resolved_as_sabre_does(sb: NextcloudSandbox) -> None:
    sb.upload("dots/a.txt", b"a")
    assert _raw_get(sb, f"{FILES}/dots/x/../a.txt") == (200, b"a")
    status, body = _raw_get(sb, "/remote.php/dav/files/../../secret")
    assert status == 403
    message = ET.fromstring(body).findtext(f"{S}message")
    assert message == "Requested uri (/remote.php/secret) is out of base uri (/remote.php/dav/)"


def test_a_dot_dot_name_stores_nothing(sb: NextcloudSandbox, dav: httpx.Client) -> None:
    sb.upload("dd/keep.txt", b"k")
    put = dav.put(f"{FILES}/dd/%2E%2E", content=b"x")
    assert put.status_code == 400
    assert _error(put) == (
        "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath",
        "Dot files are not allowed",
    )
    nested = dav.put(f"{FILES}/dd/%2E%2E/escape.txt", content=b"x")
    assert nested.status_code == 409
    assert dav.request("MKCOL", f"{FILES}/dd/%2E%2E").status_code == 400
    listing = dav.request("PROPFIND", f"{FILES}/dd", headers={"Depth": "1"})
    assert _hrefs(listing) == [f"{FILES}/dd/", f"{FILES}/dd/keep.txt"]


def test_malformed_propfind_is_a_400(dav: httpx.Client) -> None:
    response = dav.request("PROPFIND", f"{FILES}/", content=b"<d:propfind xmlns:d='DAV:'>")
    assert response.status_code == 400
    assert _error(response)[0] == "Sabre\\DAV\\Exception\\BadRequest"
