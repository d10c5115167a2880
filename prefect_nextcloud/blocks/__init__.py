"""Prefect blocks of prefect-nextcloud."""

from prefect_nextcloud.blocks.credentials import NextcloudCredentials

__all__ = ["NextcloudCredentials"]
