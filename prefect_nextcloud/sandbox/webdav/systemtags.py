"""System tags over WebDAV: ``/remote.php/dav/systemtags/`` and ``systemtags-relations/``.

``systemtags/``:

- ``PROPFIND`` lists the tags the user can see (admins: all), ordered by name, with ``oc:id``,
  ``oc:display-name``, ``oc:user-visible``, ``oc:user-assignable``, ``oc:can-assign`` (the
  user's right), ``nc:color`` and the quoted ``d:getetag``; ``oc:groups`` only for admins (a
  request for it by anyone else is refused whole with 403);
- ``POST`` with a JSON body (``name``, ``userVisible``, ``userAssignable``, ``groups``)
  creates a tag: 201 with ``Content-Location: <request path>/<id>``; another ``Content-Type``
  415, no ``name`` 400, a tag only admins may create (not visible, not assignable or with
  groups) 400 ``Not sufficient permissions``, a name taken in any case 409 ``Tag already
  exists``, a body that is not JSON a 500;
- ``PROPPATCH`` of ``<id>`` renames (anyone who may assign it) or changes the flags and
  groups (admins only, else 403); a taken name is 409;
- ``DELETE`` of ``<id>``: admins 204, anyone else 403. An unknown or invisible id is 404, one
  that is not a number 400.

``systemtags-relations/files/<file id>/`` (the file or folder must be the user's, else 404
``Entity does not exist or is not available``; ``Depth`` 1 on ``files/`` itself is 405):
``PROPFIND`` lists its visible tags, ``PUT <tag id>`` assigns one (201; 409 when it is there
already, 412 for an unknown or invisible tag, 403 for one the user may not assign), ``DELETE
<tag id>`` removes it (204; 404 when it is not there) and ``POST`` creates a tag and assigns it,
answering ``Content-Location: /remote.php/dav/systemtags/<id>``. Files show their tags as
``nc:system-tags``. As Nextcloud 31 and later answer; there is no
``restrict_creation_to_admin``. Sources: Nextcloud's ``apps/dav/lib/SystemTag/``
(``SystemTagPlugin.php``, ``SystemTagNode.php``, ``SystemTagMappingNode.php``,
``SystemTagList.php``, ``SystemTagsByIdCollection.php``, ``SystemTagsObjectTypeCollection.php``,
``SystemTagsObjectMappingCollection.php``, ``SystemTagsRelationsCollection.php``) and
``lib/private/SystemTag/SystemTagManager.php``; sabre/dav ``lib/DAV/CorePlugin.php``
(``httpPut``, ``httpPropPatch``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import (
    is_numeric,
    natural_key,
    to_int,
    to_string,
    truthy,
)
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.storage.tags import (
    SystemTag,
    TagExistsError,
    can_assign,
    can_see,
)
from prefect_nextcloud.sandbox.webdav.proppatch import parse_property_update, protected_properties
from prefect_nextcloud.sandbox.webdav.request import DavRequest, depth, dispatch
from prefect_nextcloud.sandbox.webdav.sabre_xml import (
    DAV,
    DAV_ROOT,
    NEXTCLOUD,
    OWNCLOUD,
    DavError,
    PropPatchResult,
    PropStat,
    multistatus,
    not_implemented,
    prefers_minimal,
    requested_properties,
    select,
    server_error,
    type_error,
)

__all__ = ["SystemTagsTree", "system_tags_property"]

Key = tuple[str, str]
_GROUPS = (OWNCLOUD, "groups")
_ALLPROPS = ((DAV, "resourcetype"), (DAV, "getetag"))
# The properties SystemTagPlugin::handleUpdateProperties takes for a tag, in one handler.
_UPDATABLE: tuple[Key, ...] = (
    (OWNCLOUD, "display-name"),
    (OWNCLOUD, "user-visible"),
    (OWNCLOUD, "user-assignable"),
    _GROUPS,
    (NEXTCLOUD, "files-assigned"),
    (NEXTCLOUD, "reference-fileid"),
    (NEXTCLOUD, "color"),
)
_COLLECTION = "<d:collection/>"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def system_tags_property(store: Store, node: Node) -> str:
    """``nc:system-tags`` of a user's file: the tags its owner can see, in natural order."""
    assert node.owner is not None, "only user files have tags"
    groups = store.groups_of(node.owner)
    tags = [store.tags.get(tag_id) for tag_id in store.tags.tag_ids_of(node.id)]
    visible = [tag for tag in tags if tag is not None and can_see(tag, groups)]
    return "".join(
        f"<nc:system-tag oc:can-assign={quoteattr(_flag(can_assign(tag, groups)))}"
        f' oc:id="{tag.id}" oc:user-assignable={quoteattr(_flag(tag.user_assignable))}'
        f" oc:user-visible={quoteattr(_flag(tag.user_visible))}>{escape(tag.name)}"
        "</nc:system-tag>"
        for tag in sorted(visible, key=lambda tag: natural_key(tag.name.lower()))
    )


