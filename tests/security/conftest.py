"""Fixtures of the security tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from security_helpers import LogCapture


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Every log record at any level: root, httpx, httpcore, prefect and non-propagating ones."""
    capture = LogCapture()
    verbose = ["", "httpx", "httpcore", "prefect", "prefect.extra", "prefect._internal"]
    loggers = {logging.getLogger(name) for name in verbose}
    loggers |= {
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    }
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.addHandler(capture)
    for name in verbose:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        for logger, level in levels.items():
            logger.removeHandler(capture)
            logger.setLevel(level)
