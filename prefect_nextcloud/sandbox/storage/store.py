"""Shared mutable state of one sandbox: users, files and folders, tasks, worker settings.

The HTTP handlers (event-loop thread) and the worker threads share one :class:`Store`. Every
method takes :attr:`Store.condition` (a re-entrant lock), and every task change notifies it, so
waiters such as the workers and ``wait_for_status`` wake without polling.

Files have the history Nextcloud's ``files_versions`` and ``files_trashbin`` apps keep: writing
a non-empty file keeps its former content as a version named by the former modification time
(``Storage::store``), and a file or folder deleted by its user goes to the user's trash bin with
its id, its versions and its tags, until it is restored or deleted for good. Versions are kept
until deleted: the sandbox does not run Nextcloud's background expiry.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any

from prefect_nextcloud.sandbox.storage.records import Node, Task, TaskStatus, TrashItem
from prefect_nextcloud.sandbox.storage.tags import ADMIN_GROUP, SystemTags

__all__ = ["ProcessingMode", "Store", "TaskTable"]


class ProcessingMode(Enum):
    """What the workers do with tasks."""

    RUN = "run"
    """Pick up scheduled tasks and finish them."""
    PAUSE = "pause"
    """Leave scheduled tasks scheduled."""
    HOLD = "hold"
    """Pick up scheduled tasks but keep them running until the mode changes."""


def _new_etag() -> str:
    return secrets.token_hex(7)[:13]


class TaskTable:
    """One table of tasks with an id sequence of its own, guarded by the store's condition.

    Args:
        condition: The store's condition, notified after each change.
        legacy: Whether the table holds TextProcessing tasks.
    """

    def __init__(self, condition: threading.Condition, *, legacy: bool) -> None:
        self._condition = condition
        self._legacy = legacy
        self._rows: dict[int, Task] = {}
        self._ids = itertools.count(1)

    def add(self, **fields: Any) -> Task:
        """Store a new task with the next id of the table's sequence; see :class:`Task`."""
        with self._condition:
            task = Task(id=next(self._ids), legacy=self._legacy, **fields)
            self._rows[task.id] = task
            self._condition.notify_all()
            return task

    def get(self, task_id: int) -> Task | None:
        """Return any user's task, or None."""
        with self._condition:
            return self._rows.get(task_id)

    def owned(self, task_id: int, user_id: str | None) -> Task | None:
        """Return the task only if it belongs to the user (``findByIdAndUser``)."""
        task = self.get(task_id)
        return task if task is not None and task.user_id == user_id else None

    def all(self) -> list[Task]:
        """Return every task in id order."""
        with self._condition:
            return [self._rows[task_id] for task_id in sorted(self._rows)]

    def holds(self, task: Task) -> bool:
        """Return whether this very task is still stored here."""
        return self.get(task.id) is task

    def delete(self, task_id: int) -> None:
        """Remove a task row."""
        with self._condition:
            self._rows.pop(task_id, None)
            self._condition.notify_all()


