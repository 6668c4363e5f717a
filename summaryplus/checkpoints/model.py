"""A checkpoint as plain data: its tensors, tied entries, and totals per prefix and dtype."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class TensorInfo:
    """One named tensor of a checkpoint, as described by the file.

    Attributes:
        name: the state-dict key (nested dicts of a ``.pt`` file are joined with dots).
        shape: the tensor's shape.
        dtype: torch-style dtype name (``"bfloat16"``); an unknown safetensors
            code is kept as written.
        numel: element count.
        nbytes: bytes of the tensor's data.
        file: the file holding the data, relative to the summarized path's folder.
        location: where the data lies in ``file``: ``(begin, end)`` byte offsets for
            safetensors; ``(storage index, storage offset, *strides)`` for torch
            files. Two entries of one file with equal ``location`` and ``shape``
            hold the same data (tied weights).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    numel: int
    nbytes: int
    file: str
    location: tuple[int, ...]

    @property
    def data_key(self) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
        return self.file, self.location, self.shape


@dataclass(frozen=True)
class GroupTotals:
    """Totals of the tensors whose names start with ``prefix`` (one row of the table).

    Tied tensors count once, under the name that comes first; ``tied`` counts the
    entries of this group that repeat data already counted.
    """

    prefix: str
    depth: int
    tensors: int
    params: int
    nbytes: int
    dtypes: tuple[str, ...]
    tied: int
    # Set when the group is one tensor (the prefix is its full name).
    shape: tuple[int, ...] | None


@dataclass(frozen=True)
class DtypeTotals:
    dtype: str
    tensors: int
    params: int
    nbytes: int


@dataclass(frozen=True)
class CheckpointSummary:
    """Everything ``summaryplus CHECKPOINT`` reports, as plain data.

    Attributes:
        path: the path that was summarized (a file, an index JSON or a folder).
        format: ``"safetensors"`` or ``"pytorch"``.
        files: the weight files read, relative to ``path``'s folder.
        file_bytes: their size on disk.
        tensors: every tensor entry, in file order (state-dict order for torch
            files, natural name order for safetensors).
        metadata: safetensors ``__metadata__`` / index ``metadata`` entries.
        non_tensors: names of ``.pt`` entries that are not tensors (``"epoch"``).
        declared_bytes: the index's ``metadata.total_size``, when it has one.
    """

    path: str
    format: str
    files: tuple[str, ...]
    file_bytes: int
    tensors: tuple[TensorInfo, ...]
    metadata: tuple[tuple[str, str], ...] = ()
    non_tensors: tuple[str, ...] = ()
    declared_bytes: int | None = None

    @cached_property
    def _first_names(self) -> dict[tuple[str, tuple[int, ...], tuple[int, ...]], str]:
        first: dict[tuple[str, tuple[int, ...], tuple[int, ...]], str] = {}
        for tensor in self.tensors:
            first.setdefault(tensor.data_key, tensor.name)
        return first

    def is_repeat(self, tensor: TensorInfo) -> bool:
        """True when an earlier entry holds the same data (counted there)."""
        return self._first_names[tensor.data_key] != tensor.name

    @cached_property
    def tied_groups(self) -> tuple[tuple[str, ...], ...]:
        """Names that share one tensor's data, first-counted name first."""
        names: dict[tuple[str, tuple[int, ...], tuple[int, ...]], list[str]] = {}
        for tensor in self.tensors:
            names.setdefault(tensor.data_key, []).append(tensor.name)
        return tuple(tuple(group) for group in names.values() if len(group) > 1)

    @cached_property
    def unique_tensors(self) -> tuple[TensorInfo, ...]:
        return tuple(t for t in self.tensors if not self.is_repeat(t))

    @property
    def total_params(self) -> int:
        """Elements of distinct tensors (tied weights once)."""
        return sum(t.numel for t in self.unique_tensors)

    @property
    def total_bytes(self) -> int:
        """Bytes of distinct tensors (tied weights once)."""
        return sum(t.nbytes for t in self.unique_tensors)

    @property
    def stored_params(self) -> int:
        """Elements summed over every entry, tied ones as often as they appear."""
        return sum(t.numel for t in self.tensors)

    def by_dtype(self) -> tuple[DtypeTotals, ...]:
        """Totals per dtype, largest first."""
        totals: dict[str, list[int]] = {}
        for tensor in self.unique_tensors:
            row = totals.setdefault(tensor.dtype, [0, 0, 0])
            row[0] += 1
            row[1] += tensor.numel
            row[2] += tensor.nbytes
        rows = [DtypeTotals(dtype, n, p, b) for dtype, (n, p, b) in totals.items()]
        return tuple(sorted(rows, key=lambda row: (-row.nbytes, row.dtype)))

    def groups(self, depth: int) -> tuple[GroupTotals, ...]:
        """Per-prefix totals down to ``depth`` name components, in tree order.

        ``depth=1`` groups ``model.layers.0.mlp.weight`` under ``model``; ``depth=3``
        under ``model``, ``model.layers`` and ``model.layers.0``. A name with no more
        components than ``depth`` is its own row. ``depth=0`` gives one row, ``""``.
        The rows of each depth add up to the totals.
        """
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        root = _Node("", 0)
        for tensor in self.tensors:
            repeat = self.is_repeat(tensor)
            parts = tensor.name.split(".")
            node = root
            node.add(tensor, repeat)
            for level in range(1, min(depth, len(parts)) + 1):
                node = node.child(".".join(parts[:level]), level)
                node.add(tensor, repeat)
        nodes = root.walk() if depth > 0 else iter([root])
        return tuple(node.totals() for node in nodes if node.depth > 0 or depth == 0)


