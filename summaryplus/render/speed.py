"""Text of a ``SpeedPlan``: prefill and decode bounds and the largest context
and batch per GPU and setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .roofline import readable_time
from .units import readable_bytes

if TYPE_CHECKING:
    from ..speed import SpeedPlan

__all__ = ["speed_text"]


def _limit(value: int) -> str:
    if value < 0:
        return "unbounded"
    return f"{value:,}" if value else "-"


def speed_text(speed: SpeedPlan) -> str:
    """A table per GPU and setup, then how the bounds are made."""
    from tabulate import tabulate

    headers = ["GPU", "setup", "prefill >=", "bound by", f"decode <= (tok/s, batch {speed.batch})",
               "bytes/step", "fits", "max context (batch 1)",
               f"max batch (context {speed.context:,})"]  # fmt: skip
    rows = []
    for row in speed.rows:
        prefill = "--" if row.prefill_seconds is None else readable_time(row.prefill_seconds)
        rows.append([
            row.gpu, row.setup, prefill, row.prefill_bound_by,
            f"{row.decode_tokens_per_second:,.1f}", readable_bytes(row.decode_bytes),
            "yes" if row.fits else "no", _limit(row.max_context), _limit(row.max_batch),
        ])  # fmt: skip
    kv = ", ".join(f"{dtype} {readable_bytes(value)}"
                   for dtype, value in speed.kv_bytes_per_token.items())  # fmt: skip
    lines = [
        f"Speed bounds at context {speed.context:,}, batch {speed.batch:,} "
        f"(memory at {speed.utilization:.0%} of each GPU's usable memory)",
        tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True,
                 colalign=("left", "left") + ("right",) * 7),
        "prefill >= max(FLOPs / dense peak, (weights + KV) / bandwidth); decode <= batch x "
        "bandwidth / (weights + KV cache + step activations); bounds, not predictions",
        f"KV cache per token: {kv}; step activations per token: "
        f"{readable_bytes(speed.activation_bytes_per_token)}; contexts in blocks of "
        f"{speed.block} tokens",
    ]  # fmt: skip
    return "\n".join(lines)
