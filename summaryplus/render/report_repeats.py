"""Runs of identical sibling blocks in a summary's tree (``GPT2Block x 12``), so
the report can fold them under their first.

Two rows are identical when their subtrees are: the same class, parameters,
MACs, output shape and flags on every row, with identical children in the same
order. Signatures are computed bottom-up once (linear time in the rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..records import LayerLike

__all__ = ["MIN_REPEAT", "repeated_runs"]

#: Shortest run folded: two identical blocks stay as they are.
MIN_REPEAT = 3


def repeated_runs(layers: Sequence[LayerLike], parents: Sequence[int]) -> dict[int, list[int]]:
    """First row of each run of ``MIN_REPEAT`` or more identical consecutive
    siblings that have children -> the other rows of the run, in order.

    Args:
        layers: the rows in call order (``summary_list``).
        parents: each row's parent index (-1 for a top row).

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> block = lambda: nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        >>> stats = summary(nn.Sequential(*(block() for _ in range(4))), input_size=(1, 4),
        ...                 verbose=0)
        >>> rows = stats.summary_list
        >>> parents = [-1] + [rows.index(row.parent_info) for row in rows[1:]]
        >>> repeated_runs(rows, parents)
        {1: [4, 7, 10]}
    """
    children: list[list[int]] = [[] for _ in layers]
    for position, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(position)
    # Signature ids: equal subtrees get equal ids (a dict interns each key once).
    ids: dict[tuple[Any, ...], int] = {}
    signature = [0] * len(layers)
    for position in range(len(layers) - 1, -1, -1):  # children come after their parent
        layer = layers[position]
        key = (
            layer.class_name,
            layer.subtree_params,
            layer.num_params,
            layer.macs,
            _frozen(layer.output_size),
            layer.is_recursive,
            layer.trainable,
            tuple(signature[child] for child in children[position]),
        )
        signature[position] = ids.setdefault(key, len(ids))
    runs: dict[int, list[int]] = {}
    for siblings in [[i for i, p in enumerate(parents) if p < 0], *children]:
        start = 0
        while start < len(siblings):
            end = start + 1
            first = siblings[start]
            while end < len(siblings) and signature[siblings[end]] == signature[first]:
                end += 1
            if end - start >= MIN_REPEAT and children[first]:
                runs[first] = siblings[start + 1:end]
            start = end
    return runs


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value
