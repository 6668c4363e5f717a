"""The ``.safetensors`` reader: only the header is read, never tensor data.

A safetensors file starts with an 8-byte little-endian length and a JSON table of
names, dtypes, shapes and byte offsets, so a 100 GB file is summarized in
milliseconds with a few MB of memory.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

from .._untrusted import load_json
from ..errors import CheckpointError
from .model import CheckpointSummary, TensorInfo, natural_key

SAFETENSORS_SUFFIXES = (".safetensors",)

# The reference implementation refuses headers above 100 MB; so do we, before
# allocating anything for a length field that a corrupt file made up.
_MAX_HEADER_BYTES = 100_000_000
# torch tensors have at most 64 dimensions (c10's kMaxDims... in practice far
# fewer); a header entry with more is refused before any size arithmetic.
MAX_RANK = 64

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
    header = load_json(
        raw, CheckpointError, f"{file}: corrupt safetensors file", subject="the header"
    )
    if not isinstance(header, dict):
        raise CheckpointError(f"{file}: corrupt safetensors file: the header is not a JSON object")

    data_size = size - 8 - header_len
    metadata_raw = header.pop("__metadata__", None) or {}
    if not isinstance(metadata_raw, dict):
        raise CheckpointError(f"{file}: corrupt safetensors file: __metadata__ is not an object")
    metadata = tuple((str(k), str(v)) for k, v in metadata_raw.items())
    tensors = [
        _safetensors_entry(file, label, name, entry, data_size)
        for name, entry in sorted(header.items(), key=lambda item: natural_key(item[0]))
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
    if not isinstance(shape, list):
        raise corrupt(f"has an invalid shape ({type(shape).__name__}, not a list)")
    if len(shape) > MAX_RANK:
        raise corrupt(f"has {len(shape):,} dimensions (summaryplus reads at most {MAX_RANK})")
    if not all(_is_count(d) for d in shape):
        raise corrupt(f"has an invalid shape {_short(shape)}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        raise corrupt(f"has invalid data_offsets {_short(offsets)}")
    begin, end = offsets
    if begin > end:
        raise corrupt(f"has data_offsets {offsets} that end before they begin")
    if end > data_size:
        raise CheckpointError(
            f"{file}: truncated safetensors file: tensor {name!r} ends at data byte {end:,} "
            f"but the file holds {data_size:,} data bytes"
        )
    numel = _numel(shape, 8 * data_size)
    if numel is None:
        raise corrupt(f"has shape {_short(shape)}, more elements than the file holds bits")
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


def _numel(shape: list[int], limit: int) -> int | None:
    """The product of ``shape``, or None as soon as it passes ``limit`` (no
    ever-growing integers: a product over the limit stops the loop)."""
    numel = 1
    for dim in shape:
        if dim == 0:
            return 0
    for dim in shape:
        numel *= dim
        if numel > limit:
            return None
    return numel


def _short(value: object, limit: int = 80) -> str:
    """``value``'s repr, cut to ``limit`` characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
