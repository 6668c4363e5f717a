"""Text of the memory plans: ``InferenceMemory`` and ``Plan`` as aligned tables,
bytes scaled by ``render.units``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .units import readable_bytes

if TYPE_CHECKING:
    from ..inference import InferenceMemory
    from ..plan import Plan


def _rows(rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12}" for name, value in rows)


def inference_table(memory: InferenceMemory) -> str:
    """The parts of an ``InferenceMemory``, one per line, then its assumptions."""
    at = []
    if memory.context is not None:
        at.append(f"context {memory.context:,}")
    if memory.batch is not None:
        at.append(f"batch {memory.batch:,}")
    where = f" at {', '.join(at)}" if at else ""
    weights = f"Weights ({memory.dtype}"
    weights += f", scales {readable_bytes(memory.scale_bytes)})" if memory.scale_bytes else ")"
    cache = f"KV cache ({memory.kv_dtype})" if memory.has_cache else "KV cache (none returned)"
    rows = [
        (weights, readable_bytes(memory.weights)),
        ("Buffers", readable_bytes(memory.buffers)),
        (cache, readable_bytes(memory.kv_cache)),
        (f"Activations (prefill peak, {memory.compute_dtype})", readable_bytes(memory.activations)),
        ("Total", readable_bytes(memory.total)),
    ]
    lines = [f"Inference memory{where}:", _rows(rows)]
    lines += [f"Assumed: {line}" for line in memory.assumptions]
    return "\n".join(lines)


def plan_text(plan: Plan) -> str:
    """A ``Plan`` as text: params, FLOPs per token, memory per setup, GPU fit."""
    from .units import unit_of

    def count(value: float) -> str:
        name, size = unit_of(value)
        return f"{value / size:,.2f}{name}" if size > 1 else f"{value:,.0f}"

    shards = f", {plan.shards} GPUs" if plan.shards > 1 else ""
    lines = [f"{plan.model} at context {plan.context:,}, batch {plan.batch:,}{shards}", ""]
    params = [
        ("Params", f"{plan.total_params:,}"),
        ("Trainable params", f"{plan.trainable_params:,}"),
    ]
    if plan.active_params is not None:
        params.append(("Active params per token", f"{plan.active_params:,}"))
    partial = "" if plan.flops_complete else " (partial)"
    params += [
        ("Forward FLOPs per token", count(plan.forward_flops_per_token) + partial),
        ("Training FLOPs per token (fwd+bwd)", count(plan.training_flops_per_token) + partial),
    ]
    lines += [_rows(params), ""]
    for memory in plan.inference:
        lines += [inference_table(memory), ""]
    lines += [f"Training memory (bf16 mixed precision{shards}):", str(plan.training)]
    if plan.shards > 1:
        per_gpu = readable_bytes(plan.training_per_gpu)
        lines.append(f"Per GPU with {plan.shards} shards (FSDP): {per_gpu}")
    lines += ["", _fit_table(plan)]
    if plan.checkpointing is not None:
        lines += ["", str(plan.checkpointing)]
    lines += [f"Assumed: {line}" for line in plan.assumptions]
    return "\n".join(lines)


def _fit_table(plan: Plan) -> str:
    from tabulate import tabulate

    fits = plan.fits()
    # Memory on one GPU, and each GPU's share with --shards; then GPUs needed per size.
    headers = ["setup", "on 1 GPU"] + ([f"each of {plan.shards}"] if plan.shards > 1 else [])
    headers += [gpu.name for gpu in plan.gpus]
    rows = []
    for name, one, per_gpu in plan.setups():
        cells = [name, readable_bytes(one)]
        if plan.shards > 1:
            cells.append(readable_bytes(per_gpu))
        cells += [str(fits[name][g.name] or "-") for g in plan.gpus]
        rows.append(cells)
    legend = (
        "GPUs needed per size (1, or the --shards count; - fits on neither); sizes: "
        + ", ".join(f"{g.name} = {g.cards}" for g in plan.gpus)
    )
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True) + "\n" + legend
