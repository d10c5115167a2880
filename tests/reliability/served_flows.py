"""Both shipped flows and a flow written the way the README shows, served by one runner.

As ``flow.serve()`` does, the flows are added to the runner as flow objects, so it sends each
one by value to a child process. As in the README, this module has no ``from __future__
import annotations``: only real annotation objects travel with a flow sent by value.
"""

import asyncio

from prefect import flow
from prefect.runner import Runner

from prefect_nextcloud import NextcloudCredentials, NextcloudPath
from prefect_nextcloud.flows import analyze_image, image_report
from prefect_nextcloud.tasks import RunOptions, analyze_images, summarize

OPTIONS = RunOptions(timeout_seconds=60.0, poll_interval_seconds=0.2)


@flow
def describe_and_summarize(credentials: NextcloudCredentials, photo: NextcloudPath) -> str:
    analysis = analyze_images(credentials, "Describe this photo.", photo, options=OPTIONS)
    return summarize(credentials, analysis.analysis_text, options=OPTIONS).text


if __name__ == "__main__":
    runner = Runner(name="served-flows")
    for served in (analyze_image, image_report, describe_and_summarize):
        runner.add_flow(served, name="served")  # what flow.serve(name="served") does
    print("The flows are served, polling for scheduled runs.", flush=True)
    asyncio.run(runner.start())
