"""``REPORT`` ``oc:filter-files`` on a folder: a user's favourites and files with system tags.

The body names the properties to return (``d:prop``), the rules (``oc:filter-rules``:
``oc:favorite``, whose mere presence asks for favourites, and any number of ``oc:systemtag``
ids, all of which a file must carry) and optionally a page (``d:limit`` with ``d:nresults``
and ``nc:firstresult``). The answer is a 207 multistatus with one response per file, each
with a ``d:status`` of 200 before its href (no trailing slash, even for folders).

As ``FilesReportPlugin`` does it: the favourites are the user's, kept only when in the target
folder (or the folder itself), while tagged files come from the whole home; with both rules the
answer is their intersection, but when no file carries the tags and favourites exist, it is all
the favourites. A favourite rule on a user without favourites is ignored. Paging applies to the
favourites before they are narrowed to the folder and to each tag's files, so a page may hold
more or fewer files than asked. Errors: an empty body or one that is not XML is a 500
(sabre/xml's exception), another report, or a file as the target, 415; no rules 400; a tag that
does not exist or the user cannot see (or a tag id given twice) 412 ``Cannot filter by
non-existing tag``; a tag id that is not a number a 500. Sources: Nextcloud's
``apps/dav/lib/Connector/Sabre/FilesReportPlugin.php``, ``SystemTagManager::getTagsByIds``;
sabre/dav ``lib/DAV/CorePlugin.php`` (``httpReport``) and ``lib/DAV/Xml/Element/Response.php``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from prefect_nextcloud.sandbox.http.phpcompat import is_numeric, to_int
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.storage.tags import can_see
from prefect_nextcloud.sandbox.webdav import sabre_xml
from prefect_nextcloud.sandbox.webdav.sabre_xml import DAV, NEXTCLOUD, OWNCLOUD, DavError

__all__ = ["FilterQuery", "filter_query", "matching_nodes", "parse_report", "report_not_supported"]

_FILTER_FILES = f"{{{OWNCLOUD}}}filter-files"


@dataclass(frozen=True)
class FilterQuery:
    """What an ``oc:filter-files`` report asks for.

    Attributes:
        requested: The properties to return.
        favorite: Whether the rules ask for favourites.
        tag_ids: The ``oc:systemtag`` rules as sent.
        limit: ``d:nresults``, if given.
        offset: ``nc:firstresult``, if given.
    """

    requested: list[tuple[str, str]]
    favorite: bool
    tag_ids: list[str]
    limit: int | None
    offset: int | None


def report_not_supported() -> DavError:
    """Sabre's ``ReportNotSupported``: no plugin answers this report here."""
    return DavError(415, "ReportNotSupported", "", extra="  <d:supported-report/>\n")


def parse_report(body: bytes) -> ET.Element:
    """Read a ``REPORT`` body as sabre/xml does before any plugin sees it.

    Raises:
        DavError: 500 for an empty body or one that is not XML.
    """
    if not body.strip():
        raise DavError(
            500,
            "Sabre\\Xml\\ParseException",
            "The input element to parse is empty. Do not attempt to parse",
        )
    try:
        return sabre_xml.parse_xml(body)
    except ET.ParseError as error:
        raise DavError(500, "Sabre\\Xml\\LibXMLException", str(error)) from None


def filter_query(report: ET.Element) -> FilterQuery:
    """The query of an ``oc:filter-files`` report.

    Raises:
        DavError: 415 for another report, 400 without filter rules.
    """
    if report.tag != _FILTER_FILES:
        raise report_not_supported()
    rules = report.find(f"{{{OWNCLOUD}}}filter-rules")
    if rules is None or len(rules) == 0:
        # An empty filter would return every file, which FilesReportPlugin refuses.
        raise DavError(400, "BadRequest", "Missing filter-rule block in request")
    prop = report.find(f"{{{DAV}}}prop")
    limit = report.find(f"{{{DAV}}}limit")
    nresults = None if limit is None else limit.findtext(f"{{{DAV}}}nresults")
    first = None if limit is None else limit.findtext(f"{{{NEXTCLOUD}}}firstresult")
    return FilterQuery(
        requested=[] if prop is None else [sabre_xml.split_tag(element.tag) for element in prop],
        favorite=rules.find(f"{{{OWNCLOUD}}}favorite") is not None,
        tag_ids=[(rule.text or "") for rule in rules.iterfind(f"{{{OWNCLOUD}}}systemtag")],
        limit=None if nresults is None else to_int(nresults),
        offset=None if first is None else to_int(first),
    )


def _page(items: list[Node], query: FilterQuery) -> list[Node]:
    start = query.offset or 0
    return items[start:] if query.limit is None else items[start : start + query.limit]


def _tagged(store: Store, user: str, query: FilterQuery, home: list[Node]) -> list[Node]:
    """The user's files that carry every tag of the rules (``processFilterRulesForFileNodes``).

    Raises:
        DavError: 412 for an unknown or invisible tag, 500 for an id that is not a number.
    """
    if not query.tag_ids:
        return []
    if not all(is_numeric(tag_id) for tag_id in query.tag_ids):
        raise sabre_xml.server_error("InvalidArgumentException", "Tag id must be integer")
    groups = store.groups_of(user)
    tags = {to_int(tag_id): store.tags.get(to_int(tag_id)) for tag_id in query.tag_ids}
    found = [tag for tag in tags.values() if tag is not None and can_see(tag, groups)]
    if len(found) != len(query.tag_ids):
        raise DavError(412, "PreconditionFailed", "Cannot filter by non-existing tag")
    nodes: list[Node] = []
    for tag in sorted(found, key=lambda tag: tag.name):
        carrying = store.tags.files_with(tag.id)
        matches = _page([node for node in home if node.id in carrying], query)
        kept = {node.id for node in matches}
        nodes = matches if not nodes else [node for node in nodes if node.id in kept]
        if not nodes:
            return []
    return nodes


def matching_nodes(store: Store, user: str, folder: Node, query: FilterQuery) -> list[Node]:
    """The files and folders a filter-files report on ``folder`` answers, in its order.

    Raises:
        DavError: 412 for an unknown or invisible tag, 500 for a tag id that is not a number.
    """
    home_folder = store.node(user, "")
    assert home_folder is not None, "every user has a home"
    home = sorted(store.subtree(home_folder), key=lambda node: node.id)
    results = _tagged(store, user, query, home)
    favorites = _page([node for node in home if node.favorite], query) if query.favorite else []
    prefix = f"{folder.path}/" if folder.path else ""
    in_folder = [node for node in favorites if node is folder or node.path.startswith(prefix)]
    if in_folder and results:
        kept = {node.id for node in in_folder}
        return [node for node in results if node.id in kept]
    return results or in_folder
