"""The ``prefect-nextcloud`` command: run the demo, or a local Nextcloud sandbox."""

from __future__ import annotations

import argparse
import sys

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


def _sandbox(port: int) -> int:
    from prefect_nextcloud.sandbox import serve_forever  # noqa: PLC0415

    serve_forever(port=port)
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
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        return _demo(arguments.prompt)
    return _sandbox(arguments.port)


if __name__ == "__main__":
    sys.exit(main())
