"""The ``summaryplus`` command on real files made in a temp dir.

Forms: demo, MODULE:CALLABLE and FILE.py:CALLABLE factories, checkpoints
(safetensors read from the header only, torch files with weights_only, sharded
indexes and folders), transformers configs. Every bad input gets one line on
stderr and a non-zero exit status, and a malicious pickle is never executed.

Each form runs at least once as ``python -m summaryplus`` in a subprocess (as are
the RSS probe and the malicious pickles); variations and the matrix of error
paths call ``cli.main`` in-process, which checks the same stdout, stderr and
exit status without paying torch's import (~1 s) each time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from summaryplus import ModelStatistics
from summaryplus.checkpoints import read_safetensors, summarize_checkpoint
from summaryplus.cli import main

REPO = Path(__file__).resolve().parents[1]
HAS_JSON = hasattr(ModelStatistics, "to_json")
HAS_TABLE = hasattr(ModelStatistics, "to_table")

FACTORIES = textwrap.dedent(
    """
    import torch
    from torch import nn


    class TiedLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(100, 16)
            self.head = nn.Linear(16, 100, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids):
            return self.head(self.embed(ids))


    class TwoInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(50, 8)
            self.proj = nn.Linear(4, 8)

        def forward(self, ids, features):
            return self.embed(ids).sum(1) + self.proj(features)


    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            raise ValueError("boom in forward")


    def make_cnn():
        return nn.Sequential(
            nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10)
        )


    def make_int():
        return 3


    def make_raising():
        raise RuntimeError("factory exploded")


    instance = nn.Linear(4, 2)
    """
)
# make_cnn at 1x3x32x32: conv 8*30*30 outputs * 3*3*3 = 194,400 MACs; linear 7200*10 = 72,000.
CNN_MACS = 194_400 + 72_000
CNN_PARAMS = (8 * 27 + 8) + (7200 * 10 + 10)  # 224 + 72,010 = 72,234

LLAMA_CONFIG = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 256,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
# embed 256*64 + 2 layers * (q 64*64 + k,v 2*64*32 + o 64*64 + mlp 3*64*128 + 2 norms 64)
# + final norm 64 + lm_head 64*256
LLAMA_LAYER = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 128 + 2 * 64
LLAMA_PARAMS = 256 * 64 + 2 * LLAMA_LAYER + 64 + 64 * 256


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path, cwd: Path) -> Result:
    """``python -m summaryplus ARGS`` in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "summaryplus", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_many(commands: list[tuple[str | Path, ...]], cwd: Path) -> list[Result]:
    """Several subprocesses, two at a time."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda args: run_cli(*args, cwd=cwd), commands))


def cli(*args: str | Path, cwd: Path) -> Result:
    """``summaryplus ARGS`` in this process: same output and exit status."""
    out, err = io.StringIO(), io.StringIO()
    saved_path, saved_modules, saved_cwd = list(sys.path), set(sys.modules), os.getcwd()
    saved_env = dict(os.environ)
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # argparse: --help and usage errors
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if name.startswith(("cli_factories", "_summaryplus_target_")):
                del sys.modules[name]
    return Result(code, out.getvalue(), err.getvalue())


def one_error_line(result: Result) -> str:
    """The whole of stderr must be one ``summaryplus: error:`` line, no traceback."""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("summaryplus: error: "), result.err
    assert "Traceback" not in result.err
    return lines[0]


# ------------------------------------------------------------------ files
_SAFETENSORS_CODES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                      torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}


def save_safetensors_by_hand(tensors: dict[str, torch.Tensor], path: Path,
                             metadata: dict[str, str] | None = None) -> None:
    """``safetensors.torch.save_file`` for the tests' small files, for installs
    without safetensors (the reader under test never needs the library)."""
    write_safetensors(
        path,
        {name: (_SAFETENSORS_CODES[t.dtype], tuple(t.shape), t.element_size())
         for name, t in tensors.items()},
        data={name: t.contiguous().view(torch.uint8).numpy().tobytes()
              for name, t in tensors.items()},
    )


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...], int]],
                      data: dict[str, bytes] | None = None,
                      aliases: dict[str, str] | None = None) -> int:
    """A safetensors file written by hand: 8-byte LE header length, JSON header, data.

    Data not given in ``data`` is left as a hole (reads as zeros), so a file of
    hundreds of MB costs no time or disk. ``aliases`` adds names that point at an
    existing entry's bytes. Returns the file size.
    """
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    spans = {}
    for name, (code, shape, itemsize) in tensors.items():
        numel = 1
        for dim in shape:
            numel *= dim
        spans[name] = (offset, offset + numel * itemsize)
        header[name] = {"dtype": code, "shape": list(shape), "data_offsets": list(spans[name])}
        offset += numel * itemsize
    for alias, target in (aliases or {}).items():
        header[alias] = {**header[target]}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        base = 8 + len(raw)
        for name, payload in (data or {}).items():
            handle.seek(base + spans[name][0])
            handle.write(payload)
        handle.truncate(base + offset)
    return base + offset


class Evil:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch '{self.marker}'",))


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    (root / "cli_factories.py").write_text(FACTORIES)

    # A state dict with tied weights (same storage), nested entries and a non-tensor.
    embed = torch.randn(100, 16)
    torch.save(
        {"embed.weight": embed, "head.weight": embed, "norm.weight": torch.ones(16),
         "extra": {"step": 7, "ema": {"w": torch.zeros(2, 3, dtype=torch.float16)}}},
        root / "tied.pt",
    )
    good = (root / "tied.pt").read_bytes()
    (root / "truncated.pt").write_bytes(good[: len(good) // 2])
    (root / "garbage.bin").write_bytes(b"definitely not a checkpoint")

    # Small safetensors with real data, written by the safetensors library (or,
    # on a plain install without it, by hand in the same format).
    try:
        from safetensors.torch import save_file
    except ModuleNotFoundError:
        save_file = save_safetensors_by_hand

    save_file({"encoder.layer.0.weight": torch.randn(8, 4), "encoder.layer.0.bias": torch.zeros(8),
               "encoder.layer.1.weight": torch.randn(2, 8).to(torch.bfloat16),
               "head.weight": torch.randn(3, 2)}, root / "small.safetensors",
              metadata={"format": "pt"})
    small = (root / "small.safetensors").read_bytes()
    (root / "truncated.safetensors").write_bytes(small[: len(small) - 10])
    (root / "badheader.safetensors").write_bytes(struct.pack("<Q", 12) + b"{not json!!}")

    # Sharded: two shards + index, and a folder holding them (plus a config.json).
    shards = root / "sharded"
    shards.mkdir()
    save_file({"model.a.weight": torch.ones(4, 4), "model.b.weight": torch.ones(4)},
              shards / "model-00001-of-00002.safetensors")
    save_file({"lm_head.weight": torch.ones(10, 4)}, shards / "model-00002-of-00002.safetensors")
    weight_map = {"model.a.weight": "model-00001-of-00002.safetensors",
                  "model.b.weight": "model-00001-of-00002.safetensors",
                  "lm_head.weight": "model-00002-of-00002.safetensors"}
    (shards / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 4 * (16 + 4 + 40)}, "weight_map": weight_map}))
    (shards / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    (root / "missing_shard.index.json").write_text(
        json.dumps({"weight_map": {"x": "nowhere.safetensors"}}))
    (root / "wrong_shard.index.json").write_text(json.dumps(
        {"weight_map": {"not.there": "sharded/model-00001-of-00002.safetensors"}}))

    config_dir = root / "llama"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    (root / "empty_dir").mkdir()
    (root / "notes.txt").write_text("hello")
    return root


# ------------------------------------------------------------------ help and demo
def test_help_documents_every_option(work: Path) -> None:
    result = cli("--help", cwd=work)
    assert result.code == 0
    for option in ("--input-size", "--dtypes", "--device", "--depth", "--col-names",
                   "--row-settings", "--mode", "--format", "--output", "--plot", "--seq-len",
                   "--batch-size", "--model-class", "--debug"):
        assert option in result.out
    assert "examples:" in result.out and "summaryplus model.safetensors" in result.out
    assert "exit status" in result.out


def test_demo(work: Path) -> None:
    result = run_cli("demo", "--depth", "1", cwd=work)
    assert result.code == 0, result.err
    assert "SmallCNN" in result.out and "TinyGPT" in result.out


# ------------------------------------------------------------------ factories
def test_factory_from_file(work: Path) -> None:
    result = run_cli("./cli_factories.py:make_cnn", "--input-size", "1,3,32,32", cwd=work)
    assert result.code == 0, result.err
    assert "Conv2d: 1-1" in result.out
    assert f"Total params: {CNN_PARAMS:,}" in result.out
    assert f"{CNN_MACS:,}" in result.out  # the root row's Mult-Adds
    assert result.err == ""


def test_factory_from_module_with_int_inputs_and_tied_weights(work: Path) -> None:
    result = run_cli("cli_factories:TiedLM", "--seq-len", "10", "--depth", "1", cwd=work)
    assert result.code == 0, result.err
    assert "Total params: 1,600" in result.out  # 100 * 16, the tied head counted once
    # head: 10 tokens x 16 x 100 = 16,000 MACs
    assert "16,000" in result.out


def test_factory_several_inputs_with_dtypes(work: Path) -> None:
    result = cli("cli_factories.py:TwoInputs", "--input-size", "2,5", "--input-size", "2,4",
                     "--dtypes", "long,float32", cwd=work)
    assert result.code == 0, result.err
    assert "[2, 5, 8]" in result.out  # the embedding's output shape


def test_factory_instance_attribute_and_meta_device(work: Path) -> None:
    result = cli("cli_factories.py:instance", "--input-size", "3,4", cwd=work)
    assert result.code == 0, result.err
    assert "Total params: 10" in result.out
    meta = cli("cli_factories.py:make_cnn", "--device", "meta", "--input-size", "1,3,32,32",
                   cwd=work)
    assert meta.code == 0, meta.err
    assert f"Total params: {CNN_PARAMS:,}" in meta.out and f"{CNN_MACS:,}" in meta.out


@pytest.mark.skipif(not HAS_JSON, reason="ModelStatistics.to_json not there yet")
def test_factory_json_parses_back(work: Path) -> None:
    result = cli("cli_factories.py:make_cnn", "--input-size", "1,3,32,32", "--format", "json",
                     cwd=work)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["totals"]["total_params"] == CNN_PARAMS
    assert data["totals"]["total_mult_adds"] == CNN_MACS


@pytest.mark.skipif(not HAS_TABLE, reason="ModelStatistics.to_table not there yet")
def test_factory_github_to_output_file(work: Path) -> None:
    out = work / "cnn.md"
    result = cli("cli_factories.py:make_cnn", "--input-size", "1,3,32,32", "--format",
                     "github", "--output", out, cwd=work)
    assert result.code == 0, result.err
    assert result.out == ""
    text = out.read_text()
    assert text.startswith("| Layer") and "Conv2d" in text


# ------------------------------------------------------------------ checkpoints
def test_safetensors_text_and_grouping(work: Path) -> None:
    result = run_cli("small.safetensors", "--depth", "2", cwd=work)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Checkpoint: small.safetensors (safetensors, 1 file,")
    # encoder: 8*4 + 8 + 2*8 = 56 params; head: 6
    assert any(line.split()[:3] == ["encoder", "3", "56"] for line in lines), result.out
    assert any(line.split()[:3] == ["encoder.layer", "3", "56"] for line in lines)
    assert "Total params:           62" in result.out
    assert "bfloat16" in result.out and "Metadata format:" in result.out


def test_safetensors_json_and_csv_parse_back(work: Path) -> None:
    result = cli("small.safetensors", "--format", "json", "--depth", "1", cwd=work)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["total_params"] == 62
    # f32: (32 + 8 + 6) * 4 bytes; bf16: 16 * 2 bytes
    assert data["total_bytes"] == 46 * 4 + 16 * 2
    assert {g["prefix"]: g["params"] for g in data["groups"]} == {"encoder": 56, "head": 6}
    assert {t["name"] for t in data["tensors"]} >= {"encoder.layer.1.weight", "head.weight"}
    assert data["tied"] == []

    as_csv = cli("small.safetensors", "--format", "csv", "--depth", "1", cwd=work)
    # the groups, a blank line, then the totals (as every format carries them)
    groups, _, totals = as_csv.out.partition("\n\n")
    rows = list(csv.DictReader(io.StringIO(groups)))
    assert [(r["prefix"], int(r["params"])) for r in rows] == [("encoder", 56), ("head", 6)]
    assert ["Total params", "62"] in list(csv.reader(io.StringIO(totals)))

    grid = cli("small.safetensors", "--format", "grid", cwd=work)
    assert grid.code == 0 and "+----" in grid.out and "Total params" in grid.out


def test_big_safetensors_is_read_from_the_header_only(work: Path) -> None:
    """~420 MB on disk: summarized in milliseconds, and the command's peak RSS is
    that of the same command on a 1 kB file (give or take a few MB)."""
    safe_open = pytest.importorskip("safetensors").safe_open

    big = work / "big.safetensors"
    layers = {"model.embed_tokens.weight": ("BF16", (50_000, 4096), 2)}
    for i in range(4):
        layers[f"model.layers.{i}.mlp.weight"] = ("BF16", (1024, 1024), 2)
        layers[f"model.layers.{i}.norm.weight"] = ("F32", (1024,), 4)
    norm = torch.arange(1024, dtype=torch.float32)
    payload = {"model.layers.3.norm.weight": norm.numpy().tobytes()}
    size = write_safetensors(big, layers, data=payload)
    assert size > 400e6
    with safe_open(str(big), "pt") as handle:  # a real file: the library reads it back
        assert torch.equal(handle.get_tensor("model.layers.3.norm.weight"), norm)
    tiny = work / "tiny.safetensors"
    write_safetensors(tiny, {"w": ("F32", (4,), 4)})

    start = time.perf_counter()
    summary = summarize_checkpoint(big)
    elapsed = time.perf_counter() - start
    assert summary.total_params == 50_000 * 4096 + 4 * (1024 * 1024 + 1024)
    with open(big, "rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
    assert summary.total_bytes == size - 8 - header_len  # every data byte is a tensor's
    assert summary.file_bytes == size
    assert elapsed < 0.2, f"header read took {elapsed * 1000:.1f} ms"

    def peak_rss_kb(path: Path) -> tuple[int, float, str]:
        probe = (
            "import resource, subprocess, sys, time; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
            "time.perf_counter() - t, r.returncode)"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe, sys.executable, "-m", "summaryplus", str(path),
             "--format", "json"],
            cwd=work, env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, check=True,
        ).stdout.split()
        assert out[2] == "0"
        return int(out[0]), float(out[1]), out[2]

    with ThreadPoolExecutor(2) as pool:
        (big_kb, big_s, _), (tiny_kb, tiny_s, _) = pool.map(peak_rss_kb, [big, tiny])
    print(f"\nbig safetensors {size / 1e6:.0f} MB: header read {elapsed * 1000:.2f} ms; "
          f"CLI peak RSS {big_kb / 1024:.1f} MiB vs {tiny_kb / 1024:.1f} MiB on a tiny file; "
          f"CLI wall {big_s:.2f} s vs {tiny_s:.2f} s")
    assert big_kb - tiny_kb < 16 * 1024, (big_kb, tiny_kb)
    # Compared with the tiny file's run, not absolutely: torch's own import
    # costs ~750 MB of RSS on a CUDA build (torch 2.14.1 from the registry).
    assert (big_kb - tiny_kb) * 1024 < size / 20  # not even 5% of the file read


def test_torch_state_dict_with_tied_and_nested_entries(work: Path) -> None:
    result = run_cli("tied.pt", "--format", "json", "--depth", "1", cwd=work)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    # embed 100*16 once (head.weight shares its storage) + norm 16 + extra.ema.w 6
    assert data["total_params"] == 1600 + 16 + 6
    assert data["stored_params"] == 2 * 1600 + 16 + 6
    assert data["tied"] == [["embed.weight", "head.weight"]]
    assert data["non_tensors"] == ["extra.step"]
    groups = {g["prefix"]: g for g in data["groups"]}
    assert groups["head"]["params"] == 0 and groups["head"]["tied"] == 1
    assert {d["dtype"] for d in data["dtypes"]} == {"float32", "float16"}

    text = cli("tied.pt", cwd=work)
    assert "embed.weight = head.weight" in text.out and "(tied)" in text.out


def test_sharded_index_and_folder_are_summed(work: Path) -> None:
    expected = 16 + 4 + 40
    for result in (
        run_cli("sharded", "--format", "json", cwd=work),
        cli("sharded/model.safetensors.index.json", "--format", "json", cwd=work),
    ):
        assert result.code == 0, result.err
        data = json.loads(result.out)
        assert data["total_params"] == expected
        assert len(data["files"]) == 2 and data["declared_bytes"] == 4 * expected


# ------------------------------------------------------------------ configs
def test_config_file_and_folder_build_on_meta(work: Path) -> None:
    pytest.importorskip("transformers")
    from_file, from_dir = run_many(
        [("llama/config.json", "--seq-len", "32", "--depth", "1"),
         ("llama", "--model-class", "AutoModel", "--depth", "1")],
        cwd=work,
    )
    assert from_file.code == 0, from_file.err
    assert "LlamaForCausalLM" in from_file.out and "[1, 32, 256]" in from_file.out
    assert f"Total params: {LLAMA_PARAMS:,}" in from_file.out
    # bfloat16 from the config: 2 bytes a parameter
    assert f"Params size (MB): {LLAMA_PARAMS * 2 / 1e6:.2f}" in from_file.out
    assert from_dir.code == 0, from_dir.err
    assert "LlamaModel" in from_dir.out and "[1, 128, 64]" in from_dir.out  # default 128 tokens


# ------------------------------------------------------------------ safety
def test_malicious_pickle_is_never_executed(work: Path, tmp_path: Path) -> None:
    # The payload works: plain pickle.loads runs it.
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists()

    marker = tmp_path / "marker"
    torch.save({"w": torch.zeros(2), "payload": Evil(marker)}, tmp_path / "evil.pt")
    with open(tmp_path / "evil_legacy.bin", "wb") as handle:  # pre-zip torch format
        pickle.dump({"payload": Evil(marker)}, handle, protocol=2)
    torch.save(nn.Linear(2, 2), tmp_path / "whole_module.pth")
    results = run_many(
        [(tmp_path / name,) for name in ("evil.pt", "evil_legacy.bin", "whole_module.pth")],
        cwd=work,
    )
    assert not marker.exists()
    for result in results:
        assert result.code == 1
        line = one_error_line(result)
        assert "refusing to load" in line and "weights_only=True" in line
    assert "system" in one_error_line(results[0])  # says what it wanted to call
    assert "system" in one_error_line(results[1])
    assert "torch.nn.modules.linear.Linear" in one_error_line(results[2])


# ------------------------------------------------------------------ errors
ERRORS: dict[str, tuple[tuple[str, ...], int, str]] = {
    # name: (arguments, exit status, text the one line must contain)
    "missing file": (("nope.safetensors",), 2, "no such file or folder: nope.safetensors"),
    "missing factory file": (("nope.py:make",), 2, "no such file: nope.py"),
    "unknown extension": (("notes.txt",), 2, "unknown extension '.txt'"),
    "spec without colon": (("cli_factories",), 2, "needs a ':'"),
    "py file without callable": (("cli_factories.py",), 2, "cli_factories.py:CALLABLE"),
    "not a module": (("cli_factories.py:make_int",), 2, "returned int, not a torch.nn.Module"),
    "no such attribute": (("cli_factories.py:make_nothing",), 2, "has no attribute 'make_nothing'"),
    "no such module": (("not_a_module_xyz:make",), 2, "no module named 'not_a_module_xyz'"),
    "factory raises": (("cli_factories.py:make_raising",), 1, "RuntimeError: factory exploded"),
    "malformed size": (("cli_factories.py:make_cnn", "--input-size", "1,3,x"), 2, "not a shape"),
    "zero size": (("cli_factories.py:make_cnn", "--input-size", "0,3"), 2, "not a shape"),
    "bad dtype": (("cli_factories.py:make_cnn", "--input-size", "1,3,32,32", "--dtypes", "flot"),
                  2, "'flot' is not a torch dtype"),
    "bad column": (("cli_factories.py:make_cnn", "--col-names", "params"), 2,
                   "--col-names 'params'"),
    "bad format": (("small.safetensors", "--format", "yaml"), 2, "--format 'yaml' is not valid"),
    "bad mode": (("cli_factories.py:make_cnn", "--mode", "test"), 2, "invalid choice: 'test'"),
    "model option on checkpoint": (("small.safetensors", "--input-size", "1,2"), 2,
                                   "--input-size does not apply to a checkpoint"),
    "seq-len and input-size": (("cli_factories.py:TiedLM", "--seq-len", "4", "--input-size", "1,4"),
                               2, "not both"),
    "batch-size alone": (("cli_factories.py:make_cnn", "--batch-size", "2"), 2,
                         "--batch-size goes with --seq-len"),
    "bad depth": (("small.safetensors", "--depth", "-1"), 2, "not an integer >= 0"),
    "option on demo": (("demo", "--format", "json"), 2, "--format does not apply to demo"),
    "no such cuda device": (("cli_factories.py:make_cnn", "--device", "cuda:77"), 2,
                            "--device cuda:77: "),
    "bad device": (("cli_factories.py:make_cnn", "--device", "tpu9"), 2, "not a torch device"),
    "bad model class": (("llama", "--model-class", "NotAClass"), 2, "--model-class 'NotAClass'"),
    "truncated safetensors": (("truncated.safetensors",), 1, "truncated safetensors file"),
    "corrupt safetensors": (("badheader.safetensors",), 1, "the header is not valid JSON"),
    "truncated pt": (("truncated.pt",), 1, "not a valid torch checkpoint (truncated or corrupt)"),
    "garbage bin": (("garbage.bin",), 1, "not a torch checkpoint"),
    "missing shard": (("missing_shard.index.json",), 1, "shard 'nowhere.safetensors'"),
    "wrong shard": (("wrong_shard.index.json",), 1, "has no such tensor"),
    "empty folder": (("empty_dir",), 2, "no checkpoint"),
    "no target": ((), 2, "give a TARGET"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_gets_one_line(case: str, work: Path) -> None:
    if case == "bad model class":  # the config is read before --model-class is checked
        pytest.importorskip("transformers")
    args, code, expected = ERRORS[case]
    result = cli(*args, cwd=work)
    assert result.code == code, result.err
    assert expected in one_error_line(result)
    assert result.out == ""


def test_bad_input_end_to_end(work: Path) -> None:
    """The same as a real process: one line, the status, no traceback."""
    cases = ["missing file", "not a module", "truncated pt"]
    for case, result in zip(cases, run_many([ERRORS[c][0] for c in cases], cwd=work), strict=True):
        assert result.code == ERRORS[case][1], (case, result.err)
        assert ERRORS[case][2] in one_error_line(result)


def test_failing_forward_prints_the_summary_error(work: Path) -> None:
    result = run_cli("cli_factories.py:Broken", "--input-size", "2,4", cwd=work)
    assert result.code == 1
    assert result.err.startswith("summaryplus: error: Failed to run the forward pass of Broken")
    assert "ValueError: boom in forward" in result.err
    assert "Traceback" not in result.err

    shapes = cli("cli_factories.py:make_cnn", "--input-size", "1,3,8,8", cwd=work)
    assert shapes.code == 1 and "module '3' (Linear)" in shapes.err


def test_debug_shows_the_traceback(work: Path) -> None:
    result = cli("truncated.safetensors", "--debug", cwd=work)
    assert result.code == 1
    assert "Traceback" in result.err
    assert result.err.strip().splitlines()[-1].startswith("summaryplus: error: ")


def test_read_safetensors_rejects_inconsistent_offsets(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(ValueError, match="span 8 bytes"):
        read_safetensors(path)


def test_duplicate_offsets_in_safetensors_are_tied(tmp_path: Path) -> None:
    path = tmp_path / "dup.safetensors"
    write_safetensors(path, {"a.weight": ("F16", (4, 4), 2)}, aliases={"b.weight": "a.weight"})
    summary = read_safetensors(path)
    assert summary.tied_groups == (("a.weight", "b.weight"),)
    assert summary.total_params == 16 and summary.stored_params == 32
    # Each depth's rows add up to the totals.
    for depth in (0, 1, 2):
        assert sum(g.params for g in summary.groups(depth) if g.depth == max(depth, 1)
                   or depth == 0) == 16
