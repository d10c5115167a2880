"""System (collaborative) tags and the files they are assigned to, as Nextcloud keeps them.

Names are cut to 64 bytes (the column's length) and unique regardless of case, whatever the
flags (Nextcloud 31 and later); an admin sees every tag, anyone else only the visible ones. A
tag may be assigned by anyone when it is visible and assignable, by admins always, and by the
members of its groups when it is visible only. Assigning or removing it gives the tag a new
etag. Sources: Nextcloud's ``lib/private/SystemTag/SystemTagManager.php`` (``createTag``,
``updateTag``, ``canUserSeeTag``, ``canUserAssignTag``) and ``SystemTagObjectMapper.php``
(``assignTags``, ``unassignTags``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["ADMIN_GROUP", "SystemTag", "SystemTags", "TagExistsError", "can_assign", "can_see"]

ADMIN_GROUP = "admin"
"""The group whose members are admins (``IGroupManager::isAdmin``)."""

_MAX_NAME_BYTES = 64


@dataclass
class SystemTag:
    """One tag (a row of ``oc_systemtag``).

    Attributes:
        color: Its colour (hex), or None (Nextcloud 31 and later).
        groups: The groups whose members may assign it while it is not user-assignable.
    """

    id: int
    name: str
    user_visible: bool
    user_assignable: bool
    etag: str
    color: str | None = None
    groups: list[str] = field(default_factory=list)


class TagExistsError(Exception):
    """``TagAlreadyExistsException``: another tag has that name (in any case)."""


def can_see(tag: SystemTag, groups: Sequence[str]) -> bool:
    """``canUserSeeTag`` for a user in ``groups``."""
    return tag.user_visible or ADMIN_GROUP in groups


def can_assign(tag: SystemTag, groups: Sequence[str]) -> bool:
    """``canUserAssignTag`` for a user in ``groups``."""
    if (tag.user_visible and tag.user_assignable) or ADMIN_GROUP in groups:
        return True
    return tag.user_visible and any(group in tag.groups for group in groups)


def _column(name: str) -> str:
    """PHP's ``substr($name, 0, 64)``: the first 64 bytes (a cut character is dropped)."""
    return name.encode()[:_MAX_NAME_BYTES].decode(errors="ignore")


def _new_etag() -> str:
    return secrets.token_hex(16)


class SystemTags:
    """Every tag of one server and the files each is on; the store's lock guards it."""

    def __init__(self) -> None:
        self._tags: dict[int, SystemTag] = {}
        self._on_file: dict[int, list[int]] = {}  # file id -> tag ids, in assignment order
        self._next_id = 1

    def get(self, tag_id: int) -> SystemTag | None:
        """The tag with this id, or None."""
        return self._tags.get(tag_id)

    def all(self) -> list[SystemTag]:
        """Every tag, ordered by name as ``getAllTags`` orders them."""
        return sorted(
            self._tags.values(), key=lambda tag: (tag.name, tag.user_visible, tag.user_assignable)
        )

    def _check_unique(self, name: str, tag_id: int | None = None) -> None:
        for tag in self._tags.values():
            if tag.name.lower() == name.lower() and tag.id != tag_id:
                raise TagExistsError(name)

    def create(
        self,
        name: str,
        *,
        user_visible: bool,
        user_assignable: bool,
        groups: Iterable[str],
        now: int,
    ) -> SystemTag:
        """Add a tag; its etag is ``md5(time())`` as ``createTag`` sets it.

        Raises:
            TagExistsError: A tag has that name already.
        """
        self._check_unique(name)
        etag = hashlib.md5(str(now).encode(), usedforsecurity=False).hexdigest()
        tag = SystemTag(self._next_id, _column(name), user_visible, user_assignable, etag)
        tag.groups = [group for group in groups if group]
        self._tags[tag.id] = tag
        self._next_id += 1
        return tag

    def update(
        self,
        tag: SystemTag,
        *,
        name: str,
        user_visible: bool,
        user_assignable: bool,
        color: str | None,
    ) -> None:
        """Change a tag as ``updateTag`` does: the name is trimmed and cut to 64 bytes.

        Raises:
            TagExistsError: Another tag has that name already.
        """
        name = _column(name.strip())
        self._check_unique(name, tag.id)
        tag.name, tag.user_visible, tag.user_assignable = name, user_visible, user_assignable
        tag.color = color

    def delete(self, tag: SystemTag) -> None:
        """Remove a tag and all its assignments."""
        del self._tags[tag.id]
        for tag_ids in self._on_file.values():
            if tag.id in tag_ids:
                tag_ids.remove(tag.id)

    def tag_ids_of(self, file_id: int) -> list[int]:
        """The ids of the tags on a file, in the order they were assigned."""
        return list(self._on_file.get(file_id, []))

    def files_with(self, tag_id: int) -> set[int]:
        """The ids of the files (and folders) a tag is on."""
        return {file_id for file_id, tag_ids in self._on_file.items() if tag_id in tag_ids}

    def assign(self, file_id: int, tag: SystemTag) -> bool:
        """Put a tag on a file; False when it was there already."""
        tag_ids = self._on_file.setdefault(file_id, [])
        tag.etag = _new_etag()
        if tag.id in tag_ids:
            return False
        tag_ids.append(tag.id)
        return True

    def unassign(self, file_id: int, tag: SystemTag) -> bool:
        """Take a tag off a file; False when it was not there."""
        tag_ids = self._on_file.get(file_id, [])
        tag.etag = _new_etag()
        if tag.id not in tag_ids:
            return False
        tag_ids.remove(tag.id)
        return True

    def forget_files(self, file_ids: Iterable[int]) -> None:
        """Drop the assignments of files that are gone for good."""
        for file_id in file_ids:
            self._on_file.pop(file_id, None)
