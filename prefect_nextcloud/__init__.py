"""Prefect integration for Nextcloud's AI Task Processing API.

The credentials block, the base error and ``NextcloudPath`` are importable from here; the tasks,
flows, client and sandbox live in :mod:`prefect_nextcloud.tasks`, :mod:`prefect_nextcloud.flows`,
:mod:`prefect_nextcloud.client` and :mod:`prefect_nextcloud.sandbox`.

The exports are loaded on first use, so ``import prefect_nextcloud.client`` (or ``.sandbox``)
does not import Prefect.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from prefect_nextcloud._version import __version__

if TYPE_CHECKING:
    from prefect_nextcloud.blocks.credentials import NextcloudCredentials
    from prefect_nextcloud.client.errors import NextcloudError
    from prefect_nextcloud.client.paths import NextcloudPath

__all__ = ["NextcloudCredentials", "NextcloudError", "NextcloudPath", "__version__"]

_EXPORTS = {
    "NextcloudCredentials": "prefect_nextcloud.blocks.credentials",
    "NextcloudError": "prefect_nextcloud.client.errors",
    "NextcloudPath": "prefect_nextcloud.client.paths",
}


def __getattr__(name: str) -> Any:
    """Import an export on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
