"""Training-step memory estimate, built from a summary's measured numbers.

Parts (bytes):
    params          every parameter, in its own dtype
    gradients       one gradient per trainable parameter the forward's outputs
                    reach in the autograd graph (the others, e.g. of modules
                    that never ran, get none: ``no_gradient`` names them), in
                    the parameter's dtype
    optimizer_state the optimizer's per-parameter state for those same parameters
                    (Adam/AdamW: exp_avg and exp_avg_sq; SGD with momentum: one
                    buffer; fp32 when mixed precision keeps fp32 master weights)
    master_weights  fp32 copies of trainable parameters (mixed precision only)
    activations     bytes autograd saved for backward, measured in the forward
    outputs         the model's outputs not already saved as activations, and the
                    gradients of those a loss is built from (not of a returned
                    cache, integer or detached outputs), alive as backward starts
    buffers, inputs as held on the device

A training step peaks in one of two phases, and ``total`` is the larger:
    backward start: resident + activations + outputs + the largest gradient
                    (every activation is still held when gradients start to appear)
    optimizer step: resident + gradients (activations are freed by then)
where resident = params + optimizer_state + master_weights + buffers + inputs.

Under sharding (parameters that are DTensors, or ``shards=N`` to plan for FSDP
full sharding) the ``local_*`` parts are one rank's share of params, gradients,
optimizer state and master weights, and ``local_total`` is the rank's peak by
the same two phases (activations, outputs, buffers and inputs are the rank's own).
NB: FSDP also all-gathers one unit's parameters at a time; that transient is
not included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ._checks import check_dtype
from .render.plan import inference_table
from .units import readable_bytes

if TYPE_CHECKING:
    import torch

    from .records import SummaryLike

# Per-parameter state tensors kept by each optimizer (torch.optim defaults).
OPTIMIZER_STATES = {
    "adam": 2,
    "adamw": 2,
    "sgd": 0,
    "rmsprop": 1,
    "adagrad": 1,
    "none": 0,
}

_FP32_BYTES = 4
# Parameter dtypes a training step can be planned in, and their element sizes.
TRAINING_DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2}


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step, part by part (see module docstring)."""

    optimizer: str
    params: int
    gradients: int
    optimizer_state: int
    master_weights: int
    activations: int
    outputs: int
    largest_gradient: int
    buffers: int
    inputs: int
    local_params: int = 0
    local_gradients: int = 0
    local_optimizer_state: int = 0
    local_master_weights: int = 0
    dtype: str | None = None
    # Trainable parameters the forward's outputs do not reach: no gradient,
    # no optimizer state (names).
    no_gradient: tuple[str, ...] = ()

    @property
    def resident(self) -> int:
        """What stays on the device for the whole step."""
        return self.params + self.optimizer_state + self.master_weights + self.buffers + self.inputs

    @property
    def backward_peak(self) -> int:
        return self.resident + self.activations + self.outputs + self.largest_gradient

    @property
    def step_peak(self) -> int:
        return self.resident + self.gradients

    @property
    def total(self) -> int:
        """The estimated peak of a training step: the larger of its two phases."""
        return max(self.backward_peak, self.step_peak)

    @property
    def local_total(self) -> int:
        """One rank's estimated peak when parameters are sharded (see module doc)."""
        resident = (
            self.local_params
            + self.local_optimizer_state
            + self.local_master_weights
            + self.buffers
            + self.inputs
        )
        backward = resident + self.activations + self.outputs + self.largest_gradient
        return max(backward, resident + self.local_gradients)

    def parts(self) -> list[tuple[str, int]]:
        """(label, bytes) of every part, then the two peaks and the total."""
        return [
            (f"Params ({self.dtype})" if self.dtype else "Params", self.params),
            ("Gradients", self.gradients),
            (f"Optimizer state ({self.optimizer})", self.optimizer_state),
            ("Master weights (fp32)", self.master_weights),
            ("Activations (saved for backward)", self.activations),
            ("Outputs and their gradients", self.outputs),
            ("Buffers", self.buffers),
            ("Inputs", self.inputs),
            ("Peak at backward start", self.backward_peak),
            ("Peak at optimizer step", self.step_peak),
            ("Total (estimated peak)", self.total),
        ]

    def __str__(self) -> str:
        parts = self.parts()
        width = max(len(name) for name, _ in parts)
        lines = [f"{name:<{width}}  {readable_bytes(size):>12}" for name, size in parts]
        if self.no_gradient:
            names = unused_names(self.no_gradient)
            lines.append(f"Trainable but no gradient (not reached): {names}")
        return "\n".join(lines)


