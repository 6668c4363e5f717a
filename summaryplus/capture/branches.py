"""Measuring alternatives: run each branch of a ``torch.cond`` whose predicate
has no value (fake or meta tensors), keep the one with the most MACs and take
back everything the others recorded (MACs, rows, saved bytes, uncounted ops),
as if only the kept one had run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..layer_info import LayerInfo
    from .recorder import Recorder


@dataclass
class _Mark:
    """The recorder's running totals at one point of the pass: what a branch
    adds is the difference between two marks, and can be taken back."""

    rows: int
    top_macs: int
    top_bytes: int
    loose_macs: int
    loose_bytes: int
    backward_macs: int
    uncounted: Counter[str]

    @classmethod
    def of(cls, recorder: Recorder) -> _Mark:
        top = recorder.stack[-1] if recorder.stack else None
        return cls(
            len(recorder.rows),
            top.own_macs if top is not None else 0,
            top.own_activation_bytes if top is not None else 0,
            recorder.loose_macs,
            recorder.saved.loose_bytes,
            recorder.backward_macs,
            Counter(recorder.uncounted_ops),
        )


def _macs_between(recorder: Recorder, start: _Mark, stop: _Mark) -> int:
    """MACs a branch added: on the row it ran in, on the rows it made, loose."""
    made = sum(row.own_macs for row in recorder.rows[start.rows:stop.rows])
    return (
        made
        + stop.top_macs - start.top_macs
        + stop.loose_macs - start.loose_macs
        + stop.backward_macs - start.backward_macs
    )


def _take_back(recorder: Recorder, top: LayerInfo | None, start: _Mark, stop: _Mark) -> None:
    """Forgets what the pass recorded between two marks (a branch run only to
    be measured): its MACs, saved bytes, uncounted ops and rows."""
    if top is not None:
        top.own_macs -= stop.top_macs - start.top_macs
        top.own_activation_bytes -= stop.top_bytes - start.top_bytes
    recorder.loose_macs -= stop.loose_macs - start.loose_macs
    recorder.saved.loose_bytes -= stop.loose_bytes - start.loose_bytes
    recorder.backward_macs -= stop.backward_macs - start.backward_macs
    recorder.uncounted_ops.subtract(stop.uncounted - start.uncounted)
    for name in [name for name, count in recorder.uncounted_ops.items() if count <= 0]:
        del recorder.uncounted_ops[name]
    dropped = recorder.rows[start.rows:stop.rows]
    dropped_ids = {id(row) for row in dropped}
    for row in dropped:
        parent = row.parent_info
        if parent is not None and id(parent) not in dropped_ids:
            parent.children.remove(row)
    del recorder.rows[start.rows:stop.rows]


def larger_of(
    recorder: Recorder,
    branches: list[Callable[[], Any]],
    counted: Callable[[], AbstractContextManager[None]],
) -> Any:
    """Runs every branch, keeps the one with the most MACs (the first on a tie)
    and forgets the others' rows, MACs, saved bytes and uncounted ops; returns
    the kept branch's output. Each branch runs as if it were the only one: the
    storages counted as saved and the modules seen (``(recursive)``) are those
    from before the first branch."""
    top = recorder.stack[-1] if recorder.stack else None
    partial = bool(top.macs_partial) if top is not None else False
    seen, saved = set(recorder._seen_modules), set(recorder.saved.keys)
    marks = [_Mark.of(recorder)]
    outputs, seens, saveds = [], [], []
    for branch in branches:
        recorder._seen_modules, recorder.saved.keys = set(seen), set(saved)
        with counted():
            outputs.append(branch())
        seens.append(recorder._seen_modules)
        saveds.append(recorder.saved.keys)
        marks.append(_Mark.of(recorder))
    sizes = [_macs_between(recorder, marks[i], marks[i + 1]) for i in range(len(branches))]
    keep = max(range(len(branches)), key=lambda i: (sizes[i], -i))
    for index in reversed(range(len(branches))):  # later rows first: indices stay valid
        if index != keep:
            _take_back(recorder, top, marks[index], marks[index + 1])
    recorder._seen_modules, recorder.saved.keys = seens[keep], saveds[keep]
    if top is not None:
        kept_uncounted = marks[keep + 1].uncounted - marks[keep].uncounted
        top.macs_partial = partial or bool(kept_uncounted)
    return outputs[keep]
