"""Choosing between models and seeing what changed: ``compare()`` and ``diff()``.

``compare`` puts several models side by side (params, trainable, MACs, FLOPs,
params size, training memory, ratios against a baseline). ``diff`` matches the
rows of two summaries of one model by ``module_path`` and call index and says
which layers were added, removed or changed, and how the totals moved.

Both hold plain numbers (``Comparison``, ``SummaryDiff``); the text, tabulate
and HTML views are written by the private ``_render_*`` functions below, and
tabulate is imported only when something is rendered.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from torch import nn

from .model_statistics import ModelStatistics
from .render.serialize import LayerRecord, SummaryRecord, load_summary, summary_record
from .render.units import unit_of

if TYPE_CHECKING:
    from .inputs import InputData, InputSize

__all__ = [
    "Comparison",
    "ComparisonRow",
    "FieldChange",
    "LayerChange",
    "LayerEntry",
    "SummaryDiff",
    "TotalChange",
    "compare",
    "diff",
]

#: A summary already taken: live, or reloaded from JSON.
Summary: TypeAlias = ModelStatistics | SummaryRecord
#: What ``compare`` and ``diff`` accept for one model.
SummarySource: TypeAlias = nn.Module | ModelStatistics | SummaryRecord | str | os.PathLike[str]

_ACCEPTED = "an nn.Module, a ModelStatistics, a SummaryRecord or a path to a JSON summary"


# --------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class ComparisonRow:
    """One model of a comparison, as plain numbers.

    Attributes:
        name: the key the model was given under.
        model: its class name (None for an empty summary).
        params: distinct parameter elements (tied weights once).
        trainable_params: the part of ``params`` that requires grad.
        macs: forward multiply-accumulates; None when no forward pass ran.
        flops: ``2 * macs``; None when no forward pass ran.
        macs_complete: False when ops without a MACs formula ran (``macs`` is a
            lower bound then).
        param_bytes: bytes of the parameters, each in its own dtype.
        active_params: parameters one token uses (mixture of experts; equal to
            ``params`` for a dense model; None when no forward pass ran).
        training_memory_bytes: the training-step peak estimate
            (``ModelStatistics.training_memory(optimizer).total``); None unless
            the summary ran with ``mode="train"`` and is a live ``ModelStatistics``.
        params_ratio: ``params`` over the baseline's (None when undefined).
        macs_ratio: ``macs`` over the baseline's.
        memory_ratio: ``training_memory_bytes`` over the baseline's.
    """

    name: str
    model: str | None
    params: int
    trainable_params: int
    macs: int | None
    flops: int | None
    macs_complete: bool
    param_bytes: int
    training_memory_bytes: int | None
    params_ratio: float | None
    macs_ratio: float | None
    memory_ratio: float | None
    active_params: int | None = None


@dataclass(frozen=True)
class Comparison:
    """Several models side by side: what ``compare()`` returns.

    ``print()`` it for a text table; ``to_table(tablefmt)`` renders any tabulate
    format, ``to_dict()``/``to_json()`` give the raw numbers and Jupyter shows
    ``_repr_html_()``.

    Attributes:
        rows: one ``ComparisonRow`` per model, in the order they were given.
        baseline: the name the ratios are computed against.
        optimizer: the optimizer the training memory assumes.
        summaries: the summary of each model, by name.
    """

    rows: tuple[ComparisonRow, ...]
    baseline: str
    optimizer: str = "adam"
    summaries: Mapping[str, Summary] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> ComparisonRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def __iter__(self) -> Iterator[ComparisonRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-compatible plain data.

        Example:
            >>> from torch import nn
            >>> from summaryplus import compare
            >>> table = compare({"a": nn.Linear(4, 2), "b": nn.Linear(4, 8)}, input_size=(1, 4))
            >>> rows = table.to_dict()["rows"]
            >>> [(row["name"], row["params"], row["params_ratio"]) for row in rows]
            [('a', 10, 1.0), ('b', 40, 4.0)]
        """
        return {
            "baseline": self.baseline,
            "optimizer": self.optimizer,
            "rows": [dataclasses.asdict(row) for row in self.rows],
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text, also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_table(self, tablefmt: str = "github") -> str:
        """The comparison in any ``tabulate.tabulate_formats`` format.

        Counts are exact; MACs and FLOPs share one unit per column (chosen by the
        largest value); ratios read ``1.50x``; ``--`` marks a number that was not
        measured.

        Example:
            >>> from torch import nn
            >>> from summaryplus import compare
            >>> table = compare({"a": nn.Linear(4, 2), "b": nn.Linear(4, 8)})
            >>> print(table.to_table("simple"))
            Model      Params    Trainable    Params (MB)    Params ratio
            -------  --------  -----------  -------------  --------------
            a              10           10           0.00           1.00x
            b              40           40           0.00           4.00x
        """
        return _render_comparison(self, tablefmt)

    def __str__(self) -> str:
        lines = [_render_comparison(self, "simple"), *_comparison_notes(self)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """What Jupyter shows: an HTML table and the notes under it."""
        import html

        notes = "".join(f"<p>{html.escape(note)}</p>\n" for note in _comparison_notes(self))
        table = _render_comparison(self, "html").replace(
            "<table>", '<table class="summaryplus-compare">', 1
        )
        return f'<div class="summaryplus">\n{table}\n{notes}</div>'


def compare(
    models: Mapping[str, SummarySource],
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    baseline: str | None = None,
    *,
    optimizer: str = "adam",
    **summary_kwargs: Any,
) -> Comparison:
    """Compares models on params, compute and memory, against a baseline.

    Every ``nn.Module`` is summarized with ``summary(model, input_size=...,
    input_data=..., verbose=0, **summary_kwargs)``; summaries already taken
    (``ModelStatistics``, or ``SummaryRecord`` / JSON paths from ``to_json``)
    are used as they are. Without ``input_size``/``input_data`` no forward
    pass runs and MACs are not reported. Pass ``mode="train"`` to get the
    training-step memory estimate of each model.

    Args:
        models: name -> model or summary, in the order the table lists them.
        input_size: as for ``summary()``; the same for every module.
        input_data: as for ``summary()``; the same for every module.
        baseline: the name the ratio columns divide by; the first model by default.
        optimizer: the optimizer assumed by the training memory (see
            ``ModelStatistics.training_memory``).
        **summary_kwargs: more ``summary()`` arguments (``dtypes``, ``device``,
            ``mode``...) and keywords for the models' ``forward``.

    Returns:
        A ``Comparison``: ``print()`` it, or ``to_table``, ``to_dict``, HTML.

    Raises:
        TypeError: ``models`` is not a dict of name -> model/summary, or a value
            is of another type (the message names its key).
        ValueError: ``models`` is empty, ``baseline`` is not one of its names,
            ``optimizer`` is unknown, or inputs were given but no value is a module.

    Example:
        >>> import torch
        >>> from transformers import GPT2Config, GPT2LMHeadModel
        >>> from summaryplus import compare
        >>> def gpt2(width):
        ...     config = GPT2Config(n_embd=width, n_layer=2, n_head=2, vocab_size=1000)
        ...     return GPT2LMHeadModel(config)
        >>> table = compare({"narrow": gpt2(64), "wide": gpt2(128)}, input_size=(1, 16),
        ...                 dtypes=[torch.long], mode="train")
        >>> print(table)  # doctest: +SKIP
        >>> round(table["wide"].params_ratio, 2)
        2.86
    """
    from .memory import OPTIMIZER_STATES

    named = _check_models(models)
    if baseline is None:
        baseline = next(iter(named))
    elif not isinstance(baseline, str) or baseline not in named:
        accepted = ", ".join(repr(name) for name in named)
        raise ValueError(
            f"baseline={baseline!r} is not one of the models; accepted values: {accepted}"
        )
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZER_STATES:
        accepted = ", ".join(repr(name) for name in OPTIMIZER_STATES)
        raise ValueError(f"optimizer={optimizer!r} is not known; accepted values: {accepted}")
    has_inputs = input_size is not None or input_data is not None or bool(summary_kwargs)
    if has_inputs and not any(isinstance(value, nn.Module) for value in named.values()):
        raise ValueError(
            "input_size, input_data and summary() keywords apply to nn.Module values only, "
            "and models holds none: summaries already taken are used as they are"
        )

    summaries = {
        name: _summarize(value, f"models[{name!r}]", input_size, input_data, summary_kwargs)
        for name, value in named.items()
    }
    raw = {name: _measure(stats, optimizer.lower()) for name, stats in summaries.items()}
    base = raw[baseline]
    rows = tuple(
        ComparisonRow(
            name=name,
            model=values["model"],
            params=values["params"],
            trainable_params=values["trainable_params"],
            macs=values["macs"],
            flops=None if values["macs"] is None else 2 * values["macs"],
            macs_complete=values["macs_complete"],
            param_bytes=values["param_bytes"],
            training_memory_bytes=values["memory"],
            params_ratio=_ratio(values["params"], base["params"]),
            macs_ratio=_ratio(values["macs"], base["macs"]),
            memory_ratio=_ratio(values["memory"], base["memory"]),
            active_params=values["active_params"],
        )
        for name, values in raw.items()
    )
    return Comparison(rows, baseline, optimizer.lower(), summaries)


def _check_models(models: object) -> dict[str, object]:
    if not isinstance(models, Mapping):
        raise TypeError(
            f"models must be a dict of name -> model or summary ({_ACCEPTED}), "
            f"got {type(models).__name__}"
        )
    if not models:
        raise ValueError("models is empty: give at least one name -> model or summary")
    for name, value in models.items():
        if not isinstance(name, str):
            raise TypeError(f"models keys must be str names, got {type(name).__name__} {name!r}")
        if not isinstance(value, (nn.Module, ModelStatistics, SummaryRecord, str, os.PathLike)):
            raise TypeError(f"models[{name!r}] must be {_ACCEPTED}, got {type(value).__name__}")
    return dict(models)


def _summarize(
    value: object,
    argument: str,
    input_size: InputSize | None,
    input_data: InputData | None,
    summary_kwargs: dict[str, Any],
) -> Summary:
    """The summary of one model argument: run, reused, or loaded from JSON."""
    if isinstance(value, (ModelStatistics, SummaryRecord)):
        return value
    if isinstance(value, nn.Module):
        from .api import summary

        kwargs = {"verbose": 0, **summary_kwargs}
        return summary(value, input_size=input_size, input_data=input_data, **kwargs)
    if isinstance(value, (str, os.PathLike)):
        return load_summary(value)
    raise TypeError(f"{argument} must be {_ACCEPTED}, got {type(value).__name__}")


def _measure(stats: Summary, optimizer: str) -> dict[str, Any]:
    executed = bool(stats.executed)
    memory: int | None = None
    # Live summaries and JSON records (which keep the bytes it needs) both give it.
    if stats.grad_enabled and executed:
        memory = stats.training_memory(optimizer).total
    first = stats.summary_list[0] if len(stats.summary_list) else None
    return {
        "model": first.class_name if first is not None else None,
        "params": int(stats.total_params),
        "trainable_params": int(stats.trainable_params),
        "macs": int(stats.total_mult_adds) if executed else None,
        "macs_complete": bool(stats.macs_complete),
        "param_bytes": int(stats.total_param_bytes),
        "memory": memory,
        "active_params": _active_params(stats) if executed else None,
    }


def _active_params(stats: Summary) -> int:
    """Parameters one token uses: the mixture-of-experts figure, else all of them."""
    active = stats.active_params_per_token
    return int(stats.total_params) if active is None else int(active)


def _ratio(value: int | None, base: int | None) -> float | None:
    if value is None or not base:
        return None
    return value / base


def _render_comparison(comparison: Comparison, tablefmt: str) -> str:
    from tabulate import tabulate

    rows = comparison.rows
    has_macs = any(row.macs is not None for row in rows)
    has_memory = any(row.training_memory_bytes is not None for row in rows)
    headers = ["Model", "Params", "Trainable"]
    columns: list[list[str]] = [
        [row.name for row in rows],
        [f"{row.params:,}" for row in rows],
        [f"{row.trainable_params:,}" for row in rows],
    ]
    if any(row.active_params not in (None, row.params) for row in rows):
        headers.append("Active/token")
        columns.append(["--" if row.active_params is None else f"{row.active_params:,}"
                        for row in rows])
    if has_macs:
        for title, values in (("MACs", [r.macs for r in rows]), ("FLOPs", [r.flops for r in rows])):
            unit, divisor = _unit(values)
            headers.append(f"{title} ({unit})" if unit else title)
            columns.append(
                [
                    _scaled(value, divisor) + ("" if row.macs_complete else "*")
                    for value, row in zip(values, rows, strict=True)
                ]
            )
    headers.append("Params (MB)")
    columns.append([f"{row.param_bytes / 1e6:,.2f}" for row in rows])
    if has_memory:
        headers.append("Train mem (MB)")
        columns.append([_scaled(row.training_memory_bytes, 1e6) for row in rows])
    headers.append("Params ratio")
    columns.append([_times(row.params_ratio) for row in rows])
    if has_macs:
        headers.append("MACs ratio")
        columns.append([_times(row.macs_ratio) for row in rows])
    if has_memory:
        headers.append("Memory ratio")
        columns.append([_times(row.memory_ratio) for row in rows])
    colalign = ("left", *("right" for _ in headers[1:]))
    return str(
        tabulate(
            list(zip(*columns, strict=True)),
            headers=headers,
            tablefmt=tablefmt,
            colalign=colalign,
            disable_numparse=True,
        )
    )


def _comparison_notes(comparison: Comparison) -> list[str]:
    notes = [f"Ratios are against {comparison.baseline!r}."]
    if any(row.training_memory_bytes is not None for row in comparison.rows):
        notes.append(
            f"Train mem: training-step peak estimate with {comparison.optimizer} "
            "(ModelStatistics.training_memory)."
        )
    partial = [
        row.name for row in comparison.rows if row.macs is not None and not row.macs_complete
    ]
    if partial:
        names = ", ".join(repr(name) for name in partial)
        notes.append(f"* MACs are partial (ops without a formula ran) for {names}.")
    return notes


def _unit(values: list[int | None]) -> tuple[str, float]:
    """The unit of a column from its largest value; ``""`` (exact counts) below a million."""
    largest = max((value for value in values if value is not None), default=0)
    return unit_of(largest, smallest=1e6)


def _scaled(value: int | None, divisor: float) -> str:
    if value is None:
        return "--"
    return f"{value:,}" if divisor == 1.0 else f"{value / divisor:,.2f}"


def _times(ratio: float | None) -> str:
    return "--" if ratio is None else f"{ratio:,.2f}x"


# --------------------------------------------------------------------------- diff
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
    """

    before_model: str | None
    after_model: str | None
    added: tuple[LayerEntry, ...]
    removed: tuple[LayerEntry, ...]
    changed: tuple[LayerChange, ...]
    totals: tuple[TotalChange, ...]
    compared_forward: bool

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
        return _render_diff(self, max_rows)

    def __str__(self) -> str:
        return _render_diff(self, 50)


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
            raise TypeError(f"{argument} must be {_ACCEPTED}, got {type(value).__name__}")
        stats = _summarize(value, argument, input_size, input_data, summary_kwargs)
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
        old.model, new.model, added, removed, tuple(changed), totals, compared_forward
    )


def _keyed(layers: tuple[LayerRecord, ...]) -> dict[tuple[str, int], LayerRecord]:
    calls: dict[str, int] = {}
    keyed = {}
    for layer in layers:
        call = calls.get(layer.module_path, 0)
        calls[layer.module_path] = call + 1
        keyed[(layer.module_path, call)] = layer
    return keyed


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
    if layer.counted_params == 0:
        return "--"
    if layer.counted_trainable_params == 0:
        return "False"
    if layer.counted_trainable_params == layer.counted_params:
        return "True"
    return "Partial"


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


_TOTAL_LABELS = {
    "total_params": "Total params",
    "trainable_params": "Trainable params",
    "non_trainable_params": "Non-trainable params",
    "total_param_bytes": "Params size (bytes)",
    "total_buffers": "Buffer elements",
    "total_buffer_bytes": "Buffers size (bytes)",
    "total_mult_adds": "Mult-adds",
    "total_flops": "FLOPs",
    "total_output_bytes": "Forward/backward pass size (bytes)",
    "activation_bytes": "Saved activations (bytes)",
}


def _render_diff(result: SummaryDiff, max_rows: int | None) -> str:
    from tabulate import tabulate

    def table(rows: list[list[str]], headers: list[str], colalign: tuple[str, ...]) -> str:
        text = str(
            tabulate(
                _capped(rows, max_rows),
                headers=headers,
                tablefmt="simple",
                colalign=colalign,
                disable_numparse=True,
            )
        )
        return "\n".join("  " + line for line in text.splitlines())

    before = result.before_model or "(empty)"
    after = result.after_model or "(empty)"
    title = before if before == after else f"{before} -> {after}"
    lines = [
        f"{title}: {len(result.added)} layer(s) added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed"
    ]
    if not result.compared_forward:
        lines.append("(no forward pass on both sides: output shapes and MACs not compared)")
    for heading, entries, sign in (
        ("Added", result.added, "+"),
        ("Removed", result.removed, "-"),
    ):
        if not entries:
            continue
        folded = _folded(entries)
        lines += ["", f"{heading}:"]
        rows = [
            [
                f"{sign} {_layer_name(entry.module_path, entry.call)}",
                entry.class_name,
                f"{entry.subtree_params:,}",
                _shape(entry.output_size),
                f"{inside} layer(s)" if inside else "",
            ]
            for entry, inside in folded
        ]
        headers = ["Layer", "Class", "Params", "Output", "Holds"]
        lines.append(table(rows, headers, ("left", "left", "right", "left", "left")))
    if result.changed:
        lines += ["", "Changed:"]
        rows = []
        for change in result.changed:
            name = _layer_name(change.module_path, change.call)
            for position, item in enumerate(change.changes):
                rows.append(
                    [
                        f"~ {name}" if position == 0 else "",
                        change.class_name if position == 0 else "",
                        item.field,
                        _value(item.before),
                        _value(item.after),
                    ]
                )
        headers = ["Layer", "Class", "Field", "Before", "After"]
        lines.append(table(rows, headers, ("left", "left", "left", "right", "right")))
    lines += ["", "Totals:"]
    rows = [
        [
            _TOTAL_LABELS.get(item.name, item.name),
            f"{item.before:,}",
            f"{item.after:,}",
            f"{item.delta:+,}" if item.delta else "0",
        ]
        for item in result.totals
    ]
    lines.append(table(rows, ["Total", "Before", "After", "Change"], ("left", *("right",) * 3)))
    return "\n".join(lines)


def _folded(entries: tuple[LayerEntry, ...]) -> list[tuple[LayerEntry, int]]:
    """The entries not nested in another entry, each with how many it holds."""
    paths = {entry.module_path for entry in entries}
    top: list[tuple[LayerEntry, int]] = []
    index: dict[str, int] = {}
    for entry in entries:
        owner = _topmost_listed(entry.module_path, paths)
        if owner is None:
            index.setdefault(entry.module_path, len(top))
            top.append((entry, 0))
        elif owner in index:  # always: an owner comes before what it holds
            held, count = top[index[owner]]
            top[index[owner]] = (held, count + 1)
    return top


def _topmost_listed(path: str, paths: set[str]) -> str | None:
    """The shortest proper ancestor path of ``path`` that is in ``paths``."""
    if path == "":
        return None
    parts = path.split(".")
    for cut in range(len(parts)):
        candidate = ".".join(parts[:cut])
        if candidate in paths:
            return candidate
    return None


def _capped(rows: list[list[str]], max_rows: int | None) -> list[list[str]]:
    if max_rows is None or len(rows) <= max_rows:
        return rows
    hidden = len(rows) - max_rows
    filler = [""] * (len(rows[0]) - 1)
    return [*rows[:max_rows], [f"... {hidden} more row(s): see to_dict()", *filler]]


def _layer_name(path: str, call: int) -> str:
    name = path or "(model)"
    return name if call == 0 else f"{name} (call {call + 1})"


def _shape(shape: tuple[int | str, ...]) -> str:
    return "--" if not shape else str(list(shape))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple):
        return _shape(value)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
