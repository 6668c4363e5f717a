"""``plot_summary``: one bar per module at a depth (params, MACs, FLOPs or memory)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..._checks import check_count
from ...enums import ColumnSettings
from ...queries import LayerGroup, group_by, model_total
from ._arguments import (
    _check_choice,
    _check_flag,
    _check_path,
    _check_stats,
    _check_title,
    _check_top_k,
)
from ._axes import (
    _attach_canvas,
    _auto_log,
    _bar_chart_size,
    _draw_bars,
    _figure_and_axes,
    _legend,
    _needs_legend,
    _nothing_to_show,
    _save,
)
from ._labels import _LABEL_CHARS, _model_name, _readable, _shorten_unique, _value_label
from ._style import _INK, _SERIES, PathLike, _Bar, _Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...records import SummaryLike

#: The quantities ``plot_summary`` draws per module.
BY: tuple[str, ...] = ("params", "macs", "flops", "memory")
#: The table's numeric columns (``ColumnSettings`` values) and the quantity
#: drawn for each; the other columns (shapes, kernel, trainable) have no panel.
COLUMN_QUANTITIES = {
    "num_params": "params",
    "params_percent": "params",
    "mult_adds": "macs",
    "flops": "flops",
    "memory": "memory",
}

_MANY_BARS = 60  # more bars than this: suggest top_k


def plot_summary(
    stats: SummaryLike,
    by: str = "params",
    depth: int = 1,
    sort: bool = True,
    top_k: int | None = None,
    log_scale: bool | None = None,
    path: PathLike | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    *,
    orientation: str = "horizontal",
    columns: str | Iterable[str] | None = None,
) -> Figure:
    """A bar chart of params, MACs, FLOPs or memory per module at ``depth``;
    with ``columns``, one panel per numeric column of the table.

    One bar per module at ``depth``, labelled ``path (Class)`` (a leaf above
    ``depth`` gets one too, and a module whose own ``forward`` code holds
    parameters or does work gets a ``path (Class, own)`` bar for that part):
    the groups of ``summaryplus.queries.group_by``, so the bars
    add up exactly to the totals in the title. Modules whose value is 0 (a
    ReLU's params, an Embedding's MACs, a head tied to the embedding) are left
    out, and the subtitle says how many. Parameters are split into trainable
    and frozen, memory into parameter bytes and activations saved for backward
    (those are measured only with ``summary(..., mode="train")``). Each bar is
    labelled with its value and share of the total.

    Args:
        stats: the summary.
        by: ``"params"``, ``"macs"``, ``"flops"`` (2 x MACs) or ``"memory"``
            (parameter bytes + activation bytes saved for backward).
        depth: the module depth (1: the model's children).
        sort: largest first (True) or in model order (False).
        top_k: keep the ``top_k`` largest bars (in the chosen order) and
            merge the others into one bar ``other (N modules)``; None keeps all.
        log_scale: a log value axis; None (default) chooses one when the bars
            span more than 100x.
        path: also save the figure here; the extension picks the format
            (``.png``, ``.svg`` or ``.pdf``).
        title: replaces the default title (model class, quantity, depth,
            and the totals).
        ax: draw into these axes (of any figure) instead of a new figure.
        orientation: ``"horizontal"`` bars (names on the left, easy to read)
            or ``"vertical"`` (names below, rotated when they would overlap).
        columns: the table's columns, as ``summary(col_names=...)`` takes them
            (``"num_params"``, ``"mult_adds"``, ``"flops"``, ``"memory"``; or
            ``by``'s names): one panel per numeric one, stacked, in their
            order (``COLUMN_QUANTITIES``; Param % draws params), replacing
            ``by``. Shape, kernel and trainable columns have no panel; columns
            with no numeric one draw params. What ``summaryplus --plot`` draws
            for ``--col-names`` and ``--depth``.

    Returns:
        The figure (``ax.figure`` when ``ax`` is given).

    Raises:
        ValueError: ``by``, a column, ``orientation`` or the extension of ``path``
            is not one of the accepted values, ``depth`` is negative, ``top_k`` < 1,
            or ``ax`` is given for several panels.
        TypeError: ``stats`` is not a summary (live or loaded), or ``depth``/``top_k``
            is not an int.
        ImportError: matplotlib is not installed.

    Example:
        >>> from summaryplus import summary
        >>> from summaryplus.examples import SmallCNN
        >>> from summaryplus.plot import plot_summary
        >>> stats = summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0)
        >>> fig = plot_summary(stats, by="macs", depth=2)  # path="cnn_macs.png" saves it
        >>> [label.get_text() for label in fig.axes[0].get_yticklabels()][:2]
        ['features.1 (Sequential)', 'features.2 (Sequential)']
    """
    _check_stats(stats)
    by = _check_choice(by, "by", BY)
    check_count(depth, "depth")
    _check_top_k(top_k)
    _check_flag(sort, "sort")
    _check_flag(log_scale, "log_scale", allow_none=True)
    _check_title(title)
    orientation = _check_choice(orientation, "orientation", ("horizontal", "vertical"))
    fmt = _check_path(path)
    if columns is not None:
        quantities = plotted_quantities(columns)
        if len(quantities) > 1:
            if ax is not None:
                raise ValueError(
                    f"ax draws one panel, and columns={columns!r} asks for "
                    f"{len(quantities)}; give one column or no ax"
                )
            figure = _panels(stats, quantities, depth, sort, top_k, log_scale, orientation)
            _save(figure, path, fmt)
            return figure
        by = quantities[0]

    series = _SERIES[by]
    shown, omitted, merged = _prepared(stats, by, depth, sort, top_k)
    if len(shown) > _MANY_BARS:
        warnings.warn(
            f"plot_summary draws {len(shown)} bars at depth={depth}; pass top_k "
            f"(e.g. top_k=20) to merge the smallest into one 'other' bar, or a smaller depth",
            stacklevel=2,
        )

    total = model_total(stats, by)
    legend = _needs_legend(shown)
    figure, axes = _figure_and_axes(ax, _bar_chart_size(shown, orientation, legend))
    if title is None:
        title = _summary_title(stats, by, depth, series, omitted, merged)
    axes.set_title(title, loc="left", fontsize=10.5, color=_INK)
    if not shown:
        _nothing_to_show(axes, f"no module at depth {depth} has any {series.noun}")
    else:
        _draw_bars(
            axes,
            shown,
            series,
            orientation=orientation,
            log=_auto_log(shown, log_scale),
            value_labels=[_value_label(bar.value, total, series.is_bytes) for bar in shown],
        )
        if legend:
            _legend(axes)
    _save(figure, path, fmt)
    return figure


def plotted_quantities(columns: str | Iterable[str]) -> list[str]:
    """The quantities drawn for the table's ``columns``, in order, each once.

    Raises:
        ValueError: a name is neither a ``ColumnSettings`` value nor in ``BY``.

    Example:
        >>> plotted_quantities(["output_size", "num_params", "mult_adds"])
        ['params', 'macs']
        >>> plotted_quantities("kernel_size")
        ['params']
    """

    names = [columns] if isinstance(columns, str) else list(columns)
    quantities: list[str] = []
    for name in names:
        if isinstance(name, str) and name in BY:
            quantity: str | None = name
        else:
            value = ColumnSettings(ColumnSettings.parse(name, "columns")).value
            quantity = COLUMN_QUANTITIES.get(value)
        if quantity is not None and quantity not in quantities:
            quantities.append(quantity)
    return quantities or ["params"]


def _prepared(
    stats: SummaryLike, by: str, depth: int, sort: bool, top_k: int | None
) -> tuple[list[_Bar], int, int]:
    """The bars drawn for ``by`` at ``depth``, how many were 0 and how many merged."""
    groups = group_by(stats, depth)
    bars = [
        _Bar(label, _segments(group, by))
        for group, label in zip(groups, _labels(groups), strict=True)
    ]
    shown = [bar for bar in bars if bar.value > 0]
    omitted = len(bars) - len(shown)
    if sort:
        shown.sort(key=lambda bar: bar.value, reverse=True)  # stable: ties keep model order
    shown, merged = _keep_top(shown, top_k)
    return shown, omitted, merged


def _panels(
    stats: SummaryLike,
    quantities: list[str],
    depth: int,
    sort: bool,
    top_k: int | None,
    log_scale: bool | None,
    orientation: str,
) -> Figure:
    """One panel per quantity, stacked, each as tall as its bars need."""
    from matplotlib.figure import Figure  # optional: only when drawing

    sizes = []
    for by in quantities:
        shown, _, _ = _prepared(stats, by, depth, sort, top_k)
        sizes.append(_bar_chart_size(shown, orientation, _needs_legend(shown)))
    width = max(size[0] for size in sizes)
    heights = [size[1] + 0.6 for size in sizes]  # + the panel's three-line title
    figure = Figure(figsize=(width, sum(heights)), layout="constrained", dpi=100)
    _attach_canvas(figure)
    # squeeze=False: an array of shape (panels, 1) even for one panel.
    grid = figure.subfigures(len(quantities), 1, height_ratios=heights, squeeze=False)
    for subfigure, by in zip(grid[:, 0], quantities, strict=True):
        plot_summary(stats, by, depth, sort, top_k, log_scale, ax=subfigure.add_subplot(),
                     orientation=orientation)
    return figure


def _segments(group: LayerGroup, by: str) -> tuple[int, ...]:
    if by == "params":
        return (group.trainable_params, group.params - group.trainable_params)
    if by == "macs":
        return (group.macs,)
    if by == "flops":
        return (group.flops,)
    return (group.param_bytes, group.activation_bytes)


def _keep_top(bars: list[_Bar], top_k: int | None) -> tuple[list[_Bar], int]:
    """The ``top_k`` largest bars in their order, plus one bar for the rest.

    Returns the bars and how many were merged. A rest of one bar is kept under
    its own name: "other (1 module)" would hide a name for nothing.
    """
    if top_k is None or len(bars) <= top_k + 1:
        return bars, 0
    ranked = sorted(range(len(bars)), key=lambda index: bars[index].value, reverse=True)
    kept = set(ranked[:top_k])
    rest = [bar for index, bar in enumerate(bars) if index not in kept]
    segments = tuple(sum(parts) for parts in zip(*(bar.segments for bar in rest), strict=True))
    other = _Bar(f"other ({len(rest)} modules)", segments, other=True)
    return [bar for index, bar in enumerate(bars) if index in kept] + [other], len(rest)


def _labels(groups: list[LayerGroup]) -> list[str]:
    """``path (Class)`` per group, the paths shortened in the middle but kept distinct."""
    paths = _shorten_unique([group.module_path for group in groups], _LABEL_CHARS - 12)
    labels = []
    for group, path in zip(groups, paths, strict=True):
        own = ", own" if group.own_only else ""
        labels.append(f"{path} ({group.class_name}{own})" if path else f"{group.class_name}{own}")
    return labels


def _summary_title(
    stats: SummaryLike,
    by: str,
    depth: int,
    series: _Series,
    omitted: int,
    merged: int,
) -> str:
    what = {"params": "parameters", "macs": "MACs", "flops": "FLOPs", "memory": "memory"}[by]
    head = f"{_model_name(stats)}: {what} per module (depth {depth})"
    if by == "params":
        frozen = stats.total_params - stats.trainable_params
        detail = f"{_readable(stats.total_params, False)} params, " + (
            f"{_readable(stats.trainable_params, False)} trainable, "
            f"{_readable(frozen, False)} frozen"
            if frozen
            else "all trainable"
        )
    elif by in ("macs", "flops"):
        detail = (
            f"{_readable(stats.total_mult_adds, False)} MACs = "
            f"{_readable(stats.total_flops, False)} FLOPs per forward pass"
        )
        if not stats.macs_complete:
            detail += " (partial: some ops have no formula)"
    else:
        detail = f"{_readable(stats.total_param_bytes, True)} parameters"
        if stats.grad_enabled:
            detail += f" + {_readable(stats.activation_bytes, True)} activations saved for backward"
        else:
            detail += "; activations not measured (summary(..., mode='train'))"
    notes = []
    if merged:
        notes.append(f"{merged} smallest modules merged into 'other'")
    if omitted:
        plural = "s" if omitted != 1 else ""
        notes.append(f"{omitted} module{plural} with 0 {series.noun} not shown")
    lines = [head, detail]
    if notes:
        lines.append("; ".join(notes))
    return "\n".join(lines)
