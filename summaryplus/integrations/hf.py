"""``SummaryPlusTrainerCallback``: summaryplus in a Hugging Face ``Trainer``.

Importing this module imports transformers; ``import summaryplus`` alone never does.
"""

from __future__ import annotations

import logging
from typing import Any

from .._logging import LoggerLike
from ..monitor import Change
from ._common import SummaryWatcher

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "summaryplus.integrations.hf needs transformers: pip install 'summaryplus[hf]'"
    ) from error

__all__ = ["SummaryPlusTrainerCallback"]


class SummaryPlusTrainerCallback(TrainerCallback):
    """Logs the model summary when training begins and parameter changes at each step.

    ``on_train_begin`` logs the summary table (on the main process only), taken
    with ``input_size``/``input_data`` when given, else without a forward pass.
    ``on_step_end`` runs a ``ParameterMonitor`` every ``every_n_steps`` optimizer
    steps, and ``on_epoch_end`` once more, logging each change of the parameter
    or trainable count, dtype or device with ``state.global_step``.

    Args:
        input_size: as for ``summary()``.
        input_data: as for ``summary()`` (a dict of model keywords works:
            ``{"input_ids": ids}``).
        log_summary: log the summary table when training begins.
        every_n_steps: run the monitor after every n-th optimizer step.
        logger: a ``logging.Logger``/``LoggerAdapter``, a logger name, or None
            for ``logging.getLogger("summaryplus")``.
        level: the logging level of the records.
        **summary_kwargs: more ``summary()`` arguments (``depth``, ``dtypes``...).

    Attributes:
        changes: every ``Change`` reported so far (oldest first).

    Raises:
        TypeError, ValueError: an argument is invalid (the message names it).

    Example:
        >>> from transformers import Trainer
        >>> from summaryplus.integrations.hf import SummaryPlusTrainerCallback
        >>> callback = SummaryPlusTrainerCallback(depth=2)
        >>> trainer = Trainer(model, args, train_dataset=data,  # doctest: +SKIP
        ...                   callbacks=[callback])
        >>> trainer.train()  # doctest: +SKIP
        >>> [str(change) for change in callback.changes]  # doctest: +SKIP
        ['step 3: trainable params 1,538 -> 4,386,434 (+4,384,896)', ...]
    """

    def __init__(
        self,
        input_size: Any = None,
        input_data: Any = None,
        *,
        log_summary: bool = True,
        every_n_steps: int = 1,
        logger: LoggerLike = None,
        level: int = logging.INFO,
        **summary_kwargs: Any,
    ) -> None:
        self.watcher = SummaryWatcher(
            input_size, input_data, log_summary, every_n_steps, logger, level, summary_kwargs
        )

    @property
    def changes(self) -> list[Change]:
        return self.watcher.changes

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        model = kwargs.get("model")
        if model is not None:
            self.watcher.start(model, log=bool(state.is_world_process_zero))

    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        model = kwargs.get("model")
        if model is not None and state.is_world_process_zero:
            self.watcher.step(model, int(state.global_step))

    def on_epoch_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        model = kwargs.get("model")
        if model is not None and state.is_world_process_zero:
            self.watcher.step(model, int(state.global_step), force=True)
