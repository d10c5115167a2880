"""System tags over WebDAV: creating, listing, changing, assigning, and filtering files by tag."""

from __future__ import annotations

import re
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

TAGS = "/remote.php/dav/systemtags"
TAG_PROPS = ("oc:id", "oc:display-name", "oc:user-visible", "oc:user-assignable", "oc:can-assign")


@pytest.fixture
def alice(admin_sandbox: NextcloudSandbox) -> Iterator[httpx.Client]:
    with dav_client(admin_sandbox, "alice") as client:
        yield client


@pytest.fixture
def bob(admin_sandbox: NextcloudSandbox) -> Iterator[httpx.Client]:
    with dav_client(admin_sandbox, "bob") as client:
        yield client


def create(client: httpx.Client, name: str, **flags: object) -> int:
    response = client.post("/systemtags", json={"name": name, **flags})
    assert response.status_code == 201, response.text
    location = response.headers["content-location"]
    assert location.startswith(f"{TAGS}/")
    return int(location.rpartition("/")[2])


def listed(client: httpx.Client) -> dict[str, dict[str, str]]:
    """The tags a PROPFIND of systemtags/ lists, by name, with their properties."""
    response = client.request(
        "PROPFIND", "/systemtags/", content=propfind_body(*TAG_PROPS), headers={"Depth": "1"}
    )
    tags = {}
    for href, entry in dav_responses(response).items():
        props = found(entry)
        if href == f"{TAGS}/":
            assert props == {}  # the collection has none of these properties
            continue
        assert href == f"{TAGS}/{props[f'{OC_NS}id']}"
        tags[props[f"{OC_NS}display-name"]] = props
    return tags


def test_a_user_creates_a_tag_and_lists_it(alice: httpx.Client) -> None:
    tag_id = create(alice, "reviewed")
    assert listed(alice)["reviewed"] == {
        f"{OC_NS}id": str(tag_id),
        f"{OC_NS}display-name": "reviewed",
        f"{OC_NS}user-visible": "true",
        f"{OC_NS}user-assignable": "true",
        f"{OC_NS}can-assign": "true",
    }
    one = alice.request("PROPFIND", f"/systemtags/{tag_id}", headers={"Depth": "0"})
    [(href, entry)] = dav_responses(one).items()
    assert href == f"{TAGS}/{tag_id}"
    etag = found(entry)[f"{DAV_NS}getetag"]
    assert re.fullmatch('"[0-9a-f]{32}"', etag)


def test_creating_refuses_a_taken_name_in_any_case_and_bad_bodies(alice: httpx.Client) -> None:
    create(alice, "Invoice")
    taken = alice.post("/systemtags", json={"name": "INVOICE"})
    assert (taken.status_code, dav_error(taken)[1]) == (409, "Tag already exists")
    nameless = alice.post("/systemtags", json={"userVisible": True})
    assert (nameless.status_code, dav_error(nameless)[1]) == (400, 'Missing "name" attribute')
    form = alice.post("/systemtags", data={"name": "x"})
    assert form.status_code == 415
    hidden = alice.post("/systemtags", json={"name": "secret", "userVisible": False})
    assert (hidden.status_code, dav_error(hidden)[1]) == (400, "Not sufficient permissions")
    broken = alice.post("/systemtags", content=b"{", headers={"Content-Type": "application/json"})
    assert (broken.status_code, dav_error(broken)) == (500, ("JsonException", "Syntax error"))


