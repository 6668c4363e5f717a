"""Questions asked of a summary: which layers are largest, which pass a bound, how
the totals split per module.

Which rows are considered, and with what value
----------------------------------------------
A query looks at the rows down to a depth ``d`` (every row when ``d`` is None)
and gives each row one value per quantity:

* a row at depth ``d``, or one with no rows below it, gets its whole subtree:
  ``subtree_params``, ``macs`` (inclusive), ``activation_bytes`` +
  ``subtree_param_bytes``;
* a row above ``d`` gets only what it accounts for itself: ``counted_params``,
  ``own_macs`` (ops in its own ``forward`` code, e.g. attention matmuls written
  inline), ``own_activation_bytes`` + ``counted_param_bytes``.

So the values of the rows considered always add up exactly to the model totals
(``total_params``, ``total_mult_adds``, ``activation_bytes +
total_param_bytes``) - no quantity is seen twice through a parent, tied weights
count once (on the first row that uses them) and a module called twice shows
its parameters on the first call only but its MACs on every call. With
``d = formatting.max_depth`` the params values are exactly what the table's
``Param #`` column shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._checks import check_count

if TYPE_CHECKING:
    from .records import LayerLike, SummaryLike

__all__ = ["BY", "LayerGroup", "LayerScore", "group_by", "largest", "layer_value", "layers_over"]

#: The quantities ``largest`` and ``layers_over`` rank rows by.
BY: tuple[str, ...] = ("params", "trainable_params", "macs", "flops", "memory")


@dataclass(frozen=True)
class LayerScore:
    """A row with the value a query gave it.

    Attributes:
        layer: the row.
        by: the quantity (one of ``BY``).
        value: the row's value (see the module docstring for what it covers).
        share: ``value`` as a fraction of the model total (0.0 when that is 0).
    """

    layer: LayerLike
    by: str
    value: int
    share: float


@dataclass(frozen=True)
class LayerGroup:
    """The totals of one module path at a grouping depth.

    Attributes:
        module_path: dotted path of the module (``""`` is the model itself).
        class_name: the module's class.
        depth: depth of its rows.
        calls: how many rows (calls of the module) were merged.
        own_only: True for a module above the grouping depth, whose group holds
            only what its own ``forward`` code accounts for (its children have
            groups of their own).
        params, trainable_params, param_bytes, macs, activation_bytes: the
            group's quantities; ``params`` etc. add up to the model totals over
            all groups.
        params_share: ``params`` as a fraction of ``total_params``.
    """

    module_path: str
    class_name: str
    depth: int
    calls: int
    own_only: bool
    params: int
    trainable_params: int
    param_bytes: int
    macs: int
    activation_bytes: int
    params_share: float

    @property
    def flops(self) -> int:
        """2 x ``macs``."""
        return 2 * self.macs

    @property
    def memory(self) -> int:
        """``activation_bytes`` + ``param_bytes``."""
        return self.activation_bytes + self.param_bytes


def layer_value(row: LayerLike, by: str, whole_subtree: bool) -> int:
    """One quantity of a row: its whole subtree's, or only what it accounts for itself.

    Args:
        row: the row.
        by: one of ``BY``.
        whole_subtree: True for the subtree's value, False for the row's own.

    Returns:
        The value (elements, MACs, FLOPs or bytes).

    Raises:
        ValueError: ``by`` is not one of ``BY``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.queries import layer_value
        >>> stats = summary(nn.Sequential(nn.Linear(4, 2)), input_size=(1, 4), verbose=0)
        >>> root = stats.summary_list[0]
        >>> layer_value(root, "params", True), layer_value(root, "params", False)
        (10, 0)
    """
    return _value(row, _check_by(by), whole_subtree)


def _value(row: LayerLike, quantity: str, whole: bool) -> int:
    """``layer_value`` for a checked name, also knowing the two halves of "memory"."""
    if quantity == "params":
        return row.subtree_params if whole else row.counted_params
    if quantity == "trainable_params":
        return row.subtree_trainable_params if whole else row.counted_trainable_params
    if quantity == "param_bytes":
        return row.subtree_param_bytes if whole else row.counted_param_bytes
    if quantity == "activation_bytes":
        return row.activation_bytes if whole else row.own_activation_bytes
    if quantity == "macs":
        return row.macs if whole else row.own_macs
    if quantity == "flops":
        return 2 * (row.macs if whole else row.own_macs)
    if quantity == "memory":
        return _value(row, "param_bytes", whole) + _value(row, "activation_bytes", whole)
    raise AssertionError(f"unchecked quantity {quantity!r}")


def largest(
    stats: SummaryLike, k: int = 10, by: str = "params", depth: int | None = None
) -> list[LayerScore]:
    """The ``k`` rows with the largest value of ``by``, largest first.

    Rows whose value is 0 are left out; ties keep call order. See the module
    docstring for which rows are considered at ``depth``.

    Args:
        stats: the summary.
        k: how many rows at most (0 or more).
        by: ``"params"``, ``"trainable_params"``, ``"macs"``, ``"flops"`` or
            ``"memory"`` (activation bytes saved for backward + parameter bytes).
        depth: consider rows down to this depth, rows at it with their whole
            subtree; None (default) considers every row by what it accounts
            for itself, so the leaves and the inline work of their parents
            compete on equal terms.

    Returns:
        Up to ``k`` ``LayerScore``s.

    Raises:
        ValueError: ``k`` or ``depth`` is negative, or ``by`` is unknown.
        TypeError: ``k`` or ``depth`` is not an int.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
        >>> stats = summary(model, input_size=(1, 8), verbose=0)
        >>> [(s.layer.module_path, s.value) for s in stats.largest(2, by="macs")]
        [('0', 128), ('2', 32)]
    """
    check_count(k, "k")
    by = _check_by(by)
    scores = [score for score in _scores(stats, by, depth) if score.value > 0]
    scores.sort(key=lambda score: score.value, reverse=True)  # stable: ties keep call order
    return scores[:k]


def layers_over(
    stats: SummaryLike, threshold: float, by: str = "params", depth: int | None = None
) -> list[LayerScore]:
    """The rows whose value of ``by`` is strictly greater than ``threshold``, in call order.

    Args:
        stats: the summary.
        threshold: the bound, in the unit of ``by`` (elements, MACs, FLOPs or
            bytes); 0 or more.
        by: one of ``"params"``, ``"trainable_params"``, ``"macs"``, ``"flops"``,
            ``"memory"``.
        depth: as for ``largest``.

    Returns:
        The ``LayerScore`` of every row over the bound.

    Raises:
        ValueError: ``threshold`` is negative or not finite, ``depth`` is
            negative, or ``by`` is unknown.
        TypeError: ``threshold`` is not a number.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 2))
        >>> stats = summary(model, input_size=(1, 100), verbose=0)
        >>> [s.layer.module_path for s in stats.layers_over(1000, by="params")]
        ['0']
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a number (0 or more), got {type(threshold).__name__}")
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold={threshold!r} is not valid; accepted values: a number >= 0")
    by = _check_by(by)
    return [score for score in _scores(stats, by, depth) if score.value > threshold]


