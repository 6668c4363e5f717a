"""Inference memory: weights in a serving dtype, the KV cache and the prefill peak.

Parts (bytes):
    weights      every parameter once; in ``int8``/``int4`` the matmul weights
                 (parameters with 2 or more dimensions, outside embeddings and the
                 output head) are quantized and carry their scales, the rest
                 (embeddings, the output head, norms, biases) stay in the compute
                 dtype
    buffers      as held by the model (rotary tables, running statistics)
    kv_cache     the state the forward *returns* for its next step with
                 ``use_cache=True``, found by what it is, not by its name: a
                 transformers ``Cache``, any output the forward takes back as an
                 input (RWKV's ``state``, Mamba's and xLSTM's ``cache_params``,
                 ``past_key_values``), or the state of an RNN-style ``(output,
                 state)`` return. Counted tensor by tensor: grouped/multi-query
                 attention, sliding windows, compressed caches and recurrent (SSM)
                 states come out as the model's own code stores them, with no rule
                 per architecture. Tensors in the model's dtype are counted at
                 ``kv_dtype``; a state the model keeps in its own dtype whatever the
                 weights' (xLSTM's and RWKV's float32 accumulators) at that dtype;
                 integer bookkeeping (a cache's int64 token counter per layer) at its
                 size, included and stated (``cache_counters``). 0 when the forward
                 returns no state (an encoder)
    activations  the peak of the bytes one prefill forward holds alive, measured
                 op by op on meta/fake tensors (``capture.live_memory``), less the
                 cache it returns: the working memory on top of weights and cache
    total        weights + buffers + kv_cache + activations

NB: the prefill peak is taken to coincide with the full cache. In a decoder it
does (the last layers and the head run with every layer's cache written); it is
an upper bound otherwise.

Quantization (stated in ``assumptions``): ``int8`` keeps one compute-dtype scale
per output row (LLM.int8/per-channel absmax); ``int4`` keeps one compute-dtype
scale per ``group_size`` weights along the last (input) dimension, as GPTQ/AWQ
do (zero points not counted). Activations, unquantized weights and, unless
``kv_dtype`` says otherwise, the cache are in the compute dtype, ``bfloat16``
for ``int8``/``int4``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils._pytree import tree_map

from . import _tensors
from ._checks import check_count, check_dtype
from .capture import interpreter
from .capture.live_memory import LiveMemory
from .enums import Mode
from .inputs import ForwardInputs
from .memory import InferenceMemory as InferenceMemory
from .model_statistics import ModelStatistics
from .module_tree import ModuleTree
from .pipeline import drive
from .returned_state import (
    PROBE_DTYPE,
    ReturnedState,
    in_probe_dtype,
    probe_copy,
    returned_state,
)

if TYPE_CHECKING:
    from .inputs import InputData, InputSize

# Serving dtypes: bits per weight, and the dtype everything else computes in.
WEIGHT_DTYPES: dict[str, tuple[int, str]] = {
    "float32": (32, "float32"),
    "float16": (16, "float16"),
    "bfloat16": (16, "bfloat16"),
    "int8": (8, "bfloat16"),
    "int4": (4, "bfloat16"),
}
# KV cache dtypes: bytes per element (fp8 caches as vLLM and TensorRT-LLM keep them).
KV_DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float8": 1, "int8": 1}
DEFAULT_GROUP_SIZE = 128


def inference_memory(
    model: nn.Module | ModelStatistics,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    *,
    context: int | None = None,
    batch: int = 1,
    dtype: str | torch.dtype = "bfloat16",
    kv_dtype: str | torch.dtype | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
    **kwargs: Any,
) -> InferenceMemory:
    """Memory to serve ``model``: weights in ``dtype``, the KV cache measured from
    one prefill forward with ``use_cache=True``, and that forward's peak.

    The forward runs once on fake tensors (meta for a meta model): nothing is
    computed or allocated, the model is left as it was, and a 70B model costs
    seconds. With neither ``input_size`` nor ``input_data`` it gets ``batch`` x
    ``context`` token ids; ``use_cache=True`` and ``logits_to_keep=1`` (what
    ``generate()`` asks of a prefill) are passed when ``forward`` names them
    and ``kwargs`` does not.

    Args:
        model: the model (any device; a meta model costs nothing), or a live
            summary of one (its model runs on ``batch`` x ``context`` token ids;
            what ``stats.inference_memory(...)`` calls).
        input_size, input_data, dtypes, **kwargs: the prefill's inputs, as for
            ``summary()``; default: token ids of shape ``(batch, context)``.
        context: tokens per sequence (needed without inputs; a label otherwise).
        batch: sequences.
        dtype: weights: ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"int8"``
            or ``"int4"`` (these two compute in bfloat16).
        kv_dtype: the cache: ``"float32"``, ``"float16"``, ``"bfloat16"``,
            ``"float8"`` or ``"int8"``; default the compute dtype.
        group_size: int4 weights per scale.

    Returns:
        InferenceMemory: bytes per part and ``total``.

    Raises:
        ValueError: a dtype, ``context``, ``batch`` or ``group_size`` is not valid;
            a summary whose model did not take token ids.
        SummaryError: the forward failed.

    Example:
        >>> import torch, transformers
        >>> from summaryplus import inference_memory
        >>> config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128,
        ...     num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, vocab_size=100)
        >>> with torch.device("meta"):
        ...     model = transformers.LlamaForCausalLM(config)
        >>> memory = inference_memory(model, context=1024, batch=2)
        >>> # K and V x layers x kv heads x head dim x context x batch x 2 bytes (bf16)
        >>> memory.kv_cache == 2 * 2 * 2 * 16 * 1024 * 2 * 2
        True
    """
    if isinstance(model, ModelStatistics):
        return summary_inference_memory(model, context, batch, dtype, kv_dtype, group_size)
    return inference_memories(
        model, input_size, input_data, dtypes, (dtype,), context=context, batch=batch,
        kv_dtype=kv_dtype, group_size=group_size, **kwargs,
    )[0]


def inference_memories(
    model: nn.Module,
    input_size: InputSize | None,
    input_data: InputData | None,
    dtypes: Sequence[torch.dtype | type] | None,
    weight_dtypes: Sequence[str | torch.dtype],
    *,
    context: int | None = None,
    batch: int = 1,
    kv_dtype: str | torch.dtype | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
    **kwargs: Any,
) -> list[InferenceMemory]:
    """``inference_memory`` for each of ``weight_dtypes``, from one forward."""
    names = [check_dtype(dtype, "dtype", WEIGHT_DTYPES) for dtype in weight_dtypes]
    if kv_dtype is not None:
        check_dtype(kv_dtype, "kv_dtype", KV_DTYPES)
    for value, argument in ((batch, "batch"), (group_size, "group_size")):
        check_count(value, argument, smallest=1)
    check_count(
        context, "context", allow_none=input_size is not None or input_data is not None,
        smallest=1,
    )
    if input_size is None and input_data is None:
        input_size, dtypes = [(batch, int(context or 1))], [torch.long]
    probe, reference = _measure(model, input_size, input_data, dtypes, kwargs)
    cache = returned_state(probe.output, _forward_names(model), reference)
    probe.output = None
    memories = []
    for name in names:
        bits, compute = WEIGHT_DTYPES[name]
        cache_dtype = check_dtype(compute if kv_dtype is None else kv_dtype, "kv_dtype", KV_DTYPES)
        compute_size = KV_DTYPES[compute]
        weights = _weights(model, bits, compute_size, group_size)
        # The live-memory ledger counted every floating tensor at compute_size.
        kv_at_compute = cache.floating * compute_size + cache.counters
        memories.append(
            InferenceMemory(
                dtype=name,
                compute_dtype=compute,
                kv_dtype=cache_dtype,
                context=context,
                batch=batch,
                weights=weights.bytes,
                quantized_params=weights.quantized,
                unquantized_params=weights.unquantized,
                scale_bytes=weights.scales,
                buffers=weights.buffers,
                kv_cache=cache.follows * KV_DTYPES[cache_dtype] + cache.fixed + cache.counters,
                has_cache=cache.found,
                activations=max(0, probe.peak_bytes(compute_size) - kv_at_compute),
                assumptions=_assumptions(name, compute, group_size, cache),
                cache_counters=cache.counters,
                cache_fixed=cache.fixed,
                cache_fixed_dtype=", ".join(sorted(cache.fixed_dtypes)),
            )
        )
    return memories


def summary_inference_memory(
    stats: ModelStatistics,
    context: int | None,
    batch: int = 1,
    dtype: str | torch.dtype = "bfloat16",
    kv_dtype: str | torch.dtype | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
) -> InferenceMemory:
    """``inference_memory`` of the model a live summary holds, on ``batch`` x
    ``context`` token ids (``ModelStatistics.inference_memory``).

    Raises:
        ValueError: the summary has no model (loaded from JSON) or its model
            does not take token ids.
    """
    rows = getattr(stats, "summary_list", None) or []
    model = getattr(rows[0], "module", None) if rows else None
    if not isinstance(model, nn.Module):
        raise ValueError(
            "inference_memory() measures the KV cache and the prefill peak with a forward "
            "pass, which needs the model: a summary loaded from JSON has none; call "
            "summaryplus.inference_memory(model, context=...) instead"
        )
    taken = list(getattr(rows[0], "input_dtypes", None) or [])
    if taken and not taken[0].startswith(("int", "uint")):
        raise ValueError(
            f"inference_memory() runs the model on batch x context token ids, but this "
            f"summary's model took {taken[0]} inputs: call summaryplus.inference_memory("
            "model, input_data=...) with the prefill's inputs"
        )
    return inference_memory(
        model, context=context, batch=batch, dtype=dtype, kv_dtype=kv_dtype, group_size=group_size
    )


def _measure(
    model: nn.Module,
    input_size: Any,
    input_data: Any,
    dtypes: Sequence[torch.dtype | type] | None,
    kwargs: dict[str, Any],
) -> Any:
    """One eval forward on fake/meta tensors under ``LiveMemory``, of a meta copy
    of ``model`` in ``PROBE_DTYPE`` (see ``returned_state.probe_copy``); also returns the
    floating dtype that copy computes in."""
    named = _forward_names(model)
    copy = probe_copy(model)
    reference = next(
        (t.dtype for t in copy.parameters() if t.is_floating_point()), PROBE_DTYPE
    )
    extra = {
        key: value
        for key, value in (("use_cache", True), ("logits_to_keep", 1))
        if key in named and key not in kwargs
    }

    def in_probe_dtypes(inputs: ForwardInputs) -> None:
        # The copy computes in PROBE_DTYPE: so do its inputs.
        inputs.args, inputs.kwargs = tree_map(in_probe_dtype, (inputs.args, inputs.kwargs))

    probe = LiveMemory()
    with interpreter.adjusted():
        drive(
            copy, input_size, input_data, mode=Mode.EVAL, dtypes=dtypes, device="meta",
            kwargs={**kwargs, **extra}, probe=probe, private=copy is not model,
            adapt_inputs=in_probe_dtypes if copy is not model else None,
        )
    return probe, reference


def _forward_names(model: nn.Module) -> list[str]:
    """The names of ``model.forward``'s parameters, in order."""
    try:
        return list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return []


