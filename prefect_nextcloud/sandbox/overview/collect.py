"""The overview's snapshot of a sandbox: files and tasks from the store, comments by ``REPORT``.

The comments handler keeps its comments to itself; the overview asks it in-process with the
``REPORT`` the Files sidebar sends and reads the multistatus answer, so it shows the comments as
a client sees them.
"""

from __future__ import annotations

import email.utils
import json
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from typing import Any

from prefect_nextcloud.sandbox.overview.views import (
    AnswerSlot,
    CommentView,
    FileView,
    Overview,
    TaskView,
    UserFiles,
)
from prefect_nextcloud.sandbox.storage.records import Node, Task
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.taskprocessing.providers import Registry, Shape
from prefect_nextcloud.sandbox.webdav.comments import Comments
from prefect_nextcloud.sandbox.webdav.request import DavRequest
from prefect_nextcloud.sandbox.webdav.sabre_xml import DAV, OWNCLOUD

__all__ = ["SandboxContents"]

# No oc:limit: every comment, newest first.
_ALL_COMMENTS = f'<oc:filter-comments xmlns:oc="{OWNCLOUD}"/>'.encode()


class SandboxContents:
    """Takes consistent snapshots of what a sandbox holds.

    Args:
        store: Users, files and tasks.
        comments: The comments handler of the sandbox's WebDAV.
        registry: The task types, to tell file outputs from text ones.
        server_version: The emulated Nextcloud major version.
    """

    def __init__(
        self, store: Store, comments: Comments, registry: Registry, server_version: int
    ) -> None:
        self._store = store
        self._comments = comments
        self._registry = registry
        self._server_version = server_version

    @property
    def user_ids(self) -> list[str]:
        """Every sandbox user, the primary one first."""
        return self._store.user_ids

    def overview(self, user_ids: Collection[str] | None = None) -> Overview:
        """Snapshot files, comments and tasks at one moment.

        Args:
            user_ids: Only these users' files and tasks; None for the whole sandbox, including
                the tasks of anonymous callers.

        Returns:
            The users' files in path order and the tasks newest first.
        """
        with self._store.condition:
            users = (
                self.user_ids if user_ids is None else [u for u in self.user_ids if u in user_ids]
            )
            tasks = [
                task
                for task in reversed(self._store.tasks.all())
                if user_ids is None or task.user_id in user_ids
            ]
            return Overview(
                server_version=self._server_version,
                users=[UserFiles(user_id=user, files=self._files(user)) for user in users],
                tasks=[self._task(task) for task in tasks],
            )

    def _files(self, user_id: str) -> list[FileView]:
        home = self._store.node(user_id, "")
        assert home is not None, "every user has a home folder"
        return [self._file(node) for node in self._below(home)]

    def _below(self, folder: Node) -> Iterator[Node]:
        for child in self._store.children(folder):
            yield child
            if child.is_dir:
                yield from self._below(child)

    def _file(self, node: Node) -> FileView:
        assert node.owner is not None, "only user files are listed"
        return FileView(
            path=f"/{node.path}/" if node.is_dir else f"/{node.path}",
            file_id=node.id,
            size=self._store.size(node),
            modified=node.mtime,
            etag=node.etag,
            comments=self._read_comments(node.owner, node.id),
        )

    def _read_comments(self, owner: str, file_id: int) -> list[CommentView]:
        if not self._comments.count(file_id):
            return []
        request = DavRequest(
            "REPORT",
            owner,
            ["files", str(file_id)],
            {},
            _ALL_COMMENTS,
            f"/remote.php/dav/comments/files/{file_id}",
        )
        answer = ET.fromstring(bytes(self._comments.handle(request).body))  # noqa: S314 - ours
        return [_comment(found) for found in answer.iter(f"{{{DAV}}}prop")]

    def _task(self, task: Task) -> TaskView:
        ran = None
        if task.started_at is not None and task.ended_at is not None:
            ran = task.ended_at - task.started_at
        return TaskView(**task.row(), duration_seconds=ran, answer=self._answer(task))

    def _answer(self, task: Task) -> list[AnswerSlot]:
        task_type = self._registry.get(task.type)
        slots = {} if task_type is None else task_type.output_slots
        return [_slot(name, value, slots.get(name)) for name, value in (task.output or {}).items()]


def _slot(name: str, value: Any, shape: Shape | None) -> AnswerSlot:
    values = value if isinstance(value, list) else [value]
    if shape is not None and shape.type.is_file:
        return AnswerSlot(slot=name, texts=[], file_ids=[int(item) for item in values])
    texts = [item if isinstance(item, str) else json.dumps(item) for item in values]
    return AnswerSlot(slot=name, texts=texts, file_ids=[])


def _comment(properties: ET.Element) -> CommentView:
    def text(name: str) -> str:
        return properties.findtext(f"{{{OWNCLOUD}}}{name}") or ""

    created = email.utils.parsedate_to_datetime(text("creationDateTime"))
    return CommentView(
        id=int(text("id")),
        author=text("actorId") or None,
        created=int(created.timestamp()),
        message=text("message"),
    )
