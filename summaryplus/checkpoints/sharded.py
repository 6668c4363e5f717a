"""The sharded-checkpoint reader: an ``*.index.json`` whose ``weight_map`` names the shards."""

from __future__ import annotations

import os
from pathlib import Path

from .._untrusted import contained, load_json_file
from ..errors import CheckpointError
from .model import CheckpointSummary, combine, natural_key
from .safetensors_header import SAFETENSORS_SUFFIXES, read_safetensors
from .torch_file import read_torch


def read_index(path: str | os.PathLike[str]) -> CheckpointSummary:
    """Reads a sharded checkpoint: an index JSON whose ``weight_map`` names the shards.

    Every shard is read (headers only for safetensors) and the totals are summed.
    Each name in the ``weight_map`` must be in the shard it points to, and each
    shard inside the index's folder (``..``, absolute paths and links out of it
    are refused: ``summaryplus._untrusted.contained``).
    """
    index = Path(path)
    data = load_json_file(index, CheckpointError, subject="the index")
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
    ):
        raise CheckpointError(
            f"{index}: not a sharded-checkpoint index (no \"weight_map\" of tensor name -> file)"
        )
    folder = index.parent
    shards = sorted(set(weight_map.values()), key=natural_key)
    parts = []
    for shard in shards:
        shard_path = contained(folder, shard, CheckpointError, str(index))
        if not shard_path.is_file():
            raise CheckpointError(f"{index}: shard {shard!r} listed in the weight_map is missing")
        parts.append(read_shard(shard_path, folder))
    present = {(t.file, t.name) for part in parts for t in part.tensors}
    for name, shard in weight_map.items():
        if (os.path.relpath(folder / shard, folder), name) not in present:
            raise CheckpointError(
                f"{index}: the weight_map puts {name!r} in {shard!r}, which has no such tensor"
            )
    raw_meta = data.get("metadata")
    metadata = raw_meta if isinstance(raw_meta, dict) else {}
    declared = metadata.get("total_size")
    return combine(
        str(index),
        parts,
        metadata=tuple((str(k), str(v)) for k, v in metadata.items()),
        declared_bytes=int(declared) if isinstance(declared, (int, float)) else None,
    )


def read_shard(file: Path, root: Path) -> CheckpointSummary:
    """One weight file of a sharded or folder checkpoint, labelled relative to ``root``."""
    relative = os.path.relpath(file, root)
    if file.name.lower().endswith(SAFETENSORS_SUFFIXES):
        return read_safetensors(file, label=relative)
    return read_torch(file, label=relative)
