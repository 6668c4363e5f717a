"""Size: a model whose training state alone is over one GPU's memory."""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, mb
from .registry import Finding, rule

#: Bytes per trainable parameter of a bf16 mixed-precision Adam step: bf16
#: weight and gradient (2 + 2) and fp32 master weight, exp_avg, exp_avg_sq (12).
BYTES_PER_PARAM = 16
#: The memory of the GPU a model must fit: 80 GiB (A100 80GB, H100).
GPU_BYTES = 80 * 2**30


@rule("exceeds-one-gpu", title="training state over one 80 GB GPU", needs_model=False)
def exceeds_one_gpu(context: Context) -> Iterator[Finding]:
    trainable = context.summary.trainable_params
    state = trainable * BYTES_PER_PARAM
    if state <= GPU_BYTES:
        return
    gpus = -(-state // GPU_BYTES)
    yield Finding(
        "exceeds-one-gpu",
        "warning",
        f"{trainable:,} trainable parameters need {mb(state)} for weights, gradients and "
        f"Adam state alone (bf16 mixed precision, {BYTES_PER_PARAM} B/param), over one "
        f"80 GB GPU (at least {gpus} sharded, before activations)",
        "shard training (FSDP): `summaryplus plan MODEL --shards N` gives the GPUs each "
        "setup needs, and stats.checkpoint_plan(budget=..., shards=N) what to checkpoint",
        evidence={"trainable_params": trainable, "bytes": state, "gpu_bytes": GPU_BYTES,
                  "min_gpus": gpus},
    )
