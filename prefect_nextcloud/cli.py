"""The ``prefect-nextcloud`` command: run the demo, a local Nextcloud sandbox, or the relay."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect_nextcloud.sandbox.taskprocessing.runtimes import RunSeconds

DEMO_PROMPT = "Describe this image in one sentence."
DEMO_SERVER_STARTUP_SECONDS = 120
"""How long the demo lets Prefect's temporary API server start (Prefect's own limit is 20 s)."""


def _quiet_demo_environment() -> None:
    """Keep the demo's Prefect files out of the user's ``~/.prefect`` and its output quiet.

    Without a Prefect API of the user's, the demo's temporary server keeps its database under
    the system's temporary folder (reused by the next demo, so it starts warm). Prefect's
    telemetry is off: it cannot reach its host from a closed network, and its first write
    races the server's start-up on SQLite ("database is locked").
    """
    if not os.environ.get("PREFECT_API_URL"):
        home = Path(tempfile.gettempdir()) / "prefect-nextcloud-demo"
        os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _demo(prompt: str) -> int:
    _quiet_demo_environment()
    from prefect.settings import (  # noqa: PLC0415
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    from prefect_nextcloud.flows.analyze_image import analyze_image  # noqa: PLC0415
    from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes  # noqa: PLC0415

    startup = max(
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), DEMO_SERVER_STARTUP_SECONDS
    )
    with (
        temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: startup}),
        NextcloudSandbox(pickup_delay_seconds=0.5, run_seconds=0.5) as sandbox,
    ):
        file_id = sandbox.upload("sample.png", sample_image_bytes())
        print(f"Nextcloud sandbox at {sandbox.base_url}; sample.png uploaded as file {file_id}.")
        if PREFECT_API_URL.value():
            print(
                f"Running the analyze_image flow on the Prefect API at {PREFECT_API_URL.value()}."
            )
        else:
            print(
                "Starting Prefect's temporary API server for the flow run; on a busy machine "
                f"this can take a while (waiting up to {startup} s) ...",
                flush=True,
            )
        analysis = analyze_image(
            prompt=prompt,
            image_file_ids=[file_id],
            credentials=sandbox.credentials,
            poll_interval_seconds=0.5,
        )
    print(f"\nAnalysis of Nextcloud task {analysis.task_id}:\n{analysis.analysis_text}")
    return 0


def _run_seconds(text: str) -> RunSeconds:
    from prefect_nextcloud.sandbox.taskprocessing.runtimes import parse_run_seconds  # noqa: PLC0415

    try:
        return parse_run_seconds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_VIEW_COMMANDS = {  # the sandbox sub-commands that print its overview
    "ls": "the files and folders",
    "comments": "the file comments",
    "tasks": "the Task Processing tasks, newest first,",
}


def _show(command: str, url: str | None, user: str | None) -> int:
    from prefect_nextcloud.sandbox.overview.terminal import (  # noqa: PLC0415
        VIEWS,
        OverviewError,
        fetch_overview,
    )
    from prefect_nextcloud.sandbox.upload import sandbox_login  # noqa: PLC0415

    try:
        overview = fetch_overview(sandbox_login(url), user)
    except OverviewError as error:
        print(f"prefect-nextcloud sandbox {command}: {error}", file=sys.stderr)
        return 1
    print(VIEWS[command](overview), end="")
    return 0


def _sandbox(arguments: argparse.Namespace) -> int:
    if arguments.sandbox_command in _VIEW_COMMANDS:
        return _show(arguments.sandbox_command, arguments.url, arguments.user)
    if arguments.sandbox_command == "upload":
        from prefect_nextcloud import NextcloudError  # noqa: PLC0415
        from prefect_nextcloud.sandbox.upload import upload_files  # noqa: PLC0415

        try:
            upload_files(arguments.paths, folder=arguments.to, url=arguments.url)
        except (FileNotFoundError, NextcloudError) as error:
            print(f"prefect-nextcloud sandbox upload: {error}", file=sys.stderr)
            return 1
        return 0

    from prefect_nextcloud.sandbox import serve_forever  # noqa: PLC0415

    serve_forever(
        port=arguments.port,
        save_block=arguments.save_block,
        server_version=arguments.server_version,
        pickup_delay_seconds=arguments.pickup_delay,
        run_seconds=arguments.run_seconds,
        workers=arguments.workers,
        failing_task_types=arguments.fail,
        seed=arguments.seed,
    )
    return 0


def _add_sandbox_commands(sandbox: argparse.ArgumentParser) -> None:
    sandbox.add_argument("--port", type=int, default=8080, help="the port (default: 8080)")
    sandbox.add_argument(
        "--server-version",
        type=int,
        default=33,
        metavar="N",
        help="the Nextcloud major version to emulate, 27 to 35 (default: 33)",
    )
    sandbox.add_argument(
        "--pickup-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long a new task waits before a worker takes it (default: 1)",
    )
    sandbox.add_argument(
        "--run-seconds",
        type=_run_seconds,
        default=3.0,
        metavar="SECONDS",
        help="how long each task runs: seconds, or a range like 2-30 to draw each "
        "task's time from (default: 3)",
    )
    sandbox.add_argument(
        "--workers", type=int, default=2, help="tasks processed at once (default: 2)"
    )
    sandbox.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="TASK_TYPE",
        help="make this task type's provider fail, e.g. core:text2text:summary (repeatable)",
    )
    sandbox.add_argument(
        "--seed", type=int, default=0, help="seeds the run times drawn from a range (default: 0)"
    )
    sandbox.add_argument(
        "--save-block",
        metavar="NAME",
        help="also save the credentials as a Prefect block of this name (the shipped "
        "deployments use 'nextcloud')",
    )
    commands = sandbox.add_subparsers(dest="sandbox_command", metavar="{upload,ls,comments,tasks}")
    upload = commands.add_parser(
        "upload", help="upload local files or folders into a running sandbox"
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    upload.add_argument(
        "--to", default="/", metavar="FOLDER", help="the Nextcloud folder (default: /)"
    )
    _add_url(upload)
    for name, description in _VIEW_COMMANDS.items():
        view = commands.add_parser(name, help=f"print {description} of a running sandbox")
        _add_url(view)
        view.add_argument(
            "--user",
            metavar="USER_ID",
            help="show only this user's files and tasks (default: every user's)",
        )


def _add_url(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        help="the sandbox (default: $NEXTCLOUD_URL, else http://127.0.0.1:8080); the user and "
        "app password come from $NEXTCLOUD_USER and $NEXTCLOUD_APP_PASSWORD, else the "
        "sandbox's defaults",
    )


def _relay(arguments: argparse.Namespace) -> int:
    from prefect_nextcloud.relay import (  # noqa: PLC0415
        listener_registration_commands,
        load_relay_config,
        serve_relay,
    )

    try:
        config = load_relay_config(arguments.credentials)
        if arguments.listener_registration:
            print(listener_registration_commands(config))
        else:
            serve_relay(config, host=arguments.host, port=arguments.port)
    except KeyboardInterrupt:  # uvicorn raises Ctrl-C again once it has shut down
        return 0
    except ValueError as error:
        print(f"prefect-nextcloud relay: {error}", file=sys.stderr)
        return 1
    return 0


def _add_relay_arguments(relay: argparse.ArgumentParser) -> None:
    relay.add_argument(
        "--host",
        default="127.0.0.1",
        help="the interface to listen on (default: 127.0.0.1, loopback; put a TLS reverse "
        "proxy in front)",
    )
    relay.add_argument("--port", type=int, default=8787, help="the port (default: 8787)")
    relay.add_argument(
        "--credentials",
        metavar="BLOCK_NAME",
        help="a saved Nextcloud Credentials block holding the relay secret (default: "
        "$NEXTCLOUD_URL, $NEXTCLOUD_RELAY_SECRET and $NEXTCLOUD_RELAY_URL)",
    )
    relay.add_argument(
        "--listener-registration",
        action="store_true",
        help="print the curl calls a Nextcloud admin runs once to send file events to the "
        "relay (they hold a value derived from the secret), and exit",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments; ``sys.argv[1:]`` when omitted.

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="prefect-nextcloud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="analyze a sample image with the analyze-image flow against a sandbox"
    )
    demo.add_argument("--prompt", default=DEMO_PROMPT, help="the question about the image")
    sandbox = commands.add_parser(
        "sandbox",
        help="run a local Nextcloud sandbox until Ctrl-C, or upload files into a running one",
    )
    _add_sandbox_commands(sandbox)
    relay = commands.add_parser(
        "relay",
        help="turn Nextcloud's pushes (task webhooks, file events) into Prefect events",
    )
    _add_relay_arguments(relay)
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        return _demo(arguments.prompt)
    if arguments.command == "relay":
        return _relay(arguments)
    return _sandbox(arguments)


if __name__ == "__main__":
    sys.exit(main())
