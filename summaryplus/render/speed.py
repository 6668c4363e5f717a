"""Text of a ``SpeedPlan``: prefill and decode bounds and the largest context
and batch per GPU and setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..units import readable_bytes
from .output import Output, Table, render_output
from .roofline import readable_time

if TYPE_CHECKING:
    from ..speed import SpeedPlan

__all__ = ["speed_text"]


def _limit(value: int) -> str:
    if value < 0:
        return "unbounded"
    return f"{value:,}" if value else "-"


def speed_section(speed: SpeedPlan) -> Table:
    """One row per GPU and setup: the prefill and decode bounds, what fits."""
    headers = ("GPU", "setup", "prefill >=", "bound by",
               f"decode <= (tok/s, batch {speed.batch})", "bytes/step", "fits",
               "max context (batch 1)", f"max batch (context {speed.context:,})")  # fmt: skip
    rows = []
    for row in speed.rows:
        prefill = "--" if row.prefill_seconds is None else readable_time(row.prefill_seconds)
        rows.append((
            row.gpu, row.setup, prefill, row.prefill_bound_by,
            f"{row.decode_tokens_per_second:,.1f}", readable_bytes(row.decode_bytes),
            "yes" if row.fits else "no", _limit(row.max_context), _limit(row.max_batch),
        ))  # fmt: skip
    title = (
        f"Speed bounds at context {speed.context:,}, batch {speed.batch:,} "
        f"(memory at {speed.utilization:.0%} of each GPU's usable memory)"
    )
    return Table(headers, tuple(rows), ("left", "left") + ("right",) * 7, title)


def speed_notes(speed: SpeedPlan) -> list[str]:
    """How the bounds are made, and the measured bytes per token behind them."""
    kv = ", ".join(f"{dtype} {readable_bytes(value)}"
                   for dtype, value in speed.kv_bytes_per_token.items())  # fmt: skip
    return [
        "prefill >= max(FLOPs / dense peak, (weights + KV) / bandwidth); decode <= batch x "
        "bandwidth / (weights + KV cache + step activations); bounds, not predictions",
        f"KV cache per token: {kv}; step activations per token: "
        f"{readable_bytes(speed.activation_bytes_per_token)}; contexts in blocks of "
        f"{speed.block} tokens",
    ]


def speed_text(speed: SpeedPlan) -> str:
    """The speed table, then how the bounds are made."""
    return render_output(Output("", (speed_section(speed),), tuple(speed_notes(speed))), "text")