def estimate_training_memory(
    stats: SummaryLike,
    optimizer: str = "adam",
    *,
    momentum: float = 0.0,
    mixed_precision: bool = False,
    shards: int | None = None,
    dtype: str | torch.dtype | None = None,
) -> TrainingMemory:
    """See ``SummaryViews.training_memory`` (``stats.training_memory``)."""

    name = optimizer.lower() if isinstance(optimizer, str) else optimizer
    if name not in OPTIMIZER_STATES:
        accepted = ", ".join(repr(key) for key in OPTIMIZER_STATES)
        raise ValueError(f"optimizer={optimizer!r} is not known; accepted values: {accepted}")
    if not isinstance(momentum, (int, float)) or momentum < 0:
        raise ValueError(f"momentum must be a number >= 0, got {momentum!r}")
    if not stats.grad_enabled:
        raise ValueError(
            "training_memory() needs the activations saved for backward, which are "
            "measured only when the summary runs with gradients: call "
            "summary(..., mode='train')"
        )
    if shards is not None and (
        not isinstance(shards, int) or isinstance(shards, bool) or shards < 1
    ):
        raise ValueError(f"shards must be an int >= 1, got {shards!r}")
    planned = None if dtype is None else check_dtype(dtype, "dtype", TRAINING_DTYPES)
    # NB: a planned dtype rescales by the ratio of element sizes, taking the
    # summary's parameters and saved activations to share one float dtype.
    own = stats.total_param_bytes / stats.total_params if stats.total_params else 1.0
    scale = TRAINING_DTYPES[planned] / own if planned else 1.0
    states = OPTIMIZER_STATES[name] + (1 if name == "sgd" and momentum > 0 else 0)
    trainable = stats.trainable_params
    taking_part = _gradient_params(stats)
    state_bytes = _FP32_BYTES if mixed_precision else None
    per_state = (
        taking_part.params * state_bytes
        if state_bytes
        else round(taking_part.param_bytes * scale)
    )
    params = round(stats.total_param_bytes * scale)
    gradients = round(taking_part.param_bytes * scale)
    optimizer_state = states * per_state
    # NB: fp32 master copies are made for every trainable parameter when the
    # optimizer is built, whether or not a step gives it a gradient.
    master = trainable * _FP32_BYTES if mixed_precision else 0
    if shards is not None:
        share = _share(shards)
        local = (share(params), share(gradients), share(optimizer_state), share(master))
    else:
        # The real shards: local / global bytes of the parameters concerned.
        own_gradients = taking_part.param_bytes
        fraction = taking_part.local_param_bytes / own_gradients if own_gradients else 1.0
        own_trainable = stats.trainable_param_bytes
        master_fraction = (
            stats.local_trainable_param_bytes / own_trainable if own_trainable else 1.0
        )
        local = (
            round(stats.local_param_bytes * scale),
            round(taking_part.local_param_bytes * scale),
            round(optimizer_state * fraction),
            round(master * master_fraction),
        )
    return TrainingMemory(
        optimizer=name if not (name == "sgd" and momentum > 0) else "sgd+momentum",
        params=params,
        gradients=gradients,
        optimizer_state=optimizer_state,
        master_weights=master,
        activations=round(stats.activation_bytes * scale),
        outputs=round(_output_bytes(stats) * scale),
        largest_gradient=round(taking_part.largest_bytes * scale),
        buffers=stats.total_buffer_bytes,
        inputs=stats.total_input,
        local_params=local[0],
        local_gradients=local[1],
        local_optimizer_state=local[2],
        local_master_weights=local[3],
        dtype=planned,
        no_gradient=tuple(stats.unused_trainable_params),
    )