def group_by(stats: SummaryLike, depth: int = 1) -> list[LayerGroup]:
    """Splits the totals per module at ``depth``: one group per module path.

    Every module at ``depth`` gets a group with its whole subtree; a leaf above
    ``depth`` gets one too, and a module above ``depth`` whose own ``forward``
    code holds parameters or does work gets an ``own_only`` group for that part.
    Several calls of one module merge into one group. Over all groups
    ``params``, ``trainable_params``, ``param_bytes``, ``macs`` and
    ``activation_bytes`` add up exactly to the model totals.

    Args:
        stats: the summary.
        depth: the grouping depth (0 is the whole model in one group).

    Returns:
        The groups in call order of their first row.

    Raises:
        ValueError: ``depth`` is negative.
        TypeError: ``depth`` is not an int.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> block = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        >>> stats = summary(nn.Sequential(block, nn.Linear(4, 1)), input_size=(1, 4), verbose=0)
        >>> [(g.module_path, g.params, g.macs) for g in stats.group_by(1)]
        [('0', 20, 16), ('1', 5, 4)]
    """
    check_count(depth, "depth")
    groups: dict[tuple[str, bool], list[int]] = {}
    first: dict[tuple[str, bool], LayerLike] = {}
    for row, whole in _considered(stats, depth):
        values = [_value(row, quantity, whole) for quantity in _GROUPED]
        if not whole and not any(values):
            continue  # a container with nothing of its own: its children have groups
        key = (row.module_path, not whole)
        first.setdefault(key, row)
        sums = groups.setdefault(key, [0] * (len(_GROUPED) + 1))
        sums[0] += 1
        for index, value in enumerate(values, start=1):
            sums[index] += value
    total = stats.total_params
    return [
        LayerGroup(
            module_path=path,
            class_name=first[(path, own_only)].class_name,
            depth=first[(path, own_only)].depth,
            calls=calls,
            own_only=own_only,
            params=params,
            trainable_params=trainable,
            param_bytes=param_bytes,
            macs=macs,
            activation_bytes=activation_bytes,
            params_share=params / total if total else 0.0,
        )
        for (path, own_only), (calls, params, trainable, param_bytes, macs, activation_bytes) in (
            groups.items()
        )
    ]


