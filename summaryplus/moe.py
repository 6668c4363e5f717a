"""Mixture-of-experts accounting: expert parameters and active parameters per token.

A MoE layer holds E experts but runs only the few its router picks for each
token, so "how big is the model" and "how much of it works per token" differ:
Mixtral-8x7B holds 46.7B parameters and uses about 12.9B per token. This module
finds the expert layers of a summarized model and reports both.

How experts are found (no class-name guessing):

- **packed experts** (transformers 5, Megatron grouped GEMM): a module with an
  integer ``num_experts`` attribute whose own parameters are 3-d with
  ``num_experts`` as their first dimension (``[experts, out, in]``);
- **experts as modules**: a module with two or more children registered under
  the name ``experts`` (the name every MoE codebase uses; an ``nn.ModuleList``
  or ``nn.ModuleDict`` usually), or whose ``num_experts`` equals its number of
  children.

How the active share is measured: an expert is a stack of linear maps, whose
MACs per token equal its weights' element count, so the expert parameters a
token uses on average are ``MACs of the expert layer / tokens entering it``. On
real tensors this is the routing that really happened; on meta and fake tensors
(no data: grouped GEMMs are shaped by the top-k choice of every token) it is
the router's top-k x the per-expert parameters. Routers that drop tokens over an
expert's capacity (Switch Transformers) make the count depend on the data,
which the report says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import prod

from torch import nn

from .layer_info import LayerInfo
from .module_tree import ModuleTree

__all__ = ["ExpertLayer", "MixtureOfExperts", "find_mixture_of_experts"]


@dataclass(frozen=True)
class ExpertLayer:
    """One MoE layer's experts.

    Attributes:
        module_path: dotted path of the module holding the experts.
        num_experts: experts in the layer (E).
        top_k: experts each token is routed to, when the router says (else None).
        expert_params: parameters of all E experts (elements).
        tokens: tokens that entered the layer in the summarized forward.
        active_params_per_token: expert parameters one token used, on average.
        tokens_per_expert: tokens each expert processed: from the experts' own
            calls when they are modules, from the grouped GEMM's offsets when
            packed (real tensors only); None when unknown (meta, expert loops
            inside one module).
        data_dependent: the router drops tokens over capacity, so the active
            count depends on the inputs.
    """

    module_path: str
    num_experts: int
    top_k: int | None
    expert_params: int
    tokens: int
    active_params_per_token: float
    tokens_per_expert: tuple[int, ...] | None
    data_dependent: bool


@dataclass(frozen=True)
class MixtureOfExperts:
    """The model's expert layers and its active parameters per token.

    Attributes:
        layers: every expert layer, in module order.
        expert_params: parameters of every expert of every layer (elements).
        active_params_per_token: all parameters outside the experts plus the
            expert parameters one token used, on average (elements).
        routing: ``"measured"`` (real tensors) or ``"top-k"`` (meta/fake tensors:
            every token assumed routed to its router's top-k experts).
        data_dependent: some router drops tokens over capacity.
    """

    layers: tuple[ExpertLayer, ...]
    expert_params: int
    active_params_per_token: int
    routing: str
    data_dependent: bool


def find_mixture_of_experts(
    rows: list[LayerInfo], tree: ModuleTree, total_params: int, without_data: bool
) -> MixtureOfExperts | None:
    """The expert layers among ``rows`` (a summary's), or None for a dense model."""
    # Cheap test first: most models have no module that could hold experts.
    # (Modules registered as ``experts`` found through the edges, without a call
    # per module.)
    named_experts = {key for key, edges in tree.parents.items() if edges[0][1] == "experts"}
    candidates = [
        (position, module)
        for position, (module, attributes) in enumerate(
            zip(tree.modules, tree.attributes, strict=True)
        )
        if "num_experts" in attributes or id(module) in named_experts
    ]
    if not candidates:
        return None
    rows_of: dict[int, list[LayerInfo]] = {}
    for row in rows:
        if row.executed:
            rows_of.setdefault(id(row.module), []).append(row)
    if not rows_of:
        return None
    found = []
    for position, module in candidates:
        layer = _expert_layer(module, tree, rows_of)
        if layer is not None:
            first_row = rows_of.get(id(module), [None])[0]
            order = rows.index(first_row) if first_row is not None else len(rows) + position
            found.append((order, layer))
    layers = [layer for _, layer in sorted(found, key=lambda item: item[0])]
    if not layers:
        return None
    expert_params = sum(layer.expert_params for layer in layers)
    active = total_params - expert_params + sum(layer.active_params_per_token for layer in layers)
    return MixtureOfExperts(
        layers=tuple(layers),
        expert_params=expert_params,
        active_params_per_token=round(active),
        routing="top-k" if without_data else "measured",
        data_dependent=any(layer.data_dependent for layer in layers),
    )


def _tokens(row: LayerInfo) -> int:
    shape = row.input_size
    return prod(int(size) for size in shape[:-1]) if len(shape) > 1 else 0


def _summed(counts: list[tuple[int, ...] | None]) -> tuple[int, ...] | None:
    """Per-expert token counts added over a module's calls (None if any is unknown)."""
    if not counts or any(count is None for count in counts):
        return None
    return tuple(sum(column) for column in zip(*counts, strict=True))


def _unique_params(modules: Iterable[nn.Module]) -> int:
    seen: set[int] = set()
    count = 0
    for module in modules:
        for param in module.parameters():
            if id(param) not in seen:
                seen.add(id(param))
                count += param.numel()
    return count


def _router_settings(owner: nn.Module | None) -> tuple[int | None, bool]:
    """``top_k`` and whether tokens over capacity are dropped, read from the
    module that owns the experts and its direct children (the router)."""
    if owner is None:
        return None, False
    top_k: int | None = None
    capacity = False
    for module in (owner, *owner._modules.values()):
        if module is None:
            continue
        attributes = vars(module)
        for name in ("top_k", "num_experts_per_tok", "k"):
            value = attributes.get(name)
            if top_k is None and isinstance(value, int) and not isinstance(value, bool):
                top_k = value
        capacity = capacity or any(
            name in attributes for name in ("expert_capacity", "capacity_factor")
        )
    return top_k, capacity


def _expert_layer(
    module: nn.Module, tree: ModuleTree, rows_of: dict[int, list[LayerInfo]]
) -> ExpertLayer | None:
    num_experts = vars(module).get("num_experts")
    own = [p for p in module._parameters.values() if p is not None]
    packed = (
        isinstance(num_experts, int)
        and num_experts > 1
        and bool(own)
        and all(p.dim() == 3 and p.shape[0] == num_experts for p in own)
    )
    children = [child for child in module._modules.values() if child is not None]
    listed = len(children) > 1 and (
        tree.name_of(module) == "experts" or num_experts == len(children)
    )
    if not packed and not listed:
        return None
    parent = tree.parent_of(module)
    top_k, capacity = _router_settings(parent)
    if packed:
        rows = rows_of.get(id(module), [])
        tokens = sum(_tokens(row) for row in rows)
        macs = sum(row.macs for row in rows)
        per_expert_tokens = _summed([row.expert_tokens for row in rows])
        count = int(num_experts)  # type: ignore[arg-type]
    else:
        experts = children
        count = len(experts)
        parent_rows = rows_of.get(id(parent), []) if parent is not None else []
        tokens = sum(_tokens(row) for row in parent_rows)
        per_expert_tokens = tuple(
            sum(_tokens(row) for row in rows_of.get(id(expert), [])) for expert in experts
        )
        macs = sum(row.macs for expert in experts for row in rows_of.get(id(expert), []))
    expert_params = _unique_params([module])
    active = macs / tokens if tokens else 0.0
    return ExpertLayer(
        module_path=tree.path_of(module),
        num_experts=count,
        top_k=top_k,
        expert_params=expert_params,
        tokens=tokens,
        active_params_per_token=active,
        tokens_per_expert=per_expert_tokens,
        data_dependent=capacity,
    )
