"""The views every summary offers, live (``ModelStatistics``) or loaded from JSON
(``SummaryRecord``): one-line delegations to the functions over
``protocols.SummaryLike`` in ``queries``, ``memory``, ``recompute``,
``roofline``, ``findings`` and ``render``. The one place, above the renderers,
that makes them methods; they read only the numbers both kinds of summary hold
(heavy optional packages load inside the renderers, on first use).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from .findings import find
from .memory import estimate_training_memory
from .queries import group_by, largest, layers_over
from .recompute import checkpoint_plan
from .render.formats import render_summary
from .render.html import to_html, to_markdown
from .render.log import log_summary
from .render.report import report_page, summary_report
from .render.report_views import write_report
from .render.rich import rich_renderables
from .render.serialize import to_csv, to_dataframe, to_json
from .render.table import to_table
from .roofline import roofline

if TYPE_CHECKING:
    import torch

    from .findings import Findings
    from .gpus import GPU
    from .memory import InferenceMemory, TrainingMemory
    from .recompute import CheckpointPlan
    from .records import SummaryLike
    from .roofline import Roofline


class SummaryViews:
    """Queries, tables, exports and notebook display for any summary."""

    def _viewed(self) -> SummaryLike:
        # Both classes that mix the views in (ModelStatistics, SummaryRecord) are
        # SummaryLike; records.py has mypy prove it.
        return cast("SummaryLike", self)

    if TYPE_CHECKING:
        from collections.abc import Iterable as _Iterable
        from collections.abc import Sequence as _Sequence

        from rich.console import Console, ConsoleOptions, RenderableType

        from ._logging import LoggerLike
        from .queries import LayerGroup, LayerScore
        from .render.serialize import PathLike

    def training_memory(
        self,
        optimizer: str = "adam",
        *,
        momentum: float = 0.0,
        mixed_precision: bool = False,
        shards: int | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> TrainingMemory:
        """Bytes one training step needs: params, gradients, optimizer state,
        activations (measured), buffers and inputs.

        Args:
            optimizer: ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``,
                ``"adagrad"`` or ``"none"``.
            momentum: for ``"sgd"``: a momentum buffer is kept when > 0.
            mixed_precision: parameters are half precision and the optimizer
                keeps fp32 master weights and fp32 state.
            shards: plan for this many ranks sharding parameters, gradients and
                optimizer state (FSDP full sharding) on a model that is not
                sharded yet; the ``local_*`` parts and ``local_total`` are then
                a rank's share. On a model whose parameters already are DTensors,
                leave it out: the local parts come from the real shards.
            dtype: plan for parameters in this dtype (``"float32"``,
                ``"float16"``, ``"bfloat16"``) instead of the summary's own: params,
                gradients, activations and outputs are rescaled by the ratio of
                element sizes (e.g. a model built in fp32 on meta, trained in
                bf16 with ``mixed_precision=True``).

        Raises:
            ValueError: the summary ran without gradients (pass ``mode="train"``),
                the optimizer or the dtype is unknown.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Linear(100, 10), input_size=(8, 100), mode="train", verbose=0)
            >>> stats.training_memory("adam").optimizer_state  # 2 states * 1010 * 4 bytes
            8080
        """

        return estimate_training_memory(
            self._viewed(),
            optimizer,
            momentum=momentum,
            mixed_precision=mixed_precision,
            shards=shards,
            dtype=dtype,
        )

    def checkpoint_plan(
        self,
        budget: int | float | str,
        optimizer: str = "adam",
        *,
        candidates: str | _Sequence[str] = "blocks",
        mixed_precision: bool = False,
        shards: int | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> CheckpointPlan:
        """Which modules to wrap in activation checkpointing so one training step
        fits ``budget``, at the least recompute; the predicted saved bytes (what
        a summary of the wrapped model measures, to the byte), the training peak,
        the recompute FLOPs and a snippet that applies it (``print(plan)``).

        See ``summaryplus.recompute`` for the prediction and the choice.

        Args:
            budget: the training peak to fit, per GPU: bytes, or ``"80GB"``
                (10**9) / ``"80GiB"`` (2**30).
            optimizer, mixed_precision, shards, dtype: the training setup, as
                for ``training_memory``.
            candidates: ``"blocks"`` (modules repeated in a ModuleList or
                Sequential: transformer layers, ResNet blocks), ``"all"``
                (every module), or module paths.

        Raises:
            ValueError: the summary did not run in train mode on a live model
                (loaded from JSON, or eval), or a bad argument.

        Example:
            >>> import torch
            >>> from summaryplus import summary
            >>> from summaryplus.examples import TinyGPT
            >>> stats = summary(TinyGPT(depth=4), input_size=(2, 64), dtypes=[torch.long],
            ...                 mode="train", verbose=0)
            >>> plan = stats.checkpoint_plan(budget="17MB")
            >>> plan.paths, plan.saved_bytes < stats.activation_bytes
            (('blocks.0', 'blocks.1'), True)
        """

        return checkpoint_plan(
            self._viewed(), budget, optimizer, candidates=candidates,
            mixed_precision=mixed_precision, shards=shards, dtype=dtype,
        )

    def inference_memory(
        self,
        context: int,
        batch: int = 1,
        dtype: str | torch.dtype = "bfloat16",
        kv_dtype: str | torch.dtype | None = None,
        *,
        group_size: int = 128,
    ) -> InferenceMemory:
        """Bytes to serve the model at ``context`` tokens x ``batch`` sequences:
        weights in ``dtype`` (int8/int4 with their scales), the KV cache measured
        from the cache a prefill forward returns, and that forward's peak.

        Measured when called, by one forward of the summary's model on ``batch``
        x ``context`` token ids, on fake/meta tensors (nothing computed; the model
        is left as it was): ``summaryplus.inference_memory(stats, ...)``, which
        ``summary()`` hands to its result (a summary never imports the drivers).
        See ``summaryplus.inference``.

        Raises:
            ValueError: a summary loaded from JSON (it has no model to run), a
                model that does not take token ids, or a bad argument.

        Example:
            >>> import torch, transformers
            >>> from summaryplus import summary
            >>> config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128,
            ...     num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            ...     vocab_size=100)
            >>> with torch.device("meta"):
            ...     model = transformers.LlamaForCausalLM(config)
            >>> stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
            >>> # K and V x 2 layers x 2 kv heads x 16 dims x 4096 tokens x 1 x 2 bytes
            >>> stats.inference_memory(context=4096, batch=1, dtype="int8").kv_cache
            1048576
        """
        # What summary() handed its result (views never import the drivers).
        measure = getattr(self, "_measure_inference", None)
        if measure is None:
            raise ValueError(
                "inference_memory() measures the KV cache and the prefill peak with a "
                "forward pass of the summary's model, which only a summary made by "
                "summary() holds: a summary loaded from JSON has none; call "
                "summaryplus.inference_memory(model, context=...) instead"
            )
        memory: InferenceMemory = measure(self, context, batch, dtype, kv_dtype, group_size)
        return memory

    def findings(self, rules: _Iterable[str] | None = None) -> Findings:
        """Conclusions you can act on: each with a stable rule id, a severity
        (``error``: will break; ``warning``: costs memory or time; ``note``), the
        rows or parameters it is about, the numbers behind it and what to do.

        See ``summaryplus.findings`` and docs/findings.md. A summary loaded from
        JSON returns the findings saved with it.

        Args:
            rules: rule ids to run (default: every rule in
                ``summaryplus.findings.RULES``).

        Raises:
            ValueError: an unknown rule id.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
            >>> stats.findings()
            []
        """

        return find(self._viewed(), rules)

    def largest(
        self, k: int = 10, by: str = "params", depth: int | None = None
    ) -> list[LayerScore]:
        """The ``k`` rows with the largest ``by`` value, largest first.

        See ``summaryplus.queries.largest``: ``by`` is ``"params"``,
        ``"trainable_params"``, ``"macs"``, ``"flops"`` or ``"memory"``; with
        ``depth=None`` every row competes with what it accounts for itself.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2)), verbose=0)
            >>> [(s.layer.module_path, s.value) for s in stats.largest(1)]
            [('0', 36)]
        """

        return largest(self._viewed(), k, by, depth)

    def layers_over(
        self, threshold: float, by: str = "params", depth: int | None = None
    ) -> list[LayerScore]:
        """The rows whose ``by`` value exceeds ``threshold``, in call order.

        See ``summaryplus.queries.layers_over``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2)), verbose=0)
            >>> [s.layer.module_path for s in stats.layers_over(20)]
            ['0']
        """

        return layers_over(self._viewed(), threshold, by, depth)

    def group_by(self, depth: int = 1) -> list[LayerGroup]:
        """Params, MACs and memory per module at ``depth``; the groups add up to the totals.

        See ``summaryplus.queries.group_by``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2)), verbose=0)
            >>> [(g.module_path, g.params) for g in stats.group_by(1)]
            [('0', 36), ('1', 10)]
        """

        return group_by(self._viewed(), depth)

    def roofline(
        self,
        gpu: str | GPU = "h100-sxm",
        dtype: str | None = None,
        *,
        fused: bool = True,
        tf32: bool = False,
    ) -> Roofline:
        """Time bound per row and in total on ``gpu``: the sum over ops of
        max(FLOPs / dense peak, bytes / bandwidth), which side dominates, the
        ridge point. See ``summaryplus.roofline.roofline``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Linear(4096, 4096), input_size=(1, 4096), verbose=0)
            >>> stats.roofline("h100-sxm").total.bound_by
            'memory'
        """

        return roofline(self._viewed(), gpu, dtype, fused=fused, tf32=tf32)

    def to_table(
        self,
        tablefmt: str = "github",
        depth: int | None = None,
        columns: _Iterable[str] | None = None,
        totals: bool = False,
    ) -> str:
        """The layer table in any ``tabulate.tabulate_formats`` format (or
        ``markdown``/``md``); ``totals=True`` adds the totals table.

        See ``summaryplus.render.table.to_table``; ``render(fmt)`` gives any
        format with the totals.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> print(summary(nn.Linear(4, 2), verbose=0).to_table("simple"))
            Layer (type:depth-idx)      Param #
            ------------------------  ---------
            Linear                           10
        """

        return to_table(self._viewed(), tablefmt, depth, columns, totals)

    def render(self, fmt: str = "text") -> str:
        """The summary in any format, totals included: ``text``, ``json``,
        ``csv``, ``html``, ``rich``, ``markdown``/``md`` or a tabulate format
        (what ``summaryplus --format`` writes).

        See ``summaryplus.render.formats.render_summary``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> "| Total params" in summary(nn.Linear(4, 2), verbose=0).render("md")
            True
        """

        return render_summary(self._viewed(), fmt)

    def to_json(self, path: PathLike | None = None, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text, also written to ``path`` when given.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_json(indent=None)[:34]
            '{"schema": "summaryplus.summary/1"'
        """

        return to_json(self._viewed(), path, indent)

    def to_csv(self, path: PathLike | None = None) -> str:
        """The layers as CSV (one line per row), also written to ``path`` when given.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> len(summary(nn.Linear(4, 2), verbose=0).to_csv().splitlines())
            2
        """

        return to_csv(self._viewed(), path)

    def to_dataframe(self) -> Any:
        """The layers as a ``pandas.DataFrame``; totals in ``.attrs["totals"]``.

        Needs pandas, imported on this call only.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_dataframe()["num_params"].tolist()
            [10]
        """

        return to_dataframe(self._viewed())

    def to_html(
        self,
        path: PathLike | None = None,
        interactive: bool = True,
        *,
        columns: _Iterable[str] | None = None,
        standalone: bool | None = None,
    ) -> str:
        """The summary as HTML: an interactive report, or the plain static table.

        The report has the totals on top and every row of the layer tree,
        folded to the summary's depth, with bars for each row's share of
        params, MACs and memory, badges (frozen, shared, recursive, partial
        MACs, uninitialized), sorting within a level and a module path
        filter. Each row shows its whole subtree (what it holds when folded).
        Style and script are inline (no network); without JavaScript the
        full static table shows. See ``summaryplus.render.report``.

        Args:
            path: also write the HTML there, as a complete page (UTF-8).
            interactive: False gives the plain table of rows down to the
                summary's depth and the totals (no style, no script).
            columns: ``ColumnSettings`` names for the report; None shows the
                summary's columns plus Param #, Mult-Adds and Memory.
            standalone: a whole ``<!DOCTYPE html>`` page instead of a ``<div>``
                fragment; None means: when ``path`` is given.

        Returns:
            The HTML text (what was written, when ``path`` is given).

        Raises:
            ValueError: a column name is unknown.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> "<table" in summary(nn.Linear(4, 2), verbose=0).to_html()
            True
        """

        page = path is not None if standalone is None else standalone
        if interactive:
            text = summary_report(self._viewed(), columns=columns, standalone=page)
        else:

            text = to_html(self._viewed())
            if page:
                text = report_page(text, "summary")

        return write_report(text, path)

    def _repr_html_(self) -> str:
        """What Jupyter shows: the report in its compact form (folded to the
        summary's depth, bars on, scrolling within a fixed height)."""

        return summary_report(self._viewed(), compact=True)

    def _repr_markdown_(self) -> str:
        """Markdown for notebooks and Markdown exports: GitHub tables of layers and totals."""

        return to_markdown(self._viewed())

    def log(self, logger: LoggerLike = None, level: int | str = "INFO") -> None:
        """Writes the text table to ``logger`` (default ``"summaryplus"``), a record per line.

        ``level`` is a number (``logging.INFO``) or a level name. See
        ``summaryplus.render.log.log_summary``.

        Example:
            >>> import logging
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).log(logging.getLogger("train"))
        """

        log_summary(self._viewed(), logger, level)

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        """rich's renderable protocol: ``rich.print(stats)`` shows rich tables."""

        yield from rich_renderables(self._viewed(), console, options)
