"""What a deployment carries beyond the weights it trains: frozen parameters,
large buffers, and the same large buffer (a [T, T] mask) registered per layer."""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, Tensor, listed, mb, owning_rows
from .registry import Finding, rule

# Buffers from this size (each) count as large; BatchNorm statistics of even
# 2048 channels are 8 kB.
LARGE_BUFFER_BYTES = 256 * 2**10
# Buffers are worth a note from this total and share of the parameter bytes.
MIN_BUFFER_BYTES = 2**20
MIN_BUFFER_SHARE = 0.01


@rule("frozen-parameters", title="frozen parameters a deployment carries", needs_model=False)
def frozen_parameters(context: Context) -> Iterator[Finding]:
    summary = context.summary
    frozen = summary.non_trainable_params
    if frozen <= 0 or summary.trainable_params <= 0:
        return  # all trainable, or an inference model (everything frozen)
    frozen_bytes = summary.total_param_bytes - summary.trainable_param_bytes
    yield Finding(
        "frozen-parameters",
        "note",
        f"{frozen:,} of {summary.total_params:,} parameters are frozen "
        f"(requires_grad=False, {mb(frozen_bytes)}): every checkpoint and deployment "
        "carries them though training never changes them",
        "save and ship only the trained parameters (adapters) when the frozen base is "
        "shared, or merge adapters into the base for serving",
        rows=(),
        evidence={"frozen_params": frozen, "frozen_bytes": frozen_bytes,
                  "trainable_params": summary.trainable_params},
    )


def _large(context: Context) -> list[Tensor]:
    return [e for e in context.buffers if e.tensor.nbytes >= LARGE_BUFFER_BYTES]


@rule("repeated-buffers", title="the same large buffer registered per layer", needs_model=True)
def repeated_buffers(context: Context) -> Iterator[Finding]:
    groups: dict[tuple[tuple[int, ...], str], list[str]] = {}
    large = _large(context)
    for entry in large:
        groups.setdefault((tuple(entry.tensor.shape), str(entry.tensor.dtype)), []).append(
            entry.name
        )
    for (shape, dtype), names in groups.items():
        if len(names) < 2:
            continue
        each = next(e.tensor.nbytes for e in large if e.name == names[0])
        yield Finding(
            "repeated-buffers",
            "warning",
            f"{len(names)} buffers of shape {list(shape)} ({dtype.removeprefix('torch.')}, "
            f"{mb(each)} each, {mb(each * len(names))} in all) are registered one per "
            f"module: {listed(names)}",
            "register one and share it between the layers, or build it in forward "
            "(a causal mask: scaled_dot_product_attention(..., is_causal=True))",
            rows=owning_rows(names),
            params=tuple(names),
            evidence={"shape": list(shape), "dtype": dtype, "count": len(names),
                      "bytes_each": each, "bytes": each * len(names)},
        )


@rule("large-buffers", title="large persistent buffers shipped with the model", needs_model=True)
def large_buffers(context: Context) -> Iterator[Finding]:
    non_persistent = context.tree.non_persistent_buffer_names()
    kept = [e for e in _large(context) if e.name not in non_persistent]
    size = sum(e.tensor.nbytes for e in kept)
    params = context.summary.total_param_bytes
    if kept and size >= max(MIN_BUFFER_BYTES, MIN_BUFFER_SHARE * params):
        names = [e.name for e in sorted(kept, key=lambda e: -e.tensor.nbytes)]
        yield Finding(
            "large-buffers",
            "note",
            f"{len(names)} large persistent buffer(s) ({mb(size)}, "
            f"{size / params:.1%} of the parameter bytes) are saved in every state_dict "
            f"and shipped with the model: {listed(names)}",
            "register buffers that can be rebuilt (masks, tables) with persistent=False, "
            "or compute them in forward",
            rows=owning_rows(names),
            params=tuple(names),
            evidence={"buffers": len(names), "bytes": size, "param_bytes": params},
        )
