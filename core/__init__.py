"""Prefect integration for Nextcloud's AI Task Processing API.

The credentials block is importable from here; the tasks, flows, client and sandbox live in
:mod:`prefect_nextcloud.tasks`, :mod:`prefect_nextcloud.flows`, :mod:`prefect_nextcloud.client`
and :mod:`prefect_nextcloud.sandbox`.
"""

from prefect_nextcloud._version import __version__
from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.paths import NextcloudPath

__all__ = ["NextcloudCredentials", "NextcloudError", "NextcloudPath", "__version__"]
