"""Markdown for artifacts and reports: text escaped, table cells, and links to files.

Every piece of text that comes from elsewhere (a file name, an answer, an error) goes through
:func:`escape` or :func:`cell`, so that a ``|`` in an answer never splits a table row and a
``*`` or ``[`` in a file name never turns into emphasis or a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from prefect_nextcloud.client.references import FileReference, LocalFile

__all__ = [
    "cell",
    "code",
    "escape",
    "file_link",
    "file_url",
    "quoted",
    "reference_link",
    "table",
]

# The characters that can start markdown inline syntax, a table cell, or HTML.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def escape(text: str) -> str:
    """``text`` with each markdown special character backslash-escaped; line breaks kept."""
    return _SPECIAL.sub(r"\\\1", text)


def cell(text: str) -> str:
    """``text`` as one table cell: escaped, each line break written as ``<br>``."""
    return "<br>".join(escape(line) for line in text.splitlines())


def code(text: str) -> str:
    """``text`` as inline code, fenced by more backticks than any run of them inside it."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def file_url(server_url: str, file_id: int) -> str:
    """The address that opens the file in the Files app of Nextcloud's web UI."""
    return f"{server_url.rstrip('/')}/index.php/f/{file_id}"


def file_link(server_url: str, name: str, file_id: int | None) -> str:
    """``name`` (escaped) as a link to the file in Nextcloud; plain text without an id."""
    shown = escape(name)
    return shown if file_id is None else f"[{shown}]({file_url(server_url, file_id)})"


def reference_link(
    server_url: str,
    reference: FileReference,
    file_id: int | None,
    paths: Mapping[int, str] | None = None,
) -> str:
    """A file the way a task got it, named by its path and linked to it in Nextcloud.

    Args:
        server_url: The Nextcloud server's address.
        reference: The file as given: a file id, a Nextcloud path, or a local file.
        file_id: Its file id in Nextcloud, once known.
        paths: The paths of files given by id; one missing is named ``file <id>``.
    """
    if isinstance(reference, Path | LocalFile):  # uploaded for the task, removed after it
        return f"{escape(reference.name)} (uploaded)"
    if isinstance(reference, int):
        return file_link(server_url, (paths or {}).get(reference, f"file {reference}"), reference)
    return file_link(server_url, reference, file_id)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a markdown table; the cells must already be markdown (see :func:`cell`)."""
    return [
        f"| {' | '.join(header)} |",
        f"|{'|'.join('---' for _ in header)}|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def quoted(text: str) -> list[str]:
    """The lines of ``text`` as a markdown quote; an empty text is one empty quote line."""
    return [f"> {line}" for line in text.splitlines() or [""]]
