"""Routing decisions for tensors without data: a stated assumption, scoped to one
summary.

A mixture-of-experts layer written with a Python loop over the experts its
router chose (transformers' ``eager`` experts, most research code) asks the
router's output for values: ``nonzero`` over the expert mask, ``if expert ==
...``. Meta and fake tensors have no values, so such a forward cannot run on
them. This counter assumes a routing instead: the indices a router's ``topk`` (or
``argmax``) returns on a tensor without data are real, balanced ones -- token
``t``'s ``j``-th choice is expert ``(t * k + j) mod E`` -- and every op computed
from those indices alone runs for real, so the loop runs as it would on real
data with evenly spread tokens. Each token still reaches exactly ``k`` experts,
so the layer's total MACs are those of any top-k routing; only the per-expert
split is assumed (and said so in the summary).
"""

from __future__ import annotations

from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensor, unset_fake_temporarily
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map

from .compiling import never_compiled
from .counter import OpCounter, count_op

ASSUMPTION = (
    "balanced routing on tensors without data: token t's j-th expert is (t * k + j) mod E"
)

_ROUTING_OPS = {torch.ops.aten.topk.default, torch.ops.aten.argmax.default}


def _balanced_indices(shape: torch.Size, choices: int, dim: int, k: int) -> torch.Tensor:
    """Indices of ``shape`` along ``dim`` (of size ``choices`` in the input):
    position ``t`` (all other dims flattened) picks ``(t * k + j) mod choices``."""
    moved = list(shape)
    moved.append(moved.pop(dim))
    tokens = 1
    for size in moved[:-1]:
        tokens *= size
    picks = (torch.arange(tokens)[:, None] * k + torch.arange(moved[-1])[None, :]) % choices
    return picks.reshape(moved).movedim(-1, dim)


def _without_data(value: Any) -> bool:
    return isinstance(value, FakeTensor) or (isinstance(value, torch.Tensor) and value.is_meta)


class RoutingOpCounter(OpCounter):  # type: ignore[no-untyped-call]
    """``OpCounter`` that gives routers real, balanced indices on tensors without
    data and runs the ops computed from them for real."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ids of the real tensors made from assumed routing (kept alive with them).
        self._routed: dict[int, torch.Tensor] = {}

    def _remember(self, value: Any) -> Any:
        for item in tree_flatten(value)[0]:
            if isinstance(item, torch.Tensor) and not _without_data(item):
                self._routed[id(item)] = item
        return value

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        tensors = _tensors_in(args, kwargs)
        if func in _ROUTING_OPS and tensors and _without_data(tensors[0]):
            return self._route(func, args, kwargs)
        if self.from_routing_only(tensors):
            # Computed from assumed routing only: run it for real (it costs no MACs
            # worth counting: masks, counts, index lists).
            with unset_fake_temporarily():
                return self._remember(func(*args, **kwargs))
        devices = {t.device for t in tensors if _without_data(t)}
        if len(devices) == 1 and any(id(t) in self._routed for t in tensors):
            # Routed indices (on the CPU, with values) meeting tensors of a meta
            # model: only their shapes matter now; move them to that device.
            (device,) = devices
            args, kwargs = tree_map(
                lambda value: value.to(device) if id(value) in self._routed else value,
                (args, kwargs),
            )
        return count_op(self, func, types, args, kwargs)

    never_compiled(__torch_dispatch__)

    def from_routing_only(self, tensors: list[torch.Tensor]) -> bool:
        """All ``tensors`` have data and at least one comes from assumed routing."""
        return any(id(t) in self._routed for t in tensors) and not any(
            _without_data(t) for t in tensors
        )

    def function_mode(self) -> TorchFunctionMode:
        """The companion mode that runs whole torch functions computed from assumed
        routing for real, before they decompose (``one_hot`` decomposes into a
        ``zeros`` with no tensor argument, which would otherwise come out fake)."""
        return _RoutingFunctions(self)

    def _route(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        out = count_op(self, func, (), args, kwargs)
        scores = args[0]
        if func is torch.ops.aten.topk.default:
            k = int(args[1])
            dim = int(args[2]) if len(args) > 2 else int(kwargs.get("dim", -1))
            values, fake_indices = out
        else:
            k = 1
            dim_arg = args[1] if len(args) > 1 else kwargs.get("dim")
            if dim_arg is None:
                return out  # argmax over everything: not a router
            dim = int(dim_arg)
            fake_indices = out
        dim = dim % scores.dim()
        with unset_fake_temporarily():
            if func is torch.ops.aten.topk.default:
                indices = _balanced_indices(fake_indices.shape, int(scores.shape[dim]), dim, k)
            else:  # argmax drops ``dim`` (unless keepdim): position t picks t mod E
                count = fake_indices.numel()
                indices = (torch.arange(count) % int(scores.shape[dim])).reshape(
                    fake_indices.shape
                )
        self.recorder.assumptions.add(ASSUMPTION)
        self._remember(indices)
        return (values, indices) if func is torch.ops.aten.topk.default else indices


def _tensors_in(args: Any, kwargs: Any) -> list[torch.Tensor]:
    return [item for item in tree_flatten((args, kwargs))[0] if isinstance(item, torch.Tensor)]


class _RoutingFunctions(TorchFunctionMode):
    def __init__(self, counter: RoutingOpCounter) -> None:
        super().__init__()
        self.counter = counter

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        if self.counter.from_routing_only(_tensors_in(args, kwargs)):
            with unset_fake_temporarily():
                return self.counter._remember(func(*args, **kwargs))
        return func(*args, **kwargs)


def is_data_dependent(error: BaseException) -> bool:
    """True for the errors fake tensors raise when the forward needs values."""
    name = type(error).__name__
    return name in {"DynamicOutputShapeException", "DataDependentOutputException"} or (
        "data-dependent" in str(error) or "data dependent" in str(error)
    )


__all__ = ["ASSUMPTION", "RoutingOpCounter", "is_data_dependent"]
