"""The ``prefect-nextcloud`` command: run the demo, or a local Nextcloud sandbox."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect_nextcloud.sandbox.runtimes import RunSeconds

DEMO_PROMPT = "Describe this image in one sentence."


def _demo(prompt: str) -> int:
    from prefect_nextcloud.flows.analyze_image import analyze_image  # noqa: PLC0415
    from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes  # noqa: PLC0415

    with NextcloudSandbox(pickup_delay_seconds=0.5, run_seconds=0.5) as sandbox:
        file_id = sandbox.upload("sample.png", sample_image_bytes())
        print(f"Nextcloud sandbox at {sandbox.base_url}; sample.png uploaded as file {file_id}.")
        analysis = analyze_image(
            prompt=prompt,
            image_file_ids=[file_id],
            credentials=sandbox.credentials,
            poll_interval_seconds=0.5,
        )
    print(f"\nAnalysis of Nextcloud task {analysis.task_id}:\n{analysis.analysis_text}")
    return 0


def _run_seconds(text: str) -> RunSeconds:
    from prefect_nextcloud.sandbox.runtimes import parse_run_seconds  # noqa: PLC0415

    try:
        return parse_run_seconds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _sandbox(arguments: argparse.Namespace) -> int:
    from prefect_nextcloud.sandbox import serve_forever  # noqa: PLC0415

    serve_forever(
        port=arguments.port,
        server_version=arguments.server_version,
        pickup_delay_seconds=arguments.pickup_delay,
        run_seconds=arguments.run_seconds,
        workers=arguments.workers,
        failing_task_types=arguments.fail,
        seed=arguments.seed,
    )
    return 0


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
    sandbox = commands.add_parser("sandbox", help="run a local Nextcloud sandbox until Ctrl-C")
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
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        return _demo(arguments.prompt)
    return _sandbox(arguments)


if __name__ == "__main__":
    sys.exit(main())
