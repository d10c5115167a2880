"""Griffe extension: the package's Sphinx roles in docstrings, shown as Markdown code.

The docstrings name other objects as ``:class:`NextcloudSandbox``` or
``:mod:`~prefect_nextcloud.tasks.batch.push``` (as Sphinx writes them), which Markdown would
show verbatim. This shows them as code: the name as written, or after a ``~`` its last part.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")


def as_code(match: re.Match[str]) -> str:
    """The Markdown code span of one role: ``~a.b.C`` becomes ``C``, ``a.b.C`` stays whole."""
    target = match.group("target")
    return f"`{target.rsplit('.', 1)[-1] if match.group('tilde') else target}`"


class SphinxRoles(griffe.Extension):
    """Rewrites the roles in every docstring griffe loads."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the roles in one object's docstring."""
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(as_code, obj.docstring.value)