def test_only_admins_see_hidden_tags_and_delete_tags(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    hidden = create(bob, "internal", userVisible=False)
    shared = create(alice, "to-delete")
    assert "internal" not in listed(alice)
    assert listed(bob)["internal"][f"{OC_NS}user-visible"] == "false"
    unseen = alice.request("PROPFIND", f"/systemtags/{hidden}", headers={"Depth": "0"})
    assert (unseen.status_code, dav_error(unseen)[1]) == (404, f"Tag with id {hidden} not found")
    refused = alice.delete(f"/systemtags/{shared}")
    assert refused.status_code == 403
    assert dav_error(refused)[1] == f"No permission to delete tag {shared}"
    assert bob.delete(f"/systemtags/{shared}").status_code == 204
    assert "to-delete" not in listed(bob)
    kept = create(alice, "kept")
    groups = alice.request(
        "PROPFIND",
        f"/systemtags/{kept}",
        content=propfind_body("oc:groups"),
        headers={"Depth": "0"},
    )
    assert groups.status_code == 403  # only admins may ask for oc:groups
    assert alice.request("PROPFIND", "/systemtags/abc").status_code == 400


def proppatch(client: httpx.Client, tag_id: int, props: str) -> httpx.Response:
    body = (
        '<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        f"<d:set><d:prop>{props}</d:prop></d:set></d:propertyupdate>"
    )
    return client.request("PROPPATCH", f"/systemtags/{tag_id}", content=body)


def test_a_user_may_rename_a_tag_but_not_change_its_flags(alice: httpx.Client) -> None:
    tag_id = create(alice, "drafts")
    create(alice, "finals")
    renamed = proppatch(alice, tag_id, "<oc:display-name>draft copies</oc:display-name>")
    [entry] = dav_responses(renamed).values()
    assert f"{OC_NS}display-name" in found(entry)
    assert "draft copies" in listed(alice)
    flags = proppatch(alice, tag_id, "<oc:user-assignable>false</oc:user-assignable>")
    assert flags.status_code == 403
    assert dav_error(flags)[1] == f"No permission to update permissions for tag {tag_id}"
    clash = proppatch(alice, tag_id, "<oc:display-name>Finals</oc:display-name>")
    assert clash.status_code == 409
    assert dav_error(clash)[1] == 'Tag with the properties "Finals", 1, 1 already exists'


def test_assigning_and_removing_a_tag(admin_sandbox: NextcloudSandbox, alice: httpx.Client) -> None:
    file_id = admin_sandbox.upload("tagged/photo.png", b"png", user_id="alice")
    tag_id = create(alice, "holiday")
    relation = f"/systemtags-relations/files/{file_id}/{tag_id}"
    assert alice.put(relation).status_code == 201
    again = alice.put(relation)
    assert (again.status_code, dav_error(again)[1]) == (409, "PUT is not allowed on non-files.")
    listing = alice.request(
        "PROPFIND",
        f"/systemtags-relations/files/{file_id}/",
        content=propfind_body("oc:id", "oc:display-name"),
        headers={"Depth": "1"},
    )
    entries = dav_responses(listing)
    props = found(entries[f"/remote.php/dav/systemtags-relations/files/{file_id}/{tag_id}"])
    assert props == {f"{OC_NS}id": str(tag_id), f"{OC_NS}display-name": "holiday"}
    on_file = alice.request(
        "PROPFIND", "/files/alice/tagged/photo.png", content=propfind_body("nc:system-tags")
    )
    [entry] = dav_responses(on_file).values()
    prop = entry.find(f"{DAV_NS}propstat/{DAV_NS}prop/{NC_NS}system-tags")
    assert prop is not None
    [tag] = list(prop)
    assert (tag.text, tag.get(f"{OC_NS}id"), tag.get(f"{OC_NS}can-assign")) == (
        "holiday",
        str(tag_id),
        "true",
    )
    assert alice.delete(relation).status_code == 204
    gone = alice.delete(relation)
    assert gone.status_code == 404
    assert dav_error(gone)[1] == f"Tag with id {tag_id} not present for object {file_id}"


def test_assigning_needs_a_visible_tag_and_the_users_own_file(
    admin_sandbox: NextcloudSandbox, alice: httpx.Client, bob: httpx.Client
) -> None:
    mine = admin_sandbox.upload("assign/mine.txt", b"m", user_id="alice")
    theirs = admin_sandbox.upload("assign/theirs.txt", b"t", user_id="bob")
    hidden = create(bob, "bob-only", userVisible=False)
    unknown = alice.put(f"/systemtags-relations/files/{mine}/999")
    assert unknown.status_code == 412
    assert dav_error(unknown)[1] == "Tag with id 999 does not exist, cannot assign"
    assert alice.put(f"/systemtags-relations/files/{mine}/{hidden}").status_code == 412
    foreign = alice.put(f"/systemtags-relations/files/{theirs}/{hidden}")
    assert foreign.status_code == 404
    assert dav_error(foreign)[1] == "Entity does not exist or is not available"
    assert alice.put(f"/systemtags-relations/files/{mine}/abc").status_code == 400
    assert bob.put(f"/systemtags-relations/files/{theirs}/{hidden}").status_code == 201
    listing = alice.request("PROPFIND", "/systemtags-relations/files/", headers={"Depth": "1"})
    assert listing.status_code == 405


def test_posting_to_a_files_relations_creates_and_assigns(
    admin_sandbox: NextcloudSandbox, alice: httpx.Client
) -> None:
    file_id = admin_sandbox.upload("post/a.txt", b"a", user_id="alice")
    response = alice.post(f"/systemtags-relations/files/{file_id}", json={"name": "posted"})
    assert response.status_code == 201
    tag_id = response.headers["content-location"].removeprefix(f"{TAGS}/")
    assert alice.put(f"/systemtags-relations/files/{file_id}/{tag_id}").status_code == 409


def report(client: httpx.Client, path: str, rules: str) -> httpx.Response:
    body = (
        '<oc:filter-files xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        "<d:prop><oc:fileid/><d:getcontentlength/></d:prop>"
        f"<oc:filter-rules>{rules}</oc:filter-rules></oc:filter-files>"
    )
    return client.request("REPORT", path, content=body)


def test_filter_files_by_tags_and_favorites(
    admin_sandbox: NextcloudSandbox, alice: httpx.Client
) -> None:
    inside = admin_sandbox.upload("filter/in/a.txt", b"aa", user_id="alice")
    outside = admin_sandbox.upload("filter/out/b.txt", b"b", user_id="alice")
    tag_id = create(alice, "filtered")
    for file_id in (inside, outside):
        assert alice.put(f"/systemtags-relations/files/{file_id}/{tag_id}").status_code == 201
    favorite = (
        '<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop>'
        "<oc:favorite>1</oc:favorite></d:prop></d:set></d:propertyupdate>"
    )
    assert alice.request("PROPPATCH", "/files/alice/filter/in/a.txt", content=favorite)

    # Tagged files come from the whole home, whatever folder the report is on.
    tagged = report(alice, "/files/alice/filter/in", f"<oc:systemtag>{tag_id}</oc:systemtag>")
    entries = dav_responses(tagged)
    assert set(entries) == {
        "/remote.php/dav/files/alice/filter/in/a.txt",
        "/remote.php/dav/files/alice/filter/out/b.txt",
    }
    entry = entries["/remote.php/dav/files/alice/filter/in/a.txt"]
    assert entry[0].tag == f"{DAV_NS}status"  # FilesReportPlugin gives each response a status
    assert found(entry) == {f"{OC_NS}fileid": str(inside), f"{DAV_NS}getcontentlength": "2"}

    # Favourites stay in the folder; with a tag rule too, the answer is the intersection.
    both = report(
        alice,
        "/files/alice/filter",
        f"<oc:favorite>1</oc:favorite><oc:systemtag>{tag_id}</oc:systemtag>",
    )
    assert list(dav_responses(both)) == ["/remote.php/dav/files/alice/filter/in/a.txt"]
    elsewhere = report(alice, "/files/alice/filter/out", "<oc:favorite>1</oc:favorite>")
    assert dav_responses(elsewhere) == {}


def test_filter_files_errors(admin_sandbox: NextcloudSandbox, alice: httpx.Client) -> None:
    admin_sandbox.upload("errors/file.txt", b"f", user_id="alice")
    unknown = report(alice, "/files/alice", "<oc:systemtag>4242</oc:systemtag>")
    assert (unknown.status_code, dav_error(unknown)[1]) == (
        412,
        "Cannot filter by non-existing tag",
    )
    empty = report(alice, "/files/alice", "")
    assert (empty.status_code, dav_error(empty)[1]) == (
        400,
        "Missing filter-rule block in request",
    )
    on_file = report(alice, "/files/alice/errors/file.txt", "<oc:favorite>1</oc:favorite>")
    assert on_file.status_code == 415
    missing = report(alice, "/files/alice/nowhere", "<oc:favorite>1</oc:favorite>")
    assert missing.status_code == 404
