"""Your own task for a Nextcloud task type that has no typed helper here.

``run_task`` runs any task type the server offers (an app's own types included) with the same
checks, staging, pacing and polling as the typed helpers. Give such a type a name and a typed
result with a small function that flows call; the Prefect task run is ``run_task``'s own.
``core:text2text:improve`` (Nextcloud 35+) rewrites a text by instructions.
"""

from prefect_nextcloud.blocks.credentials import NextcloudCredentials
from prefect_nextcloud.tasks import RunOptions, run_task

__all__ = ["improve_text"]


def improve_text(credentials: NextcloudCredentials, text: str, instructions: str) -> str:
    """Rewrite a text by the given instructions and return the new text.

    Args:
        credentials: Where and as whom to connect.
        text: The text to improve.
        instructions: How to improve it, e.g. "shorter, for a newsletter".

    Returns:
        The improved text.
    """
    finished = run_task(
        credentials,
        "core:text2text:improve",
        {"input": text, "instructions": instructions},
        options=RunOptions(timeout_seconds=900),
    )
    return str((finished.output or {}).get("output", ""))
