"""Seeing what changed: ``diff()`` matches the rows of two summaries of one model.

Rows are matched by ``module_path`` and call index; the result says which
layers were added, removed or changed, and how the totals moved.
``SummaryDiff`` holds plain values; its text view is written by
``summaryplus.render.diff`` (tabulate is imported only then).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import nn

from ._sources import ACCEPTED, SummarySource, summarize_source
from .fields import trainable_text
from .loaded import SummaryRecord, summary_record
from .model_statistics import ModelStatistics
from .queries import layer_keys
from .records import LayerRecord
from .render.diff import render_diff
from .render.report_views import diff_report, write_report

if TYPE_CHECKING:
    from .inputs import InputData, InputSize

__all__ = [
    "FieldChange",
    "LayerChange",
    "LayerEntry",
    "SummaryDiff",
    "TotalChange",
    "diff",
    "layer_keys",
]


@dataclass(frozen=True)
class LayerEntry:
    """A layer present on one side of a diff only.

    Attributes:
        module_path: dotted path from the model root (``""`` is the model).
        call: which call of that module (0 for the first).
        class_name: the module's class.
        params: parameters this row accounts for (``counted_params``).
        subtree_params: the same summed over the row and every row below it.
        output_size: its output shape (``()`` when it did not run).
        macs: MACs of its own code (``own_macs``), children excluded.
    """

    module_path: str
    call: int
    class_name: str
    params: int
    subtree_params: int
    output_size: tuple[int | str, ...]
    macs: int


@dataclass(frozen=True)
class FieldChange:
    """One value of a layer that differs: ``field`` went from ``before`` to ``after``.

    ``field`` is ``"class_name"``, ``"output_size"``, ``"params"`` (the row's
    own ``counted_params``), ``"trainable"`` (``"True"``, ``"False"``,
    ``"Partial"`` for the row's own parameters) or ``"macs"`` (``own_macs``).
    """

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class LayerChange:
    """A layer present on both sides whose values differ.

    Attributes:
        module_path: dotted path from the model root.
        call: which call of that module (0 for the first).
        class_name: the class after the change.
        changes: what differs, in field order.
    """

    module_path: str
    call: int
    class_name: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class TotalChange:
    """A model total on both sides (``name`` is the ``ModelStatistics`` attribute)."""

    name: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class SummaryDiff:
    """What changed between two summaries of a model: what ``diff()`` returns.

    Per-layer values are the row's own (``counted_params``, ``own_macs``, the
    trainable state of its own parameters), so a change shows once, at the
    layer where it happened; ``totals`` has the net effect on the model.
    ``print()`` it for text, ``to_dict()`` for data.

    Attributes:
        before_model: class name of the model before.
        after_model: class name of the model after.
        added: layers only in ``after``, in its call order.
        removed: layers only in ``before``, in its call order.
        changed: layers in both whose values differ, in ``after``'s call order.
        totals: every compared total, changed or not.
        compared_forward: both summaries ran a forward pass, so output shapes
            and MACs were compared.
        before: the summary before, as a record (for the HTML view; None when
            the diff was built by hand).
        after: the summary after, as a record.
    """

    before_model: str | None
    after_model: str | None
    added: tuple[LayerEntry, ...]
    removed: tuple[LayerEntry, ...]
    changed: tuple[LayerChange, ...]
    totals: tuple[TotalChange, ...]
    compared_forward: bool
    before: SummaryRecord | None = field(default=None, repr=False, compare=False)
    after: SummaryRecord | None = field(default=None, repr=False, compare=False)

    @property
    def has_changes(self) -> bool:
        """True when any layer or total differs."""
        return bool(self.added or self.removed or self.changed or any(t.delta for t in self.totals))

    def total(self, name: str) -> TotalChange:
        """The ``TotalChange`` called ``name`` (``"total_params"``...)."""
        for item in self.totals:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The diff as JSON-compatible plain data.

        Example:
            >>> from torch import nn
            >>> from summaryplus import diff
            >>> before = nn.Sequential(nn.Linear(4, 2))
            >>> after = nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 2))
            >>> data = diff(before, after).to_dict()
            >>> [layer["module_path"] for layer in data["added"]], data["totals"]["total_params"]
            (['1'], {'before': 10, 'after': 16, 'delta': 6})
        """
        return {
            "before_model": self.before_model,
            "after_model": self.after_model,
            "compared_forward": self.compared_forward,
            "added": [_plain(dataclasses.asdict(entry)) for entry in self.added],
            "removed": [_plain(dataclasses.asdict(entry)) for entry in self.removed],
            "changed": [
                {
                    "module_path": change.module_path,
                    "call": change.call,
                    "class_name": change.class_name,
                    "changes": {
                        item.field: {"before": _plain(item.before), "after": _plain(item.after)}
                        for item in change.changes
                    },
                }
                for change in self.changed
            ],
            "totals": {
                item.name: {"before": item.before, "after": item.after, "delta": item.delta}
                for item in self.totals
            },
        }

    def to_text(self, max_rows: int | None = 50) -> str:
        """Readable text: a headline, then tables of added, removed, changed and totals.

        Added or removed layers nested in another added or removed layer are
        folded into it. ``max_rows`` caps each table (None shows everything).
        """
        return render_diff(self, max_rows)

    def __str__(self) -> str:
        return render_diff(self, 50)

    def to_html(
        self, path: str | os.PathLike[str] | None = None, *, standalone: bool | None = None
    ) -> str:
        """The two summaries side by side as interactive reports, rows added,
        removed or changed marked, under the headline and the totals' changes.

        See ``summaryplus.render.report_views.diff_report``; ``path`` and
        ``standalone`` work as for ``ModelStatistics.to_html``.

        Raises:
            ValueError: the diff holds no summaries (built by hand).
        """

        page = path is not None if standalone is None else standalone
        return write_report(diff_report(self, standalone=page), path)

    def _repr_html_(self) -> str:
        """What Jupyter shows: ``to_html()`` in the compact form."""

        return diff_report(self, compact=True)


