"""Parameter and buffer statistics read from the model itself, without a forward pass.

Everything here counts *unique* tensors: a weight tied to another (the same
object, or the same elements of the same storage) is counted once, under the
first name ``named_parameters()`` reaches it by, and its other names are listed
in ``shared_with``. Buffers are never mixed into parameter counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import _tensors
from ._checks import check_count
from .module_tree import ModuleTree

__all__ = [
    "BufferRow",
    "ParamGroup",
    "ParameterRow",
    "buffer_table",
    "count_parameters",
    "group_params",
    "parameter_table",
]


@dataclass(frozen=True)
class ParameterRow:
    """One distinct parameter tensor.

    Attributes:
        name: the first dotted name the tensor is reachable under.
        shape: its shape.
        dtype: its dtype without the ``torch.`` prefix (``"float32"``).
        device: its device (``"cpu"``, ``"cuda:0"``, ``"meta"``).
        requires_grad: whether it is trained.
        numel: element count (0 for an uninitialized lazy parameter).
        bytes: bytes of its elements in its own dtype.
        shared_with: the other names of the same tensor (tied weights).
        uninitialized: a lazy parameter before its first forward (no shape yet;
            ``numel`` and ``bytes`` are 0, so sums over the table are a lower bound).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    requires_grad: bool
    numel: int
    bytes: int
    shared_with: tuple[str, ...] = ()
    uninitialized: bool = False


@dataclass(frozen=True)
class BufferRow:
    """One distinct buffer tensor (running statistics, position ids...).

    Attributes:
        name: the first dotted name the buffer is reachable under.
        shape: its shape.
        dtype: its dtype without the ``torch.`` prefix.
        device: its device.
        persistent: whether ``state_dict()`` saves it.
        numel: element count.
        bytes: bytes of its elements in its own dtype.
        shared_with: the other names of the same tensor.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    persistent: bool
    numel: int
    bytes: int
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParamGroup:
    """The parameters under one module prefix.

    Attributes:
        name: the module prefix (``"encoder.layer.0"``); ``""`` holds the
            parameters registered directly on the model itself.
        params: elements of the distinct tensors counted in this group.
        trainable_params: the part of ``params`` that requires grad.
        bytes: bytes of those tensors.
        percent: ``params`` as a percentage of all the model's parameters.
        shared_params: elements reachable under this prefix but counted in an
            earlier group because the tensor is tied to one there.
    """

    name: str
    params: int
    trainable_params: int
    bytes: int
    percent: float
    shared_params: int = 0

    @property
    def non_trainable_params(self) -> int:
        """Frozen parameters of the group."""
        return self.params - self.trainable_params


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Counts a model's parameters, each distinct tensor once.

    Unlike ``sum(p.numel() for p in model.parameters())`` written by hand, a
    weight tied by assigning ``.data`` (same storage, same elements) is not
    counted twice.

    Args:
        model: the module to count.
        trainable_only: count only parameters with ``requires_grad=True``.

    Returns:
        The number of parameter elements.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``trainable_only`` is
            not a bool.

    Example:
        >>> from torch import nn
        >>> from summaryplus import count_parameters
        >>> count_parameters(nn.Linear(10, 5))
        55
    """
    _check_model(model)
    if not isinstance(trainable_only, bool):
        raise TypeError(
            f"trainable_only must be a bool (True or False), got {type(trainable_only).__name__}"
        )
    return sum(
        _tensors.numel(param)
        for _, param, _names in _tensors.unique_tensors(ModuleTree(model).named_parameters())
        if param.requires_grad or not trainable_only
    )


def parameter_table(model: nn.Module) -> list[ParameterRow]:
    """Lists every distinct parameter tensor of a model, in registration order.

    Args:
        model: the module to inspect.

    Returns:
        One ``ParameterRow`` per distinct tensor; the ``numel`` column adds up to
        ``count_parameters(model)``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import parameter_table
        >>> model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
        >>> model[1].weight = model[0].weight
        >>> [(row.name, row.numel, row.shared_with) for row in parameter_table(model)]
        [('0.weight', 40, ('1.weight',))]
    """
    _check_model(model)
    return [
        ParameterRow(
            name=name,
            shape=_shape(param),
            dtype=_tensors.dtype_name(param.dtype),
            device=str(param.device),
            requires_grad=bool(param.requires_grad),
            numel=_tensors.numel(param),
            bytes=_tensors.nbytes(param),
            shared_with=tuple(names[1:]),
            uninitialized=_tensors.is_lazy(param),
        )
        for name, param, names in _tensors.unique_tensors(ModuleTree(model).named_parameters())
    ]


