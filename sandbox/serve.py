"""Run the sandbox in the foreground, for trying flows by hand (``prefect-nextcloud sandbox``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import TextIO, TypedDict, Unpack

from prefect_nextcloud.sandbox.runtimes import RunSeconds
from prefect_nextcloud.sandbox.samples import SAMPLE_IMAGE_NAME, sample_image_bytes
from prefect_nextcloud.sandbox.server import NextcloudSandbox

__all__ = ["SandboxOptions", "serve_forever"]


class SandboxOptions(TypedDict, total=False):
    """The :class:`NextcloudSandbox` settings the foreground server takes."""

    server_version: int
    pickup_delay_seconds: float
    run_seconds: RunSeconds
    workers: int
    failing_task_types: Iterable[str]
    seed: int


def serve_forever(
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
    out: TextIO | None = None,
    **options: Unpack[SandboxOptions],
) -> None:
    """Serve a sandbox with the sample image uploaded, until Ctrl-C (or ``stop`` is set).

    Prints the address, the user, the app password and the sample image's file id.

    Args:
        port: TCP port; None or 0 picks a free one.
        host: Interface to listen on.
        stop: Ends serving when set (Ctrl-C always does).
        out: Where to print; standard output by default.
        **options: Passed to :class:`NextcloudSandbox`, e.g. ``run_seconds=(2, 30)``.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    with NextcloudSandbox(host=host, port=port or 0, **options) as sandbox:
        file_id = sandbox.upload(SAMPLE_IMAGE_NAME, sample_image_bytes())
        print(
            f"Nextcloud sandbox (an emulation for tests, not a real Nextcloud) at "
            f"{sandbox.base_url}\n"
            f"  user:         {sandbox.user_id}\n"
            f"  app password: {sandbox.app_password}\n"
            f"  sample image: file id {file_id} ({SAMPLE_IMAGE_NAME})\n"
            f"For the credentials block from the environment:\n"
            f"  export NEXTCLOUD_URL={sandbox.base_url} NEXTCLOUD_USER={sandbox.user_id} "
            f"NEXTCLOUD_APP_PASSWORD={sandbox.app_password}\n"
            "Press Ctrl-C to stop.",
            file=out,
            flush=True,
        )
        try:
            stop.wait()
        except KeyboardInterrupt:
            print("Stopping the sandbox.", file=out, flush=True)
