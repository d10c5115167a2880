"""The documentation build's hooks: README sections as pages, Sphinx roles as code.

``python3 dev.py docs`` runs the whole build; these check the two hooks' own rules quickly.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest
from mkdocs.config import load_config
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import get_files

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "docs" / "hooks"


@pytest.fixture(scope="module")
def readme_sections() -> dict[str, Any]:
    return runpy.run_path(str(HOOKS / "readme_sections.py"))


@pytest.fixture(scope="module")
def docstring_roles() -> dict[str, Any]:
    return runpy.run_path(str(HOOKS / "docstring_roles.py"))


def test_a_readme_splits_at_its_first_two_heading_levels_outside_code(
    readme_sections: dict[str, Any],
) -> None:
    text = (
        "# Title\n\nIntro.\n\n## One\n\nFirst.\n\n### Detail\n\nMore.\n\n"
        "```bash\n# a comment, not a heading\n## nor this\n```\n\n## Two\n\nSecond.\n"
    )
    blocks = readme_sections["readme_blocks"](text)
    assert blocks == {
        "Title": "Intro.\n",
        "One": (
            "First.\n\n### Detail\n\nMore.\n\n"
            "```bash\n# a comment, not a heading\n## nor this\n```\n"
        ),
        "Two": "Second.\n",
    }


def test_two_readme_sections_with_one_heading_are_refused(readme_sections: dict[str, Any]) -> None:
    with pytest.raises(PluginError, match="two sections headed 'One'"):
        readme_sections["readme_blocks"]("# T\n\n## One\n\na\n\n## One\n\nb\n")


def test_every_readme_section_is_on_exactly_one_page(readme_sections: dict[str, Any]) -> None:
    config = load_config(str(ROOT / "mkdocs.yml"))
    files = get_files(config)
    assert readme_sections["on_files"](files, config=config) is files


@pytest.mark.parametrize(
    ("docstring", "shown"),
    [
        ("Use :class:`NextcloudSandbox`.", "Use `NextcloudSandbox`."),
        ("See :mod:`~prefect_nextcloud.tasks.batch.push`.", "See `push`."),
        (":meth:`PushListener.wait` and :data:`x`", "`PushListener.wait` and `x`"),
        ("Plain ``code`` stays.", "Plain ``code`` stays."),
    ],
)
def test_sphinx_roles_are_shown_as_code(
    docstring_roles: dict[str, Any], docstring: str, shown: str
) -> None:
    role: re.Pattern[str] = docstring_roles["ROLE"]
    assert role.sub(docstring_roles["as_code"], docstring) == shown
