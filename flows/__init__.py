"""Ready-made Prefect flows for Nextcloud's Task Processing API."""

from prefect_nextcloud.flows.analyze_image import analyze_image

__all__ = ["analyze_image"]
