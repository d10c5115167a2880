"""Prefect tasks for files in the user's Nextcloud: look up, list, upload, download, write."""

from __future__ import annotations

import os

from prefect import task
from prefect.logging import get_run_logger

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.webdav import FileInfo

__all__ = ["download_file", "get_file_id", "list_folder", "upload_file", "write_text_file"]


@task
def get_file_id(credentials: NextcloudCredentials, path: str) -> int:
    """Look up the file id of a file or folder, as Task Processing inputs take it.

    Args:
        credentials: Where and as whom to connect.
        path: The path below the user's home folder, e.g. ``/Photos/receipt.jpg``.

    Returns:
        The file id.
    """
    with credentials.get_client() as client:
        return client.get_file_id(path)


@task
def list_folder(credentials: NextcloudCredentials, path: str) -> list[FileInfo]:
    """List the files and folders directly in a folder.

    Args:
        credentials: Where and as whom to connect.
        path: The folder, e.g. ``/Photos``; ``/`` is the user's home folder.

    Returns:
        What the folder holds (ids, paths, MIME types), sorted by path.
    """
    with credentials.get_client() as client:
        return client.list_folder(path)


@task
def upload_file(
    credentials: NextcloudCredentials,
    path: str,
    data_or_local_path: bytes | str | os.PathLike[str],
) -> int:
    """Upload a file, creating missing folders and replacing a file at the same path.

    Args:
        credentials: Where and as whom to connect.
        path: Where to put it, e.g. ``/Inbox/scan.pdf``.
        data_or_local_path: The content as bytes, or the path of a local file on the machine
            running the flow (streamed, never read whole).

    Returns:
        The new file's id.
    """
    with credentials.get_client() as client:
        file_id = client.upload_file(path, data_or_local_path)
    get_run_logger().info("Uploaded %s to Nextcloud (file id %s).", path, file_id)
    return file_id


@task
def download_file(credentials: NextcloudCredentials, path: str) -> bytes:
    """Download a file into memory (up to the client's limit, 100 MiB).

    Args:
        credentials: Where and as whom to connect.
        path: The file's path, e.g. ``/Photos/receipt.jpg``.

    Returns:
        The file's content.
    """
    with credentials.get_client() as client:
        return client.download_file(path)


@task
def write_text_file(credentials: NextcloudCredentials, path: str, text: str) -> int:
    """Write text to a file as UTF-8, e.g. a report; missing folders are created.

    Args:
        credentials: Where and as whom to connect.
        path: The file's path, e.g. ``/Reports/summary.md``.
        text: The content.

    Returns:
        The file's id.
    """
    with credentials.get_client() as client:
        file_id = client.write_text(path, text)
    get_run_logger().info("Wrote %s in Nextcloud (file id %s).", path, file_id)
    return file_id
