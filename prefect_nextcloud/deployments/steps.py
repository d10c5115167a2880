"""A pull step for deployments whose flow code sits in a folder on each worker's machine.

Prefect's ``set_working_directory`` step with ``directory: "{{ $VARIABLE }}"`` turns an unset
variable into an empty path, and the run fails with a bare ``FileNotFoundError``. This step
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

__all__ = ["set_working_directory_from_env"]


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
