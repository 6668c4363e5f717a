"""Measured latency per layer, beside the roofline bound.

``measure_latency`` runs the forward on the model's own device: ``warmup``
unrecorded passes, then ``repeats`` passes with every module timed (CUDA events
on a GPU, ``time.perf_counter`` on a CPU), then ``repeats`` passes with no hooks
at all (the real forward time). Each row of the summary gets its mean measured
time, its time bound on ``gpu`` (``roofline``) and ``bound / measured``: the
fraction of the bound reached. A row measured faster than its bound is flagged:
a wrong hardware row or a miscount.

It never changes the model: hooks are removed, training flags and buffers
(BatchNorm's running statistics) are put back, and the forward runs under
``torch.inference_mode`` in the model's current mode; a forward that writes a
parameter in place is reported (``Latency.written``), since putting it back
would need a copy of every weight.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ._checks import check_count
from .api import summary
from .gpus import GPU, get_gpu
from .inputs import build_inputs
from .module_tree import ModuleTree
from .render.latency import latency_table

if TYPE_CHECKING:
    from .inputs import InputData, InputSize

__all__ = ["Latency", "LayerLatency", "gpu_of_device", "measure_latency"]

# Substrings of torch.cuda.get_device_name() -> hardware table key; the first match wins.
_DEVICE_NAMES = (
    ("H200", "h200"), ("H100 PCIe", "h100-pcie"), ("H100", "h100-sxm"), ("B200", "b200"),
    ("A100-SXM4-40GB", "a100-40gb"), ("A100-PCIE-40GB", "a100-40gb"),
    ("A100 80GB PCIe", "a100-80gb-pcie"), ("A100-PCIE-80GB", "a100-80gb-pcie"),
    ("A100", "a100-80gb-sxm"), ("L40S", "l40s"), ("L4", "l4"), ("A10G", "a10g"),
    ("RTX 4090", "rtx-4090"), ("RTX 5090", "rtx-5090"), ("MI300X", "mi300x"),
)  # fmt: skip


@dataclass(frozen=True)
class LayerLatency:
    """One row: its measured time beside its bound (seconds, means over repeats).

    Attributes:
        module_path, class_name, depth: the row.
        measured: mean seconds of the row's call (its whole subtree).
        bound: its time bound on the chosen GPU (None without one).
        faster_than_bound: measured below the bound (by more than 1%).
    """

    module_path: str
    class_name: str
    depth: int
    is_leaf: bool
    measured: float
    bound: float | None

    @property
    def fraction(self) -> float | None:
        """``bound / measured``: the share of the bound reached (1.0: at the bound)."""
        if not self.bound or self.measured <= 0:
            return None
        return self.bound / self.measured

    @property
    def faster_than_bound(self) -> bool:
        return self.bound is not None and self.measured * 1.01 < self.bound

    def to_dict(self) -> dict[str, Any]:
        return {
            "module_path": self.module_path, "class_name": self.class_name,
            "depth": self.depth, "is_leaf": self.is_leaf, "measured_s": self.measured,
            "bound_s": self.bound, "fraction_of_bound": self.fraction,
            "faster_than_bound": self.faster_than_bound,
        }  # fmt: skip


@dataclass(frozen=True)
class Latency:
    """What ``measure_latency`` measured (seconds).

    Attributes:
        device: where it ran (``"cuda:0"``, ``"cpu"``).
        gpu: the hardware row the bounds are for (None: no bounds).
        warmup, repeats: passes run before timing, and timed.
        rows: one ``LayerLatency`` per summary row, in call order.
        forward: mean seconds of the forward without hooks.
        hooked_forward: mean seconds of the forward with every module timed.
        leaves: the sum of the leaf rows' measured times (one pass).
        bound: the whole forward's time bound (None without a GPU row).
        written: parameters the forward wrote in place (not put back).
    """

    device: str
    gpu: GPU | None
    warmup: int
    repeats: int
    rows: tuple[LayerLatency, ...]
    forward: float
    hooked_forward: float
    leaves: float
    bound: float | None
    written: tuple[str, ...] = ()

    @property
    def hook_overhead(self) -> float:
        """Seconds the timing hooks add to a forward."""
        return self.hooked_forward - self.forward

    @property
    def flagged(self) -> tuple[LayerLatency, ...]:
        """Rows measured faster than their bound."""
        return tuple(row for row in self.rows if row.faster_than_bound)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (schema ``summaryplus.latency/1``)."""
        return {
            "schema": "summaryplus.latency/1",
            "device": self.device, "gpu": None if self.gpu is None else self.gpu.key,
            "warmup": self.warmup, "repeats": self.repeats,
            "forward_s": self.forward, "hooked_forward_s": self.hooked_forward,
            "hook_overhead_s": self.hook_overhead, "leaves_s": self.leaves,
            "bound_s": self.bound, "written": list(self.written),
            "rows": [row.to_dict() for row in self.rows],
        }  # fmt: skip

    def to_table(self, depth: int | None = None) -> str:

        return latency_table(self, depth)

    def __str__(self) -> str:
        return self.to_table()


