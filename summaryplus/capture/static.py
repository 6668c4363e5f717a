"""Rows of a model without running it: the registration tree as rows (a summary
without inputs), and the rows of a scripted model, whose forward runs no Python
hooks (its tree, with the call's shapes on the root)."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..layer_info import LayerInfo
from ..module_tree import ModuleTree
from ..values import dtypes_of, first_shape, total_bytes
from .recorder import join_path


def static_rows(model: nn.Module, tree: ModuleTree) -> list[LayerInfo]:
    """Rows of the registration tree, for a summary without a forward pass."""
    rows: list[LayerInfo] = []
    seen: set[int] = set()
    pending: list[tuple[nn.Module, str, LayerInfo | None]] = [(model, type(model).__name__, None)]
    while pending:
        module, name, parent = pending.pop()
        depth = 0 if parent is None else parent.depth + 1
        path = "" if parent is None else join_path(parent.module_path, name)
        row = LayerInfo(name, module, depth, parent, module_path=path)
        row.is_recursive = id(module) in seen
        seen.add(id(module))
        if parent is not None:
            parent.children.append(row)
        rows.append(row)
        if not row.is_recursive:
            children = [(n, m) for n, m in module._modules.items() if m is not None]
            pending.extend((m, n, row) for n, m in reversed(children))
    return rows


def scripted_rows(model: nn.Module, tree: ModuleTree, inputs: Any, output: Any) -> list[LayerInfo]:
    rows = static_rows(model, tree)
    root = rows[0]
    root.executed = True
    root.input_size, root.input_dtypes = first_shape(inputs), dtypes_of(inputs)
    root.output_size, root.output_dtypes = first_shape(output), dtypes_of(output)
    root.output_bytes = total_bytes(output)
    return rows
