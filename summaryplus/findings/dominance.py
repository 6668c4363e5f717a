"""Dominant layers: one layer holding most of the parameters, MACs or saved
activations, with what to do about it, and the largest layers as candidates
for pruning or quantization. Reads the rows only: works on loaded summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .context import Context, mb
from .registry import Finding, rule

if TYPE_CHECKING:
    from ..records import LayerLike

# A layer dominates from this share of the model's total...
DOMINANT_SHARE = 0.5
# ...among at least this many leaf layers that have the quantity (a model of
# two layers is not "dominated" by one of them)...
MIN_LAYERS = 4
# ...and, for parameters, from this many (a 100k-parameter layer costs nothing
# worth changing, whatever its share).
MIN_PARAMS = 1_000_000
_CANDIDATES = 3


def _suggestion(row: LayerLike) -> str:
    kind = row.class_name
    if kind in ("Linear", "LazyLinear") or "Linear" in kind:
        return (
            "a fully connected layer: pool before it (global average pooling cuts a "
            "flattened feature map to its channels), or factorize it into two Linears "
            "of rank r (r x (in + out) params), or prune/quantize it first"
        )
    if "Embedding" in kind:
        return (
            "an embedding: tie it to the output head, shrink the vocabulary, or factorize "
            "it (ALBERT); quantize it first"
        )
    if "Conv" in kind:
        return "a convolution: fewer channels, a grouped or depthwise-separable one, or prune it"
    return "shrink, prune or quantize this layer first"


def _leaves(context: Context) -> list[LayerLike]:
    return [row for row in context.rows if row.is_leaf_layer and not row.is_recursive]


@rule("dominant-layer", title="one layer holds most of params, MACs or activations",
      needs_model=False)
def dominant_layer(context: Context) -> Iterator[Finding]:
    summary = context.summary
    leaves = _leaves(context)
    measures: list[tuple[str, int, Callable[[LayerLike], int], int]] = [
        ("params", summary.total_params, lambda row: row.counted_params, MIN_PARAMS),
        ("MACs", summary.total_mult_adds, lambda row: row.own_macs, 1),
        ("saved activation bytes", summary.activation_bytes,
         lambda row: row.own_activation_bytes, 1),
    ]
    by_size = sorted(leaves, key=lambda row: row.counted_param_bytes, reverse=True)
    candidates = [
        {"row": row.module_path, "params": row.counted_params,
         "param_bytes": row.counted_param_bytes}
        for row in by_size[:_CANDIDATES] if row.counted_params
    ]
    for what, total, value, least in measures:
        having = [row for row in leaves if value(row) > 0]
        if total <= 0 or len(having) < MIN_LAYERS:
            continue
        top = max(having, key=value)
        share = value(top) / total
        if share < DOMINANT_SHARE or value(top) < least:
            continue
        amount = mb(value(top)) if what.endswith("bytes") else f"{value(top):,}"
        yield Finding(
            "dominant-layer",
            "warning" if what == "params" else "note",
            f"{top.module_path} ({top.class_name}) holds {share:.0%} of the model's {what} "
            f"({amount} of {total:,})",
            _suggestion(top) + (
                "; largest layers (pruning/quantization candidates): "
                + ", ".join(f"{c['row']} {c['params']:,}" for c in candidates)
                if what == "params" and candidates else ""
            ),
            rows=(top.module_path,),
            evidence={"measure": what, "value": value(top), "total": total,
                      "share": round(share, 4), "candidates": candidates},
        )
