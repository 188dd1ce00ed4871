"""Logging: structlog to stderr, human-readable on a terminal, JSON lines otherwise."""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


settings: tuple[str, str] = ("info", "auto")
"""The last :func:`configure` arguments, for a child process to log the same way."""

_min_level = logging.NOTSET
"""The least level :func:`configure` lets through (everything until it is called)."""


def enabled(level: int) -> bool:
    """Whether a line at ``level`` would be written: for a per-event line, asked before
    building its fields (a filtered structlog call still binds a logger, about 4 µs)."""
    return level >= _min_level


def configure(level: str = "info", fmt: str = "auto") -> None:
    global settings, _min_level
    settings = (level, fmt)
    _min_level = LEVELS.get(level, logging.INFO)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_min_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
