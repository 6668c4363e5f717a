"""Where summaryplus writes its records: one way to turn a ``logger=`` argument into a logger."""

from __future__ import annotations

import logging
from typing import TypeAlias

LoggerLike: TypeAlias = logging.Logger | logging.LoggerAdapter[logging.Logger] | str | None


def resolve_logger(logger: LoggerLike) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """A logger, an adapter or a logger name as given; None: ``"summaryplus"``."""
    if logger is None:
        return logging.getLogger("summaryplus")
    if isinstance(logger, str):
        return logging.getLogger(logger)
    if isinstance(logger, (logging.Logger, logging.LoggerAdapter)):
        return logger
    raise TypeError(
        "logger must be a logging.Logger, a logging.LoggerAdapter, a logger name or None, "
        f"got {type(logger).__name__}"
    )
