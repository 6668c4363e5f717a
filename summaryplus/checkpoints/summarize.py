"""``summarize_checkpoint``: picks the reader for a file, an index or a folder."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .._untrusted import contained
from ..errors import CheckpointError
from .model import CheckpointSummary, combine
from .safetensors_header import SAFETENSORS_SUFFIXES, read_safetensors
from .sharded import read_index, read_shard
from .torch_file import TORCH_SUFFIXES, read_torch


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
    # Every file found by listing the folder stays in it: a link out is refused.
    index = find_index(folder)
    if index is not None:
        summary = read_index(contained(folder, index.name, CheckpointError, str(folder)))
        return _replace_path(summary, str(folder))
    files = weight_files(folder)
    if not files:
        raise CheckpointError(f"{folder}: no checkpoint here (no *.safetensors, *.bin, *.pt files)")
    files = [contained(folder, file.name, CheckpointError, str(folder)) for file in files]
    parts = [read_shard(file, folder) for file in files]
    return combine(str(folder), parts)


def _replace_path(summary: CheckpointSummary, path: str) -> CheckpointSummary:
    return dataclasses.replace(summary, path=path)
