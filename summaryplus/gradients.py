"""Which trainable parameters a training step gives gradients: those the
forward's outputs reach in the autograd graph (``capture.reach``). The others
(modules that never ran, branches not taken, weights used under ``no_grad``)
get no gradient and no optimizer state, and are named.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import _tensors
from .accounting import ParamIndex
from .module_tree import ModuleTree


@dataclass(frozen=True)
class GradientParams:
    """The trainable parameters that get gradients (each tensor once).

    Attributes:
        params: their elements.
        param_bytes: their bytes, in each parameter's dtype (= gradient bytes).
        largest_bytes: bytes of the largest one.
        local_param_bytes: this rank's shards of them (DTensor parameters).
        unused: dotted names of the trainable parameters that get none, in
            registration order (a tied one under its first name).
    """

    params: int
    param_bytes: int
    largest_bytes: int
    local_param_bytes: int
    unused: tuple[str, ...]


def gradient_params(
    tree: ModuleTree, index: ParamIndex, reached: frozenset[int]
) -> GradientParams | None:
    """``GradientParams`` of the parameters in ``reached`` (ids of the leaves a
    backward reaches); None when that cannot be told: parameters sharded as
    DTensors are swapped for gathered copies while the forward runs, so the
    graph's leaves are not the registered tensors."""
    names: dict[object, str] = {}
    used: set[object] = set()
    for prefix, module in tree.named_paths():
        for name, param in module._parameters.items():
            if param is None or not param.requires_grad:
                continue
            if _tensors.local_shard(param) is not param:
                return None
            key = index.key_of(param)
            names.setdefault(key, f"{prefix}.{name}" if prefix else name)
            if id(param) in reached:
                used.add(key)
    count = size = largest = local = 0
    unused = []
    for key, name in names.items():
        entry = index.sizes[key]
        if key in used:
            count += entry.numel
            size += entry.nbytes
            local += entry.local_nbytes
            largest = max(largest, entry.nbytes)
        else:
            unused.append(name)
    return GradientParams(count, size, largest, local, tuple(unused))
