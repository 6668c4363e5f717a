"""``ModelStatistics``: the totals of a summary and the rows they come from.

Built once from the captured rows in linear time: every subtree quantity is
summed bottom-up in one pass over the rows, never recomputed per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import nn

from . import _tensors
from .capture.tree import ModuleTree
from .enums import Units
from .layer_info import InnerParam, LayerInfo
from .moe import MixtureOfExperts, find_mixture_of_experts
from .render.units import unit_of

if TYPE_CHECKING:
    from .formatting import FormattingOptions
    from .memory import TrainingMemory

_CONVERSION_FACTORS = {
    Units.TERABYTES: 1e12,
    Units.GIGABYTES: 1e9,
    Units.MEGABYTES: 1e6,
    Units.KILOBYTES: 1e3,
    Units.NONE: 1.0,
}


class ModelStatistics:
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
    model; None for a dense one).

    Printing it (``str``/``repr``) gives torchinfo's text table.
    """

    def __init__(
        self,
        summary_list: list[LayerInfo],
        input_size: Any,
        total_input_size: int,
        formatting: FormattingOptions,
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
    ) -> None:
        self.summary_list = summary_list
        self.input_size = input_size
        self.formatting = formatting
        self.total_input = total_input_size
        self.uncounted_ops: dict[str, int] = dict(sorted((uncounted_ops or {}).items()))
        self.grad_enabled = grad_enabled
        self.total_backward_mult_adds = backward_macs
        self.executed = executed
        # What the capture assumed to run without data (e.g. a balanced routing).
        self.assumptions = assumptions
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
        if model is not None and tree is not None:
            index = _ParamIndex(tree)
            self._count_model_tensors(index)
            _fill_param_columns(summary_list, tree, index, _module_totals(tree, index))
        else:
            for row in summary_list:
                _start_subtree(row)
        _sum_subtrees(summary_list)
        if summary_list:
            # Ops that ran outside every hooked module (e.g. in a scripted root).
            summary_list[0].macs += loose_macs
            summary_list[0].activation_bytes += loose_activation_bytes
        _set_depth_indices(summary_list)

        root = summary_list[0] if summary_list else None
        self.total_mult_adds = root.macs if root else loose_macs
        self.activation_bytes = root.activation_bytes if root else loose_activation_bytes
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
        self.formatting.set_layer_name_width(summary_list)

    # ----------------------------------------------------------------- totals
    def _count_model_tensors(self, index: _ParamIndex) -> None:
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

    def training_memory(
        self,
        optimizer: str = "adam",
        *,
        momentum: float = 0.0,
        mixed_precision: bool = False,
        shards: int | None = None,
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

        Raises:
            ValueError: the summary ran without gradients (pass ``mode="train"``)
                or the optimizer is unknown.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> stats = summary(nn.Linear(100, 10), input_size=(8, 100), mode="train", verbose=0)
            >>> stats.training_memory("adam").optimizer_state  # 2 states * 1010 * 4 bytes
            8080
        """
        from .memory import estimate_training_memory

        return estimate_training_memory(
            self, optimizer, momentum=momentum, mixed_precision=mixed_precision, shards=shards
        )

    @property
    def total_flops(self) -> int:
        """Forward floating-point operations: 2 x ``total_mult_adds``."""
        return 2 * self.total_mult_adds

    @property
    def total_backward_flops(self) -> int | None:
        macs = self.total_backward_mult_adds
        return None if macs is None else 2 * macs

    @property
    def expert_params(self) -> int:
        """Parameters of every expert of a mixture-of-experts model (0 if dense)."""
        return self.moe.expert_params if self.moe else 0

    @property
    def active_params_per_token(self) -> int | None:
        """Parameters one token uses in a mixture-of-experts model (None if dense)."""
        return self.moe.active_params_per_token if self.moe else None

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def macs_complete(self) -> bool:
        """True when every op that ran had a MACs formula or is known to have none."""
        return not self.uncounted_ops

    def __iter__(self) -> Iterator[LayerInfo]:
        return iter(self.summary_list)

    def __len__(self) -> int:
        return len(self.summary_list)

    def __repr__(self) -> str:
        from .formatting import render_text

        return render_text(self)

    __str__ = __repr__

    # --------------------------------------------------- torchinfo's helpers
    @staticmethod
    def float_to_megabytes(num: int) -> float:
        """Megabytes of ``num`` float32 values."""
        return num * 4 / 1e6

    @staticmethod
    def to_megabytes(num: int) -> float:
        return num / 1e6

    @staticmethod
    def to_readable(num: int, units: Units = Units.AUTO) -> tuple[Units, float]:
        """Scales ``num`` to millions, billions or trillions (or the given unit)."""
        units = Units(units)
        if units is Units.AUTO:
            # torchinfo's rule: millions at least, the unit scale of render.units.
            name, size = unit_of(num, smallest=1e6)
            units = Units(name) if name else Units.MEGABYTES
            return units, num / (size if name else 1e6)
        return units, num / _CONVERSION_FACTORS[units]

    @staticmethod
    def format_output_num(num: int, units: Units) -> str:
        """``" (M): 1.23"`` / ``": 1,234"``: the tail of a footer line."""
        units_used, converted = ModelStatistics.to_readable(num, units)
        label = "" if units_used is Units.NONE else f" ({units_used.value})"
        if float(converted).is_integer():
            return f"{label}: {int(converted):,d}"
        return f"{label}: {converted:,.2f}"


    # ---- views and exports (issue 5) ----
    # Thin delegations: the code lives in summaryplus.queries and summaryplus.render,
    # imported on first use so that `import summaryplus` stays cheap.
    if TYPE_CHECKING:
        from collections.abc import Iterable as _Iterable

        from rich.console import Console, ConsoleOptions, RenderableType

        from ._logging import LoggerLike
        from .queries import LayerGroup, LayerScore
        from .render.serialize import PathLike, SummaryRecord

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
        from .queries import largest

        return largest(self, k, by, depth)

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
        from .queries import layers_over

        return layers_over(self, threshold, by, depth)

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
        from .queries import group_by

        return group_by(self, depth)

    def to_table(
        self,
        tablefmt: str = "github",
        depth: int | None = None,
        columns: _Iterable[str] | None = None,
    ) -> str:
        """The layer table in any ``tabulate.tabulate_formats`` format.

        See ``summaryplus.render.table.to_table``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> print(summary(nn.Linear(4, 2), verbose=0).to_table("simple"))
            Layer (type:depth-idx)      Param #
            ------------------------  ---------
            Linear                           10
        """
        from .render.table import to_table

        return to_table(self, tablefmt, depth, columns)

    def to_dict(self) -> dict[str, Any]:
        """Every layer field and total as plain data (schema ``summaryplus.summary/1``).

        See ``summaryplus.render.serialize``.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_dict()["totals"]["total_params"]
            10
        """
        from .render.serialize import to_dict

        return to_dict(self)

    def to_record(self) -> SummaryRecord:
        """The numbers as a ``SummaryRecord`` (what ``load_summary`` returns).

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_record().total_params
            10
        """
        from .render.serialize import summary_record

        return summary_record(self)

    def to_json(self, path: PathLike | None = None, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text, also written to ``path`` when given.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_json(indent=None)[:34]
            '{"schema": "summaryplus.summary/1"'
        """
        from .render.serialize import to_json

        return to_json(self, path, indent)

    def to_csv(self, path: PathLike | None = None) -> str:
        """The layers as CSV (one line per row), also written to ``path`` when given.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> len(summary(nn.Linear(4, 2), verbose=0).to_csv().splitlines())
            2
        """
        from .render.serialize import to_csv

        return to_csv(self, path)

    def to_dataframe(self) -> Any:
        """The layers as a ``pandas.DataFrame``; totals in ``.attrs["totals"]``.

        Needs pandas, imported on this call only.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> summary(nn.Linear(4, 2), verbose=0).to_dataframe()["num_params"].tolist()
            [10]
        """
        from .render.serialize import to_dataframe

        return to_dataframe(self)

    def to_html(self) -> str:
        """An HTML fragment: the layer table (indented tree) and the totals.

        Example:
            >>> import torch.nn as nn
            >>> from summaryplus import summary
            >>> "<table" in summary(nn.Linear(4, 2), verbose=0).to_html()
            True
        """
        from .render.html import to_html

        return to_html(self)

    def _repr_html_(self) -> str:
        """What Jupyter shows: ``to_html()``."""
        return self.to_html()

    def _repr_markdown_(self) -> str:
        """Markdown for notebooks and Markdown exports: GitHub tables of layers and totals."""
        from .render.html import to_markdown

        return to_markdown(self)

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
        from .render.log import log_summary

        log_summary(self, logger, level)

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        """rich's renderable protocol: ``rich.print(stats)`` shows rich tables."""
        from .render.rich import rich_renderables

        yield from rich_renderables(self, console, options)

class _Size(NamedTuple):
    numel: int
    nbytes: int
    trainable: bool
    # This rank's shard of a DTensor parameter (the whole tensor otherwise).
    local_numel: int
    local_nbytes: int


def _size_of(param: torch.Tensor) -> _Size:
    if type(param) is nn.Parameter and param.dtype != torch.uint8:
        # The common case, inline: a plain, materialised, unsharded parameter
        # (and the tuple made directly: a NamedTuple's __new__ is Python code).
        count = param.numel()
        size = count * param.element_size()
        return tuple.__new__(_Size, (count, size, param.requires_grad, count, size))
    local = _tensors.local_shard(param)
    return _Size(
        _tensors.numel(param),
        _tensors.nbytes(param),
        param.requires_grad,
        _tensors.numel(local),
        _tensors.nbytes(local),
    )


_NOTHING = (0, 0, 0)


class _ParamIndex:
    """Every parameter of the model keyed once: what each module holds directly
    (keys) and each key's size; and every buffer. Built once per statistics, in
    one walk over the modules."""

    def __init__(self, tree: ModuleTree) -> None:
        # Only modules that hold tensors: most (activations, containers) hold none.
        self.holders: list[nn.Module] = []
        self.direct: dict[int, list[object]] = {}
        # Sums over ``direct`` per module; each tensor once only when not ``shared``.
        self.direct_totals: dict[int, tuple[int, int, int]] = {}
        self.sizes: dict[object, _Size] = {}
        sizes = self.sizes
        self._at_pointer: dict[int, torch.Tensor] = {}  # for _key
        held = 0
        packing = {cls for cls in tree.classes if _tensors.may_pack(cls)}
        # Buffers too, gathered in the same walk (each module visited once).
        self.buffers: list[torch.Tensor] = []
        for module in tree.modules:
            if module._buffers:
                self.buffers += [b for b in module._buffers.values() if b is not None]
            params = module._parameters
            tensors: list[torch.Tensor] = (
                [p for p in params.values() if p is not None] if params else []
            )
            if packing and type(module) in packing:
                tensors += [tensor for _, tensor in _tensors.packed_tensors(module)]
            if not tensors:
                continue
            keys = []
            count = trainable = size = 0
            for tensor in tensors:
                key = self._key(tensor)
                if len(tensors) > 1 and key in keys:
                    continue  # two parameters over the same view: one tensor
                entry = sizes.get(key)
                if entry is None:
                    entry = sizes[key] = _size_of(tensor)
                keys.append(key)
                count += entry.numel
                size += entry.nbytes
                trainable += entry.numel if entry.trainable else 0
            self.holders.append(module)
            self.direct[id(module)] = keys
            self.direct_totals[id(module)] = (count, trainable, size)
            held += len(keys)
        self.lazy = any(size.numel == 0 for size in sizes.values())
        # Shared: a tensor held twice, or a module registered under two parents.
        self.shared = held != len(sizes) or tree.shares_modules

    def _key(self, tensor: torch.Tensor) -> object:
        """``tensor_key`` (equal for tied tensors), but for a tensor with data
        the data pointer alone unless another tensor starts at the same address:
        the common case, without building a tuple per parameter."""
        pointer = _tensors.data_pointer(tensor)
        if not pointer:
            return _tensors.tensor_key(tensor)
        first = self._at_pointer.setdefault(pointer, tensor)
        if first is tensor:  # the first tensor there (or one object held twice)
            return pointer
        # Another tensor over the same memory: the same view (tied through
        # .data) shares the first one's key; a different view has its own.
        full = _tensors.tensor_key(tensor)
        return pointer if full == _tensors.tensor_key(first) else full

    def keys_of(self, module: nn.Module) -> list[object]:
        return self.direct.get(id(module), [])

    def totals(self, keys: Iterable[object]) -> tuple[int, int, int]:
        count = trainable = size = 0
        for key in keys:
            entry = self.sizes[key]
            count += entry.numel
            size += entry.nbytes
            trainable += entry.numel if entry.trainable else 0
        return count, trainable, size


def _module_totals(tree: ModuleTree, index: _ParamIndex) -> dict[int, tuple[int, int, int]]:
    """(count, trainable, bytes) of the parameters each module holds, its
    subtree included: ``num_params``/``trainable_params``/``param_bytes`` of its
    rows. Modules holding none may be left out.

    Computed once per module, children first. Without sharing these are plain
    sums; with sharing each module's set of tensors is built by merging its
    children's sets into the largest one (smaller into larger), so every tensor
    counts once and the work stays near-linear however deep the model is.
    """
    totals: dict[int, tuple[int, int, int]] = {}
    if not index.shared:
        # A tree without sharing: reversed pre-order puts children before parents.
        # Only modules holding something get an entry (most hold nothing).
        direct = index.direct_totals
        for module in reversed(tree.modules):
            count, trainable, size = direct.get(id(module), _NOTHING)
            for child in module._modules.values():
                below = totals.get(id(child))
                if below is not None:
                    count, trainable, size = count + below[0], trainable + below[1], size + below[2]
            if count or size:
                totals[id(module)] = (count, trainable, size)
    else:
        bags: dict[int, _Bag] = {}
        for module in tree.post_order():
            children = list(dict.fromkeys(c for c in module._modules.values() if c is not None))
            ordered = sorted(children, key=lambda c: len(bags[id(c)].keys), reverse=True)
            if ordered and len(tree.parents.get(id(ordered[0]), ())) <= 1:
                bag = bags.pop(id(ordered[0]))  # sole owner: grow it in place
            else:
                bag = _Bag()
                if ordered:
                    bag.merge(bags[id(ordered[0])].keys, index)
            for child in ordered[1:]:
                bag.merge(bags[id(child)].keys, index)
            bag.merge(index.keys_of(module), index)
            bags[id(module)] = bag
            totals[id(module)] = (bag.count, bag.trainable, bag.size)
    return totals


class _Bag:
    """A set of tensor keys with the running sizes of its tensors."""

    def __init__(self) -> None:
        self.keys: set[object] = set()
        self.count = self.trainable = self.size = 0

    def merge(self, keys: Iterable[object], index: _ParamIndex) -> None:
        for key in keys:
            if key in self.keys:
                continue
            self.keys.add(key)
            entry = index.sizes[key]
            self.count += entry.numel
            self.size += entry.nbytes
            self.trainable += entry.numel if entry.trainable else 0


def _fill_param_columns(
    rows: list[LayerInfo],
    tree: ModuleTree,
    index: _ParamIndex,
    module_totals: dict[int, tuple[int, int, int]],
) -> None:
    """Each row's parameter columns, in one pass over the rows: its module's
    totals (``num_params``...), and its share (``counted_params``...), which
    starts its subtree sums (``_start_subtree``).

    Shares give each unique parameter to exactly one row, so rows add up to the
    totals. A parameter goes to the first row of the module that holds it
    directly; one held by a module that never ran goes to the first row of its
    nearest registered ancestor that did. Tied weights and reused modules
    therefore count once.
    """
    first_row: dict[int, LayerInfo] = {}
    claimed: set[object] = set()

    def claim(module: nn.Module) -> tuple[int, int, int]:
        fresh = [key for key in index.keys_of(module) if key not in claimed]
        claimed.update(fresh)
        return index.totals(fresh)

    direct_totals = index.direct_totals
    for row in rows:
        layer_id = row.layer_id
        if layer_id not in first_row:
            first_row[layer_id] = row
        row.num_params, row.trainable_params, row.param_bytes = module_totals.get(
            layer_id, _NOTHING
        )
        if index.lazy:
            row.contains_lazy_param = any(
                p is not None and _tensors.is_lazy(p) for p in row.module._parameters.values()
            )
        if row.is_recursive or layer_id not in direct_totals:
            share = _NOTHING
        elif index.shared:
            share = claim(row.module)
        else:
            # Every tensor is held by one module, so a module's first row takes
            # all of its tensors (a later row of the same module is recursive).
            share = direct_totals[layer_id]
        row.counted_params, row.counted_trainable_params, row.counted_param_bytes = share
        _start_subtree(row)
    for module in index.holders:
        if id(module) in first_row:
            continue
        owner = _nearest_row(module, tree, first_row)
        if owner is not None:
            count, trainable, size = claim(module)
            owner.counted_params += count
            owner.counted_trainable_params += trainable
            owner.counted_param_bytes += size
            owner.subtree_params += count
            owner.subtree_trainable_params += trainable
            owner.subtree_param_bytes += size


def _nearest_row(
    module: nn.Module, tree: ModuleTree, first_row: dict[int, LayerInfo]
) -> LayerInfo | None:
    current = module
    for _ in range(256):
        edges = tree.parents.get(id(current))
        if not edges:
            return first_row.get(id(tree.root))
        current = edges[0][0]
        if id(current) in first_row:
            return first_row[id(current)]
    return first_row.get(id(tree.root))


def _start_subtree(row: LayerInfo) -> None:
    """A row's subtree sums, before its children's: its own share."""
    row.macs = row.own_macs
    row.activation_bytes = row.own_activation_bytes
    row.subtree_params = row.counted_params
    row.subtree_trainable_params = row.counted_trainable_params
    row.subtree_param_bytes = row.counted_param_bytes


def _sum_subtrees(rows: list[LayerInfo]) -> None:
    """Inclusive MACs, activations and counted params: each row starts from its
    own share (``_start_subtree``) and, children being after their parents in
    call order, adds itself to its parent in one backward pass."""
    for row in reversed(rows):
        parent = row.parent_info
        if parent is not None:
            parent.macs += row.macs
            if row.macs_partial:
                parent.macs_partial = True
            parent.activation_bytes += row.activation_bytes
            parent.subtree_params += row.subtree_params
            parent.subtree_trainable_params += row.subtree_trainable_params
            parent.subtree_param_bytes += row.subtree_param_bytes


def _set_depth_indices(rows: list[LayerInfo]) -> None:
    counters: list[int] = []  # index: depth
    for row in rows:
        depth = row.depth
        if depth >= len(counters):
            counters.extend([0] * (depth + 1 - len(counters)))
        counters[depth] += 1
        row.depth_index = counters[depth]


def inner_params(row: LayerInfo) -> list[InnerParam]:
    """The parameter tensors of a row's module (for ``verbose=2``)."""
    named = (
        row.module.named_parameters()
        if row.parent_info is not None
        else row.module.named_parameters(recurse=False)
    )
    return [
        InnerParam(name, tuple(int(s) for s in p.shape), _tensors.numel(p), p.requires_grad)
        for name, p in named
    ]
