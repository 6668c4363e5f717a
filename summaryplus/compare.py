"""Choosing between models: ``compare()`` puts several side by side.

``compare`` lists params, trainable, MACs, FLOPs, params size, training memory
and ratios against a baseline. ``Comparison`` holds plain numbers; the text,
tabulate and HTML views are written by ``summaryplus.render.comparison``, and
tabulate is imported only when something is rendered.

``diff()`` and its records live in ``summaryplus.diff`` and are importable from
here as well.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from ._sources import ACCEPTED, Summary, SummarySource, summarize_source
from .diff import FieldChange, LayerChange, LayerEntry, SummaryDiff, TotalChange, diff
from .loaded import SummaryRecord
from .memory import OPTIMIZER_STATES
from .model_statistics import ModelStatistics
from .queries import layer_keys
from .render.comparison import (
    comparison_html,
    comparison_text,
    render_comparison,
    render_comparison_as,
)
from .render.report import report_page
from .render.report_views import comparison_report, write_report

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
        findings: ``(rule id, severity)`` of each rule that fired on the model
            (``stats.findings()``), most severe first.
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
    findings: tuple[tuple[str, str], ...] = ()


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

        Counts are exact; MACs, FLOPs and bytes take a unit per value
        (``2.66M``, ``232 B``, ``1.12 MB``: never ``0.00`` for a non-zero
        figure); ratios read ``1.50x``; ``--`` marks a number that was not measured.

        Example:
            >>> from torch import nn
            >>> from summaryplus import compare
            >>> table = compare({"a": nn.Linear(4, 2), "b": nn.Linear(4, 8)})
            >>> print(table.to_table("simple"))
            Model      Params    Trainable    Params size    Params ratio
            -------  --------  -----------  -------------  --------------
            a              10           10           40 B           1.00x
            b              40           40          160 B           4.00x
        """
        return render_comparison(self, tablefmt)

    def __str__(self) -> str:
        return comparison_text(self)

    def render(self, fmt: str = "text") -> str:
        """The comparison in any format, notes included: ``text``, ``json``,
        ``csv``, ``html`` (the interactive report, a whole page: ``to_html``),
        ``rich``, ``markdown``/``md`` or a tabulate format
        (``render.comparison.render_comparison_as``)."""
        if fmt == "html":
            return self.to_html(standalone=True)
        return render_comparison_as(self, fmt)

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        interactive: bool = True,
        *,
        standalone: bool | None = None,
    ) -> str:
        """The comparison table, then each model's summary as an interactive
        report, side by side, rows that differ from the baseline's marked.

        See ``summaryplus.render.report_views.comparison_report``.

        Args:
            path: also write the HTML there, as a complete page (UTF-8).
            interactive: False gives the plain table and its notes only.
            standalone: a whole ``<!DOCTYPE html>`` page instead of a fragment;
                None means: when ``path`` is given.

        Returns:
            The HTML text (what was written, when ``path`` is given).
        """

        page = path is not None if standalone is None else standalone
        if interactive:
            return write_report(
                comparison_report(self, self.row_marks(), standalone=page), path
            )
        text = comparison_html(self)
        return write_report(report_page(text, "comparison") if page else text, path)

    def _repr_html_(self) -> str:
        """What Jupyter shows: ``to_html()`` in the compact form."""

        return comparison_report(self, self.row_marks(), compact=True)

    def row_marks(self) -> dict[str, dict[int, str]]:
        """Per model, its rows that differ from the baseline's: row index ->
        ``"added"`` (no such row in the baseline) or ``"changed"`` (class, output
        shape, own params, trainable state or own MACs differ), as
        ``diff(baseline, model)`` finds them. Empty for the baseline itself."""
        base = self.summaries.get(self.baseline)
        marks: dict[str, dict[int, str]] = {}
        for name, stats in self.summaries.items():
            if base is None or name == self.baseline:
                continue
            with warnings.catch_warnings():
                # diff() warns when one side ran no forward; the panels show that.
                warnings.simplefilter("ignore")
                found = diff(base, stats)
            kinds = {**{(e.module_path, e.call): "added" for e in found.added},
                     **{(c.module_path, c.call): "changed" for c in found.changed}}
            keys = layer_keys(stats.summary_list)
            marks[name] = {index: kinds[key] for index, key in enumerate(keys) if key in kinds}
        return marks


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
        name: summarize_source(value, f"models[{name!r}]", input_size, input_data, summary_kwargs)
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
            findings=values["findings"],
        )
        for name, values in raw.items()
    )
    return Comparison(rows, baseline, optimizer.lower(), summaries)


def _check_models(models: object) -> dict[str, object]:
    if not isinstance(models, Mapping):
        raise TypeError(
            f"models must be a dict of name -> model or summary ({ACCEPTED}), "
            f"got {type(models).__name__}"
        )
    if not models:
        raise ValueError("models is empty: give at least one name -> model or summary")
    for name, value in models.items():
        if not isinstance(name, str):
            raise TypeError(f"models keys must be str names, got {type(name).__name__} {name!r}")
        if not isinstance(value, (nn.Module, ModelStatistics, SummaryRecord, str, os.PathLike)):
            raise TypeError(f"models[{name!r}] must be {ACCEPTED}, got {type(value).__name__}")
    return dict(models)


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
        "findings": tuple(dict.fromkeys((f.rule, f.severity) for f in stats.findings())),
    }


def _active_params(stats: Summary) -> int:
    """Parameters one token uses: the mixture-of-experts figure, else all of them."""
    active = stats.active_params_per_token
    return int(stats.total_params) if active is None else int(active)


def _ratio(value: int | None, base: int | None) -> float | None:
    if value is None or not base:
        return None
    return value / base
