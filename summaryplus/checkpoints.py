"""What is in a checkpoint, read without loading it.

``summarize_checkpoint(path)`` returns a :class:`CheckpointSummary`: every tensor's
name, shape, dtype and bytes, which entries hold the same data (tied weights), and
totals. It never materialises tensor data:

- ``.safetensors``: only the header is read (an 8-byte little-endian length and a
  JSON table of names, dtypes, shapes and byte offsets), so a 100 GB file is
  summarized in milliseconds with a few MB of memory.
- ``.pt`` / ``.pth`` / ``.bin`` / ``.ckpt``: ``torch.load(weights_only=True,
  mmap=True)``, which maps the file instead of reading it and refuses any pickle
  that would run code. There is no unsafe fallback.
- ``*.index.json`` with a ``weight_map`` (sharded checkpoints), or a directory
  holding one: every shard is read as above and the totals are summed.

The summary is plain data; ``summaryplus._checkpoint_render`` turns it into text,
tabulate tables, HTML, JSON or CSV.

Example:
    >>> from summaryplus.checkpoints import summarize_checkpoint
    >>> ckpt = summarize_checkpoint("model.safetensors")  # doctest: +SKIP
    >>> ckpt.total_params, ckpt.total_bytes  # doctest: +SKIP
    (124439808, 248879616)
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

__all__ = [
    "SAFETENSORS_SUFFIXES",
    "TORCH_SUFFIXES",
    "CheckpointError",
    "CheckpointSummary",
    "DtypeTotals",
    "GroupTotals",
    "TensorInfo",
    "UnsafeCheckpointError",
    "find_index",
    "read_index",
    "read_safetensors",
    "read_torch",
    "summarize_checkpoint",
    "weight_files",
]

SAFETENSORS_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")

# The reference implementation refuses headers above 100 MB; so do we, before
# allocating anything for a length field that a corrupt file made up.
_MAX_HEADER_BYTES = 100_000_000

# safetensors dtype code -> (torch-style name, bits per element).
_SAFETENSORS_DTYPES: dict[str, tuple[str, int]] = {
    "BOOL": ("bool", 8),
    "U8": ("uint8", 8),
    "I8": ("int8", 8),
    "U16": ("uint16", 16),
    "I16": ("int16", 16),
    "U32": ("uint32", 32),
    "I32": ("int32", 32),
    "U64": ("uint64", 64),
    "I64": ("int64", 64),
    "F16": ("float16", 16),
    "BF16": ("bfloat16", 16),
    "F32": ("float32", 32),
    "F64": ("float64", 64),
    "C64": ("complex64", 64),
    "F8_E4M3": ("float8_e4m3fn", 8),
    "F8_E5M2": ("float8_e5m2", 8),
    "F8_E8M0": ("float8_e8m0fnu", 8),
    "F6_E2M3": ("float6_e2m3", 6),
    "F6_E3M2": ("float6_e3m2", 6),
    "F4": ("float4_e2m1", 4),
}


class CheckpointError(ValueError):
    """A checkpoint could not be read: truncated, corrupt, or not what its name says."""


class UnsafeCheckpointError(CheckpointError):
    """``torch.load(weights_only=True)`` refused the file: its pickle would run code."""


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


# ------------------------------------------------------------------ reading
def summarize_checkpoint(path: str | os.PathLike[str]) -> CheckpointSummary:
    """Summarizes a checkpoint file, a sharded checkpoint's index, or a folder.

    Args:
        path: a ``.safetensors`` file, a torch file (``.pt``, ``.pth``, ``.bin``,
            ``.ckpt``), an ``*.index.json`` with a ``weight_map``, or a folder
            holding one of these.

    Raises:
        FileNotFoundError: ``path`` (or a shard it lists) does not exist.
        CheckpointError: the file is truncated, corrupt or of an unknown kind.
        UnsafeCheckpointError: a torch file whose pickle would run code.
    """
    target = Path(path)
    if target.is_dir():
        return _summarize_folder(target)
    if not target.exists():
        raise FileNotFoundError(f"no such file: {target}")
    name = target.name.lower()
    if name.endswith(SAFETENSORS_SUFFIXES):
        return read_safetensors(target)
    if name.endswith(TORCH_SUFFIXES):
        return read_torch(target)
    if name.endswith(".json"):
        return read_index(target)
    raise CheckpointError(
        f"{target}: unknown checkpoint extension {target.suffix!r} (expected "
        f"{', '.join(SAFETENSORS_SUFFIXES + TORCH_SUFFIXES)} or *.index.json)"
    )


def find_index(folder: Path) -> Path | None:
    """The sharded-checkpoint index in ``folder`` (safetensors preferred), if any."""
    candidates = sorted(folder.glob("*.index.json"))
    candidates.sort(key=lambda p: ".safetensors." not in p.name)
    return candidates[0] if candidates else None


def weight_files(folder: Path) -> list[Path]:
    """The weight files a folder's summary reads when it has no index."""
    safetensors = sorted(p for p in folder.glob("*.safetensors") if p.is_file())
    if safetensors:
        return safetensors
    hf_bin = folder / "pytorch_model.bin"
    if hf_bin.is_file():
        return [hf_bin]
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(TORCH_SUFFIXES)
    )


