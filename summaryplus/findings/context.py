"""What a rule reads: the summary, and (live summaries only) its model, with
the walks several rules share done once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from .._tensors import direct_parameters
from ..module_tree import ModuleTree

if TYPE_CHECKING:
    from ..records import LayerLike, SummaryLike


@dataclass(frozen=True)
class Tensor:
    """A parameter or buffer of the model, once however many names it has."""

    name: str  # its first dotted name
    tensor: torch.Tensor
    owners: tuple[nn.Module, ...]  # the modules that hold it directly


class Context:
    """A summary, its model (None for a loaded summary) and shared lookups."""

    def __init__(self, summary: SummaryLike, model: nn.Module | None) -> None:
        self.summary = summary
        self.model = model

    @property
    def rows(self) -> list[LayerLike]:
        return list(self.summary.summary_list)

    @cached_property
    def tree(self) -> ModuleTree:
        assert self.model is not None
        return ModuleTree(self.model)

    @cached_property
    def parameters(self) -> list[Tensor]:
        """Every parameter once, by its first name, with the modules holding it."""
        return self._tensors(lambda module: direct_parameters(module))

    @cached_property
    def buffers(self) -> list[Tensor]:
        """Every buffer once, by its first name, with the modules holding it."""
        return self._tensors(
            lambda module: [(n, b) for n, b in module._buffers.items() if b is not None]
        )

    @cached_property
    def executed_modules(self) -> set[int]:
        """ids of the modules whose forward ran."""
        return {id(module) for row in self.rows if row.executed and (module := module_of(row))}

    @cached_property
    def row_of(self) -> dict[int, LayerLike]:
        """id(module) -> its first row."""
        found: dict[int, LayerLike] = {}
        for row in self.rows:
            module = module_of(row)
            if module is not None:
                found.setdefault(id(module), row)
        return found

    @cached_property
    def main_dtype(self) -> torch.dtype | None:
        """The floating dtype holding most parameter elements (None: no float params)."""
        counts: dict[torch.dtype, int] = {}
        for param in self.parameters:
            tensor = param.tensor
            if tensor.is_floating_point():
                counts[tensor.dtype] = counts.get(tensor.dtype, 0) + tensor.numel()
        return max(counts, key=lambda dtype: counts[dtype]) if counts else None

    def _tensors(self, direct: Any) -> list[Tensor]:
        found: dict[int, tuple[str, torch.Tensor, list[nn.Module]]] = {}
        for prefix, module in self.tree.named_paths():
            for name, tensor in direct(module):
                if is_lazy(tensor):
                    continue  # no shape or size yet (a lazy module before its first call)
                entry = found.get(id(tensor))
                if entry is None:
                    entry = found[id(tensor)] = (
                        f"{prefix}.{name}" if prefix else name, tensor, []
                    )
                if all(owner is not module for owner in entry[2]):
                    entry[2].append(module)
        return [Tensor(name, tensor, tuple(owners)) for name, tensor, owners in found.values()]


def module_of(row: Any) -> nn.Module | None:
    """The module of a live row (None for a loaded one)."""
    module = getattr(row, "module", None)
    return module if isinstance(module, nn.Module) else None


def owning_rows(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The module paths that hold the named parameters or buffers, in order, once."""
    return tuple(dict.fromkeys(name.rpartition(".")[0] for name in names))


def listed(names: list[str] | tuple[str, ...], limit: int = 6) -> str:
    """``a, b, c`` or ``a, b, c and 4 more``."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit:,} more"


def mb(num_bytes: float) -> str:
    """Bytes for a message: ``1.25 MB`` (10**6), ``3.10 GB`` from 10**9."""
    return f"{num_bytes / 1e9:,.2f} GB" if num_bytes >= 1e9 else f"{num_bytes / 1e6:,.2f} MB"
