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

The summary is plain data; ``summaryplus.render.checkpoint`` turns it into text,
tabulate tables, HTML, JSON or CSV.

Example:
    >>> from summaryplus.checkpoints import summarize_checkpoint
    >>> ckpt = summarize_checkpoint("model.safetensors")  # doctest: +SKIP
    >>> ckpt.total_params, ckpt.total_bytes  # doctest: +SKIP
    (124439808, 248879616)
"""

from __future__ import annotations

from ..errors import CheckpointError, UnsafeCheckpointError
from .model import CheckpointSummary, DtypeTotals, GroupTotals, TensorInfo
from .safetensors_header import SAFETENSORS_SUFFIXES, read_safetensors
from .sharded import read_index
from .summarize import find_index, summarize_checkpoint, weight_files
from .torch_file import TORCH_SUFFIXES, read_torch

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