# The quantities a group sums, in LayerGroup's field order; "param_bytes" and
# "activation_bytes" are the two halves of "memory".
_GROUPED = ("params", "trainable_params", "param_bytes", "macs", "activation_bytes")


def _considered(stats: SummaryLike, depth: int | None) -> list[tuple[LayerLike, bool]]:
    """The rows down to ``depth``, each with whether it stands for its whole subtree."""
    check_count(depth, "depth", allow_none=True)
    return [
        (row, (depth is not None and row.depth == depth) or not row.children)
        for row in stats.summary_list
        if depth is None or row.depth <= depth
    ]


def _scores(stats: SummaryLike, by: str, depth: int | None) -> list[LayerScore]:
    total = model_total(stats, by)
    scores = []
    for row, whole in _considered(stats, depth):
        value = _value(row, by, whole)
        scores.append(LayerScore(row, by, value, value / total if total else 0.0))
    return scores


def model_total(stats: SummaryLike, by: str) -> int:
    """The whole model's figure for ``by`` (one of ``BY``); ``plot_summary`` uses it too."""
    if by == "params":
        return stats.total_params
    if by == "trainable_params":
        return stats.trainable_params
    if by == "macs":
        return stats.total_mult_adds
    if by == "flops":
        return stats.total_flops
    return stats.activation_bytes + stats.total_param_bytes


def _check_by(by: object) -> str:
    if not isinstance(by, str) or by not in BY:
        accepted = ", ".join(repr(name) for name in BY)
        raise ValueError(f"by={by!r} is not valid; accepted values: {accepted}")
    return by


def layer_keys(layers: Iterable[Any]) -> list[tuple[str, int]]:
    """How a diff matches rows: (``module_path``, call index) of each row, in order.

    Example:
        >>> from types import SimpleNamespace as Row
        >>> layer_keys([Row(module_path=""), Row(module_path="0"), Row(module_path="0")])
        [('', 0), ('0', 0), ('0', 1)]
    """
    calls: dict[str, int] = {}
    keys = []
    for layer in layers:
        call = calls.get(layer.module_path, 0)
        calls[layer.module_path] = call + 1
        keys.append((layer.module_path, call))
    return keys
