"""Drawing on matplotlib axes: figures without pyplot, stacked bars, value axes, saving.

matplotlib is imported inside the functions only.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Literal

from ._labels import _readable, _unit
from ._style import _DPI, _INK, _LOG_SPAN, PathLike, _Bar, _Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _attach_canvas(figure: Figure) -> None:
    # The Agg canvas renders without a display and without pyplot, so the user's
    # backend choice and pyplot's figure registry are left untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)


def _figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        from matplotlib.figure import Figure, SubFigure

        parent = ax.figure
        root = parent.figure if isinstance(parent, SubFigure) else parent
        if not isinstance(root, Figure):
            raise ValueError("ax does not belong to a figure")
        return root, ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained", dpi=100)
    _attach_canvas(figure)
    return figure, figure.add_subplot()


def _bar_chart_size(bars: list[_Bar], orientation: str, legend: bool) -> tuple[float, float]:
    """Inches: room for every name and bar, plus the legend on the right."""
    count = max(len(bars), 1)
    extra = 1.8 if legend else 0.0
    if orientation == "horizontal":
        return 8.0 + extra, min(1.6 + 0.3 * count, 60.0)
    longest = max((len(bar.label) for bar in bars), default=10)
    return min(max(5.5, 1.5 + 0.42 * count), 60.0) + extra, 3.6 + 0.055 * longest


def _auto_log(bars: list[_Bar], log_scale: bool | None) -> bool:
    if log_scale is not None:
        return log_scale
    values = [bar.value for bar in bars if bar.value > 0]
    return bool(values) and max(values) > _LOG_SPAN * min(values)


def _draw_bars(
    axes: Axes,
    bars: list[_Bar],
    series: _Series,
    *,
    orientation: str,
    log: bool,
    value_labels: list[str],
    bar_colors: list[str] | None = None,
) -> None:
    """Stacked bars, one position per bar, in reading order, each labelled at its end.

    ``bar_colors`` colours each bar (first segment) by itself, as in the
    comparison; otherwise segments take the series' colours. Further segments
    of a per-bar-coloured chart are drawn paler.
    """
    horizontal = orientation == "horizontal"
    positions = list(range(len(bars)))
    scale_name, scale = ("", 1.0) if log else _unit(max(bar.value for bar in bars), series.is_bytes)
    width = 0.72
    base = [0.0] * len(bars)
    for segment, name in enumerate(series.segments):
        sizes = [
            bar.segments[segment] / scale if segment < len(bar.segments) else 0.0 for bar in bars
        ]
        if segment > 0 and not any(sizes):
            continue  # nothing frozen, no activations: no empty legend entry
        if bar_colors is not None:
            colors: list[str] | str = bar_colors
            alpha = 1.0 if segment == 0 else 0.45
        else:
            colors, alpha = series.colors[segment], 1.0
        draw = axes.barh if horizontal else axes.bar
        container = draw(
            positions,
            sizes,
            width,
            base,
            color=colors,
            alpha=alpha,
            edgecolor="white",
            linewidth=0.5,
            label=name,
            gid=f"segment:{name}",
        )
        for patch, bar in zip(container.patches, bars, strict=True):
            if bar.other:
                patch.set_hatch("////")
        base = [b + s for b, s in zip(base, sizes, strict=True)]

    # The value axis: units in the label (linear) or on each decade (log), with
    # room past the longest bar for its value label (taller when it is rotated).
    value_axis: Literal["x", "y"] = "x" if horizontal else "y"
    rotated_values = not horizontal and len(bars) > 6
    largest = max(bar.value for bar in bars)
    set_limits = axes.set_xlim if horizontal else axes.set_ylim
    if log:
        (axes.set_xscale if horizontal else axes.set_yscale)("log")
        smallest = min(bar.value for bar in bars if bar.value > 0)
        low = 10 ** math.floor(math.log10(smallest / 3))
        room = 0.25 if horizontal else (0.5 if rotated_values else 0.15)
        set_limits(low, largest * (largest / low) ** room)
        label = f"{series.axis_label.replace(' (bytes)', '')} (log scale)"
    else:
        room = 1.3 if horizontal else (1.5 if rotated_values else 1.12)
        set_limits(0, largest / scale * room)
        unit = f" ({scale_name})" if scale_name else (" (bytes)" if series.is_bytes else "")
        label = series.axis_label.replace(" (bytes)", "") + unit
    (axes.set_xlabel if horizontal else axes.set_ylabel)(label, color=_INK)
    _style_value_axis(axes, value_axis, log=log, is_bytes=series.is_bytes)

    # The category axis: names, first bar at the top (or left).
    tick_labels = [bar.label for bar in bars]
    if horizontal:
        axes.set_yticks(positions, tick_labels, fontsize=8.5)
        axes.invert_yaxis()
        axes.set_ylim(len(bars) - 0.5, -0.5)
    else:
        rotation = _rotation(tick_labels)
        axes.set_xticks(
            positions,
            tick_labels,
            fontsize=8.5,
            rotation=rotation,
            ha="right" if rotation else "center",
            rotation_mode="anchor",
        )
        axes.set_xlim(-0.5, len(bars) - 0.5)
    axes.tick_params(axis="y" if horizontal else "x", length=0)

    ends = base
    for position, end, text in zip(positions, ends, value_labels, strict=True):
        if horizontal:
            axes.annotate(
                text,
                (end, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=7.5,
                color=_INK,
            )
        else:
            axes.annotate(
                text,
                (position, end),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                ha="center",
                fontsize=7.5,
                color=_INK,
                rotation=90 if rotated_values else 0,
            )


def _rotation(labels: list[str]) -> int:
    """0 when the names fit side by side under their bars, else 45 (90 when crowded)."""
    if max((len(label) for label in labels), default=0) <= 8:
        return 0
    return 90 if len(labels) > 30 else 45


def _style_value_axis(
    axes: Axes,
    which: Literal["x", "y"],
    *,
    log: bool = False,
    is_bytes: bool = True,
) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = axes.xaxis if which == "x" else axes.yaxis
    if log:
        axis.set_major_locator(LogLocator(base=10))
        axis.set_major_formatter(
            FuncFormatter(lambda value, _pos: _readable(value, is_bytes, tick=True))
        )
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axes.grid(axis=which, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=_INK, labelsize=8.5)


def _needs_legend(bars: list[_Bar]) -> bool:
    """A key is needed only for split bars (frozen params, measured activations)."""
    return any(any(bar.segments[1:]) for bar in bars)


def _legend(axes: Axes) -> None:
    # Outside the axes, so it never hides a bar or a value label.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _nothing_to_show(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color=_INK)
    axes.set_axis_off()


def _save(figure: Figure, path: PathLike | None, fmt: str | None) -> None:
    if path is None or fmt is None:
        return
    figure.savefig(os.fspath(path), format=fmt, dpi=_DPI, facecolor="white")
