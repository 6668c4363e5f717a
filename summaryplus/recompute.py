"""The activation-checkpointing plan: which modules to wrap so one training step
fits a memory budget at the least recompute.

Prediction (exact, from a train-mode summary's ``saved_storages``): after
wrapping the modules ``C`` in a non-reentrant checkpoint, a storage is saved for
backward when an op outside every wrapped module saved it, or when it is an
input of a wrapped call (the checkpoint keeps its inputs to run it again); ops
inside a wrapped module save nothing. So the saving of a candidate is its saved
bytes minus the inputs its checkpoint keeps (those not saved anyway), and its
cost is its forward FLOPs, run again in the backward.

Choice: candidates ranked by saving per recomputed FLOP (the greedy answer to
the knapsack), added while the training peak is over the budget when their real
saving, given those chosen before, is positive; then, most expensive first, any
whose removal still fits is dropped. Not optimal in general (a knapsack); exact
in what it predicts.

Training peak = the training-step estimate (``memory``) with the predicted
activations, plus the largest wrapped module's own saved bytes, which its
recompute holds again while its backward runs (an upper bound: by then the
layers after it have freed theirs).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .memory import TrainingMemory, estimate_training_memory
from .render.recompute import plan_snippet, plan_text
from .saved_storages import OUTSIDE, SavedStorages

if TYPE_CHECKING:
    import torch

    from .records import LayerLike, SummaryLike

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_CONTAINERS = ("ModuleList", "Sequential")


def parse_bytes(budget: int | float | str, argument: str = "budget") -> int:
    """``80_000_000_000``, ``"80GB"`` (10**9), ``"80 GiB"`` (2**30), ``"1.5TB"`` -> bytes.

    Raises:
        ValueError: not a positive size.
    """
    if isinstance(budget, bool):
        raise ValueError(f"{argument}={budget!r} is not a size")
    if isinstance(budget, (int, float)):
        value = float(budget)
    elif isinstance(budget, str):
        found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([A-Za-z]*)\s*", budget)
        unit = found.group(2).upper() if found else ""
        if found is None or unit not in _UNITS:
            raise ValueError(
                f"{argument}={budget!r} is not a size; accepted: bytes (an int), or a "
                "number with KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB"
            )
        value = float(found.group(1)) * _UNITS[unit]
    else:
        raise ValueError(f"{argument} must be bytes (int) or a str such as '80GB'")
    if value <= 0:
        raise ValueError(f"{argument}={budget!r} must be more than 0 bytes")
    return int(value)


class Predictor:
    """Predicted saved bytes for any set of wrapped module paths."""

    def __init__(self, summary: SummaryLike, storages: SavedStorages) -> None:
        rows = list(summary.summary_list)
        self.rows = rows
        self.storages = storages
        position = {id(row): index for index, row in enumerate(rows)}
        # Each row's subtree is the run of rows after it up to its last descendant.
        self.end = list(range(len(rows)))
        for index in range(len(rows) - 1, -1, -1):
            for child in rows[index].children:
                self.end[index] = max(self.end[index], self.end[position[id(child)]])
        self.by_path: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            if index:
                self.by_path.setdefault(row.module_path, []).append(index)

    def wrapped_rows(self, paths: Iterable[str]) -> list[int]:
        """Positions of every call of the given modules, outermost only."""
        calls = sorted(i for path in paths for i in self.by_path.get(path, ()))
        outer: list[int] = []
        for index in calls:
            if not outer or index > self.end[outer[-1]]:
                outer.append(index)
        return outer

    def saved_bytes(self, paths: Iterable[str]) -> int:
        """Bytes saved for backward with ``paths`` wrapped (module paths)."""
        wrapped = self.wrapped_rows(paths)
        inside = bytearray(len(self.rows))
        for start in wrapped:
            inside[start : self.end[start] + 1] = b"\x01" * (self.end[start] + 1 - start)
        storages = self.storages
        counted = {
            key
            for key, savers in storages.savers.items()
            if any(saver == OUTSIDE or not inside[saver] for saver in savers)
        }
        kept: dict[int, int] = {}
        for start in wrapped:
            kept.update(storages.inputs.get(start, ()))
        total = sum(storages.sizes[key] for key in counted)
        return total + sum(size for key, size in kept.items() if key not in counted)


@dataclass(frozen=True)
class CheckpointPlan:
    """What to wrap, and the step it gives (bytes, FLOPs).

    Attributes:
        paths: module paths to wrap, in call order.
        budget: the training peak to fit (bytes per GPU).
        fits: the peak with ``paths`` wrapped is within ``budget``.
        saved_bytes_before, saved_bytes: bytes saved for backward without and
            with ``paths`` wrapped, in the summary's own dtype (what a summary of
            the wrapped model measures, to the byte).
        peak_before, peak: the training-step peak per GPU without and with
            (``memory``'s estimate in the planned setup; ``peak`` adds the
            largest wrapped module's recompute).
        recompute_flops: forward FLOPs run again in the backward.
        forward_flops: the model's forward FLOPs.
        memory: the training-step estimate with the predicted activations.
        candidates: the module paths that were considered.
        transformers_layers: every candidate is a transformers
            ``GradientCheckpointingLayer`` and all are wrapped: the model's own
            ``gradient_checkpointing_enable()`` does the same.
    """

    paths: tuple[str, ...]
    budget: int
    fits: bool
    saved_bytes_before: int
    saved_bytes: int
    peak_before: int
    peak: int
    recompute_flops: int
    forward_flops: int
    memory: TrainingMemory
    candidates: tuple[str, ...]
    transformers_layers: bool = False

    def snippet(self) -> str:
        """Python that wraps ``paths`` of ``model`` (non-reentrant checkpoints)."""

        return plan_snippet(self)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data (schema ``summaryplus.checkpoint_plan/1``)."""
        return {
            "schema": "summaryplus.checkpoint_plan/1",
            "paths": list(self.paths),
            "budget": self.budget,
            "fits": self.fits,
            "saved_bytes_before": self.saved_bytes_before,
            "saved_bytes": self.saved_bytes,
            "peak_before": self.peak_before,
            "peak": self.peak,
            "recompute_flops": self.recompute_flops,
            "forward_flops": self.forward_flops,
            "candidates": list(self.candidates),
            "snippet": self.snippet(),
        }

    def __str__(self) -> str:

        return plan_text(self)


def checkpoint_plan(
    summary: SummaryLike,
    budget: int | float | str,
    optimizer: str = "adam",
    *,
    candidates: str | Sequence[str] = "blocks",
    mixed_precision: bool = False,
    shards: int | None = None,
    dtype: str | torch.dtype | None = None,
) -> CheckpointPlan:
    """See ``SummaryViews.checkpoint_plan``."""
    storages: SavedStorages | None = getattr(summary, "saved_storages", None)
    if storages is None or not summary.grad_enabled:
        raise ValueError(
            "checkpoint_plan() needs the storages a train-mode forward saved: call "
            "summary(..., mode='train') on the live model (a summary loaded from JSON "
            "or an eval summary has none)"
        )
    limit = parse_bytes(budget)
    memory = estimate_training_memory(
        summary, optimizer, mixed_precision=mixed_precision, shards=shards, dtype=dtype
    )
    predictor = Predictor(summary, storages)
    paths = _candidates(predictor, candidates)
    before = predictor.saved_bytes(())
    scale = memory.activations / summary.activation_bytes if summary.activation_bytes else 1.0
    flops = {path: sum(predictor.rows[i].flops for i in predictor.by_path[path]) for path in paths}
    own = {
        path: sum(predictor.rows[i].activation_bytes for i in predictor.wrapped_rows([path]))
        for path in paths
    }

    def peak_of(chosen: Sequence[str]) -> tuple[int, TrainingMemory]:
        saved = predictor.saved_bytes(chosen)
        planned = dataclasses.replace(memory, activations=round(saved * scale))
        whole = planned.total if shards is None else planned.local_total
        recompute = max((own[path] for path in chosen), default=0)
        return whole + round(recompute * scale), planned

    gains = {path: before - predictor.saved_bytes([path]) for path in paths}
    ranked = sorted(
        (path for path in paths if gains[path] > 0),
        key=lambda path: (-gains[path] / max(flops[path], 1), paths.index(path)),
    )
    chosen: list[str] = []
    peak, planned = peak_of(chosen)
    saved = before
    for path in ranked:
        if peak <= limit:
            break
        if predictor.wrapped_rows([*chosen, path]) == predictor.wrapped_rows(chosen):
            continue  # inside a module already wrapped
        # Judged by the saved bytes: the first wrapped module adds its recompute
        # to the peak once, which only the next ones pay back.
        trial_saved = predictor.saved_bytes([*chosen, path])
        if trial_saved < saved:
            chosen.append(path)
            saved = trial_saved
            peak, planned = peak_of(chosen)
    if peak <= limit:
        for path in sorted(chosen, key=lambda p: -flops[p]):
            rest = [p for p in chosen if p != path]
            trial, trial_memory = peak_of(rest)
            if trial <= limit:
                chosen, peak, planned = rest, trial, trial_memory
    elif peak >= peak_of([])[0]:
        chosen = []  # nothing helps: wrapping would only add recompute
        peak, planned = peak_of(chosen)
    order = {path: index for index, path in enumerate(predictor.by_path)}
    chosen.sort(key=order.__getitem__)
    return CheckpointPlan(
        paths=tuple(chosen),
        budget=limit,
        fits=peak <= limit,
        saved_bytes_before=before,
        saved_bytes=predictor.saved_bytes(chosen),
        peak_before=peak_of([])[0],
        peak=peak,
        recompute_flops=sum(flops[path] for path in chosen),
        forward_flops=summary.total_flops,
        memory=planned,
        candidates=tuple(paths),
        transformers_layers=bool(chosen) and len(chosen) == len(paths)
        and _transformers_layers(summary, chosen),
    )


def _candidates(predictor: Predictor, candidates: str | Sequence[str]) -> list[str]:
    """Module paths to choose from: ``"blocks"`` (modules repeated side by side
    in a ModuleList/Sequential: transformer layers, ResNet blocks; every module
    if there are none), ``"all"`` (every module that ran), or the paths given."""
    rows = predictor.rows
    if isinstance(candidates, str) and candidates not in ("blocks", "all"):
        raise ValueError(
            f"candidates={candidates!r} is not valid; accepted: 'blocks', 'all', or a "
            "list of module paths"
        )
    if not isinstance(candidates, str):
        given = list(dict.fromkeys(candidates))
        unknown = [path for path in given if path not in predictor.by_path]
        if unknown:
            raise ValueError(f"candidates: {unknown!r} are not module paths that ran")
        return given
    everything = [
        path for path, calls in predictor.by_path.items()
        if any(rows[i].executed and rows[i].activation_bytes for i in calls)
    ]
    if candidates == "all":
        return everything
    blocks: list[str] = []
    for row in rows:
        if row.class_name not in _CONTAINERS:
            continue
        kinds: dict[str, list[LayerLike]] = {}
        for child in row.children:
            if child.executed and not child.is_recursive and not child.is_leaf_layer:
                kinds.setdefault(child.class_name, []).append(child)
        for members in kinds.values():
            if len(members) >= 2 and any(m.macs for m in members):
                blocks.extend(m.module_path for m in members)
    return list(dict.fromkeys(blocks)) or everything


def _transformers_layers(summary: SummaryLike, paths: Sequence[str]) -> bool:
    wanted = set(paths)
    modules = [
        getattr(row, "module", None) for row in summary.summary_list if row.module_path in wanted
    ]
    return all(
        any(cls.__name__ == "GradientCheckpointingLayer" for cls in type(m).__mro__)
        for m in modules
    ) and bool(modules)
