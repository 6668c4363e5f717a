"""Text of the memory plans: ``InferenceMemory`` and ``Plan``.

A plan is the output model (``output.Output``) of one table per section, each
written by its own function in ``PLAN_SECTIONS`` (add a section by adding a
function there); every byte figure goes through ``units.readable_bytes`` and
every count through ``units.readable_count``, so the whole plan has one unit
style.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..units import readable_bytes, readable_count
from .output import Output, Table, check_format, render_output
from .recompute import plan_table
from .speed import speed_notes, speed_section

if TYPE_CHECKING:
    from ..memory import InferenceMemory
    from ..plan import Plan
    from ..speed import SpeedPlan

__all__ = ["PLAN_SECTIONS", "inference_table", "plan_output", "plan_text", "render_plan"]


def _rows(rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12}" for name, value in rows)


def _where(memory: InferenceMemory) -> str:
    at = []
    if memory.context is not None:
        at.append(f"context {memory.context:,}")
    if memory.batch is not None:
        at.append(f"batch {memory.batch:,}")
    return f" at {', '.join(at)}" if at else ""


def inference_table(memory: InferenceMemory) -> str:
    """The parts of one ``InferenceMemory``, one per line, then its assumptions."""
    weights = f"Weights ({memory.dtype}"
    weights += f", scales {readable_bytes(memory.scale_bytes)})" if memory.scale_bytes else ")"
    cache = f"KV cache ({memory.kv_dtype}" if memory.has_cache else "KV cache (none returned"
    fixed, counters = memory.cache_fixed, memory.cache_counters
    if fixed:
        cache += f", incl. {readable_bytes(fixed)} {memory.cache_fixed_dtype} state"
    if counters:
        cache += f", incl. {readable_bytes(counters)} counters"
    cache += ")"
    rows = [
        (weights, readable_bytes(memory.weights)),
        ("Buffers", readable_bytes(memory.buffers)),
        (cache, readable_bytes(memory.kv_cache)),
        (f"Activations (prefill peak, {memory.compute_dtype})", readable_bytes(memory.activations)),
        ("Total", readable_bytes(memory.total)),
    ]
    lines = [f"Inference memory{_where(memory)}:", _rows(rows)]
    lines += [f"Assumed: {line}" for line in memory.assumptions]
    return "\n".join(lines)


# ------------------------------------------------------------------ sections
def params_section(plan: Plan) -> Table:
    """Parameters and FLOPs per token."""
    rows = [
        ("Params", f"{plan.total_params:,}"),
        ("Trainable params", f"{plan.trainable_params:,}"),
    ]
    if plan.active_params is not None:
        rows.append(("Active params per token", f"{plan.active_params:,}"))
    partial = "" if plan.flops_complete else " (partial)"
    rows += [
        ("Forward FLOPs per token", readable_count(plan.forward_flops_per_token) + partial),
        (
            "Training FLOPs per token (fwd+bwd)",
            readable_count(plan.training_flops_per_token) + partial,
        ),
    ]
    return Table(("Quantity", "Value"), tuple(rows), ("left", "right"), "Parameters and FLOPs")


def inference_section(plan: Plan) -> Table:
    """Inference memory: one row per part, one column per weight dtype, under one header."""
    memories = plan.inference
    first = memories[0] if memories else None
    cache = (
        f"KV cache ({first.kv_dtype})" if first is not None and first.has_cache
        else "KV cache (none returned)"
    )
    compute = first.compute_dtype if first is not None else ""
    parts: list[tuple[str, Callable[[InferenceMemory], str]]] = [
        ("Weights", lambda m: readable_bytes(m.weights)),
        ("  of which scales", lambda m: readable_bytes(m.scale_bytes) if m.scale_bytes else "--"),
        ("Buffers", lambda m: readable_bytes(m.buffers)),
        (cache, lambda m: readable_bytes(m.kv_cache)),
        (f"Activations (prefill peak, {compute})", lambda m: readable_bytes(m.activations)),
        ("Total", lambda m: readable_bytes(m.total)),
    ]
    if plan.shards > 1:
        parts.append(
            (f"Per GPU on {plan.shards} (tensor parallel)",
             lambda m: readable_bytes(plan.inference_per_gpu(m, plan.shards)))
        )
    if not any(m.scale_bytes for m in memories):
        parts = [part for part in parts if part[0] != "  of which scales"]
    rows = tuple((name, *(cell(m) for m in memories)) for name, cell in parts)
    headers = ("Part", *(f"weights {m.dtype}" for m in memories))
    title = f"Inference memory{_where(first) if first is not None else ''}"
    return Table(headers, rows, ("left", *("right" for _ in memories)), title)


def training_section(plan: Plan) -> Table:
    """The training step's memory, part by part (``TrainingMemory``)."""
    shards = f", {plan.shards} GPUs" if plan.shards > 1 else ""
    rows = [(name, readable_bytes(size)) for name, size in plan.training.parts()]
    if plan.shards > 1:
        rows.append((f"Per GPU with {plan.shards} shards (FSDP)",
                     readable_bytes(plan.training_per_gpu)))
    title = f"Training memory ({plan.training.optimizer}, bf16 mixed precision{shards})"
    return Table(("Part", "Bytes"), tuple(rows), ("left", "right"), title)


