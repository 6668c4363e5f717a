"""Tensor-core alignment: matmul dimensions (vocabulary, hidden size, heads x
head_dim, channels) that are not a multiple of 8 (fp16/bf16) or 16 (fp8/int8),
with the padded size."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .context import Context, listed, module_of
from .registry import Finding, rule

#: Dimension multiple the tensor cores want, per parameter dtype.
MULTIPLE = {
    torch.float16: 8,
    torch.bfloat16: 8,
    torch.int8: 16,
    **{
        dtype: 16
        for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz")
        if isinstance(dtype := getattr(torch, name, None), torch.dtype)
    },
}
# Suggested padding: a multiple of 64 (nanoGPT's 50,257 -> 50,304 vocabulary).
PAD_TO = 64
# Dimensions under this are left alone: a 10-class head or 3 image channels is
# small work whatever its alignment, and padding it gains nothing measurable.
MIN_DIM = 64


def _padded(size: int) -> int:
    return -(-size // PAD_TO) * PAD_TO


@rule("tensor-core-alignment", title="matmul dims not a multiple of 8 (16 for fp8/int8)",
      needs_model=True)
def tensor_core_alignment(context: Context) -> Iterator[Finding]:
    dims: dict[int, list[str]] = {}
    multiples: dict[int, int] = {}
    for row in context.rows:
        module = module_of(row)
        if module is None or not row.executed or row.own_macs == 0:
            continue
        weight = module._parameters.get("weight")
        if weight is None or weight.dim() < 2 or weight.dtype not in MULTIPLE:
            continue
        multiple = MULTIPLE[weight.dtype]
        shape = list(weight.shape[:2])
        for size in dict.fromkeys(shape):
            if size >= MIN_DIM and size % multiple:
                dims.setdefault(size, []).append(row.module_path)
                multiples[size] = multiple
    for size, paths in dims.items():
        paths = list(dict.fromkeys(paths))
        yield Finding(
            "tensor-core-alignment",
            "warning",
            f"matmul dimension {size:,} is not a multiple of {multiples[size]} (tensor cores "
            f"in this dtype) in {len(paths)} layer(s): {listed(paths)}",
            f"pad it to {_padded(size):,} (a multiple of {PAD_TO}; e.g. a vocabulary padded "
            "with unused tokens, or another hidden/head size)",
            rows=tuple(paths),
            evidence={"dim": size, "multiple": multiples[size], "padded": _padded(size)},
        )
