"""``ModelStatistics``: the totals of a summary and the rows they come from.

Built once from the captured rows in linear time: every subtree quantity is
summed bottom-up in one pass over the rows, never recomputed per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from torch import nn

from . import _tensors
from .accounting import (
    ParamIndex,
    fill_param_columns,
    module_totals,
    set_depth_indices,
    start_subtree,
    sum_subtrees,
)
from .cells import FormattingOptions
from .enums import Units
from .fields import SummaryFields
from .formatting import render_text
from .gradients import gradient_params
from .layer_info import LayerInfo, freeze_rows
from .loaded import summary_record
from .module_tree import ModuleTree
from .moe import MixtureOfExperts, find_mixture_of_experts
from .render.serialize import to_dict
from .units import footer_number, megabytes, scaled_count
from .views import SummaryViews

if TYPE_CHECKING:
    import torch

    from .memory import InferenceMemory
    from .saved_storages import SavedStorages

    #: ``inference.summary_inference_memory``: (summary, context, batch, dtype,
    #: kv_dtype, group_size) -> bytes to serve it.
    MeasureInference = Callable[
        ["ModelStatistics", int, int, "str | torch.dtype", "str | torch.dtype | None", int],
        InferenceMemory,
    ]
    from .loaded import SummaryRecord
    from .records import SummaryLike

class ModelStatistics(SummaryFields, SummaryViews):
    """Result of ``summary()``: per-layer rows and model totals.

    torchinfo attributes: ``summary_list``, ``input_size``, ``formatting``,
    ``total_input``, ``total_params``, ``trainable_params``, ``total_mult_adds``,
    ``total_param_bytes``, ``total_output_bytes``.

    summaryplus adds: ``total_flops`` (2 x MACs), ``total_buffers`` and
    ``total_buffer_bytes`` (never mixed into params), ``uncounted_ops`` (ops that
    ran without a MACs formula: name -> calls), ``activation_bytes`` (bytes saved
    for backward, ``mode="train"``), ``grad_enabled`` and
    ``total_backward_mult_adds`` (when a backward pass was counted), ``moe``
    (expert parameters and active parameters per token of a mixture-of-experts
    model; None for a dense one). In train mode: ``gradient_params`` and
    ``gradient_param_bytes`` (the trainable parameters the outputs reach in the
    autograd graph, so the ones a step gives gradients and optimizer state),
    ``unused_trainable_params`` (the names of the others), ``output_held_bytes``
    and ``output_grad_bytes`` (outputs beyond the saved activations, and their
    gradients); None (or ``()``) when not measured.

    The totals are ``fields.TotalsFields`` (declared once for live and loaded
    summaries). Printing it (``str``/``repr``) gives torchinfo's text table.
    """

    summary_list: list[LayerInfo]

    def __init__(
        self,
        summary_list: list[LayerInfo],
        input_size: Any,
        total_input_size: int,
        formatting: FormattingOptions | None = None,
        *,
        model: nn.Module | None = None,
        tree: ModuleTree | None = None,
        uncounted_ops: dict[str, int] | None = None,
        loose_macs: int = 0,
        loose_activation_bytes: int = 0,
        grad_enabled: bool = False,
        backward_macs: int | None = None,
        executed: bool = True,
        without_data: bool = False,
        assumptions: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
        saved_storages: SavedStorages | None = None,
        reached_params: frozenset[int] | None = None,
        output_held_bytes: int | None = None,
        output_grad_bytes: int | None = None,
        measure_inference: MeasureInference | None = None,
    ) -> None:
        self.summary_list = summary_list
        # ``summaryplus.inference_memory`` for ``inference_memory()``, given by
        # the driver that made this summary (this module never imports it).
        self._measure_inference = measure_inference
        self.input_size = input_size
        # How the table shows this summary (torchinfo's defaults when not given).
        self.formatting = formatting if formatting is not None else FormattingOptions.default()
        self.total_input = total_input_size
        self.uncounted_ops: dict[str, int] = dict(sorted((uncounted_ops or {}).items()))
        self.grad_enabled = grad_enabled
        self.total_backward_mult_adds = backward_macs
        self.executed = executed
        # What the capture assumed to run without data (e.g. a balanced routing).
        self.assumptions = assumptions
        # How to read the numbers (complex ops' MACs in real multiply-adds).
        self.notes = notes
        # Train mode: which rows saved which storages (``checkpoint_plan``).
        self.saved_storages = saved_storages
        if model is None and summary_list:
            model = summary_list[0].module
        if tree is None and model is not None:
            tree = ModuleTree(model)

        self.total_params = self.trainable_params = self.total_param_bytes = 0
        self.trainable_param_bytes = 0
        self.largest_trainable_param_bytes = 0
        # This rank's shards, for parameters that are DTensors (FSDP2, tensor
        # parallel); equal to the totals for a model that is not sharded.
        self.local_params = self.local_param_bytes = self.local_trainable_param_bytes = 0
        self.total_buffers = self.total_buffer_bytes = 0
        # Weights that ``torch.nn.utils.prune`` masks out (not in total_params).
        self.pruned_params = 0
        # Modules whose lazy parameters are not initialized yet: total_params is
        # then a lower bound.
        self.uninitialized_layers = 0
        # Train mode: what the step's backward reaches (``gradients``) and what
        # the outputs hold at its start; None where not measured.
        self.gradient_params: int | None = None
        self.gradient_param_bytes: int | None = None
        self.largest_gradient_bytes: int | None = None
        self.local_gradient_param_bytes: int | None = None
        self.unused_trainable_params: tuple[str, ...] = ()
        self.output_held_bytes = output_held_bytes
        self.output_grad_bytes = output_grad_bytes
        if model is not None and tree is not None:
            index = ParamIndex(tree)
            self._count_model_tensors(index)
            if reached_params is not None:
                self._count_gradient_params(tree, index, reached_params)
            fill_param_columns(summary_list, tree, index, module_totals(tree, index))
        else:
            for row in summary_list:
                start_subtree(row)
        sum_subtrees(summary_list)
        if summary_list:
            # Ops that ran outside every hooked module (e.g. in a scripted root).
            summary_list[0].macs += loose_macs
            summary_list[0].activation_bytes += loose_activation_bytes
        set_depth_indices(summary_list)

        root = summary_list[0] if summary_list else None
        self.total_mult_adds = root.macs if root else loose_macs
        self.activation_bytes = root.activation_bytes if root else loose_activation_bytes
        # Bytes the forward's ops moved: every op (eager) and the matmul,
        # attention and embedding family only (fused).
        self.total_bytes_moved = root.bytes_moved if root else 0
        self.total_fused_bytes_moved = root.fused_bytes_moved if root else 0
        if grad_enabled:
            self.total_output_bytes = self.activation_bytes
        else:
            self.total_output_bytes = sum(
                row.output_bytes for row in summary_list if row.is_leaf_layer and row.executed
            )
        # Expert layers and active parameters per token (None: a dense model).
        self.moe: MixtureOfExperts | None = None
        if executed and tree is not None and summary_list:
            self.moe = find_mixture_of_experts(
                summary_list, tree, self.total_params, without_data
            )
        # The totals that follow from the others (stored: fields.TotalsFields).
        self.total_flops = 2 * self.total_mult_adds
        self.non_trainable_params = self.total_params - self.trainable_params
        self.macs_complete = not self.uncounted_ops
        self.expert_params = self.moe.expert_params if self.moe else 0
        self.active_params_per_token = self.moe.active_params_per_token if self.moe else None
        self.formatting.set_layer_name_width(summary_list)
        self.formatting.memory_holds_activations = grad_enabled
        freeze_rows(summary_list)  # the numbers are final: rows are read-only from here

    # ----------------------------------------------------------------- totals
    def _count_model_tensors(self, index: ParamIndex) -> None:
        self.pruned_params = sum(index.pruned.values())
        self.uninitialized_layers = index.uninitialized_modules
        for size in index.sizes.values():
            self.total_params += size.numel
            self.total_param_bytes += size.nbytes
            self.local_params += size.local_numel
            self.local_param_bytes += size.local_nbytes
            if size.trainable:
                self.local_trainable_param_bytes += size.local_nbytes
                self.trainable_params += size.numel
                self.trainable_param_bytes += size.nbytes
                self.largest_trainable_param_bytes = max(
                    self.largest_trainable_param_bytes, size.nbytes
                )
        seen: set[object] = set()
        for buffer in index.buffers:
            key = _tensors.tensor_key(buffer)
            if key not in seen:
                seen.add(key)
                self.total_buffers += _tensors.numel(buffer)
                self.total_buffer_bytes += _tensors.nbytes(buffer)

    def _count_gradient_params(
        self, tree: ModuleTree, index: ParamIndex, reached: frozenset[int]
    ) -> None:
        found = gradient_params(tree, index, reached)
        if found is not None:
            self.gradient_params = found.params
            self.gradient_param_bytes = found.param_bytes
            self.largest_gradient_bytes = found.largest_bytes
            self.local_gradient_param_bytes = found.local_param_bytes
            self.unused_trainable_params = found.unused

    @property
    def total_backward_flops(self) -> int | None:
        macs = self.total_backward_mult_adds
        return None if macs is None else 2 * macs

    def __iter__(self) -> Iterator[LayerInfo]:
        return iter(self.summary_list)

    def __len__(self) -> int:
        return len(self.summary_list)

    def __repr__(self) -> str:

        return render_text(self)

    __str__ = __repr__

    # --------------------------------------------------- torchinfo's helpers
    @staticmethod
    def float_to_megabytes(num: int) -> float:
        """Megabytes of ``num`` float32 values."""
        return num * 4 / 1e6

    @staticmethod
    def to_megabytes(num: int) -> float:
        return megabytes(num)

    @staticmethod
    def to_readable(num: int, units: Units = Units.AUTO) -> tuple[Units, float]:
        """Scales ``num`` to millions, billions or trillions (or the given unit)."""
        return scaled_count(num, units)

    @staticmethod
    def format_output_num(num: int, units: Units) -> str:
        """``" (M): 1.23"`` / ``": 1,234"``: the tail of a footer line."""
        return footer_number(num, units)

    def to_dict(self) -> dict[str, Any]:
        """Every layer field and total as plain data (schema ``summaryplus.summary/1``).

        See ``summaryplus.render.serialize``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_dict()["totals"]["total_params"]
            10
        """

        return to_dict(self)

    def to_record(self) -> SummaryRecord:
        """The numbers as a ``SummaryRecord`` (what ``load_summary`` returns).

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_record().total_params
            10
        """
        return summary_record(self)


if TYPE_CHECKING:
    # mypy proves that a live result is what every view takes.
    def _viewable(stats: ModelStatistics) -> SummaryLike:
        return stats
