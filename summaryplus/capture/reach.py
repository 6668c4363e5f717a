"""What a training step's backward would reach, read from the autograd graph of
one forward's outputs: the parameters that get gradients, and the bytes the
outputs hold at backward start (themselves and their gradients).

Read while the forward's outputs and the recorder's saved-tensor keys are
alive (``forward.capture_forward``), without running a backward.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .._tensors import storage_key, storage_nbytes
from ..values import iter_tensors

# Backward nodes of reentrant checkpointing (``use_reentrant=True``): their
# forward ran without a graph, so the parameters they use appear only when the
# backward recomputes them.
_OPAQUE_NODES = frozenset({"CheckpointFunctionBackward"})


@dataclass(frozen=True)
class GraphLeaves:
    """The leaves of an autograd graph that require grad (``variable`` of each
    ``AccumulateGrad`` node), and whether the graph holds nodes whose leaves
    show only in the backward (reentrant checkpointing)."""

    leaves: list[torch.Tensor]
    opaque: bool


def graph_leaves(roots: Iterable[torch.Tensor]) -> GraphLeaves:
    """The leaves reached from ``roots`` (trainable parameters, real or fake,
    and inputs that require grad; never frozen ones), each node once."""
    leaves: list[torch.Tensor] = []
    opaque = False
    seen: set[Any] = set()
    pending = [root.grad_fn for root in roots if root.grad_fn is not None]
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # AccumulateGrad holds its leaf
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
        elif type(node).__name__ in _OPAQUE_NODES:
            opaque = True
        pending.extend(child for child, _ in node.next_functions if child is not None)
    return GraphLeaves(leaves, opaque)


def is_cache_key(key: object) -> bool:
    """A transformers output field that holds the decode cache (``past_key_values``,
    ``cache_params``, ``mems``...): the next step's input, never a loss term."""
    text = str(key).lower()
    return "cache" in text or "past_key_values" in text


def cache_values(output: Any) -> list[Any]:
    """The caches in a forward's output: what a mapping (a transformers
    ``ModelOutput``) names a cache, or a transformers ``Cache`` object
    returned as is (in a tuple or alone)."""
    if isinstance(output, Mapping):
        return [value for key, value in output.items() if value is not None and is_cache_key(key)]
    values = output if isinstance(output, (list, tuple)) else [output]
    return [value for value in values if type(value).__name__.endswith("Cache")]


def loss_terms(output: Any) -> list[torch.Tensor]:
    """The outputs a loss can be built from, so the ones that get gradients:
    floating (or complex) tensors that require grad, outside the caches, each
    tensor object once."""
    cached = {id(tensor) for tensor in iter_tensors(cache_values(output))}
    terms: dict[int, torch.Tensor] = {}
    for tensor in iter_tensors(output):
        if (
            id(tensor) not in cached
            and tensor.requires_grad
            and (tensor.is_floating_point() or tensor.is_complex())
        ):
            terms.setdefault(id(tensor), tensor)
    return list(terms.values())


@dataclass(frozen=True)
class OutputMemory:
    """Bytes the forward's outputs add at backward start.

    Attributes:
        held_bytes: storages of the outputs not already counted as saved
            activations, parameters, buffers or inputs (each storage once).
        grad_bytes: one gradient per output a loss is built from
            (``loss_terms``), in the output's dtype and shape.
    """

    held_bytes: int
    grad_bytes: int


def output_memory(output: Any, counted: set[int]) -> OutputMemory:
    """``OutputMemory`` of ``output``; ``counted``: the storage keys already
    accounted for (the recorder's saved activations and excluded tensors)."""
    seen = set(counted)
    held = 0
    for tensor in iter_tensors(output):
        if tensor.is_nested:
            continue  # NB: a nested output's bytes stay in output_bytes only
        key = storage_key(tensor)
        if key not in seen:
            seen.add(key)
            held += storage_nbytes(tensor)
    grads = sum(
        int(t.numel()) * int(t.element_size()) for t in loss_terms(output) if not t.is_nested
    )
    return OutputMemory(held, grads)


def reached_parameters(output: Any) -> tuple[set[int], bool]:
    """Ids of the leaves a backward from the loss terms reaches, and whether
    the graph is opaque (see ``GraphLeaves``)."""
    found = graph_leaves(loss_terms(output))
    return {id(leaf) for leaf in found.leaves}, found.opaque