def _summarize_folder(folder: Path) -> CheckpointSummary:
    index = find_index(folder)
    if index is not None:
        summary = read_index(index)
        return _replace_path(summary, str(folder))
    files = weight_files(folder)
    if not files:
        raise CheckpointError(f"{folder}: no checkpoint here (no *.safetensors, *.bin, *.pt files)")
    parts = [_read_file(file, folder) for file in files]
    return _combine(str(folder), parts)


def _read_file(file: Path, root: Path) -> CheckpointSummary:
    relative = os.path.relpath(file, root)
    if file.name.lower().endswith(SAFETENSORS_SUFFIXES):
        return read_safetensors(file, label=relative)
    return read_torch(file, label=relative)


def _replace_path(summary: CheckpointSummary, path: str) -> CheckpointSummary:
    return dataclasses.replace(summary, path=path)


def _combine(
    path: str,
    parts: list[CheckpointSummary],
    metadata: tuple[tuple[str, str], ...] = (),
    declared_bytes: int | None = None,
) -> CheckpointSummary:
    formats = sorted({part.format for part in parts})
    tensors = [t for part in parts for t in part.tensors]
    if formats == ["safetensors"]:
        # Shards split a model anywhere: name order puts its layers back in order.
        tensors.sort(key=lambda t: _natural_key(t.name))
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


