"""The torch-file reader: ``torch.load(weights_only=True, mmap=True)``, never unsafe.

The file is memory-mapped instead of read, and any pickle that would run code is
refused; there is no fallback that loads it another way.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .model import CheckpointError, CheckpointSummary, TensorInfo, UnsafeCheckpointError

TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


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

    from .. import _tensors

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
