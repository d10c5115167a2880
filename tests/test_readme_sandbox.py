"""The README's "Try the sandbox" section matches the command it describes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from prefect_nextcloud import cli
from prefect_nextcloud.sandbox import DEFAULT_APP_PASSWORD, DEFAULT_USER_ID

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_export_line_has_the_sandbox_defaults() -> None:
    section = _section("Try the sandbox")
    assert (
        f"export NEXTCLOUD_URL=http://127.0.0.1:8080 NEXTCLOUD_USER={DEFAULT_USER_ID} "
        f"NEXTCLOUD_APP_PASSWORD={DEFAULT_APP_PASSWORD}"
    ) in section


def test_the_flag_table_lists_every_sandbox_flag() -> None:
    documented = set(re.findall(r"^\| `(--[a-z-]+)", _section("Try the sandbox"), re.MULTILINE))
    parser = argparse.ArgumentParser()
    cli._add_sandbox_commands(parser)
    actual = {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert documented == actual
