"""Text of the memory plans: ``InferenceMemory`` and ``Plan`` as aligned tables,
bytes scaled by ``render.units``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .units import readable_bytes

if TYPE_CHECKING:
    from ..inference import InferenceMemory


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
