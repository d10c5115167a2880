"""Staging: turn file references into the file ids Task Processing inputs take.

File ids pass through, Nextcloud paths are looked up, and local files and inline bytes are
uploaded to a staging folder for as long as they are needed, then removed again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.nextcloud_client import AsyncNextcloudClient, NextcloudClient
from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.client.references import (
    FileReference,
    FileReferenceLike,
    LocalFile,
    parse_file_reference,
)
from prefect_nextcloud.client.streams import UploadSource
from prefect_nextcloud.client.webdav import FileInfo

__all__ = [
    "DEFAULT_STAGING_FOLDER",
    "astage_files",
    "check_references",
    "remove_staged",
    "resolve_staged",
    "stage_files",
]

DEFAULT_STAGING_FOLDER = "/prefect-nextcloud/uploads/"

_logger = logging.getLogger(__name__)


@dataclass
class _StagingManifest:
    """What staging will do, worked out without any request."""

    folder: NextcloudPath
    references: list[FileReference]
    uploads: dict[int, tuple[NextcloudPath, UploadSource]] = field(default_factory=dict)
    ids: dict[int, int] = field(default_factory=dict)
    staged: list[NextcloudPath] = field(default_factory=list)

    def result(self) -> list[int]:
        return [self.ids[index] for index in range(len(self.references))]


def _manifest(
    references: Sequence[FileReferenceLike], staging_folder: str, *, tag: str | None = None
) -> _StagingManifest:
    """Parse every reference and check every local file, before anything is sent.

    Uploads are named ``<hex>-<name>``: random hex, or with ``tag`` a hash of the tag and the
    reference's position, so that repeating the same staging replaces the same files.
    """
    if isinstance(references, str | bytes) or not isinstance(references, Sequence):
        raise ValueError(
            f"references must be a list of file references, got {type(references).__name__}."
        )
    manifest = _StagingManifest(NextcloudPath(staging_folder), [])
    for index, value in enumerate(references):
        try:
            reference = parse_file_reference(value)
            if isinstance(reference, Path):
                source, name = _local_source(value, reference), reference.name
            elif isinstance(reference, LocalFile):
                source, name = UploadSource(data=reference.data), reference.name
            else:
                manifest.references.append(reference)
                continue
            unique = (
                uuid4().hex
                if tag is None
                else hashlib.sha256(f"{tag}:{index}".encode()).hexdigest()[:32]
            )
            target = manifest.folder / f"{unique}-{name}"
        except ValueError as error:
            raise ValueError(f"File reference {index + 1} of {len(references)}: {error}") from None
        manifest.references.append(reference)
        manifest.uploads[index] = (target, source)
    return manifest


def _local_source(value: object, path: Path) -> UploadSource:
    """A local file to upload; one named by ``file:`` text is read only where text may point."""
    if isinstance(value, str):
        return UploadSource.allowed_file(path)
    return UploadSource.of(path)


def check_references(references: Sequence[FileReferenceLike]) -> None:
    """Parse every reference and check every local file, sending nothing.

    Raises:
        ValueError: A reference is invalid or a local file is missing.
    """
    _manifest(references, DEFAULT_STAGING_FOLDER)


def _file_id(info: FileInfo) -> int:
    if info.is_folder:
        raise ValueError(f"{info.path} is a folder, not a file; give the path of a file in it.")
    return info.file_id


def _cleanup_failed(target: NextcloudPath, error: NextcloudError) -> None:
    # Cleanup must not hide the body's own error, so a failed delete is only logged.
    _logger.warning("Could not remove the staged file %s: %s", target, error)


def resolve_staged(
    client: NextcloudClient,
    references: Sequence[FileReferenceLike],
    *,
    staging_folder: str = DEFAULT_STAGING_FOLDER,
    tag: str | None = None,
    staged: list[NextcloudPath] | None = None,
) -> list[int]:
    """Resolve file references to file ids, uploading local data; see :func:`stage_files`.

    The uploads stay until removed with :func:`remove_staged`.

    Args:
        client: The client to use.
        references: The references.
        staging_folder: The Nextcloud folder for uploads; created when missing.
        tag: Name uploads after this tag instead of at random, so a repeat replaces them.
        staged: Each uploaded path is appended here as soon as its upload starts.

    Returns:
        The file ids, in the order of ``references``.
    """
    manifest = _manifest(references, staging_folder, tag=tag)
    for index, reference in enumerate(manifest.references):
        if isinstance(reference, int):
            manifest.ids[index] = reference
        elif isinstance(reference, NextcloudPath):
            manifest.ids[index] = _file_id(client.get_file_info(reference))
    if manifest.uploads:
        client.make_folders(manifest.folder)
    for index, (target, source) in manifest.uploads.items():
        if staged is not None:
            staged.append(target)
        manifest.ids[index] = client.upload_file(target, source, create_folders=False)
    return manifest.result()


def remove_staged(client: NextcloudClient, paths: Sequence[NextcloudPath]) -> None:
    """Delete staged uploads; a failure is logged, never raised."""
    for target in paths:
        try:
            client.delete_file(target)
        except NextcloudError as error:
            _cleanup_failed(target, error)


@contextmanager
def stage_files(
    client: NextcloudClient,
    references: Sequence[FileReferenceLike],
    *,
    staging_folder: str = DEFAULT_STAGING_FOLDER,
    keep: bool = False,
) -> Iterator[list[int]]:
    """Resolve file references to file ids; staged uploads live as long as the block.

    Every reference is parsed and every local file checked first, then Nextcloud paths are
    looked up, and only then are local files and bytes uploaded (as
    ``<staging_folder>/<random hex>-<name>``). So a bad reference uploads nothing.

    Example:
        ```python
        with client, stage_files(client, ["nc:/Photos/a.jpg", Path("b.png"), 42]) as ids:
            client.schedule_task("core:analyze-images", {"images": ids, "input": "?"})
        ```

    Args:
        client: The client to use.
        references: Anything :func:`~prefect_nextcloud.client.references.parse_file_reference`
            accepts: file ids, Nextcloud paths, local paths, :class:`LocalFile` or
            ``(name, bytes)``.
        staging_folder: The Nextcloud folder for uploads; created when missing.
        keep: Keep the uploaded files after the block instead of deleting them.

    Yields:
        The file ids, in the order of ``references``.

    Raises:
        ValueError: A reference is invalid, a local file is missing, or a path is a folder.
        NextcloudFileNotFoundError: A Nextcloud path does not exist.
    """
    staged: list[NextcloudPath] = []
    try:
        yield resolve_staged(client, references, staging_folder=staging_folder, staged=staged)
    finally:
        if not keep:
            remove_staged(client, staged)


@asynccontextmanager
async def astage_files(
    client: AsyncNextcloudClient,
    references: Sequence[FileReferenceLike],
    *,
    staging_folder: str = DEFAULT_STAGING_FOLDER,
    keep: bool = False,
) -> AsyncIterator[list[int]]:
    """The async twin of :func:`stage_files`, with an :class:`AsyncNextcloudClient`.

    Yields:
        The file ids, in the order of ``references``.
    """
    manifest = _manifest(references, staging_folder)
    for index, reference in enumerate(manifest.references):
        if isinstance(reference, int):
            manifest.ids[index] = reference
        elif isinstance(reference, NextcloudPath):
            manifest.ids[index] = _file_id(await client.get_file_info(reference))
    try:
        if manifest.uploads:
            await client.make_folders(manifest.folder)
        for index, (target, source) in manifest.uploads.items():
            manifest.staged.append(target)
            manifest.ids[index] = await client.upload_file(target, source, create_folders=False)
        yield manifest.result()
    finally:
        for target in [] if keep else manifest.staged:
            try:
                await client.delete_file(target)
            except NextcloudError as error:
                _cleanup_failed(target, error)