def gpu_of_device(device: torch.device) -> GPU | None:
    """The hardware row of a CUDA device, by its name (None: unknown or a CPU)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for part, key in _DEVICE_NAMES:
        if part in name:
            return get_gpu(key)
    return None


class _Timer:
    """Times every module call of one forward: CUDA events or perf_counter."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.calls: list[tuple[int, Any, Any]] = []  # (module id, start, end) in call order
        self.open: list[int] = []

    def _now(self) -> Any:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            event.record()
            return event
        return time.perf_counter()

    def pre(self, module: nn.Module, args: Any) -> None:
        self.open.append(len(self.calls))
        self.calls.append((id(module), self._now(), None))

    def post(self, module: nn.Module, args: Any, output: Any) -> None:
        if not self.open:
            return
        index = self.open.pop()
        key, start, _ = self.calls[index]
        self.calls[index] = (key, start, self._now())

    def durations(self) -> list[tuple[int, float]]:
        if self.cuda:
            torch.cuda.synchronize()
            return [(key, start.elapsed_time(end) / 1e3) for key, start, end in self.calls
                    if end is not None]  # fmt: skip
        return [(key, end - start) for key, start, end in self.calls if end is not None]


def _call(model: nn.Module, args: list[Any], kwargs: dict[str, Any]) -> None:
    with torch.inference_mode():
        model(*args, **kwargs)


def _timed_forward(model: nn.Module, args: list[Any], kwargs: dict[str, Any], cuda: bool) -> float:
    if cuda:
        start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        start.record()
        _call(model, args, kwargs)
        end.record()
        torch.cuda.synchronize()
        return float(start.elapsed_time(end)) / 1e3
    began = time.perf_counter()
    _call(model, args, kwargs)
    return time.perf_counter() - began