def diff(
    before: SummarySource,
    after: SummarySource,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    **summary_kwargs: Any,
) -> SummaryDiff:
    """Says which layers were added, removed or changed between two summaries.

    Layers are matched by ``module_path`` and call index (a module called
    twice has two rows). Compared per layer: class, output shape, own
    parameters, the trainable state of its own parameters, own MACs; output
    shapes and MACs only when both sides ran a forward pass.

    Args:
        before: a ``ModelStatistics``, an ``nn.Module``, a ``SummaryRecord`` or
            a JSON path written by ``to_json``.
        after: the same kinds.
        input_size: for ``nn.Module`` sides: run a forward with this input
            (without one, a module is summarized without a forward pass).
        input_data: as for ``summary()``, for ``nn.Module`` sides.
        **summary_kwargs: more ``summary()`` arguments for ``nn.Module`` sides.

    Returns:
        A ``SummaryDiff``: ``print()`` it or call ``to_dict()``.

    Raises:
        TypeError: ``before`` or ``after`` is of another type.

    Example:
        >>> from torch import nn
        >>> from summaryplus import diff, summary
        >>> model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> saved = summary(model, input_size=(1, 8), verbose=0)
        >>> model[2] = nn.Linear(4, 3)  # a new head
        >>> change = diff(saved, model, input_size=(1, 8))
        >>> [c.module_path for c in change.changed]  # the model's output changed too
        ['', '2']
        >>> [(f.field, f.before, f.after) for f in change.changed[1].changes]
        [('output_size', (1, 2), (1, 3)), ('params', 10, 15), ('macs', 8, 12)]
        >>> change.total("total_params").delta
        5
    """
    sides = []
    for argument, value in (("before", before), ("after", after)):
        if not isinstance(value, (nn.Module, ModelStatistics, SummaryRecord, str, os.PathLike)):
            raise TypeError(f"{argument} must be {ACCEPTED}, got {type(value).__name__}")
        stats = summarize_source(value, argument, input_size, input_data, summary_kwargs)
        sides.append(summary_record(stats) if isinstance(stats, ModelStatistics) else stats)
    old, new = sides
    compared_forward = bool(old.executed) and bool(new.executed)
    if bool(old.executed) != bool(new.executed):
        ran = "before" if old.executed else "after"
        warnings.warn(
            f"only {ran!r} ran a forward pass, so output shapes and MACs are not compared, and "
            "layers that never run appear on one side only: give input_size or input_data so "
            "that both sides run one",
            stacklevel=2,
        )
    return _diff_records(old, new, compared_forward)


def _diff_records(old: SummaryRecord, new: SummaryRecord, compared_forward: bool) -> SummaryDiff:
    old_rows = _keyed(old.layers)
    new_rows = _keyed(new.layers)
    added = tuple(_entry(key, row) for key, row in new_rows.items() if key not in old_rows)
    removed = tuple(_entry(key, row) for key, row in old_rows.items() if key not in new_rows)
    changed = []
    for key, row in new_rows.items():
        previous = old_rows.get(key)
        if previous is None:
            continue
        fields = _layer_changes(previous, row, compared_forward)
        if fields:
            changed.append(LayerChange(key[0], key[1], row.class_name, fields))
    names = [
        "total_params",
        "trainable_params",
        "non_trainable_params",
        "total_param_bytes",
        "total_buffers",
        "total_buffer_bytes",
    ]
    if compared_forward:
        names += ["total_mult_adds", "total_flops", "total_output_bytes"]
        if old.grad_enabled and new.grad_enabled:
            names.append("activation_bytes")
    totals = tuple(
        TotalChange(name, int(getattr(old, name)), int(getattr(new, name))) for name in names
    )
    return SummaryDiff(
        old.model, new.model, added, removed, tuple(changed), totals, compared_forward, old, new
    )


def _keyed(layers: tuple[LayerRecord, ...]) -> dict[tuple[str, int], LayerRecord]:
    return dict(zip(layer_keys(layers), layers, strict=True))


def _entry(key: tuple[str, int], layer: LayerRecord) -> LayerEntry:
    return LayerEntry(
        module_path=key[0],
        call=key[1],
        class_name=layer.class_name,
        params=layer.counted_params,
        subtree_params=layer.subtree_params,
        output_size=tuple(layer.output_size),
        macs=layer.own_macs,
    )


def _own_trainable(layer: LayerRecord) -> str:
    return trainable_text(layer.counted_params, layer.counted_trainable_params)


def _layer_changes(
    old: LayerRecord, new: LayerRecord, compared_forward: bool
) -> tuple[FieldChange, ...]:
    pairs: list[tuple[str, Any, Any]] = [("class_name", old.class_name, new.class_name)]
    if compared_forward and old.executed and new.executed:
        pairs.append(("output_size", tuple(old.output_size), tuple(new.output_size)))
    pairs += [
        ("params", old.counted_params, new.counted_params),
        ("trainable", _own_trainable(old), _own_trainable(new)),
    ]
    if compared_forward:
        pairs.append(("macs", old.own_macs, new.own_macs))
    return tuple(FieldChange(name, a, b) for name, a, b in pairs if a != b)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