def _text(element: ET.Element | None) -> str | None:
    return None if element is None else "".join(element.itertext())


class SystemTagsTree:
    """Answers ``systemtags/…`` and ``systemtags-relations/…`` for every user.

    Args:
        store: Users, files and the tags (its lock guards them).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- systemtags/ -----------------------------------------------------------------------

    def handle_tags(self, request: DavRequest) -> Response:
        """Handle one request for ``systemtags/…`` (``segments`` after ``systemtags``).

        Raises:
            DavError: Any Sabre error.
        """
        with self._store.condition:
            if not request.segments:
                return self._tag_collection(request)
            tag = self._visible_tag(request.user, request.segments[0])
            if len(request.segments) > 1:
                where = "/".join(["systemtags", *request.segments])
                raise DavError(404, "NotFound", f"Could not find node at path: {where}")
            handlers: dict[str, Callable[[], Response]] = {
                "PROPFIND": lambda: self._propfind(request, tag, self._tag_href(request)),
                "PROPPATCH": lambda: self._proppatch(request, tag),
                "DELETE": lambda: self._delete_tag(request.user, tag),
                "PUT": self._put_on_node,
            }
            return dispatch(request.method, handlers)

    def _tag_collection(self, request: DavRequest) -> Response:
        if request.method == "POST":
            tag = self._create(request)
            location = f"{request.url_path.rstrip('/')}/{tag.id}"
            return Response(b"", status_code=201, headers={"Content-Location": location})
        if request.method == "PROPFIND":
            groups = self._store.groups_of(request.user)
            tags = [tag for tag in self._store.tags.all() if can_see(tag, groups)]
            href = f"{DAV_ROOT}/systemtags/"
            return self._listing(request, href, [(tag, f"{href}{tag.id}") for tag in tags])
        if request.method == "DELETE":
            raise DavError(403, "Forbidden", "Permission denied to delete this collection")
        raise not_implemented(request.method)

    def _tag_href(self, request: DavRequest) -> str:
        return f"{DAV_ROOT}/systemtags/{request.segments[0]}"

    def _visible_tag(self, user: str, name: str) -> SystemTag:
        """``SystemTagsByIdCollection::getChild``: a tag the user can see.

        Raises:
            DavError: 400 for an id that is not a number, 404 for an unknown or invisible tag.
        """
        if not is_numeric(name):
            raise DavError(400, "BadRequest", "Invalid tag id")
        tag = self._store.tags.get(to_int(name))
        if tag is None or not can_see(tag, self._store.groups_of(user)):
            raise DavError(404, "NotFound", f"Tag with id {name} not found")
        return tag

    def _put_on_node(self) -> Response:
        raise DavError(409, "Conflict", "PUT is not allowed on non-files.")

    def _delete_tag(self, user: str, tag: SystemTag) -> Response:
        if not self._store.is_admin(user):
            raise DavError(403, "Forbidden", f"No permission to delete tag {tag.id}")
        self._store.tags.delete(tag)
        return Response(b"", status_code=204, headers={"Content-Length": "0"})

    # -- creating --------------------------------------------------------------------------

    def _create(self, request: DavRequest) -> SystemTag:
        """``SystemTagPlugin::createTag`` from a POST's JSON body.

        Raises:
            DavError: 415, 400, 409 or 500, see the module docstring.
        """
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise DavError(415, "UnsupportedMediaType", "")
        try:
            data = json.loads(request.body)
        except ValueError:
            raise server_error("JsonException", "Syntax error") from None
        if not isinstance(data, dict) or data.get("name") is None:
            raise DavError(400, "BadRequest", 'Missing "name" attribute')
        name = data["name"]
        # isset(): a missing or null flag keeps its default, true.
        visible = data.get("userVisible") is None or truthy(data["userVisible"])
        assignable = data.get("userAssignable") is None or truthy(data["userAssignable"])
        groups = data.get("groups")
        if isinstance(groups, str):
            groups = groups.split("|")
        admin_only = not visible or not assignable or truthy(groups)
        if admin_only and not self._store.is_admin(request.user):
            raise DavError(400, "BadRequest", "Not sufficient permissions")
        if isinstance(name, dict | list) or not isinstance(groups, list | None):
            raise type_error()
        try:
            return self._store.tags.create(
                to_string(name),
                user_visible=visible,
                user_assignable=assignable,
                groups=[to_string(group) for group in groups or []],
                now=self._store.now(),
            )
        except TagExistsError:
            raise DavError(409, "Conflict", "Tag already exists") from None

    # -- changing --------------------------------------------------------------------------

    def _proppatch(self, request: DavRequest, tag: SystemTag) -> Response:
        mutations = parse_property_update(request.body)
        refused = protected_properties(mutations)
        refused += [key for key in mutations if key not in _UPDATABLE and key not in refused]
        if refused:
            statuses = {key: 403 if key in refused else 424 for key in mutations}
        else:
            self._update(request.user, tag, mutations)
            statuses = dict.fromkeys(mutations, 200)
        vary = {"Vary": "Brief,Prefer"}
        if prefers_minimal(request.headers) and not refused:
            return Response(b"", status_code=204, headers=vary)
        return multistatus([PropPatchResult(self._tag_href(request), statuses)], headers=vary)

    def _update(
        self, user: str, tag: SystemTag, mutations: Mapping[Key, ET.Element | None]
    ) -> None:
        """The tag handler of ``SystemTagPlugin::handleUpdateProperties``.

        Raises:
            DavError: 403 for a change the user may not make, 409 for a taken name.
        """
        values = {key: _text(element) for key, element in mutations.items()}
        name = values.get((OWNCLOUD, "display-name"))
        visible = values.get((OWNCLOUD, "user-visible"))
        assignable = values.get((OWNCLOUD, "user-assignable"))
        color = values.get((NEXTCLOUD, "color"))
        admin = self._store.is_admin(user)
        if values.get(_GROUPS) is not None:
            if not admin:
                raise DavError(403, "Forbidden", "")
            tag.groups = [group for group in (values[_GROUPS] or "").split("|") if group]
        read_only = ((NEXTCLOUD, "files-assigned"), (NEXTCLOUD, "reference-fileid"))
        if any(values.get(key) is not None for key in read_only):
            raise DavError(403, "Forbidden", "")
        if name is None and visible is None and assignable is None and color is None:
            return
        new_visible = tag.user_visible if visible is None else visible not in ("false", "0")
        new_assignable = (
            tag.user_assignable if assignable is None else assignable not in ("false", "0")
        )
        if not can_assign(tag, self._store.groups_of(user)):
            raise DavError(403, "Forbidden", f"No permission to update tag {tag.id}")
        if not admin and (new_visible, new_assignable) != (tag.user_visible, tag.user_assignable):
            raise DavError(
                403, "Forbidden", f"No permission to update permissions for tag {tag.id}"
            )
        new_name = tag.name if name is None else name
        try:
            self._store.tags.update(
                tag,
                name=new_name,
                user_visible=new_visible,
                user_assignable=new_assignable,
                color=tag.color if color is None else (None if color in ("", "null") else color),
            )
        except TagExistsError:
            raise DavError(
                409,
                "Conflict",
                f'Tag with the properties "{new_name}", {to_string(new_visible)}, '
                f"{to_string(new_assignable)} already exists",
            ) from None

    # -- systemtags-relations/ -------------------------------------------------------------

    def handle_relations(self, request: DavRequest) -> Response:
        """Handle one request for ``systemtags-relations/…`` (``segments`` after it).

        Raises:
            DavError: Any Sabre error.
        """
        segments = request.segments
        with self._store.condition:
            if not segments:
                return self._relations_root(request)
            if segments[0] != "files":
                raise DavError(
                    404, "NotFound", f"File not found: {segments[0]} in 'systemtags-relations'"
                )
            if len(segments) == 1:
                return self._object_type(request)
            file_id = self._reachable(request.user, segments[1])
            if len(segments) == 2:  # files/<file id>
                return self._file_relations(request, file_id)
            if len(segments) > 3:  # files/<file id>/<tag id>
                where = "/".join(["systemtags-relations", *segments])
                raise DavError(404, "NotFound", f"Could not find node at path: {where}")
            return self._relation(request, file_id, segments[2])

    def _relations_root(self, request: DavRequest) -> Response:
        if request.method != "PROPFIND":
            raise not_implemented(request.method)
        href = f"{DAV_ROOT}/systemtags-relations/"
        entries = [PropStat(href, [(DAV, "resourcetype", _COLLECTION)])]
        if depth(request.headers) != 0:
            entries.append(PropStat(f"{href}files/", [(DAV, "resourcetype", _COLLECTION)]))
        return multistatus(entries)

    def _object_type(self, request: DavRequest) -> Response:
        if request.method != "PROPFIND":
            raise not_implemented(request.method)
        if depth(request.headers) != 0:
            # SystemTagsObjectTypeCollection does not list the object ids.
            raise DavError(405, "MethodNotAllowed", "")
        href = f"{DAV_ROOT}/systemtags-relations/files/"
        return multistatus([PropStat(href, [(DAV, "resourcetype", _COLLECTION)])])

    def _reachable(self, user: str, name: str) -> int:
        """The id of the user's file or folder named by a path segment (``(int)$name``).

        Raises:
            DavError: 404 when the user has no such file or folder.
        """
        node = self._store.node_by_id(to_int(name))
        if node is None or node.owner != user:
            raise DavError(404, "NotFound", "Entity does not exist or is not available")
        return node.id

    def _file_relations(self, request: DavRequest, file_id: int) -> Response:
        href = f"{DAV_ROOT}/systemtags-relations/files/{request.segments[1]}/"
        if request.method == "PROPFIND":
            groups = self._store.groups_of(request.user)
            tags = [self._store.tags.get(tag_id) for tag_id in self._store.tags.tag_ids_of(file_id)]
            visible = sorted(
                (tag for tag in tags if tag is not None and can_see(tag, groups)),
                key=lambda tag: tag.name,
            )
            return self._listing(request, href, [(tag, f"{href}{tag.id}") for tag in visible])
        if request.method == "POST":
            tag = self._create(request)
            self._assign(request.user, file_id, tag, str(tag.id))
            location = f"{DAV_ROOT}/systemtags/{tag.id}"
            return Response(b"", status_code=201, headers={"Content-Location": location})
        if request.method == "DELETE":
            raise DavError(403, "Forbidden", "Permission denied to delete this collection")
        raise not_implemented(request.method)

    def _relation(self, request: DavRequest, file_id: int, name: str) -> Response:
        if not is_numeric(name):
            raise DavError(400, "BadRequest", "Invalid tag id")
        tag = self._store.tags.get(to_int(name))
        groups = self._store.groups_of(request.user)
        assigned = tag is not None and tag.id in self._store.tags.tag_ids_of(file_id)
        if request.method == "PUT":
            if assigned and tag is not None and can_see(tag, groups):
                raise DavError(409, "Conflict", "PUT is not allowed on non-files.")
            self._assign(request.user, file_id, tag, name)
            return Response(b"", status_code=201, headers={"Content-Length": "0"})
        if tag is None:
            raise DavError(404, "NotFound", f"Tag with id {name} not found")
        if not assigned or not can_see(tag, groups):
            message = f"Tag with id {name} not present for object {request.segments[1]}"
            raise DavError(404, "NotFound", message)
        if request.method == "DELETE":
            if not can_assign(tag, groups):
                raise DavError(403, "Forbidden", f"No permission to unassign tag {tag.id}")
            self._store.tags.unassign(file_id, tag)
            return Response(b"", status_code=204, headers={"Content-Length": "0"})
        if request.method == "PROPFIND":
            href = f"{DAV_ROOT}/systemtags-relations/files/{request.segments[1]}/{name}"
            return self._propfind(request, tag, href)
        raise not_implemented(request.method)

    def _assign(self, user: str, file_id: int, tag: SystemTag | None, tag_id: str) -> None:
        """``SystemTagsObjectMappingCollection::createFile`` for the tag named ``tag_id``.

        Raises:
            DavError: 412 for an unknown or invisible tag, 403 for one the user may not assign.
        """
        groups = self._store.groups_of(user)
        if tag is None or not can_see(tag, groups):
            raise DavError(
                412, "PreconditionFailed", f"Tag with id {tag_id} does not exist, cannot assign"
            )
        if not can_assign(tag, groups):
            raise DavError(403, "Forbidden", f"No permission to assign tag {tag.id}")
        self._store.tags.assign(file_id, tag)

    # -- properties ------------------------------------------------------------------------

    def _values(self, user: str, tag: SystemTag) -> dict[Key, str]:
        groups = self._store.groups_of(user)
        values = {
            (DAV, "resourcetype"): "",
            (DAV, "getetag"): escape(f'"{tag.etag}"', {'"': "&quot;"}),
            (OWNCLOUD, "id"): str(tag.id),
            (OWNCLOUD, "display-name"): escape(tag.name),
            (OWNCLOUD, "user-visible"): _flag(tag.user_visible),
            (OWNCLOUD, "user-assignable"): _flag(tag.user_assignable),
            (OWNCLOUD, "can-assign"): _flag(can_assign(tag, groups)),
            (NEXTCLOUD, "color"): escape(tag.color or ""),
        }
        if self._store.is_admin(user):
            # The groups only matter for tags that are visible but not user-assignable.
            shown = tag.groups if tag.user_visible and not tag.user_assignable else []
            values[_GROUPS] = escape("|".join(shown))
        return values

    def _propstat(
        self, user: str, tag: SystemTag, requested: Sequence[Key] | None, href: str
    ) -> PropStat:
        if requested is not None and _GROUPS in requested and not self._store.is_admin(user):
            # The handler throws Forbidden, which ends the whole PROPFIND.
            raise DavError(403, "Forbidden", "")
        return select(
            self._values(user, tag), None if requested is None else list(requested), _ALLPROPS, href
        )

    def _propfind(self, request: DavRequest, tag: SystemTag, href: str) -> Response:
        requested = requested_properties(request.body)
        return multistatus([self._propstat(request.user, tag, requested, href)])

    def _listing(
        self, request: DavRequest, href: str, tags: list[tuple[SystemTag, str]]
    ) -> Response:
        """A collection and, unless ``Depth: 0``, the tags in it."""
        requested = requested_properties(request.body)
        collection = select(
            {(DAV, "resourcetype"): _COLLECTION}, requested, [(DAV, "resourcetype")], href
        )
        entries = [collection]
        if depth(request.headers) != 0:
            entries += [self._propstat(request.user, tag, requested, link) for tag, link in tags]
        return multistatus(entries)