def _natural_key(name: str) -> list[tuple[int, int | str]]:
    """``layers.2`` before ``layers.10``."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p]


def read_safetensors(
    path: str | os.PathLike[str], *, label: str | None = None
) -> CheckpointSummary:
    """Reads a ``.safetensors`` header: names, dtypes, shapes, offsets; no tensor data.

    Every entry is checked against the file: offsets inside the data section, and
    byte spans that match shape x dtype. Entries with identical offsets are
    reported as tied.
    """
    file = Path(path)
    label = label or file.name
    size = file.stat().st_size
    with open(file, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise CheckpointError(
                f"{file}: not a safetensors file: {size} bytes, too short for the "
                "8-byte header length"
            )
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > _MAX_HEADER_BYTES:
            raise CheckpointError(
                f"{file}: not a valid safetensors file: header length {header_len:,} bytes "
                f"is over the {_MAX_HEADER_BYTES:,}-byte limit (corrupt, or another format)"
            )
        if 8 + header_len > size:
            raise CheckpointError(
                f"{file}: truncated safetensors file: the header needs {8 + header_len:,} bytes "
                f"but the file has {size:,}"
            )
        raw = handle.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{file}: corrupt safetensors file: the header is not valid JSON ({error})"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{file}: corrupt safetensors file: the header is not a JSON object")

    data_size = size - 8 - header_len
    metadata_raw = header.pop("__metadata__", None) or {}
    if not isinstance(metadata_raw, dict):
        raise CheckpointError(f"{file}: corrupt safetensors file: __metadata__ is not an object")
    metadata = tuple((str(k), str(v)) for k, v in metadata_raw.items())
    tensors = [
        _safetensors_entry(file, label, name, entry, data_size)
        for name, entry in sorted(header.items(), key=lambda item: _natural_key(item[0]))
    ]
    return CheckpointSummary(
        path=str(file),
        format="safetensors",
        files=(label,),
        file_bytes=size,
        tensors=tuple(tensors),
        metadata=metadata,
    )


def _safetensors_entry(file: Path, label: str, name: str, entry: Any, data_size: int) -> TensorInfo:
    def corrupt(why: str) -> CheckpointError:
        return CheckpointError(f"{file}: corrupt safetensors header: tensor {name!r} {why}")

    if not isinstance(entry, dict):
        raise corrupt("is not described by an object")
    code, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(code, str):
        raise corrupt(f"has no valid dtype ({code!r})")
    if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
        raise corrupt(f"has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        raise corrupt(f"has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if begin > end:
        raise corrupt(f"has data_offsets {offsets} that end before they begin")
    if end > data_size:
        raise CheckpointError(
            f"{file}: truncated safetensors file: tensor {name!r} ends at data byte {end:,} "
            f"but the file holds {data_size:,} data bytes"
        )
    numel = 1
    for dim in shape:
        numel *= dim
    dtype, bits = _SAFETENSORS_DTYPES.get(code, (code, 0))
    if bits and end - begin != (numel * bits + 7) // 8:
        raise corrupt(
            f"has shape {shape} of {code} ({(numel * bits + 7) // 8:,} bytes) "
            f"but its data_offsets span {end - begin:,} bytes"
        )
    return TensorInfo(
        name=name,
        shape=tuple(shape),
        dtype=dtype,
        numel=numel,
        nbytes=end - begin,
        file=label,
        location=(begin, end),
    )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_torch(path: str | os.PathLike[str], *, label: str | None = None) -> CheckpointSummary:
    """Reads a torch file with ``torch.load(weights_only=True, mmap=True)``.

    Tensors are memory-mapped, not read. Nested dicts and lists are flattened to
    dotted names (``optimizer.state.0.exp_avg``); entries that are not tensors are
    listed in ``non_tensors``. Files in the pre-1.6 (non-zip) format cannot be
    mapped and are read, still with ``weights_only=True``.

    Raises:
        UnsafeCheckpointError: the pickle would call something ``weights_only``
            does not allow (e.g. ``os.system``, or a pickled ``nn.Module``). The
            file is never loaded another way.
        CheckpointError: the file is truncated or not a torch checkpoint.
    """
    import pickle

    import torch

    from . import _tensors

    file = Path(path)
    label = label or file.name
    with open(file, "rb") as handle:
        magic = handle.read(4)
    is_zip = magic == b"PK\x03\x04"
    # torch.save writes a zip archive, or (before torch 1.6) pickles that start with
    # the PROTO opcode: anything else is not a torch file, whatever its extension.
    if not is_zip and not magic.startswith(b"\x80"):
        raise CheckpointError(
            f"{file}: not a torch checkpoint (neither a zip archive nor a pickle; "
            "truncated or corrupt)"
        )
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols it may not support; the outcome
            # (a summary or one clear error) says all the user needs.
            warnings.simplefilter("ignore")
            loaded = torch.load(file, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as error:
        message = str(error)
        if "weights only load failed" in message.lower() or "weightsunpickler" in message.lower():
            raise UnsafeCheckpointError(
                f"refusing to load {file}: it is not a plain tensor checkpoint, and "
                f"torch.load(weights_only=True) blocked it ({_refusal_reason(message)}); "
                "summaryplus never unpickles code. If you trust the file, load it yourself "
                "and save its state_dict() or convert it to safetensors"
            ) from None
        raise CheckpointError(
            f"{file}: not a valid torch checkpoint (truncated or corrupt): "
            f"{_first_sentence(message) or type(error).__name__}"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, struct.error) as error:
        raise CheckpointError(
            f"{file}: not a valid torch checkpoint (truncated or corrupt): "
            f"{_first_sentence(str(error)) or type(error).__name__}"
        ) from None

    storages: dict[int, int] = {}
    tensors: list[TensorInfo] = []
    others: list[str] = []
    for name, value in _flatten(loaded, ""):
        if not isinstance(value, torch.Tensor):
            others.append(name)
            continue
        storage, offset, shape, stride = _tensors.view_key(value)
        index = storages.setdefault(storage, len(storages))
        tensors.append(
            TensorInfo(
                name=name,
                shape=tuple(int(d) for d in shape),
                dtype=_tensors.dtype_name(value.dtype),
                numel=_tensors.numel(value),
                nbytes=_tensors.nbytes(value),
                file=label,
                location=(index, offset, *stride),
            )
        )
    return CheckpointSummary(
        path=str(file),
        format="pytorch",
        files=(label,),
        file_bytes=file.stat().st_size,
        tensors=tuple(tensors),
        non_tensors=tuple(others),
    )


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """Dotted names for every leaf of nested dicts/lists/tuples, in order."""
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        yield prefix or "(root)", value
        return
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        yield from _flatten(item, name)


def _first_sentence(message: str) -> str:
    line = next((line.strip() for line in message.splitlines() if line.strip()), "")
    match = re.match(r"(.+?)\.(\s|$)", line)
    return match.group(1) if match else line


def _refusal_reason(message: str) -> str:
    """The one informative sentence of torch's multi-paragraph weights_only error."""
    lines = [line.strip() for line in message.splitlines()]
    reasons = [line.split("WeightsUnpickler error:", 1)[1].strip() for line in lines
               if "WeightsUnpickler error:" in line]
    reasons += [line for line in lines if "GLOBAL" in line]
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation",
                   "(1)", "(2)")
    reasons += [line for line in lines if not line.startswith(boilerplate)]
    for reason in reasons:
        if reason:
            # The first sentence; torch goes on with advice about add_safe_globals.
            return _first_sentence(reason)
    return "it holds something other than tensors and plain containers"


