"""The installed wheel works: run by ``python3 dev.py package`` in a fresh environment.

That environment holds only the wheel and its dependencies, and this script runs there with
``python -I``, from outside the checkout, so every import comes from the installed package.
It checks the import, the version, the ``prefect.collections`` entry point, that each
entrypoint of the checkout's deployment.yaml loads its flow from the installed package (all a
worker needs), and one round trip: a task scheduled on a sandbox and read back with the client.
"""

from __future__ import annotations

import inspect
import sys
from importlib import metadata
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

import prefect_nextcloud
from prefect_nextcloud.sandbox import NextcloudSandbox


def main(checkout: Path) -> None:
    """Check the installed package; ``checkout`` is the repository it must not come from."""
    installed = Path(prefect_nextcloud.__file__).resolve().parent
    assert checkout not in installed.parents, f"imported from the checkout: {installed}"
    assert metadata.version("prefect-nextcloud") == prefect_nextcloud.__version__
    [collection] = metadata.entry_points(group="prefect.collections", name="prefect_nextcloud")
    assert collection.load() is prefect_nextcloud
    for deployment in yaml.safe_load((checkout / "deployment.yaml").read_text())["deployments"]:
        flow = load_flow_from_entrypoint(deployment["entrypoint"])
        assert flow.name == deployment["name"], deployment["entrypoint"]
        assert checkout not in Path(inspect.getfile(flow.fn)).resolve().parents, flow.name

    with (
        NextcloudSandbox() as sandbox,
        sandbox.credentials.get_client() as client,
    ):
        scheduled = client.schedule_task("core:text2text", {"input": "Say hello."})
        sandbox.wait_for_status(scheduled.id, "SUCCESSFUL", timeout=30)
        task = client.get_task(scheduled.id)
    assert task.status == "STATUS_SUCCESSFUL", task
    assert task.output is not None, task
    assert "Say hello." in task.output["output"], task.output
    print(
        f"prefect-nextcloud {prefect_nextcloud.__version__} from {installed}: "
        f"task {task.id} answered {task.output['output']!r}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