def fit_section(plan: Plan) -> Table:
    """GPUs needed per GPU model: for each setup, 1 (fits on one), the
    ``shards`` count (fits split over them) or ``-`` (fits on neither)."""
    fits = plan.fits()
    headers = ["Setup", "Memory"]
    if plan.shards > 1:
        headers.append(f"Per GPU of {plan.shards}")
    headers += [gpu.key for gpu in plan.gpus]
    rows = []
    for name, one, per_gpu in plan.setups():
        cells = [name, readable_bytes(one)]
        if plan.shards > 1:
            cells.append(readable_bytes(per_gpu))
        cells += [str(fits[name][gpu.key] or "-") for gpu in plan.gpus]
        rows.append(tuple(cells))
    shards = f" or {plan.shards} (--shards)" if plan.shards > 1 else ""
    title = (
        f"GPUs needed per GPU model, against its usable memory (1{shards}; - does not fit)"
    )
    return Table(tuple(headers), tuple(rows), ("left", *("right" for _ in headers[1:])), title)


#: The sections of a plan, in order: each turns a ``Plan`` into one ``Table``.
PLAN_SECTIONS: list[Callable[[Plan], Table]] = [
    params_section,
    inference_section,
    training_section,
    fit_section,
]


def plan_output(plan: Plan, speed: SpeedPlan | None = None) -> Output:
    """The plan as the output model: one table per section (then the speed
    bounds' table, when given), the assumptions as notes."""
    shards = f", {plan.shards} GPUs" if plan.shards > 1 else ""
    title = f"{plan.model} at context {plan.context:,}, batch {plan.batch:,}{shards}"
    notes = dict.fromkeys(
        [line for memory in plan.inference for line in memory.assumptions]
        + list(plan.assumptions)
    )
    models = "; ".join(f"{gpu.key} = {gpu.name}" for gpu in plan.gpus)
    tables = tuple(section(plan) for section in PLAN_SECTIONS)
    extra: tuple[str, ...] = ()
    if plan.checkpointing is not None:
        tables += (plan_table(plan.checkpointing),)
        if plan.checkpointing.paths:
            extra = (f"Checkpointing, applied:\n{plan.checkpointing.snippet()}",)
    data = plan.to_dict()
    if speed is not None:
        tables += (speed_section(speed),)
        extra += tuple(speed_notes(speed))
        data = {**data, "speed": speed.to_dict()}
    return Output(
        title,
        tables,
        (f"GPU models: {models}", *extra, *(f"Assumed: {line}" for line in notes)),
        data=data,
    )


def plan_text(plan: Plan) -> str:
    """A ``Plan`` as text: a header per section, each section's table under it."""
    return render_output(plan_output(plan), "text")


def render_plan(plan: Plan, fmt: str = "text", speed: SpeedPlan | None = None) -> str:
    """A plan in any format (``text``, ``json`` = ``Plan.to_dict`` with the
    speed bounds under ``"speed"``, ``csv``, ``html``, ``rich``,
    ``markdown``/``md``, any tabulate format), with ``speed``'s table when given.

    Raises:
        ValueError: ``fmt`` is unknown (the message suggests the closest name).
    """
    return render_output(plan_output(plan, speed), check_format(fmt))