def read_index(path: str | os.PathLike[str]) -> CheckpointSummary:
    """Reads a sharded checkpoint: an index JSON whose ``weight_map`` names the shards.

    Every shard is read (headers only for safetensors) and the totals are summed.
    Each name in the ``weight_map`` must be in the shard it points to.
    """
    index = Path(path)
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{index}: not valid JSON ({error})") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
    ):
        raise CheckpointError(
            f"{index}: not a sharded-checkpoint index (no \"weight_map\" of tensor name -> file)"
        )
    folder = index.parent
    shards = sorted(set(weight_map.values()), key=_natural_key)
    parts = []
    for shard in shards:
        shard_path = folder / shard
        if not shard_path.is_file():
            raise CheckpointError(f"{index}: shard {shard!r} listed in the weight_map is missing")
        parts.append(_read_file(shard_path, folder))
    present = {(t.file, t.name) for part in parts for t in part.tensors}
    for name, shard in weight_map.items():
        if (os.path.relpath(folder / shard, folder), name) not in present:
            raise CheckpointError(
                f"{index}: the weight_map puts {name!r} in {shard!r}, which has no such tensor"
            )
    raw_meta = data.get("metadata")
    metadata = raw_meta if isinstance(raw_meta, dict) else {}
    declared = metadata.get("total_size")
    return _combine(
        str(index),
        parts,
        metadata=tuple((str(k), str(v)) for k, v in metadata.items()),
        declared_bytes=int(declared) if isinstance(declared, (int, float)) else None,
    )
