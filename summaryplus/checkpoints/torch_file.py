"""The torch-file reader: ``torch.load(weights_only=True, mmap=True)``, never unsafe.

The file is memory-mapped instead of read, and any pickle that would run code is
refused; there is no fallback that loads it another way.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import _tensors
from .._untrusted import MAX_ZIP_MEMBER_BYTES, check_zip_members
from ..errors import CheckpointError, UnsafeCheckpointError
from .model import CheckpointSummary, TensorInfo

TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
# The loaded structure is walked once, each container once however often it is
# referenced (a pickle's memo makes a DAG: 40 levels of lists that share one
# list are 2**40 paths but 41 objects); more entries than this are refused.
MAX_ENTRIES = 2_000_000


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
    if is_zip:
        _check_archive(file)
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
    for name, value in _flatten(loaded, file):
        if isinstance(value, _Repeat):
            others.append(f"{name} (the same object as {value.first})")
            continue
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


def _check_archive(file: Path) -> None:
    """The zip's central directory within budget before torch inflates anything:
    no member named outside the archive, no compressed member (or ``data.pkl``,
    however stored) past its size or ratio cap."""
    try:
        with zipfile.ZipFile(file) as archive:
            check_zip_members(archive, CheckpointError, str(file))
            for info in archive.infolist():
                if info.filename.endswith("data.pkl") and info.file_size > MAX_ZIP_MEMBER_BYTES:
                    raise CheckpointError(
                        f"{file}: the archive entry {info.filename!r} declares "
                        f"{info.file_size:,} bytes of pickle, over the "
                        f"{MAX_ZIP_MEMBER_BYTES:,}-byte limit summaryplus reads"
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(
            f"{file}: not a valid torch checkpoint (truncated or corrupt): {error}"
        ) from None


class _Repeat:
    """A container met again: reported by the name it was first seen under."""

    __slots__ = ("first",)

    def __init__(self, first: str) -> None:
        self.first = first


def _flatten(root: Any, file: Path) -> Iterator[tuple[str, Any]]:
    """Dotted names for every leaf of nested dicts/lists/tuples, in order.

    Iterative (any depth), each container once (a repeat yields a ``_Repeat``),
    and at most ``MAX_ENTRIES`` entries.

    Raises:
        CheckpointError: more than ``MAX_ENTRIES`` entries.
    """
    seen: dict[int, str] = {}
    stack: list[tuple[str, Any]] = [("", root)]
    count = 0
    while stack:
        prefix, value = stack.pop()
        count += 1
        if count > MAX_ENTRIES:
            raise CheckpointError(
                f"{file}: more than {MAX_ENTRIES:,} entries (summaryplus reads at most "
                f"{MAX_ENTRIES:,}; a state dict has one per tensor)"
            )
        if isinstance(value, Mapping):
            items: list[tuple[Any, Any]] = list(value.items())
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        else:
            yield prefix or "(root)", value
            continue
        if not items:
            continue  # no leaves (and () is one shared object: never a repeat)
        first = seen.setdefault(id(value), prefix or "(root)")
        if first != (prefix or "(root)"):
            yield prefix or "(root)", _Repeat(first)
            continue
        stack.extend(
            (f"{prefix}.{key}" if prefix else str(key), item) for key, item in reversed(items)
        )


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
