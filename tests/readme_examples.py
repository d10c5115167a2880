"""The README's code blocks, each found by the comment on the line above it.

Every block with a language carries one of two comments: ``<!-- example: NAME -->`` when a
test runs it as printed, fetching it with :func:`readme_example`, or ``<!-- not run by the
tests: REASON -->`` when it needs what the tests do not have (a real Nextcloud, a TLS proxy,
PostgreSQL). ``test_readme.py`` checks that each block carries one and that each example is
run by a test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from prefect.settings import PREFECT_API_URL

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

_BLOCK = re.compile(
    r"^(?:<!-- (?:example: (?P<name>[a-z0-9-]+)|not run by the tests: (?P<reason>[^>]+)) -->\n)?"
    r"```(?P<language>\w+)\n(?P<code>.*?)^```$",
    flags=re.MULTILINE | re.DOTALL,
)

_COMMENT = re.compile(r"\s+# .*$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of the README, with the comment above it."""

    language: str
    code: str
    line: int
    name: str | None
    reason: str | None


def code_blocks() -> list[CodeBlock]:
    """Every fenced block of the README that names its language."""
    text = README.read_text()
    return [
        CodeBlock(
            language=match["language"],
            code=match["code"],
            line=text.count("\n", 0, match.start()) + 1,
            name=match["name"],
            reason=match["reason"],
        )
        for match in _BLOCK.finditer(text)
    ]


def readme_example(name: str) -> str:
    """The code of the block marked ``<!-- example: name -->``."""
    [code] = [block.code for block in code_blocks() if block.name == name]
    return code


def commands(name: str) -> list[str]:
    """The command lines of a shell example, each without its trailing ``# comment``."""
    return [_COMMENT.sub("", line) for line in readme_example(name).splitlines() if line.strip()]


def run_script(lines: list[str], **environment: str) -> str:
    """Run command lines in one bash, in the repository, against the test's Prefect server.

    The project environment's commands are on the ``PATH``, as after the README's
    ``source .venv/bin/activate``; ``environment`` adds or replaces variables.

    Returns:
        What the commands printed.
    """
    script = "\n".join(["set -euo pipefail", *lines])
    variables = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        **environment,
    }
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=variables, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
