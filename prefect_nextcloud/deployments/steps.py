"""Deployment steps: the saved credentials for the run forms, and a checked working directory.

:func:`saved_credentials_reference` is the build step of the shipped ``deployment.yaml``.
:func:`set_working_directory_from_env` is a pull step for deployments whose flow code sits in
a folder on each worker's machine.

Prefect's ``set_working_directory`` step with ``directory: "{{ $VARIABLE }}"`` turns an unset
variable into an empty path, and the run fails with a bare ``FileNotFoundError``. The pull step
reads the variable itself, so a run on a worker without it fails with a message naming the
variable and where to set it:

```yaml
pull:
  - prefect_nextcloud.deployments.steps.set_working_directory_from_env:
      variable: MY_FLOWS_DIR
```

The name is stored as it is, so ``prefect deploy`` never records the deploying machine's path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL

from prefect_nextcloud.blocks.credentials import NextcloudCredentials

__all__ = ["saved_credentials_reference", "set_working_directory_from_env"]


def set_working_directory_from_env(variable: str) -> dict[str, str]:
    """Make the folder an environment variable of the flow run names its working directory.

    A process worker's flow runs inherit its environment, so the variable is set where the
    worker starts (``export MY_FLOWS_DIR=/srv/flows`` before ``prefect worker start``).

    Args:
        variable: The name of the environment variable holding the folder's absolute path.

    Returns:
        ``{"directory": <the folder>}``, which Prefect changes into before loading the flow.

    Raises:
        ValueError: The variable is unset or empty, or holds a relative path.
        NotADirectoryError: The variable names no folder on this machine.
    """
    value = os.environ.get(variable, "")
    where = (
        f"set {variable} in the worker's environment to the absolute path of the folder that "
        "holds the deployment's flow code, then restart the worker"
    )
    if not value:
        raise ValueError(
            f"The pull step set_working_directory_from_env found no {variable} in the "
            f"environment of this flow run: {where}."
        )
    directory = Path(value).expanduser()
    if not directory.is_absolute():
        raise ValueError(
            f"{variable} is {value!r}, a relative path, but flow runs start in a folder of "
            f"their own: {where}."
        )
    if not directory.is_dir():
        raise NotADirectoryError(f"{variable} is {value!r}, which is not a folder here: {where}.")
    os.chdir(directory)
    return {"directory": str(directory)}


def saved_credentials_reference(name: str = "nextcloud") -> dict[str, Any]:
    """Deployment step: a saved credentials block, as the run form's preselected choice.

    The form shows a block as picked when the deployment's parameter refers to it by id, which
    only the Prefect server knows. ``prefect deploy`` runs this build step before it creates
    the deployments, whose parameters then take its output, e.g.
    ``credentials: "{{ nextcloud-credentials.reference }}"`` for a step with that ``id``.
    (Prefect's own placeholder for a block, ``{{ prefect.blocks.<type>.<name> }}``, would write
    out the block's fields, app password included.)

    Args:
        name: The name of a saved "Nextcloud Credentials" block.

    Returns:
        ``{"reference": {"$ref": {"block_document_id": "<the block's id>"}}}``.

    Raises:
        ValueError: No such block is saved on the Prefect server.
    """
    with get_client(sync_client=True) as client:
        try:
            block = client.read_block_document_by_name(
                name, NextcloudCredentials.get_block_type_slug(), include_secrets=False
            )
        except ObjectNotFound:
            server = PREFECT_API_URL.value() or "Prefect's temporary server"
            raise ValueError(
                f'No "Nextcloud Credentials" block named {name!r} is saved on {server}, and '
                "the deployments name it as their credentials. Save it first (python "
                f"blocks/save_credentials.py {name}, with NEXTCLOUD_URL, NEXTCLOUD_USER and "
                "NEXTCLOUD_APP_PASSWORD set, or in the UI under Blocks), then deploy again."
            ) from None
    return {"reference": {"$ref": {"block_document_id": str(block.id)}}}
