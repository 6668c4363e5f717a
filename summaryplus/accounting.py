"""Parameter accounting: every tensor counted once, and the subtree sums of rows.

Builds on the rows the capture made: which parameters each row accounts for
(tied and shared tensors once, on the first row that holds them), the Param #
columns, subtree sums of MACs, activations and parameters, and torchinfo's
depth indices. Linear in the number of rows: every subtree quantity is summed
bottom-up in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import torch
from torch import nn

from . import _tensors
from .layer_info import InnerParam, LayerInfo
from .module_tree import ModuleTree


class _Size(NamedTuple):
    numel: int
    nbytes: int
    trainable: bool
    # This rank's shard of a DTensor parameter (the whole tensor otherwise).
    local_numel: int
    local_nbytes: int


_PARAMETER = nn.Parameter
_UINT8 = torch.uint8
_STRIDED = torch.strided


def _size_of(param: torch.Tensor) -> _Size:
    if type(param) is _PARAMETER and param.dtype is not _UINT8 and param.layout is _STRIDED:
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


class ParamIndex:
    """Every parameter of the model keyed once: what each module holds directly
    (keys) and each key's size; and every buffer. Built once per statistics, in
    one walk over the modules."""

    def __init__(self, tree: ModuleTree) -> None:
        # Only modules that hold tensors: most (activations, containers) hold none.
        self.holders: list[nn.Module] = []
        # Elements that a ``torch.nn.utils.prune`` mask zeroes, per tensor key.
        self.pruned: dict[object, int] = {}
        # Modules holding an uninitialized lazy parameter (counted as 0 elements).
        self.uninitialized_modules = 0
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
        # (Locals: this loop sees every module and parameter.)
        all_buffers, holders, direct, direct_totals = (
            self.buffers, self.holders, self.direct, self.direct_totals
        )
        for module, attributes in zip(tree.modules, tree.attributes, strict=True):
            buffers = attributes["_buffers"]
            if buffers:
                all_buffers += [b for b in buffers.values() if b is not None]
            params = attributes["_parameters"]
            tensors: list[torch.Tensor] = (
                [p for p in params.values() if p is not None] if params else []
            )
            if buffers and params:
                self._count_pruned(module)
            if packing and type(module) in packing:
                tensors += [tensor for _, tensor in _tensors.packed_tensors(module)]
            if not tensors:
                continue
            keys = []
            count = trainable = size = 0
            uninitialized = False
            for tensor in tensors:
                key = self._key(tensor)
                if len(tensors) > 1 and key in keys:
                    continue  # two parameters over the same view: one tensor
                entry = sizes.get(key)
                if entry is None:
                    entry = sizes[key] = _size_of(tensor)
                if not entry.numel and _tensors.is_lazy(tensor):
                    uninitialized = True
                keys.append(key)
                count += entry.numel
                size += entry.nbytes
                if entry.trainable:
                    trainable += entry.numel
            self.uninitialized_modules += uninitialized
            holders.append(module)
            direct[id(module)] = keys
            direct_totals[id(module)] = (count, trainable, size)
            held += len(keys)
        self.lazy = any(size.numel == 0 for size in sizes.values())
        # Shared: a tensor held twice, or a module registered under two parents.
        self.shared = held != len(sizes) or tree.shares_modules

    def _count_pruned(self, module: nn.Module) -> None:
        """A weight pruned by ``torch.nn.utils.prune`` (``weight_orig`` and a
        ``weight_mask`` buffer) counts the elements its mask keeps, as torchinfo
        counts them; its bytes stay those stored."""
        for name, param in module._parameters.items():
            if param is None or not name.endswith("_orig"):
                continue
            kept, _ = _tensors.surviving_numel(module, name, param)
            key = self._key(param)
            if key in self.pruned or kept == _tensors.numel(param):
                continue  # seen through another holder (tied), or nothing masked
            whole = _size_of(param)
            self.pruned[key] = whole.numel - kept
            local = kept if whole.local_numel == whole.numel else whole.local_numel
            self.sizes[key] = whole._replace(numel=kept, local_numel=local)

    def _key(self, tensor: torch.Tensor) -> object:
        """``tensor_key`` (equal for tied tensors), but for a tensor with data
        the data pointer alone unless another tensor starts at the same address:
        the common case, without building a tuple per parameter."""
        if type(tensor) is _PARAMETER:
            # A plain parameter (one over a tensor subclass is of that class):
            # its data pointer directly, the usual case.
            try:
                pointer = tensor.data_ptr()
            except RuntimeError:  # no data pointer (sparse)
                pointer = 0
        else:
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

    def key_of(self, tensor: torch.Tensor) -> object:
        """The key ``sizes`` holds ``tensor`` under (tied tensors share one)."""
        return self._key(tensor)

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


def module_totals(tree: ModuleTree, index: ParamIndex) -> dict[int, tuple[int, int, int]]:
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
        for module, attributes in zip(reversed(tree.modules), reversed(tree.attributes),
                                      strict=True):  # fmt: skip
            count, trainable, size = direct.get(id(module), _NOTHING)
            for child in attributes["_modules"].values():
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

    def merge(self, keys: Iterable[object], index: ParamIndex) -> None:
        for key in keys:
            if key in self.keys:
                continue
            self.keys.add(key)
            entry = index.sizes[key]
            self.count += entry.numel
            self.size += entry.nbytes
            self.trainable += entry.numel if entry.trainable else 0


def fill_param_columns(
    rows: list[LayerInfo],
    tree: ModuleTree,
    index: ParamIndex,
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
        start_subtree(row)
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


def start_subtree(row: LayerInfo) -> None:
    """A row's subtree sums, before its children's: its own share."""
    row.macs = row.own_macs
    row.activation_bytes = row.own_activation_bytes
    row.bytes_moved = row.own_bytes_moved
    row.fused_bytes_moved = row.own_fused_bytes_moved
    row.subtree_params = row.counted_params
    row.subtree_trainable_params = row.counted_trainable_params
    row.subtree_param_bytes = row.counted_param_bytes


def sum_subtrees(rows: list[LayerInfo]) -> None:
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
            parent.bytes_moved += row.bytes_moved
            parent.fused_bytes_moved += row.fused_bytes_moved
            parent.subtree_params += row.subtree_params
            parent.subtree_trainable_params += row.subtree_trainable_params
            parent.subtree_param_bytes += row.subtree_param_bytes


def set_depth_indices(rows: list[LayerInfo]) -> None:
    counters: list[int] = []  # index: depth
    for row in rows:
        depth = row.depth
        if depth >= len(counters):
            counters.extend([0] * (depth + 1 - len(counters)))
        counters[depth] += 1
        row.depth_index = counters[depth]
    for row in rows:
        # A container met again under the same caller: every appearance shows the
        # last one's index, as torchinfo (one row object for all of them) does.
        shown_as = row._index_from
        if shown_as is not None:
            row.depth_index = shown_as.depth_index


def inner_params(row: LayerInfo) -> list[InnerParam]:
    """The parameter tensors of a row's module (for ``verbose=2``); a pruned
    ``weight_orig`` shows as ``weight`` with the elements its mask keeps."""
    module = row.module
    named = (
        module.named_parameters() if row.parent_info is not None
        else module.named_parameters(recurse=False)
    )
    rows = []
    for name, p in named:
        owner, _, own_name = name.rpartition(".")
        holder = module.get_submodule(owner) if owner else module
        count, shown = _tensors.surviving_numel(holder, own_name, p)
        if shown != own_name and f"{shown}_mask" in holder._buffers:
            name = f"{owner}.{shown}" if owner else shown
        rows.append(InnerParam(name, tuple(int(s) for s in p.shape), count, p.requires_grad))
    return rows