@dataclass
class _Weights:
    bytes: int = 0
    quantized: int = 0
    unquantized: int = 0
    scales: int = 0
    buffers: int = 0


def _weights(model: nn.Module, bits: int, compute_size: int, group_size: int) -> _Weights:
    """Weight bytes at ``bits`` per quantized weight (see module doc), each tensor once."""
    modules = ModuleTree(model).modules
    kept = _unquantized_tensors(model, modules)
    found = _Weights()
    seen: set[object] = set()
    for module in modules:
        for param in module._parameters.values():
            if param is None or _tensors.tensor_key(param) in seen:
                continue
            seen.add(_tensors.tensor_key(param))
            count = _tensors.numel(param)
            floating = param.is_floating_point()
            if bits >= 16 or param.dim() < 2 or _tensors.tensor_key(param) in kept:
                found.unquantized += count
                size = bits // 8 if bits >= 16 else compute_size
                found.bytes += count * size if floating else _tensors.nbytes(param)
                continue
            rows = count // max(1, int(param.shape[-1]))
            groups = -(-int(param.shape[-1]) // group_size) if bits == 4 else 1
            scales = rows * groups * compute_size
            found.quantized += count
            found.scales += scales
            found.bytes += -(-count * bits // 8) + scales
        for buffer in module._buffers.values():
            if buffer is not None and _tensors.tensor_key(buffer) not in seen:
                seen.add(_tensors.tensor_key(buffer))
                found.buffers += _tensors.nbytes(buffer)
    return found


def _unquantized_tensors(model: nn.Module, modules: Sequence[nn.Module]) -> set[object]:
    """Embeddings and the output head: quantizers keep them in the compute dtype."""
    kept: list[nn.Module] = [m for m in modules if isinstance(m, (nn.Embedding, nn.EmbeddingBag))]
    head = getattr(model, "get_output_embeddings", None)
    output = head() if callable(head) else None
    if isinstance(output, nn.Module):
        kept.append(output)
    return {
        _tensors.tensor_key(param)
        for module in kept
        for param in module._parameters.values()
        if param is not None
    }


def _assumptions(
    dtype: str, compute: str, group_size: int, cache: ReturnedState
) -> tuple[str, ...]:
    lines = []
    if dtype == "int8":
        lines.append(
            f"int8: matmul weights 1 byte + one {compute} scale per output row; "
            f"embeddings, output head, norms and biases in {compute}"
        )
    elif dtype == "int4":
        lines.append(
            f"int4: matmul weights 4 bits + one {compute} scale per {group_size} weights; "
            f"embeddings, output head, norms and biases in {compute}"
        )
    if not cache.found:
        lines.append("KV cache 0: the forward returned no cache (e.g. an encoder)")
    if cache.fixed:
        held = ", ".join(sorted(cache.fixed_dtypes))
        lines.append(
            f"KV cache: {cache.fixed:,} B of it is state the model's code keeps in {held} "
            "whatever the weights' dtype"
        )
    if cache.counters:
        lines.append(
            f"KV cache: includes {cache.counters:,} B of integer bookkeeping (the cache's "
            "token counters), bytes the server holds"
        )
    return tuple(lines)
