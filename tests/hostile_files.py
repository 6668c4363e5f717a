"""Hostile files for tests/test_hostile_*.py, made in tmp_path (never shipped).

Each maker writes a small file that would cost a naive reader a crash, a hang
or gigabytes, and returns its path. ``Bounded`` runs a read in
``tests/hostile_worker.py`` (its own interpreter, address space capped) and
reports the error, CPU seconds and peak memory it cost.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

WORKER = Path(__file__).with_name("hostile_worker.py")
# What every hostile read may cost (the issue: under a second or two, under
# ~100 MB over the interpreter). CPU seconds, so a loaded machine does not fail it.
MAX_CPU_S = 2.0
MAX_PEAK_MB = 100.0


@dataclass
class Outcome:
    error: str | None
    message: str
    cpu_s: float
    peak_mb: float
    result: str = ""

    def within_budget(self) -> bool:
        return self.cpu_s < MAX_CPU_S and self.peak_mb < MAX_PEAK_MB


class Bounded:
    """One worker interpreter, reused for every read of a test session."""

    def __init__(self) -> None:
        env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        assert json.loads(ready) == {"ready": True}, ready

    def __call__(self, call: str, *args: Any) -> Outcome:
        assert self.process.stdin is not None and self.process.stdout is not None
        plain = [str(arg) if isinstance(arg, Path) else arg for arg in args]
        self.process.stdin.write(json.dumps({"call": call, "args": plain}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the worker died on {call}{args} (code {self.process.wait()})")
        answer = json.loads(line)
        return Outcome(
            answer["error"], answer.get("message", ""), answer["cpu_s"], answer["peak_mb"],
            answer.get("result", ""),
        )

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# ------------------------------------------------------------------ safetensors
def safetensors_file(path: Path, header: bytes | dict[str, Any], data: bytes = b"") -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def small_safetensors(path: Path, name: str = "w") -> Path:
    """One float32 tensor of shape [2] (8 bytes)."""
    return safetensors_file(
        path, {name: {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8
    )


# ------------------------------------------------------------------ torch files
def dag_pt(path: Path, levels: int = 40) -> Path:
    """Lists sharing one list ``levels`` deep: 2**levels paths, ``levels`` + 1 lists."""
    value: Any = [torch.zeros(1)]
    for _ in range(levels):
        value = [value, value]
    torch.save(value, path)
    return path


def bomb_pt(path: Path, inflated: int) -> Path:
    """A torch.save zip whose ``data.pkl`` is a deflated pickle of one string of
    ``inflated`` bytes (a few MB on disk)."""
    buffer = io.BytesIO()
    torch.save({"a": torch.zeros(2)}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            if not info.filename.endswith("data.pkl"):
                out.writestr(info, source.read(info))
                continue
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with out.open(member, "w", force_zip64=True) as handle:
                handle.write(b"\x80\x02X" + struct.pack("<I", inflated))  # BINUNICODE
                chunk = b"x" * (1 << 20)
                for _ in range(inflated >> 20):
                    handle.write(chunk)
                handle.write(b"x" * (inflated % (1 << 20)) + b".")
    return path


# ------------------------------------------------------------------ .pt2 archives
def pt2_archive(path: Path, members: dict[str, bytes], deflated: bool = False) -> Path:
    """A zip laid out as torch.export.save's (``archive/archive_format`` ``pt2``,
    version 0) plus ``members`` under ``archive/``."""
    entries = {"archive_format": b"pt2", "archive_version": b"0", **members}
    method = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as out:
        for name, data in entries.items():
            out.writestr(f"archive/{name}", data)
    return path


def nested_json(depth: int, opening: str = "[", closing: str = "]") -> bytes:
    return (opening * depth + closing * depth).encode()
