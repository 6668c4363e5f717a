"""Will it be fast? Prefill and decode bounds of a ``Plan`` per GPU, and the
largest context and batch each GPU holds.

Per GPU and serving setup (bf16, int8 and int4 weights; fp8 where the GPU has
an fp8 rate), from the plan's measured numbers at ``context`` x ``batch``:

    prefill  >= max(FLOPs / dense peak, (weights + KV cache) / bandwidth)
             FLOPs = forward FLOPs of the batch x context tokens (2 x MACs);
             the peak is bf16's (int8/int4 are weight-only: they compute in
             bf16), fp8's for the fp8 setup
    decode   <= batch x bandwidth / bytes per step, tokens/s (all sequences)
             bytes per step = weights (once) + the KV cache at that context +
             the step's activations (batch x activation bytes per token)

Inverse planning, at ``utilization`` of each GPU's usable memory:

    memory(C, B) = weights + buffers + ceil(per_token x C x B)
    per_token    = (KV cache + prefill activations) / (context x batch), measured

so the largest context at batch 1 (a multiple of ``block`` tokens) and the
largest batch at ``context`` are the largest that keep memory(C, B) within
budget. The cache is measured, not derived from a formula per architecture:
grouped-query, multi-latent and compressed caches come out as the model stores
them. NB: the per-token rate is linear from the measurement at ``context``:
exact for full-attention caches, conservative (too large) for sliding-window
caches past their window and for recurrent states, whose size stops growing.

Bounds are bounds, not predictions: measured decode reaches roughly half to
four fifths of the bandwidth bound, prefill half to four fifths of the compute
bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .gpus import GPU, get_gpu
from .render.speed import speed_text

if TYPE_CHECKING:
    from .memory import InferenceMemory
    from .plan import Plan

__all__ = ["SpeedPlan", "SpeedRow", "speed_plan"]

DEFAULT_UTILIZATION = 0.9
#: Context lengths are whole blocks of this many tokens (vLLM's KV block).
BLOCK = 16
_SETUPS = {"bfloat16": "bf16", "int8": "int8", "int4": "int4"}


@dataclass(frozen=True)
class SpeedRow:
    """One GPU and one serving setup.

    Attributes:
        gpu: the GPU's key.
        setup: ``"bf16"``, ``"int8"``, ``"int4"`` (weights; compute in bf16) or
            ``"fp8"`` (weights and compute in fp8, int8's bytes).
        prefill_flops, prefill_bytes: what the prefill bound divides.
        prefill_seconds: the prefill's lower bound (None without a peak).
        prefill_bound_by: ``"compute"`` or ``"memory"``.
        decode_bytes: bytes read per decode step.
        decode_tokens_per_second: upper bound, all ``batch`` sequences together.
        memory: bytes at ``context`` x ``batch``.
        budget: ``utilization`` x the GPU's usable bytes.
        max_context: the largest context at batch 1 within budget (0: the
            weights alone do not fit).
        max_batch: the largest batch at ``context`` within budget.
    """

    gpu: str
    setup: str
    prefill_flops: int
    prefill_bytes: int
    prefill_seconds: float | None
    prefill_bound_by: str
    decode_bytes: int
    decode_tokens_per_second: float
    memory: int
    budget: int
    max_context: int
    max_batch: int

    @property
    def fits(self) -> bool:
        return self.memory <= self.budget


@dataclass(frozen=True)
class SpeedPlan:
    """Prefill/decode bounds and inverse planning of a plan (see module doc)."""

    model: str
    context: int
    batch: int
    utilization: float
    block: int
    gpus: tuple[GPU, ...]
    rows: tuple[SpeedRow, ...]
    kv_bytes_per_token: dict[str, float]
    activation_bytes_per_token: float

    def row(self, gpu: str, setup: str) -> SpeedRow:
        """The row of one GPU key and setup."""
        for row in self.rows:
            if row.gpu == gpu and row.setup == setup:
                return row
        raise KeyError((gpu, setup))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (schema ``summaryplus.speed/1``): bytes, seconds, tokens/s."""
        return {
            "schema": "summaryplus.speed/1",
            "model": self.model,
            "context": self.context,
            "batch": self.batch,
            "utilization": self.utilization,
            "block": self.block,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "activation_bytes_per_token": self.activation_bytes_per_token,
            "gpus": [gpu.to_dict() for gpu in self.gpus],
            "rows": [{**vars(row), "fits": row.fits} for row in self.rows],
        }

    def __str__(self) -> str:

        return speed_text(self)


def memory_at(memory: InferenceMemory, measured_tokens: int, context: int, batch: int) -> int:
    """Bytes of ``memory``'s setup at ``context`` x ``batch``, scaling the cache
    and the prefill activations measured over ``measured_tokens`` tokens."""
    per_token = Fraction(memory.kv_cache + memory.activations, measured_tokens)
    grown = per_token * context * batch
    return memory.weights + memory.buffers + -(-grown.numerator // grown.denominator)


def largest_context(memory: InferenceMemory, measured_tokens: int, budget: int, block: int) -> int:
    """The largest multiple of ``block`` tokens whose batch-1 memory is within ``budget``."""
    fixed = memory.weights + memory.buffers
    per_token = Fraction(memory.kv_cache + memory.activations, measured_tokens)
    if fixed > budget:
        return 0
    if per_token == 0:
        return -1  # no growth with context: unbounded by memory
    blocks = int((budget - fixed) / (per_token * block))
    while blocks > 0 and memory_at(memory, measured_tokens, blocks * block, 1) > budget:
        blocks -= 1  # the ceil in memory_at
    return blocks * block


def largest_batch(memory: InferenceMemory, measured_tokens: int, budget: int, context: int) -> int:
    """The largest batch of ``context``-token sequences within ``budget``."""
    fixed = memory.weights + memory.buffers
    per_sequence = Fraction(memory.kv_cache + memory.activations, measured_tokens) * context
    if fixed > budget:
        return 0
    if per_sequence == 0:
        return -1
    batch = int((budget - fixed) / per_sequence)
    while batch > 0 and memory_at(memory, measured_tokens, context, batch) > budget:
        batch -= 1
    return batch


def speed_plan(
    plan: Plan,
    gpus: Sequence[str | GPU] | None = None,
    utilization: float = DEFAULT_UTILIZATION,
    block: int = BLOCK,
) -> SpeedPlan:
    """Prefill and decode bounds and the largest context and batch, per GPU.

    Args:
        plan: a ``plan()`` result (its inference memories and FLOPs).
        gpus: keys of the hardware table or ``GPU``s; None: the plan's own.
        utilization: the share of each GPU's usable memory to plan for (0 to 1].
        block: context lengths are multiples of this many tokens.

    Raises:
        ValueError: a bad ``utilization`` or ``block``, an unknown GPU.

    Example:
        >>> from torch import nn
        >>> from summaryplus.plan import plan
        >>> found = plan(nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100)), context=32)
        >>> speed_plan(found, ["h100-sxm"]).row("h100-sxm", "bf16").prefill_flops
        102400
    """
    if isinstance(utilization, bool) or not isinstance(utilization, (int, float)) or not (
        0 < utilization <= 1
    ):
        raise ValueError(f"utilization={utilization!r} is not valid; accepted values: "
                         "a number > 0 and <= 1")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block={block!r} is not valid; accepted values: an int >= 1")
    cards = tuple(get_gpu(gpu) for gpu in gpus) if gpus is not None else tuple(plan.gpus)
    tokens = plan.context * plan.batch
    flops = round(plan.forward_flops_per_token * tokens)
    activation_per_token = _activation_bytes_per_token(plan)
    memories = {memory.dtype: memory for memory in plan.inference}
    rows: list[SpeedRow] = []
    for gpu in cards:
        budget = int(gpu.usable * utilization)
        setups = [(name, memories[dtype], "bf16") for dtype, name in _SETUPS.items()
                  if dtype in memories]  # fmt: skip
        if gpu.peak("fp8") is not None and "int8" in memories:
            setups.append(("fp8", memories["int8"], "fp8"))
        for name, memory, compute in setups:
            rows.append(_row(gpu, name, memory, compute, plan, flops, tokens,
                             activation_per_token, budget, block))  # fmt: skip
    kv = {memory.dtype: memory.kv_cache / tokens for memory in plan.inference}
    return SpeedPlan(plan.model, plan.context, plan.batch, float(utilization), block, cards,
                     tuple(rows), kv, activation_per_token)  # fmt: skip


def _row(
    gpu: GPU, setup: str, memory: InferenceMemory, compute: str, plan: Plan, flops: int,
    tokens: int, activation_per_token: float, budget: int, block: int,
) -> SpeedRow:  # fmt: skip
    prefill_bytes = memory.weights + memory.kv_cache
    peak = gpu.peak(compute)
    memory_time = prefill_bytes / gpu.bandwidth
    compute_time = flops / peak if peak else None
    if compute_time is None:
        prefill, bound_by = None, "memory"
    else:
        prefill = max(compute_time, memory_time)
        bound_by = "compute" if compute_time >= memory_time else "memory"
    step = memory.weights + memory.kv_cache + round(activation_per_token * plan.batch)
    return SpeedRow(
        gpu=gpu.key, setup=setup, prefill_flops=flops, prefill_bytes=prefill_bytes,
        prefill_seconds=prefill, prefill_bound_by=bound_by, decode_bytes=step,
        decode_tokens_per_second=plan.batch * gpu.bandwidth / step,
        memory=memory_at(memory, tokens, plan.context, plan.batch), budget=budget,
        max_context=largest_context(memory, tokens, budget, block),
        max_batch=largest_batch(memory, tokens, budget, plan.context),
    )  # fmt: skip


def _activation_bytes_per_token(plan: Plan) -> float:
    """Bytes one decode step reads and writes for each sequence besides weights
    and cache: the prefill forward's fused bytes less its weight reads, per
    token, in bf16 (scaled from the dtype the forward ran in)."""
    if not plan.forward_fused_bytes or not plan.run_params:
        return 0.0
    run_size = plan.run_param_bytes / plan.run_params  # bytes per value as it ran
    moved = max(plan.forward_fused_bytes - plan.run_param_bytes, 0)
    return moved / (plan.context * plan.batch) * 2 / run_size