class Store:
    """Users, storage and tasks, guarded by one condition.

    Args:
        users: User id → app password.
        clock: Wall-clock seconds for all timestamps.
        admins: The users in the ``admin`` group.

    Attributes:
        tags: The server's system tags and the files they are on.
        tasks: The Task Processing tasks.
        text_tasks: The tasks of the deprecated TextProcessing API, which has a table of its own.
    """

    def __init__(
        self, users: Mapping[str, str], *, clock: Callable[[], float], admins: Iterable[str] = ()
    ) -> None:
        self.condition = threading.Condition(threading.RLock())
        self.clock = clock
        self.mode = ProcessingMode.RUN
        self.failing_task_types: set[str] = set()
        self.closed = False
        # Told "created", "written" or "deleted" and the node after each change of a user's
        # file or folder, as the server's file hooks are (webhook_listeners listens to them).
        self.on_node_change: Callable[[str, Node], None] | None = None
        self.tags = SystemTags()
        self._users = dict(users)
        self._admins = frozenset(admins)
        self._versions: dict[int, dict[int, bytes]] = {}  # file id -> revision -> content
        self._trash: dict[str, list[TrashItem]] = {}
        self._nodes: dict[int, Node] = {}
        self._paths: dict[tuple[str | None, str], int] = {}
        self.tasks = TaskTable(self.condition, legacy=False)
        self.text_tasks = TaskTable(self.condition, legacy=True)
        self._next_node_id = 1
        for user_id in self._users:
            self._add_node(user_id, "", is_dir=True)

    def now(self) -> int:
        """Return the current unix time in whole seconds."""
        return int(self.clock())

    # -- users -----------------------------------------------------------------------------

    @property
    def user_ids(self) -> list[str]:
        """All user ids, the primary user first."""
        return list(self._users)

    def groups_of(self, user_id: str) -> list[str]:
        """The groups of a user: ``admin`` for admins, none for the others."""
        return [ADMIN_GROUP] if user_id in self._admins else []

    def is_admin(self, user_id: str) -> bool:
        """Whether the user is an admin (``IGroupManager::isAdmin``)."""
        return user_id in self._admins

    def check_password(self, user_id: str, password: str) -> bool:
        """Return whether the login and app password match."""
        return secrets.compare_digest(self._users.get(user_id, ""), password) and bool(password)

    def user_for_token(self, token: str) -> str | None:
        """Return the user whose app password is this bearer token, if any."""
        for user_id, password in self._users.items():
            if secrets.compare_digest(password, token):
                return user_id
        return None

    # -- files -----------------------------------------------------------------------------

    def _add_node(self, owner: str | None, path: str, *, is_dir: bool, data: bytes = b"") -> Node:
        node = Node(
            id=self._next_node_id,
            owner=owner,
            path=path,
            is_dir=is_dir,
            mtime=self.now(),
            etag=_new_etag(),
            data=data,
        )
        self._next_node_id += 1
        self._nodes[node.id] = node
        self._paths[owner, path] = node.id
        self._touch_ancestors(node)
        self._node_changed("created", node)
        return node

    def _node_changed(self, change: str, node: Node) -> None:
        if node.owner is not None and self.on_node_change is not None:
            self.on_node_change(change, node)

    def _touch_ancestors(self, node: Node, mtime: int | None = None) -> None:
        # Nextcloud's Propagator gives every folder up to the home a new etag and the greater of
        # its mtime and the change's (node.mtime unless given).
        changed = node.mtime if mtime is None else mtime
        path = node.path
        while path:
            path = path.rpartition("/")[0]
            parent = self.node(node.owner, path)
            if parent is not None:
                parent.mtime = max(parent.mtime, changed)
                parent.etag = _new_etag()

    def node(self, owner: str | None, path: str) -> Node | None:
        """Return the file or folder at a home-relative path, or None."""
        with self.condition:
            node_id = self._paths.get((owner, path))
            return None if node_id is None else self._nodes[node_id]

    def node_by_id(self, node_id: int) -> Node | None:
        """Return the file or folder with this id, or None."""
        with self.condition:
            return self._nodes.get(node_id)

    def create_file(self, owner: str, path: str, data: bytes) -> Node:
        """Create a file; the caller has checked that the parent folder exists."""
        with self.condition:
            return self._add_node(owner, path, is_dir=False, data=data)

    def create_folder(self, owner: str, path: str) -> Node:
        """Create a folder; the caller has checked that the parent folder exists."""
        with self.condition:
            return self._add_node(owner, path, is_dir=True)

    def write_file(self, node: Node, data: bytes) -> None:
        """Replace a file's content; its id stays the same and its checksum is dropped.

        As Nextcloud's ``Scanner::scanFile`` resets the checksum of any file whose data changed.
        The former content of a user's non-empty file is kept as a version.
        """
        with self.condition:
            if node.data and node.owner is not None:
                # Storage::store: a copy named by the old mtime, none for empty files; a second
                # write within the same second replaces that second's copy.
                self._versions.setdefault(node.id, {})[node.mtime] = node.data
            node.data = data
            node.mtime = self.now()
            node.etag = _new_etag()
            node.checksum = ""
            self._touch_ancestors(node)
            self._node_changed("written", node)

    def touch(self, node: Node, mtime: int) -> None:
        """Set a node's modification time (``View::touch``): a new etag, and no checksum.

        The scan after the touch sees changed metadata, so ``Scanner::scanFile`` resets the
        checksum as for new content.
        """
        with self.condition:
            node.mtime = mtime
            node.etag = _new_etag()
            node.checksum = ""
            self._touch_ancestors(node)

    def children(self, folder: Node) -> list[Node]:
        """Return the direct children of a folder, sorted by name."""
        with self.condition:
            prefix = f"{folder.path}/" if folder.path else ""
            found = [
                node
                for node in self._nodes.values()
                if node.owner == folder.owner
                and node.path.startswith(prefix)
                and node.path != folder.path
                and "/" not in node.path[len(prefix) :]
            ]
            return sorted(found, key=lambda node: node.name)

    def subtree(self, node: Node) -> list[Node]:
        """A node, then everything below it (depth first, by name)."""
        with self.condition:
            return list(self._subtree(node))

    def _subtree(self, folder: Node) -> Iterator[Node]:
        yield folder
        if folder.is_dir:
            for child in self.children(folder):
                yield from self._subtree(child)

    def size(self, node: Node) -> int:
        """Return the size in bytes of a file, or of everything below a folder."""
        with self.condition:
            return sum(len(item.data) for item in self._subtree(node))

    def delete_node(self, node: Node) -> None:
        """Delete a file, or a folder with everything below it, for good."""
        with self.condition:
            removed = self._detach(node)
            node.mtime = self.now()
            self._touch_ancestors(node)
            self._node_changed("deleted", node)
            self._forget(removed)

    def _detach(self, node: Node) -> list[Node]:
        """Take a node and everything below it out of the tree; they keep their paths."""
        removed = list(self._subtree(node))
        for item in removed:
            del self._nodes[item.id]
            del self._paths[item.owner, item.path]
        return removed

    def _attach(self, nodes: list[Node], path: str) -> None:
        """Put detached nodes back, the first at ``path`` and the others below it."""
        old = nodes[0].path
        for item in nodes:
            item.path = path + item.path[len(old) :]
            self._nodes[item.id] = item
            self._paths[item.owner, item.path] = item.id
        self._touch_ancestors(nodes[0], self.now())

    def _forget(self, nodes: Iterable[Node]) -> None:
        """Drop the versions and tags of nodes that are gone for good."""
        file_ids = [item.id for item in nodes]
        for file_id in file_ids:
            self._versions.pop(file_id, None)
        self.tags.forget_files(file_ids)

    # -- trash bin -------------------------------------------------------------------------

    def trash_node(self, node: Node) -> TrashItem:
        """Move a user's file or folder, with everything below it, into the user's trash bin.

        An item of the same name deleted in the same second is replaced, as
        ``Trashbin::move2trash`` overwrites its trash file.
        """
        assert node.owner is not None, "only user files go to the trash bin"
        with self.condition:
            item = TrashItem(self._detach(node), self.now())
            self._touch_ancestors(node, item.deleted_at)
            self._node_changed("deleted", node)
            trash = self._trash.setdefault(node.owner, [])
            for older in [older for older in trash if older.name == item.name]:
                self.purge(older)
            trash.append(item)
            return item

    def trash(self, owner: str) -> list[TrashItem]:
        """The items in a user's trash bin, oldest first."""
        with self.condition:
            return list(self._trash.get(owner, []))

    def restore(self, item: TrashItem, node: Node | None = None) -> Node:
        """Put a trash bin item back, or only ``node`` below it, as ``Trashbin::restore`` does.

        The item goes back where it was, or to the home folder when that folder is gone; a node
        from below it goes to the home folder. When the name is taken there it becomes
        ``<name> (restored).<ext>`` (then ``(restored 2)`` …). It keeps its id and its
        modification time.

        Returns:
            The restored file or folder.
        """
        with self.condition:
            nodes = self._take(item, node)
            restored = nodes[0]
            assert restored.owner is not None, "only user files are in a trash bin"
            location = restored.path.rpartition("/")[0] if restored is item.node else ""
            parent = self.node(restored.owner, location)
            if parent is None or not parent.is_dir:
                location = ""
            name = self._unique_name(restored.owner, location, restored.name)
            self._attach(nodes, f"{location}/{name}" if location else name)
            return restored

    def _unique_name(self, owner: str, location: str, name: str) -> str:
        """``Trashbin::getUniqueFilename``: the name, or ``<stem> (restored[ n]).<ext>``."""
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        suffix = f".{extension}" if extension else ""
        prefix = f"{location}/" if location else ""
        restored = (f"{stem} (restored {number}){suffix}" for number in itertools.count(2))
        candidates = itertools.chain([name, f"{stem} (restored){suffix}"], restored)
        return next(found for found in candidates if self.node(owner, prefix + found) is None)

    def purge(self, item: TrashItem, node: Node | None = None) -> None:
        """Delete a trash bin item for good, or only ``node`` below it (with what it holds)."""
        with self.condition:
            self._forget(self._take(item, node))

    def _take(self, item: TrashItem, node: Node | None) -> list[Node]:
        """Take an item out of its trash bin, or ``node`` (and what it holds) out of the item."""
        if node is None or node is item.node:
            owner = item.node.owner
            assert owner is not None, "only user files are in a trash bin"
            self._trash[owner].remove(item)
            return item.nodes
        prefix = f"{node.path}/"
        taken = [found for found in item.nodes if found is node or found.path.startswith(prefix)]
        taken_ids = {found.id for found in taken}
        item.nodes[:] = [found for found in item.nodes if found.id not in taken_ids]
        return taken

    # -- versions --------------------------------------------------------------------------

    def versions(self, node: Node) -> dict[int, bytes]:
        """A file's kept versions: revision (the content's modification time) → content."""
        with self.condition:
            return dict(self._versions.get(node.id, {}))

    def restore_version(self, node: Node, revision: int) -> None:
        """Make a version current again, as ``Storage::rollback`` does.

        The current content is kept as a version first, then the version's content moves into
        the file, whose modification time becomes the revision.

        Args:
            node: The file.
            revision: One of its kept versions, or its current modification time.
        """
        with self.condition:
            kept = self._versions.setdefault(node.id, {})
            kept.setdefault(node.mtime, node.data)
            node.data = kept.pop(revision)
            self.touch(node, revision)

    def delete_version(self, node: Node, revision: int) -> None:
        """Delete a kept version; deleting the current one changes nothing."""
        with self.condition:
            self._versions.get(node.id, {}).pop(revision, None)

    def move_node(self, node: Node, path: str) -> None:
        """Move a file or folder (with everything below it) to a new path; ids stay the same.

        The caller has checked that the new parent folder exists and the path is free.
        """
        with self.condition:
            old = node.path
            moved = list(self._subtree(node))
            self._touch_ancestors(node, self.now())
            for item in moved:
                del self._paths[item.owner, item.path]
                item.path = path + item.path[len(old) :]
                self._paths[item.owner, item.path] = item.id
            node.mtime = self.now()
            self._touch_ancestors(node)

    def copy_node(self, node: Node, path: str) -> Node:
        """Copy a file or folder (with everything below it) to a new path, with new ids.

        The caller has checked that the new parent folder exists and the path is free.
        """
        assert node.owner is not None, "only user files are copied"
        with self.condition:
            old = node.path
            items = list(self._subtree(node))
            copies = [self._copy(item, path + item.path[len(old) :]) for item in items]
            return copies[0]

    def _copy(self, item: Node, path: str) -> Node:
        # Updater::copyFromStorage copies the cache entry, checksum included; tags and dead
        # properties belong to the source's id and path and stay behind.
        copy = self._add_node(item.owner, path, is_dir=item.is_dir, data=item.data)
        copy.checksum = item.checksum
        return copy

    def create_app_data_file(self, name: str, data: bytes) -> Node:
        """Store a file in app data (``core/TaskProcessing/<name>``), outside every user's home.

        Raises:
            FileExistsError: A file of that name exists already.
        """
        with self.condition:
            path = f"core/TaskProcessing/{name}"
            if self.node(None, path) is not None:
                raise FileExistsError(path)
            return self._add_node(None, path, is_dir=False, data=data)

    def upload(self, owner: str, path: str, data: bytes) -> Node:
        """Store a file, creating missing parent folders; an existing file keeps its id.

        Raises:
            ValueError: The path or one of its parents is a folder where a file is needed, or
                the reverse.
        """
        with self.condition:
            segments = path.split("/")
            for depth in range(1, len(segments)):
                parent_path = "/".join(segments[:depth])
                parent = self.node(owner, parent_path)
                if parent is None:
                    self._add_node(owner, parent_path, is_dir=True)
                elif not parent.is_dir:
                    raise ValueError(f"{parent_path!r} is a file, not a folder")
            existing = self.node(owner, path)
            if existing is None:
                return self._add_node(owner, path, is_dir=False, data=data)
            if existing.is_dir:
                raise ValueError(f"{path!r} is a folder")
            self.write_file(existing, data)
            return existing

    # -- tasks -----------------------------------------------------------------------------

    def find_tasks(
        self,
        user_id: str | None,
        *,
        task_type: str | None = None,
        app_id: str | None = None,
        custom_id: str | None = None,
    ) -> list[Task]:
        """Return a user's tasks in id order; each filter applies only when not None."""
        with self.condition:
            return [
                task
                for task in self.tasks.all()
                if task.user_id == user_id
                and (task_type is None or task.type == task_type)
                and (app_id is None or task.app_id == app_id)
                and (custom_id is None or task.custom_id == custom_id)
            ]

    def holds(self, task: Task) -> bool:
        """Return whether this very task is still stored (in either table)."""
        table = self.text_tasks if task.legacy else self.tasks
        return table.holds(task)

    def pending_tasks(self) -> list[Task]:
        """Return every task of both tables that is not finished, oldest first."""
        with self.condition:
            tasks = [*self.tasks.all(), *self.text_tasks.all()]
            return sorted(
                (task for task in tasks if not task.status.is_final), key=lambda t: t.eligible_at
            )

    def update_task(self, task: Task, **changes: Any) -> None:
        """Change a stored task; ``lastUpdated`` is refreshed as ``TaskMapper::update`` does."""
        with self.condition:
            for name, value in changes.items():
                setattr(task, name, value)
            task.last_updated = self.now()
            self.condition.notify_all()

    def cancel_task(self, task: Task) -> bool:
        """Cancel a scheduled or running task; return False (and change nothing) otherwise."""
        with self.condition:
            if task.status not in (TaskStatus.SCHEDULED, TaskStatus.RUNNING):
                return False
            self.update_task(task, status=TaskStatus.CANCELLED, ended_at=self.now())
            return True

    def set_mode(self, mode: ProcessingMode) -> None:
        """Change what the workers do and wake them."""
        with self.condition:
            self.mode = mode
            self.condition.notify_all()
