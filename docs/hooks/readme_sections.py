"""MkDocs hook: pages take their text from the README's sections, so each text has one source.

The README is split at its ``#`` and ``##`` headings into blocks: the title with the
introduction, then each section with its subsections. A page line
``<!-- readme: Tasks -->`` is replaced by the body of the block headed "Tasks" (its heading is
left out: the page gives its own). The build fails when a page names a heading the README does
not have, and when a README block appears on no page or on two, so a section added to the
README has to find its place in the site.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

README = "README.md"
DIRECTIVE = re.compile(r"^<!-- readme: (?P<heading>.+?) -->$", re.MULTILINE)
BLOCK_HEADING = re.compile(r"^#{1,2} (?P<heading>.+)$")
FENCE = re.compile(r"^(```|~~~)")


def readme_blocks(text: str) -> dict[str, str]:
    """Split a README at its ``#`` and ``##`` headings outside code blocks.

    Args:
        text: The README's Markdown.

    Returns:
        Each block's heading text mapped to its body, without the heading line.
    """
    blocks: dict[str, list[str]] = {}
    body: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = FENCE.match(line)
        if opened and fence is None:
            fence = opened.group(1)
        elif fence is not None and line.startswith(fence):
            fence = None
        heading = None if fence is not None else BLOCK_HEADING.match(line)
        if heading:
            name = heading.group("heading").strip()
            if name in blocks:
                raise PluginError(f"{README} has two sections headed {name!r}; rename one.")
            body = blocks[name] = []
        else:
            body.append(line)
    return {name: "\n".join(lines).strip("\n") + "\n" for name, lines in blocks.items()}


def _blocks(config: MkDocsConfig) -> dict[str, str]:
    readme = Path(config.config_file_path).parent / README
    return readme_blocks(readme.read_text(encoding="utf-8"))


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Check that every README block is named by exactly one page, and only blocks that exist."""
    blocks = _blocks(config)
    named: Counter[str] = Counter()
    for file in files.documentation_pages():
        for heading in DIRECTIVE.findall(file.content_string):
            if heading not in blocks:
                raise PluginError(
                    f"{file.src_uri} includes the README section {heading!r}, which {README} "
                    f"does not have; its sections are: {', '.join(blocks)}."
                )
            named[heading] += 1
    missing = [heading for heading in blocks if named[heading] == 0]
    if missing:
        raise PluginError(
            f"{README} sections on no documentation page: {', '.join(missing)}. Add a line "
            "'<!-- readme: HEADING -->' for each to a page in docs/ (a new page also goes into "
            "mkdocs.yml's nav)."
        )
    twice = [heading for heading, count in named.items() if count > 1]
    if twice:
        raise PluginError(
            f"{README} sections included on more than one page: {', '.join(twice)}; "
            "include each once and link to it elsewhere."
        )
    return files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each ``<!-- readme: HEADING -->`` line by that README block's body."""
    if DIRECTIVE.search(markdown) is None:
        return markdown
    blocks = _blocks(config)
    return DIRECTIVE.sub(lambda match: blocks[match.group("heading")], markdown)
