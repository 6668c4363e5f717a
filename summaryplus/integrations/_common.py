"""What every framework callback does, whatever the framework calls its hooks."""

from __future__ import annotations

from typing import Any

from torch import nn

from .._logging import LoggerLike, resolve_logger
from ..api import summary
from ..monitor import Change, ParameterMonitor

__all__ = ["SummaryWatcher"]


class SummaryWatcher:
    """Logs a summary of a model once, then runs a ``ParameterMonitor`` on it.

    Args:
        input_size: passed to ``summary()``; with neither input the summary is
            taken without a forward pass (parameters and structure only).
        input_data: passed to ``summary()``.
        log_summary: log the summary table when training starts.
        every_n_steps: run the monitor on every n-th step (1: every step).
        logger: where summary and changes are logged (None: ``"summaryplus"``).
        level: logging level of the records.
        summary_kwargs: more ``summary()`` arguments.

    Raises:
        TypeError, ValueError: an argument is invalid (the message names it).
    """

    def __init__(
        self,
        input_size: Any,
        input_data: Any,
        log_summary: bool,
        every_n_steps: int,
        logger: LoggerLike,
        level: int,
        summary_kwargs: dict[str, Any],
    ) -> None:
        if not isinstance(log_summary, bool):
            raise TypeError(f"log_summary must be a bool, got {type(log_summary).__name__}")
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int):
            raise TypeError(
                f"every_n_steps must be an int >= 1, got {type(every_n_steps).__name__}"
            )
        if every_n_steps < 1:
            raise ValueError(
                f"every_n_steps={every_n_steps} is not valid; accepted values: an int >= 1"
            )
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be a logging level number, got {type(level).__name__}")
        self.input_size = input_size
        self.input_data = input_data
        self.log_summary = log_summary
        self.every_n_steps = every_n_steps
        self.logger = resolve_logger(logger)
        self.level = level
        self.summary_kwargs = summary_kwargs
        self.monitor: ParameterMonitor | None = None

    @property
    def changes(self) -> list[Change]:
        """Every change the monitor has reported, oldest first."""
        return [] if self.monitor is None else self.monitor.history

    def start(self, model: nn.Module, *, log: bool = True, example_input: Any = None) -> None:
        """Logs the summary of ``model`` (when asked) and starts watching it."""
        if self.log_summary and log and self.logger.isEnabledFor(self.level):

            input_size, input_data = self.input_size, self.input_data
            if input_size is None and input_data is None:
                input_data = example_input
            stats = summary(
                model,
                input_size=input_size,
                input_data=input_data,
                **{"verbose": 0, **self.summary_kwargs},
            )
            stats.log(self.logger, self.level)
        self.monitor = ParameterMonitor(model, self.logger, self.level)

    def step(self, model: nn.Module, step: int, *, force: bool = False) -> list[Change]:
        """Runs the monitor when ``step`` is a multiple of ``every_n_steps`` (or ``force``)."""
        if self.monitor is None or self.monitor.model is not model:
            # Training started without the start hook, or on another model object.
            self.monitor = ParameterMonitor(model, self.logger, self.level)
        if not force and step % self.every_n_steps:
            return []
        return self.monitor.check(step=step)
