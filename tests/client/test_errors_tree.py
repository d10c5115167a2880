"""The exception tree drawn in errors.py's docstring is the real one."""

from __future__ import annotations

import inspect

from prefect_nextcloud.client import errors


def _drawn_parents() -> dict[str, str | None]:
    """Each class of the drawn tree with the class it stands under."""
    tree = errors.__doc__.split("::", 1)[1] if errors.__doc__ else ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in tree.splitlines():
        if not line.strip():
            continue
        depth, name = len(line) - len(line.lstrip()), line.split()[0]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_drawn_tree_names_every_class_under_its_parent() -> None:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and cls.__module__ == errors.__name__
    }
    expected = {
        name: next((base.__name__ for base in cls.__bases__ if base.__name__ in classes), None)
        for name, cls in classes.items()
    }
    assert _drawn_parents() == expected
