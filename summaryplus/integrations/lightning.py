"""``SummaryPlusCallback``: summaryplus in a Lightning ``Trainer``.

Importing this module imports Lightning (``lightning.pytorch``, or the older
standalone ``pytorch_lightning``); ``import summaryplus`` alone never does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .._logging import LoggerLike
from ..monitor import Change
from ._common import SummaryWatcher

try:
    from lightning.pytorch import Callback
except ImportError:  # pragma: no cover - depends on the environment
    try:
        from pytorch_lightning import Callback  # type: ignore[assignment]
    except ImportError as error:
        raise ImportError(
            "summaryplus.integrations.lightning needs Lightning: "
            "pip install 'summaryplus[lightning]'"
        ) from error

if TYPE_CHECKING:
    from lightning.pytorch import LightningModule, Trainer

__all__ = ["SummaryPlusCallback"]


class SummaryPlusCallback(Callback):
    """Logs the model summary when fitting starts and parameter changes during training.

    At ``on_fit_start`` the summary table is logged (on the global-zero process
    only), taken with ``input_size``/``input_data`` when given, else with the
    module's ``example_input_array`` when it has one, else without a forward
    pass. Then a ``ParameterMonitor`` runs after every ``every_n_steps``-th
    training batch and at the end of every training epoch, logging each change
    of the parameter or trainable count, dtype or device (unfreezing, a new
    head, a grown layer) with the global step.

    Args:
        input_size: as for ``summary()``.
        input_data: as for ``summary()``.
        log_summary: log the summary table at fit start.
        every_n_steps: run the monitor after every n-th training batch.
        logger: a ``logging.Logger``/``LoggerAdapter``, a logger name, or None
            for ``logging.getLogger("summaryplus")``.
        level: the logging level of the records.
        **summary_kwargs: more ``summary()`` arguments (``depth``, ``dtypes``,
            ``col_names``...).

    Attributes:
        changes: every ``Change`` reported so far (oldest first).

    Raises:
        TypeError, ValueError: an argument is invalid (the message names it).

    Example:
        >>> import lightning.pytorch as pl
        >>> from summaryplus.integrations.lightning import SummaryPlusCallback
        >>> callback = SummaryPlusCallback(depth=2)
        >>> trainer = pl.Trainer(callbacks=[callback], enable_model_summary=False)  # doctest: +SKIP
        >>> trainer.fit(module, data)  # doctest: +SKIP
        >>> callback.changes  # doctest: +SKIP
        [Change(kind='trainable', before=1538, after=4386434, names=(), step=100), ...]
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
        super().__init__()
        self.watcher = SummaryWatcher(
            input_size, input_data, log_summary, every_n_steps, logger, level, summary_kwargs
        )

    @property
    def changes(self) -> list[Change]:
        return self.watcher.changes

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.watcher.start(
            pl_module,
            log=bool(trainer.is_global_zero),
            example_input=getattr(pl_module, "example_input_array", None),
        )

    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if trainer.is_global_zero:
            self.watcher.step(pl_module, int(trainer.global_step))

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.is_global_zero:
            self.watcher.step(pl_module, int(trainer.global_step), force=True)
