"""Hostile checkpoints, indexes, archives and configs: each is refused with its
reader's error, or summarized, within the budget (hostile_files.MAX_CPU_S CPU
seconds, MAX_PEAK_MB over the interpreter), in an interpreter of its own
whose address space is capped (``hostile_worker.py``).

Security model: docs/security.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_files import (
    Bounded,
    Outcome,
    bomb_pt,
    dag_pt,
    nested_json,
    pt2_archive,
    safetensors_file,
    small_safetensors,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the budget is measured with /proc"
)

SUMMARIZE = "summaryplus.checkpoints:summarize_checkpoint"
READ_ARCHIVE = "summaryplus.exported.archive:read_archive"


@pytest.fixture(scope="module")
def bounded() -> Iterator[Bounded]:
    worker = Bounded()
    yield worker
    worker.close()


def refused(outcome: Outcome, error: str, *words: str) -> None:
    assert outcome.error == error, outcome
    assert "\n" not in outcome.message, outcome.message  # one line
    for word in words:
        assert word in outcome.message, outcome.message
    assert outcome.within_budget(), outcome


# ------------------------------------------------------------------ containment
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A checkpoint outside the folder the user names (``tmp_path/ckpt``)."""
    folder = tmp_path / "outside"
    folder.mkdir()
    small_safetensors(folder / "x.safetensors", name="secret.tensor")
    (tmp_path / "ckpt").mkdir()
    return folder / "x.safetensors"


def index_file(folder: Path, weight_map: dict[str, str]) -> Path:
    path = folder / "model.safetensors.index.json"
    path.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return path


@pytest.mark.parametrize(
    "entry", ["../outside/x.safetensors", "ABSOLUTE", "sub/../../outside/x.safetensors"]
)
def test_an_index_entry_outside_the_folder_is_refused(
    bounded: Bounded, tmp_path: Path, outside: Path, entry: str
) -> None:
    entry = str(outside) if entry == "ABSOLUTE" else entry
    index = index_file(tmp_path / "ckpt", {"secret.tensor": entry})
    refused(bounded(SUMMARIZE, index), "CheckpointError", repr(entry), "outside")
    refused(bounded(SUMMARIZE, tmp_path / "ckpt"), "CheckpointError", repr(entry))


def test_a_link_out_of_the_folder_is_refused(
    bounded: Bounded, tmp_path: Path, outside: Path
) -> None:
    folder = tmp_path / "ckpt"
    (folder / "model.safetensors").symlink_to(outside)
    refused(bounded(SUMMARIZE, folder), "CheckpointError", "'model.safetensors'", "link")
    # The same link named by an index.
    index_file(folder, {"secret.tensor": "model.safetensors"})
    refused(bounded(SUMMARIZE, folder), "CheckpointError", "'model.safetensors'", "link")


def test_a_link_inside_the_folder_is_followed(
    bounded: Bounded, tmp_path: Path, outside: Path
) -> None:
    folder = tmp_path / "ckpt"
    (folder / "shards").mkdir()
    small_safetensors(folder / "shards" / "a.safetensors")
    (folder / "b.safetensors").symlink_to(folder / "shards" / "a.safetensors")
    index_file(folder, {"w": "b.safetensors"})
    outcome = bounded(SUMMARIZE, folder)
    assert outcome.error is None, outcome


def hf_cache(root: Path) -> Path:
    """The Hugging Face cache layout: snapshots/<rev>/file -> ../../blobs/<hash>."""
    repo = root / "models--org--name"
    (repo / "blobs").mkdir(parents=True)
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    for number in (1, 2):
        blob = repo / "blobs" / f"hash{number}"
        small_safetensors(blob, name=f"layer{number}.weight")
        shard = snapshot / f"model-0000{number}-of-00002.safetensors"
        shard.symlink_to(f"../../blobs/hash{number}")
    index_blob = repo / "blobs" / "hashindex"
    index_blob.write_text(json.dumps({"weight_map": {
        "layer1.weight": "model-00001-of-00002.safetensors",
        "layer2.weight": "model-00002-of-00002.safetensors",
    }}))
    (snapshot / "model.safetensors.index.json").symlink_to("../../blobs/hashindex")
    return snapshot


def test_the_hugging_face_cache_layout_still_reads(bounded: Bounded, tmp_path: Path) -> None:
    snapshot = hf_cache(tmp_path)
    for target in (snapshot, snapshot / "model.safetensors.index.json"):
        outcome = bounded(SUMMARIZE, target)
        assert outcome.error is None, outcome
        assert "layer2.weight" in outcome.result
    # A snapshot entry linking out of the cache is refused all the same.
    (snapshot / "model-00002-of-00002.safetensors").unlink()
    stray = tmp_path / "stray.safetensors"
    small_safetensors(stray, name="layer2.weight")
    (snapshot / "model-00002-of-00002.safetensors").symlink_to(stray)
    refused(bounded(SUMMARIZE, snapshot), "CheckpointError", "model-00002-of-00002", "link")


