"""The totals under the torchinfo-style table (``formatting.render_text``) as
sections of (label, value) pairs; the other renderers list the same pairs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .enums import ColumnSettings, Units
from .memory import estimate_training_memory, no_gradient_lines
from .units import (
    footer_number,
    intensity_text,
    megabytes,
    readable_bytes,
    readable_count,
)

if TYPE_CHECKING:
    from .records import SummaryLike


def footer_sections(
    stats: SummaryLike, torchinfo_units: bool = True
) -> list[list[tuple[str, str]]]:
    """The totals under the table as sections of (label, value) pairs.

    ``render_text`` prints each pair as ``label: value`` with a divider between
    sections; the other renderers list the same pairs.

    Args:
        stats: the summary.
        torchinfo_units: torchinfo's fixed units for its own lines (``Total
            mult-adds (M): 0.00``, ``Params size (MB): 0.00``), as the text
            table prints them; False gives every figure a unit chosen for its
            value (``Total mult-adds: 48``, ``Params size: 232 B``), as every
            other format shows them. Lines torchinfo does not have adapt always
            (``Training step estimate, Adam: 1.23 kB``). A unit the caller chose
            (``macs_units``, ``params_units``) is kept either way.
    """
    options = stats.formatting

    def scaled(label: str, num: int, units: Units) -> tuple[str, str]:
        if not torchinfo_units and units in (Units.AUTO, Units.NONE):
            return label, readable_count(num) if units is Units.AUTO else f"{num:,}"
        suffix, _, value = footer_number(num, units).partition(": ")
        return f"{label}{suffix}", value

    counts = [
        scaled("Total params", stats.total_params, options.params_units),
        scaled("Trainable params", stats.trainable_params, options.params_units),
        scaled("Non-trainable params", stats.non_trainable_params, options.params_units),
    ]
    counts += no_gradient_lines(stats)
    if stats.pruned_params:
        counts.append(("Pruned weights", f"{stats.pruned_params:,} (masked out)"))
    if stats.uninitialized_layers:
        layers = stats.uninitialized_layers
        counts.append(
            ("Params are a lower bound", f"{layers} layer{'s' * (layers != 1)} uninitialized")
        )
    if not stats.input_size:
        return [counts]
    counts.append(scaled("Total mult-adds", stats.total_mult_adds, options.macs_units))
    if stats.uncounted_ops:
        ops = ", ".join(f"{name} x{count}" for name, count in stats.uncounted_ops.items())
        counts.append(("Mult-adds are partial (rows marked *)", f"no formula for {ops}"))
    counts += _dynamic_size_lines(stats)
    if {ColumnSettings.BYTES, ColumnSettings.INTENSITY} & set(options.col_names):
        # Our own line (torchinfo has none): a unit per value, never 0.00 MB.
        counts.append(
            (
                "Bytes moved",
                f"{readable_bytes(stats.total_bytes_moved)} eager, "
                f"{readable_bytes(stats.total_fused_bytes_moved)} fused "
                f"({intensity_text(stats.total_intensity)} FLOP/byte)",
            )
        )
    counts.extend(("Assumed", assumption) for assumption in getattr(stats, "assumptions", ()))
    counts.extend(("Note", note) for note in getattr(stats, "notes", ()))
    moe = getattr(stats, "moe", None)
    if moe is not None:
        experts = sorted({layer.num_experts for layer in moe.layers})
        counts.append(
            (
                "Expert params",
                f"{moe.expert_params:,} in {len(moe.layers)} MoE layer(s) of "
                f"{'/'.join(map(str, experts))} experts",
            )
        )
        how = (
            "measured routing"
            if moe.routing == "measured"
            else "top-k routing assumed: no data on meta/fake tensors"
        )
        counts.append(("Active params per token", f"{moe.active_params_per_token:,} ({how})"))
        if moe.data_dependent:
            counts.append(
                ("Active params depend on the data", "routers drop tokens over expert capacity")
            )

    def size_line(label: str, num_bytes: int) -> tuple[str, str]:
        if not torchinfo_units:
            return label, readable_bytes(num_bytes)
        return f"{label} (MB)", f"{megabytes(num_bytes):0.2f}"

    sizes = [
        size_line("Input size", stats.total_input),
        size_line("Forward/backward pass size", stats.total_output_bytes),
        size_line("Params size", stats.total_param_bytes),
    ]
    if stats.total_buffer_bytes:
        sizes.append(size_line("Buffers size", stats.total_buffer_bytes))
    estimated = (
        stats.total_input
        + stats.total_output_bytes
        + stats.total_param_bytes
        + stats.total_buffer_bytes
    )
    sizes.append(size_line("Estimated Total Size", estimated))
    if stats.grad_enabled:
        step = estimate_training_memory(stats, "adam")
        # Our own line (torchinfo has none): its unit adapts in every format.
        sizes.append(("Training step estimate, Adam", readable_bytes(step.total)))
    return [counts, sizes]


def _dynamic_size_lines(stats: SummaryLike) -> list[tuple[str, str]]:
    """An exported program's dynamic sizes and its MACs formula
    (``exported.statistics``), e.g. ``("Dynamic sizes (from input_size)",
    "s77=5 (x[0])")`` and ``("Mult-adds formula", "192*s77")``; none for
    other summaries."""
    sizes: dict[str, int] = getattr(stats, "sizes", None) or {}
    if not sizes:
        return []
    where = "input_size" if getattr(stats, "sizes_given", False) else "the example inputs"
    sources: dict[str, str] = getattr(stats, "size_sources", {})
    values = ", ".join(
        f"{name}={value}" + (f" ({sources[name]})" if name in sources else "")
        for name, value in sizes.items()
    )
    exact = "" if getattr(stats, "formula_exact", True) else " (exact at these sizes only)"
    return [
        (f"Dynamic sizes (from {where})", values),
        ("Mult-adds formula", f"{getattr(stats, 'mult_adds_formula', '')}{exact}"),
    ]
