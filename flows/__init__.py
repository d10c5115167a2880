"""Ready-made Prefect flows for Nextcloud's Task Processing API."""

from prefect_nextcloud.flows.analyze_image import analyze_image
from prefect_nextcloud.flows.image_report import ImageReport, image_report

__all__ = ["ImageReport", "analyze_image", "image_report"]