class _Node:
    """A prefix in the name tree while ``groups`` is adding tensors up."""

    def __init__(self, prefix: str, depth: int) -> None:
        self.prefix = prefix
        self.depth = depth
        self.children: dict[str, _Node] = {}
        self.tensors = self.params = self.nbytes = self.tied = 0
        self.dtypes: dict[str, None] = {}
        self.last: TensorInfo | None = None

    def child(self, prefix: str, depth: int) -> _Node:
        node = self.children.get(prefix)
        if node is None:
            node = self.children[prefix] = _Node(prefix, depth)
        return node

    def add(self, tensor: TensorInfo, repeat: bool) -> None:
        self.tensors += 1
        self.last = tensor
        self.dtypes.setdefault(tensor.dtype)
        if repeat:
            self.tied += 1
        else:
            self.params += tensor.numel
            self.nbytes += tensor.nbytes

    def walk(self) -> Iterator[_Node]:
        # Iterative depth-first walk: names can nest deeper than the recursion limit.
        stack = list(reversed(self.children.values()))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children.values()))

    def totals(self) -> GroupTotals:
        single = self.last if self.tensors == 1 and self.last is not None else None
        shape = single.shape if single is not None and single.name == self.prefix else None
        return GroupTotals(
            prefix=self.prefix,
            depth=self.depth,
            tensors=self.tensors,
            params=self.params,
            nbytes=self.nbytes,
            dtypes=tuple(self.dtypes),
            tied=self.tied,
            shape=shape,
        )


def combine(
    path: str,
    parts: list[CheckpointSummary],
    metadata: tuple[tuple[str, str], ...] = (),
    declared_bytes: int | None = None,
) -> CheckpointSummary:
    """One summary of several files (shards, or the weight files of a folder)."""
    formats = sorted({part.format for part in parts})
    tensors = [t for part in parts for t in part.tensors]
    if formats == ["safetensors"]:
        # Shards split a model anywhere: name order puts its layers back in order.
        tensors.sort(key=lambda t: natural_key(t.name))
    return CheckpointSummary(
        path=path,
        format="+".join(formats),
        files=tuple(f for part in parts for f in part.files),
        file_bytes=sum(part.file_bytes for part in parts),
        tensors=tuple(tensors),
        metadata=metadata or tuple(m for part in parts for m in part.metadata),
        non_tensors=tuple(n for part in parts for n in part.non_tensors),
        declared_bytes=declared_bytes,
    )


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """``layers.2`` before ``layers.10``."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p]