def measure_latency(
    model: nn.Module,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    *,
    gpu: str | GPU | None = None,
    warmup: int = 3,
    repeats: int = 10,
    fused: bool = False,
    **kwargs: Any,
) -> Latency:
    """Measures each layer's time on the model's device beside its time bound.

    Args:
        model: a model with real weights, on the device to measure.
        input_size, input_data, dtypes, **kwargs: the forward's inputs, as for
            ``summary()``.
        gpu: the hardware row of the bounds; None: the CUDA device's own (by
            name), and no bounds on a CPU.
        warmup: passes run first, untimed (CUDA kernels chosen, caches warm).
        repeats: timed passes (hooked, then unhooked).
        fused: bounds from the fused bytes (a compiled forward); default eager,
            which is what a plain forward runs.

    Returns:
        A ``Latency``.

    Example:
        >>> from torch import nn
        >>> found = measure_latency(nn.Linear(64, 64), input_size=(8, 64), repeats=2)
        >>> found.rows[0].measured > 0, found.gpu is None
        (True, True)
    """

    check_count(warmup, "warmup")
    check_count(repeats, "repeats", smallest=1)
    tree = ModuleTree(model)
    inputs = build_inputs(model, input_size, input_data, None, dtypes, None, kwargs,
                          tree.modules, copy=True, attributes=tree.attributes)  # fmt: skip
    if inputs.without_data:
        raise ValueError("measure_latency needs a model with real weights (not meta or fake)")
    stats = summary(model, input_data=_as_input_data(inputs), mode="same", verbose=0,
                    **inputs.kwargs)  # fmt: skip
    device = inputs.device
    card = get_gpu(gpu) if gpu is not None else gpu_of_device(device)
    bounds = stats.roofline(card, fused=fused) if card is not None else None
    cuda = device.type == "cuda"
    args, call_kwargs = inputs.args, inputs.kwargs
    timer = _Timer(cuda)
    params = [(name, p, p._version) for name, p in model.named_parameters()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [module.training for module in tree.modules]
    try:
        for _ in range(warmup):
            _call(model, args, call_kwargs)
        handles = []
        try:
            for module in tree.modules:
                handles.append(module.register_forward_pre_hook(timer.pre))
                handles.append(module.register_forward_hook(timer.post, always_call=True))
            per_pass: list[list[tuple[int, float]]] = []
            hooked = 0.0
            for _ in range(repeats):
                timer.calls, timer.open = [], []
                hooked += _timed_forward(model, args, call_kwargs, cuda)
                per_pass.append(timer.durations())
        finally:
            for handle in handles:
                handle.remove()
        plain = sum(_timed_forward(model, args, call_kwargs, cuda) for _ in range(repeats))
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        for module, flag in zip(tree.modules, flags, strict=True):
            module.training = flag
    written = tuple(name for name, p, version in params if p._version != version)
    rows = _rows(stats.summary_list, per_pass, bounds)
    leaves = sum(row.measured for row in rows if row.is_leaf)
    return Latency(
        device=str(device), gpu=card, warmup=warmup, repeats=repeats, rows=rows,
        forward=plain / repeats, hooked_forward=hooked / repeats, leaves=leaves,
        bound=None if bounds is None else bounds.total.time, written=written,
    )  # fmt: skip


def _as_input_data(inputs: Any) -> Any:
    return inputs.args if len(inputs.args) != 1 else inputs.args[0]


def _rows(layers: Sequence[Any], per_pass: list[list[tuple[int, float]]], bounds: Any) -> tuple[
    LayerLatency, ...
]:
    """Summary rows matched to timed calls: the k-th call of a module is the
    k-th row of that module (containers that were never called get their
    children's sum)."""
    sums: dict[tuple[int, int], float] = {}
    for durations in per_pass:
        seen: dict[int, int] = {}
        for key, seconds in durations:
            index = seen.get(key, 0)
            seen[key] = index + 1
            sums[(key, index)] = sums.get((key, index), 0.0) + seconds
    repeats = max(len(per_pass), 1)
    rows: list[LayerLatency] = []
    counts: dict[int, int] = {}
    measured: dict[int, float] = {}
    for position, layer in enumerate(layers):
        key = layer.layer_id
        if layer.is_container:
            value = -1.0  # filled from its children below
        else:
            index = counts.get(key, 0)
            counts[key] = index + 1
            value = sums.get((key, index), 0.0) / repeats
        measured[position] = value
    positions = {id(layer): position for position, layer in enumerate(layers)}
    for position in range(len(layers) - 1, -1, -1):
        if measured[position] < 0:
            measured[position] = sum(measured[positions[id(child)]]
                                     for child in layers[position].children)  # fmt: skip
    for position, layer in enumerate(layers):
        bound = None if bounds is None else bounds.rows[position].time
        rows.append(LayerLatency(layer.module_path, layer.class_name, layer.depth,
                                 layer.is_leaf_layer, measured[position], bound))  # fmt: skip
    return tuple(rows)
