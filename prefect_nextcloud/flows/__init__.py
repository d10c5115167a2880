"""Ready-made Prefect flows for Nextcloud's Task Processing API."""

from prefect_nextcloud.flows.analyze_image import analyze_image
from prefect_nextcloud.flows.image_report import ImageReport, image_report
from prefect_nextcloud.flows.process_new_files import NewFilesRun, process_new_files

__all__ = ["ImageReport", "NewFilesRun", "analyze_image", "image_report", "process_new_files"]