def test_nothing_outside_the_folder_is_opened(tmp_path: Path, outside: Path) -> None:
    """Watches every open (an audit hook sees builtins.open, io.open and os.open)."""
    from summaryplus.checkpoints import CheckpointError, summarize_checkpoint

    opened: list[str] = []
    watching = [False]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if watching[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # (hooks cannot be removed: this one only records while watching)
    folder = tmp_path / "ckpt"
    small_safetensors(folder / "inside.safetensors", name="inside")
    (folder / "model.safetensors").symlink_to(outside)
    for weight_map in (
        {"inside": "inside.safetensors", "secret.tensor": "../outside/x.safetensors"},
        {"inside": "inside.safetensors", "secret.tensor": str(outside)},
        {"inside": "inside.safetensors", "secret.tensor": "model.safetensors"},
    ):
        index = index_file(folder, weight_map)
        for target in (index, folder):
            watching[0] = True
            try:
                with pytest.raises(CheckpointError):
                    summarize_checkpoint(target)
            finally:
                watching[0] = False
    assert opened, "the hook saw nothing: the watch itself is broken"
    escaped = [p for p in opened if not Path(p).resolve().is_relative_to(folder.resolve())]
    assert escaped == []
    assert not any(Path(p).resolve().is_relative_to(outside.parent.resolve()) for p in opened)


def test_a_folder_config_linked_out_is_refused(tmp_path: Path, outside: Path) -> None:
    from summaryplus._factories import CommandError
    from summaryplus.cli.kinds import classify

    folder = tmp_path / "ckpt"
    (folder / "config.json").symlink_to(outside)
    with pytest.raises(CommandError, match=r"'config.json'.*link"):
        classify(str(folder))


def test_a_hub_cache_entry_linked_out_is_refused(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from summaryplus._factories import CommandError
    from summaryplus._hub import fetch_config

    snapshot = hf_cache(tmp_path)
    (tmp_path / "models--org--name" / "blobs" / "hashconfig").write_text('{"model_type": "gpt2"}')
    (snapshot / "config.json").symlink_to("../../blobs/hashconfig")
    downloaded = str(snapshot / "config.json")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda **_: downloaded)
    assert fetch_config("org/name") == snapshot / "config.json"
    (snapshot / "config.json").unlink()
    (snapshot / "config.json").symlink_to(outside)
    with pytest.raises(CommandError, match=r"Hugging Face cache.*link"):
        fetch_config("org/name")


@pytest.mark.parametrize("name", ["../evil.json", "/abs/evil.json", "archive/../../evil.json"])
def test_an_archive_entry_named_outside_is_refused(
    bounded: Bounded, tmp_path: Path, name: str
) -> None:
    path = pt2_archive(tmp_path / "a.pt2", {})
    import zipfile

    with zipfile.ZipFile(path, "a") as out:
        out.writestr(name, b"{}")
    refused(bounded(READ_ARCHIVE, path), "ExportedArchiveError", "outside the archive")


# ------------------------------------------------------------------ budgets
def test_a_pickle_dag_is_walked_once(bounded: Bounded, tmp_path: Path) -> None:
    # 40 levels of [x, x]: 2**40 paths to the one tensor, 41 lists.
    outcome = bounded(SUMMARIZE, dag_pt(tmp_path / "dag.pt"))
    assert outcome.error is None, outcome
    assert outcome.within_budget(), outcome
    assert "the same object as" in outcome.result


@pytest.mark.parametrize("inflated", [300_000_000, 20_000_000])
def test_a_zip_bomb_pickle_is_refused_before_inflating(
    bounded: Bounded, tmp_path: Path, inflated: int
) -> None:
    # 300 MB: over the 256 MB member cap; 20 MB of "x" deflates ~1000x: over the 200x ratio.
    path = bomb_pt(tmp_path / "bomb.pt", inflated)
    assert path.stat().st_size < 2_000_000
    refused(bounded(SUMMARIZE, path), "CheckpointError", "data.pkl")


@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ([2] * 150_000, ("150,000 dimensions",)),
        ([2] * 65, ("65 dimensions",)),
        ([10**18] * 60, ("more elements than the file holds",)),
        ([2**62, 2**62, 0], ()),  # zero elements: no product over the limit
    ],
)
def test_safetensors_shapes_within_budget(
    bounded: Bounded, tmp_path: Path, shape: list[int], words: tuple[str, ...]
) -> None:
    header = {"t": {"dtype": "F32", "shape": shape, "data_offsets": [0, 4]}}
    refused(
        bounded(SUMMARIZE, safetensors_file(tmp_path / "t.safetensors", header, b"\0" * 4)),
        "CheckpointError", *words,
    )


