"""Prefect tasks for Nextcloud's Task Processing API."""

from prefect_nextcloud.tasks.images import ImageAnalysis, analyze_images
from prefect_nextcloud.tasks.operations import (
    cancel_task,
    delete_task,
    download_task_file,
    list_task_types,
    schedule_task,
)
from prefect_nextcloud.tasks.retry_rules import TaskStillRunning
from prefect_nextcloud.tasks.running import run_task
from prefect_nextcloud.tasks.waiting import wait_for_task

__all__ = [
    "ImageAnalysis",
    "TaskStillRunning",
    "analyze_images",
    "cancel_task",
    "delete_task",
    "download_task_file",
    "list_task_types",
    "run_task",
    "schedule_task",
    "wait_for_task",
]
