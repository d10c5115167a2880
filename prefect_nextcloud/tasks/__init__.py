"""Prefect tasks for Nextcloud's Task Processing API.

Generic: ``run_task`` (any task type), ``run_tasks`` (many tasks in one Prefect task),
``schedule_task``, ``wait_for_task``, ``cancel_task``,
``delete_task``, ``download_task_file``, ``list_task_types``. Typed helpers for the core task
types are built on ``run_task``; each takes ``options: RunOptions`` (timeout, poll interval,
tidying up), a value built once and passed to every call (``wait_for_task`` takes
``WaitOptions``). Files: ``get_file_id``, ``upload_file``, ``download_file``,
``write_text_file``.
"""

from prefect_nextcloud.tasks.batch import ItemResult
from prefect_nextcloud.tasks.files import (
    download_file,
    get_file_id,
    list_folder,
    upload_file,
    write_text_file,
)
from prefect_nextcloud.tasks.idempotency import cancel_outstanding_tasks
from prefect_nextcloud.tasks.images import ImageAnalysis, analyze_image_batch, analyze_images
from prefect_nextcloud.tasks.media import (
    generate_images,
    ocr,
    ocr_batch,
    text_to_speech,
    transcribe_audio,
)
from prefect_nextcloud.tasks.operations import (
    cancel_task,
    delete_task,
    download_task_file,
    list_task_types,
    schedule_task,
)
from prefect_nextcloud.tasks.options import RunOptions, WaitOptions
from prefect_nextcloud.tasks.polling import TaskStillRunning
from prefect_nextcloud.tasks.results import ChatMessage, FilesResult, TextResult, TextsResult
from prefect_nextcloud.tasks.running import BatchFailedError, run_task, run_tasks
from prefect_nextcloud.tasks.text import (
    change_tone,
    chat,
    context_write,
    extract_topics,
    formalize,
    generate_emoji,
    generate_headline,
    generate_text,
    proofread,
    reformulate,
    simplify,
    summarize,
    translate,
)
from prefect_nextcloud.tasks.waiting import wait_for_task

__all__ = [
    "BatchFailedError",
    "ChatMessage",
    "FilesResult",
    "ImageAnalysis",
    "ItemResult",
    "RunOptions",
    "TaskStillRunning",
    "TextResult",
    "TextsResult",
    "WaitOptions",
    "analyze_image_batch",
    "analyze_images",
    "cancel_outstanding_tasks",
    "cancel_task",
    "change_tone",
    "chat",
    "context_write",
    "delete_task",
    "download_file",
    "download_task_file",
    "extract_topics",
    "formalize",
    "generate_emoji",
    "generate_headline",
    "generate_images",
    "generate_text",
    "get_file_id",
    "list_folder",
    "list_task_types",
    "ocr",
    "ocr_batch",
    "proofread",
    "reformulate",
    "run_task",
    "run_tasks",
    "schedule_task",
    "simplify",
    "summarize",
    "text_to_speech",
    "transcribe_audio",
    "translate",
    "upload_file",
    "wait_for_task",
    "write_text_file",
]