@pytest.mark.parametrize("brackets", ["[]", "{}", "[{", "[],["])
def test_a_deeply_nested_header_is_refused(bounded: Bounded, tmp_path: Path, brackets: str) -> None:
    if brackets == "[{":  # alternating, with keys: [{"a":[{"a":...
        raw = ('[{"a":' * 200_000 + "0" + "}]" * 200_000).encode()
    elif brackets == "[],[":  # no run of openers: [[],[[],[...]]]
        raw = b"[" + b"[],[" * 200_000 + b"]" * 200_001
    else:
        raw = nested_json(1_000_000, brackets[0], brackets[1])  # 2 MB
    refused(bounded(SUMMARIZE, safetensors_file(tmp_path / "n.safetensors", raw)),
            "CheckpointError", "nests JSON deeper than 64")
    index = tmp_path / "model.safetensors.index.json"
    index.write_bytes(raw)
    refused(bounded(SUMMARIZE, index), "CheckpointError", "nests JSON deeper")


@pytest.mark.parametrize(
    ("raw", "words"),
    [(nested_json(100_000), "deeper"), (b"[" * 100_000, "deeper"),
     (b"[" + b"[[]," * 100_000, "unbalanced")],
)
def test_nesting_is_refused_whatever_the_recursion_limit(
    tmp_path: Path, raw: bytes, words: str
) -> None:
    from summaryplus.checkpoints import CheckpointError, summarize_checkpoint

    path = safetensors_file(tmp_path / "n.safetensors", raw)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10**6)  # a caller that raised it: the parser is never reached
    try:
        with pytest.raises(CheckpointError, match=words):
            summarize_checkpoint(path)
    finally:
        sys.setrecursionlimit(limit)


def test_pt2_entries_within_budget(bounded: Bounded, tmp_path: Path) -> None:
    # A graph JSON of 300 MB of spaces deflated (~300 kB): refused unread.
    big = b"{" + b" " * 300_000_000 + b"}"
    path = pt2_archive(tmp_path / "big.pt2", {"models/model.json": big}, deflated=True)
    assert path.stat().st_size < 2_000_000
    refused(bounded(READ_ARCHIVE, path), "ExportedArchiveError", "models/model.json")
    path = pt2_archive(tmp_path / "deep.pt2", {"models/model.json": nested_json(500_000, "{", "}")})
    refused(bounded(READ_ARCHIVE, path), "ExportedArchiveError", "nests JSON deeper")


@pytest.mark.parametrize(
    "text",
    [
        "Symbol('s0', positive=True, integer=True) + 0*9**9**9",
        "Pow(9, Pow(9, 9))",
        "s0**(10**9)",
        "Integer(2)**4000",
        "Mul(" + "Integer(10**300), " * 10 + "s0)",
        "s0 + " + "1 + " * 20_000 + "1",
        "(" * 300 + "s0" + ")" * 300,
        "Integer('" + "9" * 4000 + "')",
    ],
)
def test_shape_expressions_within_budget(bounded: Bounded, text: str) -> None:
    refused(bounded("summaryplus.exported.symbolic:parse_expr", text), "ExportedArchiveError",
            "shape expression")


def test_real_shape_expressions_still_parse() -> None:
    from summaryplus.exported.symbolic import evaluate, parse_expr, symbol

    expression = parse_expr("Mul(Integer(2), Pow(Symbol('s0', integer=True), Integer(2))) + 1")
    assert evaluate(expression, {symbol("s0"): 3}) == 19  # 2 * 3**2 + 1 = 19
    assert parse_expr("2**64") == 2**64


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"model_type": "llama", "num_hidden_layers": 10**6}, ("num_hidden_layers is 1,000,000",)),
        ({"model_type": "t5", "num_layers": 2000, "num_decoder_layers": 4}, ("num_layers",)),
        ({"model_type": "llava", "text_config": {"num_hidden_layers": 5000}},
         ("text_config.num_hidden_layers",)),
        ({"model_type": "mixtral", "num_hidden_layers": 1000, "num_local_experts": 1000},
         ("1,000 experts",)),
    ],
)
def test_a_config_too_large_to_build_is_refused_first(
    tmp_path: Path, config: dict[str, object], words: tuple[str, ...]
) -> None:
    from summaryplus._config_size import oversized
    from summaryplus._configs import build_from_config
    from summaryplus._factories import USAGE, CommandError

    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(CommandError, match="--max-layers") as caught:
        build_from_config(path, None, None, seq_len=None, batch=1)
    assert caught.value.code == USAGE
    for word in words:
        assert word in str(caught.value)
    assert oversized(config, max_layers=10**6) is None  # --max-layers lets it through


def test_the_max_layers_flag_overrides(tmp_path: Path) -> None:
    from summaryplus.cli import build_parser, main
    from summaryplus.cli.plan import build_plan_parser

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "gpt2", "n_layer": 2000}))
    assert main([str(path)]) == 2  # refused before transformers is even imported
    assert build_parser().parse_args([str(path), "--max-layers", "5000"]).max_layers == 5000
    assert build_plan_parser().parse_args([str(path), "--max-layers", "9"]).max_layers == 9
    assert build_parser().parse_args([str(path)]).max_layers == 1024