def buffer_table(model: nn.Module) -> list[BufferRow]:
    """Lists every distinct buffer of a model, saying which ones ``state_dict()`` keeps.

    Args:
        model: the module to inspect.

    Returns:
        One ``BufferRow`` per distinct buffer tensor, in registration order.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import buffer_table
        >>> [(row.name, row.numel) for row in buffer_table(nn.BatchNorm1d(3))]
        [('running_mean', 3), ('running_var', 3), ('num_batches_tracked', 1)]
    """
    _check_model(model)
    tree = ModuleTree(model)
    non_persistent = tree.non_persistent_buffer_names()
    return [
        BufferRow(
            name=name,
            shape=_shape(buffer),
            dtype=_tensors.dtype_name(buffer.dtype),
            device=str(buffer.device),
            # A buffer reachable under several names is saved if any name is.
            persistent=any(alias not in non_persistent for alias in names),
            numel=_tensors.numel(buffer),
            bytes=_tensors.nbytes(buffer),
            shared_with=tuple(names[1:]),
        )
        for name, buffer, names in _tensors.unique_tensors(tree.named_buffers())
    ]


def group_params(model: nn.Module, depth: int = 1) -> list[ParamGroup]:
    """Adds up parameters per module prefix, ``depth`` names deep.

    ``depth=1`` groups by the model's direct children (``"encoder"``,
    ``"decoder"``), ``depth=2`` one level further (``"encoder.layer"``), and
    ``depth=0`` gives one group for the whole model. A parameter registered on a
    module shallower than ``depth`` is grouped under that module's own prefix.
    Each distinct tensor is counted once, in the group of its first name, so the
    groups add up to ``count_parameters(model)``; a group whose tensors are all
    tied to earlier ones still appears, with ``params == 0`` and
    ``shared_params`` saying how much it reuses.

    Args:
        model: the module to inspect.
        depth: how many dotted module names make a group key (0 or more).

    Returns:
        The groups in the order ``named_parameters()`` first reaches them.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``depth`` is not an int.
        ValueError: ``depth`` is negative.

    Example:
        >>> from torch import nn
        >>> from summaryplus import group_params
        >>> model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 2))
        >>> [(g.name, g.params, round(g.percent, 1)) for g in group_params(model)]
        [('0', 55, 82.1), ('2', 12, 17.9)]
    """
    _check_model(model)
    check_count(depth, "depth")

    named = list(ModuleTree(model).named_parameters())
    # key -> [params, trainable, bytes, shared], in the order the keys' names come.
    sums = {_group_key(name, depth): [0, 0, 0, 0] for name, _ in named}
    for _, param, names in _tensors.unique_tensors(named):
        n = _tensors.numel(param)
        owner = _group_key(names[0], depth)
        counts = sums[owner]
        counts[0] += n
        counts[1] += n if param.requires_grad else 0
        counts[2] += _tensors.nbytes(param)
        for key in {_group_key(alias, depth) for alias in names[1:]} - {owner}:
            sums[key][3] += n
    total = sum(counts[0] for counts in sums.values())
    return [
        ParamGroup(
            name=key,
            params=params,
            trainable_params=trainable,
            bytes=size,
            percent=100.0 * params / total if total else 0.0,
            shared_params=shared,
        )
        for key, (params, trainable, size, shared) in sums.items()
    ]


def _group_key(name: str, depth: int) -> str:
    """The module prefix of a dotted parameter name, cut to ``depth`` names."""
    module_path = name.split(".")[:-1]
    return ".".join(module_path[:depth])


def _check_model(model: object) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module (any subclass), got {type(model).__name__}"
        )


def _shape(tensor: torch.Tensor) -> tuple[int, ...]:
    """The shape; ``()`` for a lazy parameter, which has none until its first forward."""
    if _tensors.is_lazy(tensor):
        return ()
    return tuple(int(size) for size in tensor.shape)
