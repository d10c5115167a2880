"""Run the sandbox in the foreground, for trying flows by hand (``prefect-nextcloud sandbox``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import TextIO, TypedDict, Unpack

from prefect_nextcloud.sandbox.samples import sample_files
from prefect_nextcloud.sandbox.server import NextcloudSandbox
from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunSeconds

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
    save_block: str | None = None,
    **options: Unpack[SandboxOptions],
) -> None:
    """Serve a sandbox with sample files in ``/Photos``, until Ctrl-C (or ``stop`` is set).

    Prints the address, the settings, the user and app password, the sample files' ids, a
    ready ``export NEXTCLOUD_…`` line and where to see what the sandbox holds.

    Args:
        port: TCP port; None or 0 picks a free one.
        host: Interface to listen on.
        stop: Ends serving when set (Ctrl-C always does).
        out: Where to print; standard output by default.
        save_block: Also save the credentials as a Prefect block of this name (the shipped
            deployments use ``nextcloud``), on the Prefect API the environment points at.
        **options: Passed to :class:`NextcloudSandbox`, e.g. ``run_seconds=(2, 30)``.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    options["failing_task_types"] = list(options.get("failing_task_types", ()))
    with NextcloudSandbox(host=host, port=port or 0, **options) as sandbox:
        samples = ", ".join(
            f"/{path} ({sandbox.upload(path, data)})" for path, data in sample_files().items()
        )
        print(
            f"Nextcloud sandbox (an emulation for tests, not a real Nextcloud) at "
            f"{sandbox.base_url}\n"
            f"  {_settings(sandbox.server_version, options)}\n"
            f"  user:         {sandbox.user_id}\n"
            f"  app password: {sandbox.app_password}\n"
            f"  sample files (file id): {samples}\n"
            f"For the credentials block from the environment:\n"
            f"  export NEXTCLOUD_URL={sandbox.base_url} NEXTCLOUD_USER={sandbox.user_id} "
            f"NEXTCLOUD_APP_PASSWORD={sandbox.app_password}\n"
            f"To add your own files: prefect-nextcloud sandbox upload PATH --to /Photos "
            f"--url {sandbox.base_url}\n"
            f"To see its files, comments and tasks: open {sandbox.base_url}/ in a browser, or "
            f"run prefect-nextcloud sandbox ls|comments|tasks --url {sandbox.base_url}",
            file=out,
            flush=True,
        )
        if save_block:
            _save_block(sandbox, save_block, out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            print("Stopping the sandbox.", file=out, flush=True)


def _settings(server_version: int, options: SandboxOptions) -> str:
    run = options.get("run_seconds", 0.0)
    run_text = f"{run[0]:g}-{run[1]:g} s" if isinstance(run, tuple) else f"{run:g} s"
    workers = options.get("workers", 1)
    text = (
        f"Nextcloud {server_version}; a task waits {options.get('pickup_delay_seconds', 0.0):g} s "
        f"for a worker, then runs {run_text}; {workers} worker{'s' if workers != 1 else ''}"
    )
    failing = list(options.get("failing_task_types", ()))
    return text + (f"; failing: {', '.join(failing)}" if failing else "")


def _save_block(sandbox: NextcloudSandbox, name: str, out: TextIO) -> None:
    try:
        sandbox.credentials.save(name, overwrite=True)
    except Exception as error:  # any Prefect API problem: the sandbox serves on regardless
        print(f"Could not save the Prefect block {name!r}: {error}", file=out, flush=True)
        return
    print(f"Saved these credentials as the Prefect block {name!r}.", file=out, flush=True)
