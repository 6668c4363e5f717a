"""Time bounds of a summary on a GPU: a roofline per row and in total.

An op's time on a GPU is at least max(FLOPs / dense peak for its dtype,
bytes / memory bandwidth); a row's bound is the sum over the ops in its
subtree (docs/numbers.md, "Time bound"). FLOPs = 2 x MACs. The matmul-family
ops are each a (dtype, MACs, bytes) point of the summary (``own_op_points``);
every other op does no MACs, so its bound is its bytes / bandwidth: with
``fused=True`` (the default, a compiled forward) only the embedding family's
bytes count there, with ``fused=False`` every op's (an eager forward).

Works on a live summary and on one loaded from JSON (``SummaryLike``).
Bounds are lower bounds on time, never predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .gpus import GPU, get_gpu, peak_key
from .render.plots.roofline import plot_roofline
from .render.roofline import roofline_table

if TYPE_CHECKING:
    from .records import LayerLike, SummaryLike

__all__ = ["Bound", "Roofline", "roofline"]

# When a card has no rate for a dtype (fp8 on an A100), the op runs at the next
# wider one it has.
_FALLBACK = {"fp8": ("bf16", "fp32"), "int8": ("bf16", "fp32"), "bf16": ("fp32",),
             "tf32": ("fp32",), "fp32": ()}  # fmt: skip


@dataclass(frozen=True)
class Bound:
    """The time bound of one row (its whole subtree) or of the whole forward.

    Attributes:
        module_path, class_name, depth: which row ("" / the model / 0 for the total).
        flops: FLOPs (2 x MACs).
        bytes: bytes moved (fused or eager, as the roofline was asked).
        compute_time: seconds the FLOPs take at the dense peak (sum over ops).
        memory_time: seconds the bytes take at the bandwidth (sum over ops).
        time: seconds, the sum over ops of max(compute, memory): the bound.
        compute_bound_time: the part of ``time`` from ops limited by compute.
    """

    module_path: str
    class_name: str
    depth: int
    flops: int
    bytes: int
    compute_time: float
    memory_time: float
    time: float
    compute_bound_time: float

    @property
    def intensity(self) -> float:
        """FLOPs per byte."""
        return self.flops / self.bytes if self.bytes else 0.0

    @property
    def bound_by(self) -> str:
        """``"compute"`` or ``"memory"``: which side most of the time is bound
        by (``"-"`` for a row that does nothing)."""
        if self.time <= 0:
            return "-"
        return "compute" if self.compute_bound_time * 2 > self.time else "memory"

    def to_dict(self) -> dict[str, Any]:
        return {
            "module_path": self.module_path, "class_name": self.class_name, "depth": self.depth,
            "flops": self.flops, "bytes": self.bytes, "intensity": self.intensity,
            "compute_time_s": self.compute_time, "memory_time_s": self.memory_time,
            "time_s": self.time, "bound_by": self.bound_by,
        }  # fmt: skip


@dataclass(frozen=True)
class Roofline:
    """Per-row and total time bounds of a summary on one GPU (see module doc).

    Attributes:
        gpu: the hardware row used.
        dtype: the peak every op was timed at, or None (each op's own dtype).
        fused: bytes are the fused figure (True) or the eager one (False).
        rows: one ``Bound`` per row of the summary, in its order.
        total: the whole forward.
        ridge_point: FLOPs per byte where ops turn compute bound, at the dtype
            doing most of the FLOPs (None without a published peak).
        assumptions: what had to be assumed (a dtype the card has no rate for).
    """

    gpu: GPU
    dtype: str | None
    fused: bool
    rows: tuple[Bound, ...]
    total: Bound
    ridge_point: float | None
    assumptions: tuple[str, ...] = ()

    def bound_of(self, module_path: str) -> Bound:
        """The first row with that dotted path."""
        for row in self.rows:
            if row.module_path == module_path:
                return row
        raise KeyError(module_path)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (schema ``summaryplus.roofline/1``); times in seconds."""
        return {
            "schema": "summaryplus.roofline/1",
            "gpu": self.gpu.to_dict(),
            "dtype": self.dtype,
            "fused": self.fused,
            "ridge_point": self.ridge_point,
            "total": self.total.to_dict(),
            "rows": [row.to_dict() for row in self.rows],
            "assumptions": list(self.assumptions),
        }

    def to_table(self, depth: int | None = None, tablefmt: str = "simple") -> str:
        """The bounds as a table (rows down to ``depth``, default all)."""

        return roofline_table(self, depth, tablefmt)

    def plot(self, depth: int | None = None, ax: Any = None) -> Any:
        """The rows on the GPU's roofline chart (matplotlib)."""

        return plot_roofline(self, depth, ax)

    def __str__(self) -> str:
        return self.to_table()


class _Peaks:
    """Dense peak per op dtype on one card, with the fallbacks it needed."""

    def __init__(self, gpu: GPU, dtype: str | None, tf32: bool) -> None:
        self.gpu = gpu
        self.forced = None if dtype is None else peak_key(dtype)
        self.tf32 = tf32
        self.notes: set[str] = set()
        self._cache: dict[str, float | None] = {}

    def __call__(self, dtype: str) -> float | None:
        found = self._cache.get(dtype, 0.0)
        if found != 0.0:
            return found
        key = self.forced or peak_key(dtype)
        if key == "fp32" and self.tf32:
            key = "tf32"
        peak = self.gpu.peak(key)
        if peak is None:
            for wider in _FALLBACK.get(key, ()):
                peak = self.gpu.peak(wider)
                if peak is not None:
                    self.notes.add(
                        f"{self.gpu.name} has no {key} rate: {key} ops at its {wider} peak"
                    )
                    break
        if peak is None:
            self.notes.add(f"{self.gpu.name} publishes no peak FLOP/s: memory time only")
        self._cache[dtype] = peak
        return peak


def roofline(
    stats: SummaryLike,
    gpu: str | GPU = "h100-sxm",
    dtype: str | None = None,
    *,
    fused: bool = True,
    tf32: bool = False,
) -> Roofline:
    """Time bounds per row and in total of ``stats``' forward on ``gpu``.

    Args:
        stats: a summary (live, or loaded from JSON).
        gpu: a key of the hardware table (``summaryplus.gpus.gpu_names()``) or a
            ``GPU`` (``parse_gpu_spec``).
        dtype: time every op at this dtype's peak (``"bf16"``, ``"fp8"``...);
            None: each op at its own compute dtype's.
        fused: count the fused bytes (elementwise work fused into the matmuls:
            a compiled forward's lower bound); False: every op's (eager).
        tf32: fp32 matmuls at the TF32 tensor-core rate
            (``torch.backends.cuda.matmul.allow_tf32``).

    Returns:
        A ``Roofline``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> stats = summary(nn.Linear(4096, 4096), input_size=(1, 4096), verbose=0)
        >>> bound = roofline(stats, "h100-sxm").total
        >>> bound.bound_by, round(bound.time * 1e6, 2)  # 67,158,016 B / 3.35 TB/s
        ('memory', 20.05)
    """
    card = get_gpu(gpu)
    peaks = _Peaks(card, dtype, tf32)
    layers: Sequence[LayerLike] = stats.summary_list
    bandwidth = card.bandwidth
    # Own figures per row: flops, bytes, compute time, memory time, time, compute-bound time.
    own: dict[int, list[float]] = {}
    for row in layers:
        flops = compute = memory = time = compute_part = 0.0
        point_bytes = 0
        for op_dtype, macs, moved, calls in row.own_op_points:
            op_flops = 2.0 * macs * calls
            peak = peaks(op_dtype)
            op_compute = op_flops / peak if peak else 0.0
            op_memory = moved * calls / bandwidth
            flops += op_flops
            compute += op_compute
            memory += op_memory
            point_bytes += moved * calls
            if op_compute >= op_memory:
                time += op_compute
                compute_part += op_compute
            else:
                time += op_memory
        total_bytes = row.own_fused_bytes_moved if fused else row.own_bytes_moved
        rest = max(total_bytes - point_bytes, 0) / bandwidth  # ops without MACs
        own[id(row)] = [flops, float(total_bytes), compute, memory + rest, time + rest,
                        compute_part]  # fmt: skip
    # Subtree sums: children come after their parent, so one pass from the end.
    sums = {key: list(values) for key, values in own.items()}
    for row in reversed(layers):
        mine = sums[id(row)]
        for child in row.children:
            theirs = sums[id(child)]
            for index in range(6):
                mine[index] += theirs[index]
    bounds = tuple(_bound(row.module_path, row.class_name, row.depth, sums[id(row)])
                   for row in layers)  # fmt: skip
    if layers:
        total = _bound("", layers[0].class_name, 0, sums[id(layers[0])])
    else:
        total = _bound("", "", 0, [0.0] * 6)
    main = dtype or _main_dtype(layers)
    ridge = card.ridge_point(main) if main else None
    if ridge is None and main:
        chosen = peaks(main)
        ridge = chosen / bandwidth if chosen else None
    return Roofline(card, dtype, fused, bounds, total, ridge, tuple(sorted(peaks.notes)))


def _bound(path: str, name: str, depth: int, values: list[float]) -> Bound:
    flops, moved, compute, memory, time, compute_part = values
    return Bound(path, name, depth, int(flops), int(moved), compute, memory, time, compute_part)


def _main_dtype(layers: Sequence[LayerLike]) -> str | None:
    """The compute dtype doing the most FLOPs."""
    flops: dict[str, int] = {}
    for row in layers:
        for dtype, macs, _, calls in row.own_op_points:
            flops[dtype] = flops.get(dtype, 0) + macs * calls
    return max(flops, key=lambda name: flops[name]) if flops else None
