"""File comments below ``/remote.php/dav/comments/files/<file id>``, as the Files sidebar uses them.

``POST`` with a JSON body (``actorType``, ``verb``, ``message``) creates a comment: 201 with its
URL in ``Content-Location``. ``REPORT`` with ``oc:filter-comments`` (``oc:limit``, ``oc:offset``,
``oc:datetime``) lists them newest first, ``PROPFIND`` lists them (Depth 1) or shows one, with
``CommentNode``'s properties. A file's comments go away with the file.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import to_int, to_timestamp
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav import sabre_xml
from prefect_nextcloud.sandbox.webdav.request import DavRequest
from prefect_nextcloud.sandbox.webdav.sabre_xml import OWNCLOUD, DavError

__all__ = ["MAX_MESSAGE_LENGTH", "Comments"]

MAX_MESSAGE_LENGTH = 1000
"""``IComment::MAX_MESSAGE_LENGTH``: longer messages are refused with 400."""

# CommentNode::getPropertyNames(), the properties a REPORT returns, in this order.
_REPORT_PROPERTIES = [
    (OWNCLOUD, name)
    for name in (
        "id",
        "parentId",
        "topmostParentId",
        "childrenCount",
        "verb",
        "actorType",
        "actorId",
        "creationDateTime",
        "latestChildDateTime",
        "objectType",
        "objectId",
        "message",
        "actorDisplayName",
        "isUnread",
        "mentions",
        "mention",
        "mentionType",
        "mentionId",
        "mentionDisplayName",
    )
]
# Every property CommentNode::getProperties() has, in the order of Comment's getters.
_ALL_PROPERTIES = [
    (OWNCLOUD, name)
    for name in (
        "id",
        "parentId",
        "topmostParentId",
        "childrenCount",
        "message",
        "verb",
        "actorType",
        "actorId",
        "creationDateTime",
        "latestChildDateTime",
        "objectType",
        "objectId",
        "referenceId",
        "metaData",
        "reactions",
        "expireDate",
        "actorDisplayName",
        "mentions",
        "isUnread",
    )
]
_FILTER = f"{{{OWNCLOUD}}}filter-comments"


@dataclass(frozen=True)
class _Comment:
    id: int
    file_id: int
    actor_id: str
    verb: str
    message: str
    created: int

    def properties(self) -> dict[tuple[str, str], str]:
        values = {
            "id": str(self.id),
            "parentId": "0",
            "topmostParentId": "0",
            "childrenCount": "0",
            "message": escape(self.message),
            "verb": escape(self.verb),
            "actorType": "users",
            "actorId": escape(self.actor_id),
            "creationDateTime": sabre_xml.http_date(self.created),
            "latestChildDateTime": "",
            "objectType": "files",
            "objectId": str(self.file_id),
            "referenceId": "",
            "metaData": "",
            "reactions": "",
            "expireDate": "",
            "actorDisplayName": escape(self.actor_id),
            "mentions": "",
            "isUnread": "false",
        }
        return {(OWNCLOUD, name): value for name, value in values.items()}


class Comments:
    """The comments on files, answered per user (only files they can see).

    Args:
        store: Users and files; its lock guards the comments too.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._comments: dict[int, list[_Comment]] = {}
        self._next_id = 1

    def count(self, file_id: int) -> int:
        """Return how many comments a file has."""
        with self._store.condition:
            return len(self._live(file_id))

    def _live(self, file_id: int) -> list[_Comment]:
        # Comments of a deleted file are gone, as the server's cleanup listener removes them.
        if self._store.node_by_id(file_id) is None:
            self._comments.pop(file_id, None)
        return self._comments.get(file_id, [])

    def handle(self, request: DavRequest) -> Response:
        """Handle one request for ``comments/…`` (``segments`` after ``comments``).

        Raises:
            DavError: Any Sabre error.
        """
        method, user, segments = request.method, request.user, request.segments
        headers, body = request.headers, request.body
        if not segments:
            raise sabre_xml.not_implemented(method)
        if segments[0] != "files":
            raise DavError(404, "NotFound", f'Entity type "{segments[0]}" not found."')
        if len(segments) == 1:
            if method == "PROPFIND":
                raise DavError(405, "MethodNotAllowed", "No permission to list folder contents")
            raise sabre_xml.not_implemented(method)
        with self._store.condition:
            file_id = self._visible_file(segments[1], user)
            if len(segments) == 2:
                if method == "POST":
                    return self._create(request.url_path, file_id, user, headers, body)
                if method == "REPORT":
                    return self._report(file_id, body)
                if method == "PROPFIND":
                    return self._propfind(file_id, headers.get("depth", ""), body)
                raise sabre_xml.not_implemented(method)
            comment = self._comment(file_id, segments[2])
            if len(segments) == 3 and method == "PROPFIND":
                requested = sabre_xml.requested_properties(body)
                return sabre_xml.multistatus([self._propstat(comment, requested)])
            if len(segments) > 3:
                raise DavError(404, "NotFound", "")
            raise sabre_xml.not_implemented(method)

    def _visible_file(self, name: str, user: str) -> int:
        node = self._store.node_by_id(to_int(name)) if name.isdigit() else None
        if node is None or node.owner != user:
            raise DavError(404, "NotFound", "Entity does not exist or is not available")
        return node.id

    def _comment(self, file_id: int, name: str) -> _Comment:
        for comment in self._live(file_id):
            if str(comment.id) == name:
                return comment
        raise DavError(404, "NotFound", "")

    def _create(
        self,
        request_url: str,
        file_id: int,
        user: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise DavError(415, "UnsupportedMediaType", "")
        try:
            data = json.loads(body)
        except ValueError:
            raise DavError(400, "BadRequest", "Invalid input values") from None
        if not isinstance(data, dict):
            raise DavError(400, "BadRequest", "Invalid input values")
        actor_type = data.get("actorType")
        if actor_type != "users":
            raise DavError(400, "BadRequest", f'Invalid actor "{actor_type}"')
        message, verb = data.get("message"), data.get("verb")
        if not isinstance(message, str) or not isinstance(verb, str) or not verb.strip():
            raise DavError(400, "BadRequest", "Invalid input values")
        message = message.strip()  # Comment::setMessage trims
        if len(message) > MAX_MESSAGE_LENGTH:
            raise DavError(
                400,
                "BadRequest",
                f"Message exceeds allowed character limit of {MAX_MESSAGE_LENGTH}",
            )
        comment = _Comment(self._next_id, file_id, user, verb, message, self._store.now())
        self._next_id += 1
        self._comments.setdefault(file_id, []).append(comment)
        location = f"{request_url.split('?', 1)[0].rstrip('/')}/{comment.id}"
        return Response(b"", status_code=201, headers={"Content-Location": location})

    def _newest_first(self, file_id: int) -> list[_Comment]:
        return sorted(self._live(file_id), key=lambda c: (c.created, c.id), reverse=True)

    def _report(self, file_id: int, body: bytes) -> Response:
        try:
            root = sabre_xml.parse_xml(body)
        except ET.ParseError as error:
            raise DavError(400, "BadRequest", str(error)) from None
        if root.tag != _FILTER:
            raise DavError(415, "ReportNotSupported", "", extra="  <d:supported-report/>\n")
        limit, offset, since = 0, 0, None
        for element in root:
            namespace, name = sabre_xml.split_tag(element.tag)
            value = (element.text or "").strip()
            if namespace != OWNCLOUD or not value:
                continue
            if name == "limit":
                limit = to_int(value)
            elif name == "offset":
                offset = to_int(value)
            elif name == "datetime":
                since = _parse_datetime(value)
        comments = [c for c in self._newest_first(file_id) if since is None or c.created > since]
        comments = comments[offset : offset + limit if limit > 0 else None]
        return sabre_xml.multistatus(
            [
                sabre_xml.PropStat(
                    _href(comment),
                    [
                        (ns, name, comment.properties()[ns, name])
                        for ns, name in _REPORT_PROPERTIES
                        if (ns, name) in comment.properties()
                    ],
                )
                for comment in comments
            ]
        )

    def _propfind(self, file_id: int, depth: str, body: bytes) -> Response:
        requested = sabre_xml.requested_properties(body)
        collection = sabre_xml.PropStat(f"{sabre_xml.DAV_ROOT}/comments/files/{file_id}/")
        values = {(OWNCLOUD, "readMarker"): ""}
        collection = sabre_xml.select(values, requested, [], collection.href)
        if requested is None:
            collection.found = [("DAV:", "resourcetype", "<d:collection/>")]
        responses = [collection]
        if depth.strip() != "0":
            responses += [self._propstat(c, requested) for c in self._newest_first(file_id)]
        return sabre_xml.multistatus(responses)

    def _propstat(
        self, comment: _Comment, requested: list[tuple[str, str]] | None
    ) -> sabre_xml.PropStat:
        values = comment.properties()
        values["DAV:", "resourcetype"] = ""
        return sabre_xml.select(values, requested, _ALL_PROPERTIES, _href(comment))


def _href(comment: _Comment) -> str:
    return f"{sabre_xml.DAV_ROOT}/comments/files/{comment.file_id}/{comment.id}"


def _parse_datetime(value: str) -> int:
    timestamp = to_timestamp(value)
    if timestamp is None:
        raise DavError(400, "BadRequest", f"Invalid datetime {value}")
    return timestamp
