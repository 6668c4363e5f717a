"""Dtype leftovers: fp32 parameters or buffers in a model whose parameters are
mostly bf16/fp16, and matmul-family layers whose input dtype is not their
weight's."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .context import Context, listed, mb, module_of, owning_rows
from .registry import Finding, rule

_HALF = (torch.bfloat16, torch.float16)
# Leftovers below both of these are what models keep in fp32 on purpose (RoPE
# frequencies, a few norms): not reported.
MIN_LEFTOVER_BYTES = 2**20
MIN_LEFTOVER_SHARE = 0.001


@rule("dtype-leftovers", title="fp32 tensors in a bf16/fp16 model", needs_model=True)
def dtype_leftovers(context: Context) -> Iterator[Finding]:
    main = context.main_dtype
    if main not in _HALF:
        return
    leftovers = [
        entry
        for entry in (*context.parameters, *context.buffers)
        if entry.tensor.dtype == torch.float32
    ]
    size = sum(entry.tensor.nbytes for entry in leftovers)
    params = sum(entry.tensor.nbytes for entry in context.parameters)
    if not leftovers or size < max(MIN_LEFTOVER_BYTES, MIN_LEFTOVER_SHARE * params):
        return
    names = [entry.name for entry in leftovers]
    name = str(main).removeprefix("torch.")
    yield Finding(
        "dtype-leftovers",
        "warning",
        f"{len(names):,} fp32 parameter/buffer tensor(s) ({mb(size)}) in a {name} model: "
        f"{listed(names)}; in {name} they would take {mb(size // 2)}",
        f"cast them (model.to(torch.{name})), or keep them fp32 on purpose "
        "(norms, router weights) and know what they cost",
        rows=owning_rows(names),
        params=tuple(names),
        evidence={"dtype": name, "tensors": len(names), "bytes": size, "bytes_in_dtype": size // 2},
    )


@rule(
    "mixed-dtype-matmul",
    title="a matmul layer whose input dtype differs from its weight's",
    needs_model=True,
)
def mixed_dtype_matmul(context: Context) -> Iterator[Finding]:
    found: list[tuple[str, str, str]] = []
    for row in context.rows:
        module = module_of(row)
        if module is None or not row.executed or row.own_macs == 0 or not row.input_dtypes:
            continue
        weight = module._parameters.get("weight")
        given = row.input_dtypes[0]
        if weight is None or not weight.is_floating_point():
            continue
        own = str(weight.dtype).removeprefix("torch.")
        if given != own and given in ("float32", "float16", "bfloat16", "float64"):
            found.append((row.module_path, given, own))
    if found:
        paths = [path for path, _, _ in found]
        yield Finding(
            "mixed-dtype-matmul",
            "warning",
            f"{len(found):,} matmul layer(s) take inputs in another dtype than their "
            f"weight ({found[0][1]} into {found[0][2]} at {found[0][0]}): "
            f"{listed(paths)}; each call casts one side",
            "give the inputs the weights' dtype (or run under torch.autocast on purpose)",
            rows=tuple(paths),
            evidence={"layers": [{"row": p, "input": i, "weight": w} for p, i, w in found]},
        )