@dataclass(frozen=True)
class _TakingPart:
    """The trainable parameters a step gives gradients (all trainable ones for
    a summary saved before this was measured)."""

    params: int
    param_bytes: int
    largest_bytes: int
    local_param_bytes: int


def _gradient_params(stats: SummaryLike) -> _TakingPart:
    if stats.gradient_params is None or stats.gradient_param_bytes is None:
        return _TakingPart(
            stats.trainable_params,
            stats.trainable_param_bytes,
            stats.largest_trainable_param_bytes,
            stats.local_trainable_param_bytes,
        )
    return _TakingPart(
        stats.gradient_params,
        stats.gradient_param_bytes,
        stats.largest_gradient_bytes or 0,
        stats.local_gradient_param_bytes or 0,
    )


def _output_bytes(stats: SummaryLike) -> int:
    """The outputs beyond the saved activations, plus the gradients of those a
    loss is built from; a summary saved before these were measured: every
    output twice."""
    held, grads = stats.output_held_bytes, stats.output_grad_bytes
    if held is not None and grads is not None:
        return held + grads
    return 2 * stats.summary_list[0].output_bytes if stats.summary_list else 0


def unused_names(names: tuple[str, ...], shown: int = 8) -> str:
    """``a.weight, a.bias`` (the first ``shown`` names, then how many more)."""
    listed = ", ".join(names[:shown])
    more = len(names) - shown
    return f"{listed} and {more} more" if more > 0 else listed


def no_gradient_lines(stats: SummaryLike) -> list[tuple[str, str]]:
    """The table's footer line naming the trainable parameters that get no
    gradient (none when all do, or when that was not measured)."""
    if not stats.unused_trainable_params or stats.gradient_params is None:
        return []
    count = stats.trainable_params - stats.gradient_params
    names = unused_names(stats.unused_trainable_params)
    reason = f"{count:,} (not reached by the outputs: {names})"
    return [("Trainable params with no gradient", reason)]


def _share(shards: int) -> Callable[[int], int]:
    # NB: FSDP pads each tensor to a multiple of the rank count; rounding up the
    # total is within one element per tensor of that.
    return lambda size: -(-size // shards)


@dataclass(frozen=True)
class InferenceMemory:
    """Bytes to serve a model at ``context`` tokens x ``batch`` sequences (see module doc)."""

    dtype: str
    compute_dtype: str
    kv_dtype: str
    context: int | None
    batch: int | None
    weights: int
    quantized_params: int
    unquantized_params: int
    scale_bytes: int
    buffers: int
    kv_cache: int
    has_cache: bool
    activations: int
    assumptions: tuple[str, ...] = field(default=())
    #: Bytes of the cache's integer bookkeeping (token counters), included in ``kv_cache``.
    cache_counters: int = 0
    #: Bytes of cache state the model holds in a fixed dtype, included in ``kv_cache``.
    cache_fixed: int = 0
    #: That dtype (or dtypes, comma-separated): "float32" for RWKV's and Mamba's state.
    cache_fixed_dtype: str = ""

    @property
    def total(self) -> int:
        """Weights, buffers, KV cache and the prefill's working memory."""
        return self.weights + self.buffers + self.kv_cache + self.activations

    def to_dict(self) -> dict[str, Any]:
        """Every part as plain data, ``total`` included (bytes)."""
        return {**asdict(self), "assumptions": list(self.assumptions), "total": self.total}

    def __str__(self) -> str:
        return inference_table(self)
