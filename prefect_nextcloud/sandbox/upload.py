"""Put local files into a running sandbox (``prefect-nextcloud sandbox upload``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TextIO

from prefect_nextcloud.sandbox.server import DEFAULT_APP_PASSWORD, DEFAULT_USER_ID

__all__ = ["DEFAULT_SANDBOX_URL", "SandboxLogin", "sandbox_login", "upload_files"]

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8080"
"""Where ``prefect-nextcloud sandbox`` listens unless told otherwise."""


@dataclass(frozen=True)
class SandboxLogin:
    """Which running sandbox the commands talk to, and as whom; the ``repr`` omits the password."""

    url: str
    user_id: str
    app_password: str = field(repr=False)


def sandbox_login(url: str | None) -> SandboxLogin:
    """The sandbox and login of the ``prefect-nextcloud sandbox`` commands.

    Args:
        url: The sandbox; ``NEXTCLOUD_URL`` or :data:`DEFAULT_SANDBOX_URL` when None.

    Returns:
        The address, with the user and app password of ``NEXTCLOUD_USER`` and
        ``NEXTCLOUD_APP_PASSWORD``, or the sandbox's defaults.
    """
    return SandboxLogin(
        url or os.environ.get("NEXTCLOUD_URL") or DEFAULT_SANDBOX_URL,
        os.environ.get("NEXTCLOUD_USER") or DEFAULT_USER_ID,
        os.environ.get("NEXTCLOUD_APP_PASSWORD") or DEFAULT_APP_PASSWORD,
    )


def upload_files(
    paths: Iterable[Path],
    *,
    folder: str = "/",
    url: str | None = None,
    out: TextIO | None = None,
) -> dict[str, int]:
    """Upload local files, or every file below local folders, into a sandbox user's files.

    Files keep their names (and, below a local folder, their relative path); an existing file
    of the same name is replaced. Missing Nextcloud folders are created.

    Args:
        paths: Local files or folders.
        folder: The Nextcloud folder to put them in, e.g. ``/Photos``.
        url: The sandbox, as :func:`sandbox_login` finds it and the login.
        out: Where to report each upload; standard output by default.

    Returns:
        The Nextcloud path and file id of every uploaded file.

    Raises:
        FileNotFoundError: A local path does not exist; nothing was uploaded.
        NextcloudError: The sandbox refused an upload or could not be reached.
    """
    # Imported here: the credentials block pulls in Prefect, which serving does not need.
    from pydantic import SecretStr  # noqa: PLC0415

    from prefect_nextcloud.blocks import NextcloudCredentials  # noqa: PLC0415

    out = out or sys.stdout
    plan = _plan(paths, PurePosixPath("/") / folder.strip("/"))
    login = sandbox_login(url)
    credentials = NextcloudCredentials(
        base_url=login.url,
        user_id=login.user_id,
        app_password=SecretStr(login.app_password),
        # A local sandbox answers at once or not at all: do not retry for minutes.
        retry_seconds=5,
        retry_initial_delay_seconds=0.2,
    )
    uploaded = {}
    with credentials.get_client() as client:
        for local, remote in plan:
            uploaded[remote] = client.upload_file(remote, local)
            print(f"{local} -> {remote} (file id {uploaded[remote]})", file=out, flush=True)
    return uploaded


def _plan(paths: Iterable[Path], folder: PurePosixPath) -> list[tuple[Path, str]]:
    """Pair each local file with its Nextcloud path, checking every path first."""
    pairs = []
    for path in paths:
        if path.is_file():
            pairs.append((path, str(folder / path.name)))
        elif path.is_dir():
            pairs += [
                (item, str(folder / path.name / item.relative_to(path).as_posix()))
                for item in sorted(path.rglob("*"))
                if item.is_file()
            ]
        else:
            raise FileNotFoundError(f"No such file or folder: {path}")
    return pairs
