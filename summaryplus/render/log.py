"""The torchinfo table written to a logger, one record per line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .._logging import LoggerLike, resolve_logger
from ..escape import terminal_block
from ..formatting import render_text

if TYPE_CHECKING:
    from ..records import SummaryLike

__all__ = ["log_summary"]


_LEVEL_NAMES = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")


def log_summary(
    stats: SummaryLike, logger: LoggerLike = None, level: int | str = logging.INFO
) -> None:
    """Writes the torchinfo table to a logger, one plain-text record per line.

    Args:
        stats: the summary.
        logger: a ``logging.Logger`` or ``LoggerAdapter``, a logger name, or
            None for ``logging.getLogger("summaryplus")``.
        level: a level number (``logging.INFO``) or name (``"INFO"``).

    Raises:
        TypeError: ``logger`` is none of the accepted kinds.
        ValueError: ``level`` is not a known level.

    Example:
        >>> import logging
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> logging.basicConfig(level=logging.INFO, format="%(message)s")
        >>> summary(nn.Linear(4, 2), verbose=0).log(logging.getLogger("train"))
    """

    target = resolve_logger(logger)
    number = _level(level)
    if not target.isEnabledFor(number):
        return  # not even worth rendering the table
    # A log file holds plain text whatever the names: control characters shown.
    for line in terminal_block(render_text(stats)).splitlines():
        target.log(number, "%s", line)


def _level(level: int | str) -> int:
    if isinstance(level, str):
        # getLevelName maps a registered name to its number (custom levels too).
        number = logging.getLevelName(level.upper())
        if isinstance(number, int):
            return number
    elif isinstance(level, int) and not isinstance(level, bool) and level >= 0:
        return level
    accepted = ", ".join(repr(name) for name in _LEVEL_NAMES)
    raise ValueError(f"level={level!r} is not valid; accepted values: an int >= 0 or {accepted}")
