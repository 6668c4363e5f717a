"""Will it fit? Params, FLOPs per token, inference and training memory of one
model, and the GPUs (``gpus.PLAN_GPUS``) each setup fits on.

``plan()`` runs the model twice, on fake/meta tensors (nothing is computed or
allocated; a 70B model costs seconds): a training step (forward and a real
backward: FLOPs, saved activations, active parameters of a mixture of experts)
and one prefill forward with the cache (``inference.inference_memories``).

Across N GPUs:
    training   FSDP full sharding: params, gradients, optimizer state and master
               weights split N ways, activations per rank (``memory``)
    inference  tensor parallel: weights and KV cache split N ways; buffers and
               the prefill's activations kept whole on each GPU (an upper bound)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ._checks import check_count
from .api import training_flops
from .gpus import GPU, GPUS
from .inference import InferenceMemory, inference_memories
from .memory import TrainingMemory
from .recompute import CheckpointPlan
from .render.plan import plan_text, render_plan
from .speed import speed_plan

if TYPE_CHECKING:
    from .inputs import InputData, InputSize
    from .speed import SpeedPlan

INFERENCE_DTYPES = ("bfloat16", "int8", "int4")
#: What ``plan()`` runs, in order (the names its ``progress`` callback gets).
PLAN_STAGES = ("training step (forward and backward)", "inference prefill with the cache")
_ATTENTION = (
    "training activations: what autograd saves for backward, attention run as "
    "PyTorch's fused CPU kernel runs scaled_dot_product_attention (a model with "
    "eager attention saves its [batch, heads, T, T] probabilities too)"
)


@dataclass(frozen=True)
class Plan:
    """What ``plan()`` found (bytes, FLOPs; see module doc)."""

    model: str
    context: int
    batch: int
    shards: int
    total_params: int
    trainable_params: int
    active_params: int | None
    forward_flops_per_token: float
    training_flops_per_token: float
    flops_complete: bool
    inference: tuple[InferenceMemory, ...]
    training: TrainingMemory
    gpus: tuple[GPU, ...] = GPUS
    assumptions: tuple[str, ...] = ()
    # What to checkpoint to fit the training step in a budget (``checkpoint=``).
    checkpointing: CheckpointPlan | None = None
    # The forward as it ran (for speed.py): its fused bytes moved, and the
    # parameters and their bytes in the dtype it ran in.
    forward_fused_bytes: int = 0
    run_params: int = 0
    run_param_bytes: int = 0

    def inference_per_gpu(self, memory: InferenceMemory, gpus: int) -> int:
        """Bytes on each of ``gpus`` GPUs serving with tensor parallelism."""
        split = -(-(memory.weights + memory.kv_cache) // gpus)
        return split + memory.buffers + memory.activations

    @property
    def training_per_gpu(self) -> int:
        """One rank's training peak with ``shards`` ranks (the whole peak for 1)."""
        return self.training.total if self.shards == 1 else self.training.local_total

    def setups(self) -> list[tuple[str, int, int]]:
        """(name, bytes on one GPU, bytes per GPU on ``shards`` GPUs) per setup."""
        rows = [
            (f"inference {m.dtype}", m.total, self.inference_per_gpu(m, self.shards))
            for m in self.inference
        ]
        rows.append(("training Adam, bf16 mixed", self.training.total, self.training_per_gpu))
        return rows

    def fits(self) -> dict[str, dict[str, int | None]]:
        """setup -> GPU key -> GPUs needed: 1, ``shards``, or None (fits on neither),
        against each GPU's usable memory."""
        return {
            name: {
                gpu.key: 1 if one <= gpu.bytes else (
                    self.shards if self.shards > 1 and per_gpu <= gpu.bytes else None
                )
                for gpu in self.gpus
            }
            for name, one, per_gpu in self.setups()
        }

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data (schema ``summaryplus.plan/1``); bytes and FLOPs."""
        return {
            "schema": "summaryplus.plan/1",
            "model": self.model,
            "context": self.context,
            "batch": self.batch,
            "shards": self.shards,
            "params": {
                "total": self.total_params,
                "trainable": self.trainable_params,
                "active_per_token": self.active_params,
            },
            "flops_per_token": {
                "forward": self.forward_flops_per_token,
                "training": self.training_flops_per_token,
                "complete": self.flops_complete,
            },
            "inference": [
                {**memory.to_dict(), "per_gpu": self.inference_per_gpu(memory, self.shards)}
                for memory in self.inference
            ],
            "training": {
                **vars(self.training),
                "total": self.training.total,
                "local_total": self.training.local_total,
                "per_gpu": self.training_per_gpu,
            },
            "gpus": [{**g.to_dict(), "bytes": g.bytes} for g in self.gpus],
            "fits": self.fits(),
            "assumptions": list(self.assumptions),
            **(
                {}
                if self.checkpointing is None
                else {"checkpointing": self.checkpointing.to_dict()}
            ),
        }

    def speed(
        self, gpus: Sequence[str | GPU] | None = None, utilization: float = 0.9
    ) -> SpeedPlan:
        """Prefill and decode bounds and the largest context and batch per GPU
        (``summaryplus.speed.speed_plan``)."""

        return speed_plan(self, gpus, utilization)

    def __str__(self) -> str:

        return plan_text(self)

    def render(self, fmt: str = "text") -> str:
        """The plan in any format: ``text``, ``json``, ``csv``, ``html``, ``rich``,
        ``markdown``/``md`` or a tabulate format (``render.plan.render_plan``)."""

        return render_plan(self, fmt)


def plan(
    model: nn.Module,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    *,
    context: int,
    batch: int = 1,
    shards: int = 1,
    checkpoint: int | float | str | None = None,
    progress: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> Plan:
    """Params, FLOPs per token, inference memory in bf16/int8/int4 at ``context``
    x ``batch``, training memory (Adam, bf16 mixed precision, ``shards`` ranks)
    and the GPU sizes each fits on.

    Args:
        model: any model; built on the meta device, it costs no memory.
        input_size, input_data, dtypes, **kwargs: the inputs of one step of
            ``batch`` x ``context`` tokens, as for ``summary()``; default: token
            ids of shape ``(batch, context)``.
        context: tokens per sequence (FLOPs per token divide by batch x context).
        batch: sequences.
        shards: GPUs to split training (FSDP) and inference (tensor parallel) over.
        checkpoint: a training peak per GPU to fit (bytes, or ``"80GiB"``): adds
            the activation-checkpointing plan for it (``checkpointing``; see
            ``summaryplus.recompute``), in the training setup above.
        progress: called with the name of each of its ``PLAN_STAGES`` as it
            starts (the command line's progress bar); None: nothing is called.

    Raises:
        ValueError: a bad ``context``, ``batch``, ``shards`` or ``checkpoint``.
        SummaryError: a forward failed.

    Example:
        >>> from torch import nn
        >>> from summaryplus.plan import plan
        >>> model = nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100))
        >>> found = plan(model, context=32)
        >>> found.total_params, found.forward_flops_per_token  # 2 x 16 x 100
        (3300, 3200.0)
    """

    for value, argument in ((context, "context"), (batch, "batch"), (shards, "shards")):
        check_count(value, argument)
        if value == 0:
            raise ValueError(f"{argument}=0 is not valid; accepted values: an int >= 1")
    if input_size is None and input_data is None:
        input_size, dtypes = [(batch, context)], [torch.long]
    announce = progress or (lambda name: None)
    announce(PLAN_STAGES[0])
    step = training_flops(
        model, input_size=input_size, input_data=input_data, dtypes=dtypes, **kwargs
    )
    stats = step.statistics
    announce(PLAN_STAGES[1])
    memories = inference_memories(
        model, input_size, input_data, dtypes, INFERENCE_DTYPES,
        context=context, batch=batch, **kwargs,
    )
    training = stats.training_memory(
        "adam", mixed_precision=True, dtype="bfloat16", shards=shards if shards > 1 else None
    )
    checkpointing = None
    if checkpoint is not None:
        checkpointing = stats.checkpoint_plan(
            checkpoint, "adam", mixed_precision=True, dtype="bfloat16",
            shards=shards if shards > 1 else None,
        )
    tokens = batch * context
    return Plan(
        model=type(model).__name__,
        context=context,
        batch=batch,
        shards=shards,
        total_params=stats.total_params,
        trainable_params=stats.trainable_params,
        active_params=stats.active_params_per_token,
        forward_flops_per_token=step.forward_flops / tokens,
        training_flops_per_token=step.total_flops / tokens,
        flops_complete=not step.uncounted_ops,
        inference=tuple(memories),
        training=training,
        assumptions=(*stats.assumptions, _ATTENTION),
        checkpointing=checkpointing,
        forward_fused_bytes=stats.total_fused_bytes_moved,
        run_params=stats.total_params,
        run_param_bytes=stats.total_param_bytes,
    )
