"""Eager attention: an attention module that saves its [B, H, T, T]
probabilities for backward, which a fused kernel (scaled_dot_product_attention,
flash) never holds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from .context import Context, listed, mb, module_of
from .registry import Finding, rule

_FUSED = ("sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")
_ELEMENT_SIZES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
_HEAD_ATTRIBUTES = ("num_heads", "n_head", "num_attention_heads", "n_heads", "heads")


def _heads(module: Any) -> int | None:
    for name in _HEAD_ATTRIBUTES:
        value = module.__dict__.get(name)
        if isinstance(value, int) and value > 0:
            return value
    config = module.__dict__.get("config")
    value = getattr(config, "num_attention_heads", None)
    return value if isinstance(value, int) and value > 0 else None


def _fused(module: Any) -> bool:
    """A transformers module set to a fused kernel: with dropout, the CPU (and
    meta, which takes the CPU's choice) runs sdpa's math kernel, which saves the
    probabilities; a GPU's flash kernel does not, so the model is not flagged."""
    config = module.__dict__.get("config")
    return getattr(config, "_attn_implementation", None) in _FUSED


@rule("eager-attention", title="attention saving [B, H, T, T] probabilities (train mode)",
      needs_model=True)
def eager_attention(context: Context) -> Iterator[Finding]:
    storages = getattr(context.summary, "saved_storages", None)
    if storages is None:
        return
    own: dict[int, list[int]] = {}
    for key, savers in storages.savers.items():
        if key in storages.square:
            for position in savers:
                own.setdefault(position, []).append(key)
    found: list[tuple[str, int]] = []
    for position, row in enumerate(context.rows):
        module = module_of(row)
        heads = None if module is None else _heads(module)
        shape = [size for size in row.input_size if isinstance(size, int)]
        if heads is None or len(shape) < 3 or position not in own or _fused(module):
            continue
        # [B, T, D], or [T, B, D] for nn.MultiheadAttention without batch_first.
        length = shape[0] if module.__dict__.get("batch_first") is False else shape[-2]
        quadratic = math.prod(shape[:-1]) * length * heads  # B x H x T x T
        element = _ELEMENT_SIZES.get(row.output_dtypes[0] if row.output_dtypes else "", 4)
        # Storages saved as [..., T, T] of B x H x T x T elements: the
        # probabilities in the layer's dtype, and dropout's bool mask.
        keys = [k for k in own[position] if storages.square[k] == length]
        probabilities = [k for k in keys if storages.sizes[k] == quadratic * element]
        masks = [k for k in keys if storages.sizes[k] == quadratic and element != 1]
        if probabilities:
            found.append(
                (row.module_path, sum(storages.sizes[k] for k in (*probabilities, *masks)))
            )
    if found:
        total = sum(size for _, size in found)
        paths = [path for path, _ in found]
        yield Finding(
            "eager-attention",
            "warning",
            f"{len(found)} attention layer(s) save [B, H, T, T] probabilities for backward "
            f"({mb(total)} at this context, growing with T^2): {listed(paths)}",
            "use a fused kernel, which saves O(T) per head: "
            "F.scaled_dot_product_attention, attn_implementation=\"sdpa\" or "
            "\"flash_attention_2\" in transformers, need_weights=False in nn.MultiheadAttention",
            rows=tuple(paths),
            evidence={"bytes": total, "layers": [{"row": p, "bytes": b} for p, b in found]},
        )
