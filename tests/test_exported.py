"""Summaries of torch.export programs and .pt2 archives (summaryplus.exported).

The numbers must equal ``summary()`` of the eager model at the export's shapes;
an archive is read from its JSON entries only (no weight bytes, no unpickling).
"""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sympy
import torch
from torch import nn

from summaryplus import summary
from summaryplus.cli import main
from summaryplus.errors import ExportedArchiveError
from summaryplus.examples import SmallCNN, TinyGPT, deep_chain
from summaryplus.exported import summarize_exported
from summaryplus.exported.symbolic import parse_expr
from summaryplus.formatting import FormattingOptions

COLUMNS = ("input_size", "output_size", "num_params", "mult_adds", "trainable")


def _eager_and_program(
    model: nn.Module, inputs: tuple[Any, ...], columns: tuple[str, ...] = COLUMNS, **kwargs: Any
) -> tuple[Any, Any]:
    model = model.eval()
    eager = summary(
        model, input_data=list(inputs), col_names=columns, depth=10, verbose=0, **kwargs
    )
    program = torch.export.export(model, inputs, kwargs=kwargs)
    return eager, program


def _assert_same(eager: Any, exported: Any, inputs: bool = True) -> None:
    assert str(exported) == str(eager)
    for name in ("total_params", "trainable_params", "total_param_bytes", "total_mult_adds",
                 "total_buffers", "total_buffer_bytes", "total_output_bytes", "total_input"):
        assert getattr(exported, name) == getattr(eager, name), name
    assert exported.uncounted_ops == eager.uncounted_ops
    assert len(exported.summary_list) == len(eager.summary_list)
    for mine, theirs in zip(exported.summary_list, eager.summary_list, strict=True):
        assert (mine.module_path, mine.class_name, mine.depth, mine.depth_index) == (
            theirs.module_path, theirs.class_name, theirs.depth, theirs.depth_index
        )
        assert mine.output_size == theirs.output_size
        # A row's input is the first tensor its call used from outside it: the
        # graph does not say which argument came first (a layer given hidden
        # states and position embeddings may read the embeddings first).
        assert not inputs or mine.input_size == theirs.input_size
        assert (mine.num_params, mine.counted_params, mine.macs, mine.is_recursive) == (
            theirs.num_params, theirs.counted_params, theirs.macs, theirs.is_recursive
        )


EXAMPLES = {
    "TinyGPT": (TinyGPT, (torch.randint(0, 1000, (2, 64)),)),
    "SmallCNN": (SmallCNN, (torch.randn(8, 3, 32, 32),)),
    "deep_chain_tied": (lambda: deep_chain(6, tied=True), (torch.randn(3, 4),)),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_program_in_memory_equals_eager(name: str) -> None:
    factory, inputs = EXAMPLES[name]
    eager, program = _eager_and_program(factory(), inputs)
    exported = summary(program, col_names=COLUMNS, depth=10, verbose=0)
    _assert_same(eager, exported)


def test_tinygpt_numbers() -> None:
    _, program = _eager_and_program(TinyGPT(), EXAMPLES["TinyGPT"][1])
    stats = summary(program, verbose=0)
    # The head is tied to the embedding: 557,568 parameters, each once.
    assert stats.total_params == 557_568
    assert stats.total_mult_adds == 70_909_952
    assert stats.summary_list[-1].num_params_to_str() == "(shared)"
    assert stats.mult_adds_formula == "70909952" and stats.sizes == {}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_archive_equals_eager(name: str, tmp_path: Path) -> None:
    factory, inputs = EXAMPLES[name]
    eager, program = _eager_and_program(factory(), inputs)
    path = tmp_path / "model.pt2"
    torch.export.save(program, path)
    formatting = eager.formatting
    options = FormattingOptions(10, 0, formatting.col_names, 25, formatting.row_settings)
    _assert_same(eager, summarize_exported(path, options))


def _tiny_transformers() -> dict[str, tuple[Any, dict[str, Any]]]:
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    common = {"vocab_size": 100, "attn_implementation": "eager"}
    return {
        "gpt2": (
            transformers.GPT2LMHeadModel(transformers.GPT2Config(
                n_layer=2, n_embd=32, n_head=2, n_positions=64, bos_token_id=0, eos_token_id=0,
                **common,
            )),
            {"use_cache": False},
        ),
        "bert": (
            transformers.BertModel(transformers.BertConfig(
                num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
                intermediate_size=64, max_position_embeddings=64, **common,
            )),
            {},
        ),
        "llama": (
            transformers.LlamaForCausalLM(transformers.LlamaConfig(
                num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
                num_key_value_heads=1, intermediate_size=64, max_position_embeddings=64,
                **common,
            )),
            {"use_cache": False},
        ),
    }


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_transformers_models_equal_eager(tmp_path: Path) -> None:
    for name, (model, kwargs) in _tiny_transformers().items():
        ids = torch.randint(0, 100, (2, 16))
        eager, program = _eager_and_program(model, (ids,), COLUMNS[1:], **kwargs)
        _assert_same(eager, summary(program, col_names=COLUMNS[1:], depth=10, verbose=0), False)
        path = tmp_path / f"{name}.pt2"
        torch.export.save(program, path)
        options = FormattingOptions(
            10, 0, eager.formatting.col_names, 25, eager.formatting.row_settings
        )
        _assert_same(eager, summarize_exported(path, options), False)


# --------------------------------------------------------------- dynamic sizes
class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.fc(x))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def dynamic_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    batch = torch.export.Dim("batch")
    program = torch.export.export(
        Twice().eval(), (torch.randn(3, 8),), dynamic_shapes=({0: batch},)
    )
    path = tmp_path_factory.mktemp("dynamic") / "twice.pt2"
    torch.export.save(program, path)
    return path


def test_dynamic_sizes_print_by_name_and_macs_are_a_formula(dynamic_archive: Path) -> None:
    stats = summarize_exported(dynamic_archive)
    (name,) = stats.sizes
    assert stats.sizes == {name: 3}  # the example input's batch
    # fc: s * 8 * 16 = 128 s; out: s * 16 * 4 = 64 s
    assert stats.mult_adds_formula == f"192*{name}"
    assert stats.total_mult_adds == 192 * 3
    assert str(stats.summary_list[1].output_size) == f"[{name}, 16]"
    at_seven = summarize_exported(dynamic_archive, input_size=[(7, 8)])
    assert at_seven.total_mult_adds == 192 * 7 and at_seven.sizes == {name: 7}
    data = json.loads(at_seven.to_json())
    assert data["exported"]["total_mult_adds_formula"] == f"192*{name}"
    assert data["exported"]["layer_mult_adds_formulas"] == [f"192*{name}", f"128*{name}",
                                                            f"64*{name}"]
    assert data["totals"]["total_mult_adds"] == 1344
    assert data["layers"][1]["output_size"] == [name, 16]


def test_input_size_must_fit_the_static_sizes(dynamic_archive: Path) -> None:
    with pytest.raises(ValueError, match="static sizes"):
        summarize_exported(dynamic_archive, input_size=[(7, 9)])
    with pytest.raises(ValueError, match="1 tensor input"):
        summarize_exported(dynamic_archive, input_size=[(7, 8), (7, 8)])


def test_cli_archive(dynamic_archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(dynamic_archive), "--input-size", "5,8"]) == 0
    out = capsys.readouterr().out
    assert "Twice" in out and "960" in out  # 192 * 5
    assert "Dynamic sizes (from input_size): s" in out and "=5 (x[0])" in out
    assert "Mult-adds formula: 192*s" in out
    assert main([str(dynamic_archive), "--format", "json", "--depth", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["layers"]) == 3 and data["totals"]["total_mult_adds"] == 576
    assert main([str(dynamic_archive), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("index,")
    assert main([str(dynamic_archive), "--format", "html"]) == 0
    html = capsys.readouterr().out
    # Before: the dynamic sizes and the formula were in the text output only.
    assert "<table" in html and "Mult-adds formula" in html and "192*s" in html
    assert main([str(dynamic_archive), "--device", "cpu"]) == 2
    assert "does not apply to an exported program" in capsys.readouterr().err


def test_cli_plot(dynamic_archive: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "layers.png"
    assert main([str(dynamic_archive), "--plot", str(picture)]) == 0
    assert picture.stat().st_size > 0


# ------------------------------------------------------------ header-only, safe
def _rewrite(source: Path, target: Path, replace: dict[str, bytes | None]) -> None:
    """A copy of an archive with entries (by name suffix) replaced or dropped."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            suffix = next((key for key in replace if item.filename.endswith(key)), None)
            if suffix is None:
                new.writestr(item, old.read(item))
            elif replace[suffix] is not None:
                new.writestr(item.filename, replace[suffix])  # type: ignore[arg-type]


class _WritesAFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.path, "pickle code ran"))


def test_malicious_sample_inputs_never_run(dynamic_archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.txt"
    payload = pickle.dumps(_WritesAFile(tmp_path / "payload-works.txt"))
    pickle.loads(payload)  # the payload is live: unpickling it writes a file
    assert (tmp_path / "payload-works.txt").exists()
    bad = tmp_path / "bad.pt2"
    _rewrite(dynamic_archive, bad, {"sample_inputs/model.pt": pickle.dumps(_WritesAFile(proof))})
    stats = summarize_exported(bad)
    assert stats.total_mult_adds == 576
    assert main([str(bad)]) == 0
    assert not proof.exists()


def test_no_weight_bytes_are_read(
    dynamic_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    summarize_exported(dynamic_archive)
    assert opened and all(name.endswith((".json", "archive_format", "archive_version"))
                          for name in opened), opened
    # Without its weight files and sample inputs the archive summarizes the same:
    # a 10 GB archive costs what this one does.
    monkeypatch.undo()
    stripped = tmp_path / "stripped.pt2"
    _rewrite(dynamic_archive, stripped, {"weights/weight_0": None, "weights/weight_1": None,
                                         "weights/weight_2": None, "weights/weight_3": None,
                                         "sample_inputs/model.pt": None})
    assert str(summarize_exported(stripped)) == str(summarize_exported(dynamic_archive))


def test_unknown_archive_version_is_one_clear_line(
    dynamic_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    future = tmp_path / "future.pt2"
    _rewrite(dynamic_archive, future, {"/archive_version": b"99"})
    with pytest.raises(ExportedArchiveError, match="archive version 99 is not one summaryplus"):
        summarize_exported(future)
    assert main([str(future)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "archive version 99" in err


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "model.pt2"
    path.write_bytes(b"not a zip")
    with pytest.raises(ExportedArchiveError, match="not a zip file"):
        summarize_exported(path)


def test_shape_expressions_are_parsed_without_eval() -> None:
    assert str(parse_expr("Mul(Integer(2), Symbol('s0', positive=True, integer=True))")) == "2*s0"
    assert str(parse_expr("FloorDiv(Symbol('s1'), Integer(2))")) == "floor(s1/2)"
    for text in ("__import__('os').system('true')", "open('x', 'w')", "s0.__class__"):
        with pytest.raises(ExportedArchiveError):
            parse_expr(text)


def test_summary_arguments_for_a_program() -> None:
    program = torch.export.export(nn.Linear(8, 4), (torch.randn(2, 8),))
    with pytest.raises(ValueError, match="input_data does not apply"):
        summary(program, input_data=[torch.randn(2, 8)])
    with pytest.raises(TypeError, match="no forward arguments"):
        summary(program, verbose=0, mask=None)
    stats = summary(program, verbose=0)
    assert (stats.total_params, stats.total_mult_adds) == (36, 64)  # 8*4+4; 2*8*4


def test_input_size_must_be_in_the_range_the_program_was_exported_for(tmp_path: Path) -> None:
    # Before: a batch past Dim(max=64) was evaluated as if the program took it.
    batch = torch.export.Dim("batch", min=3, max=64)
    program = torch.export.export(nn.Linear(8, 4).eval(), (torch.randn(5, 8),),
                                  dynamic_shapes=({0: batch},))
    path = tmp_path / "ranged.pt2"
    torch.export.save(program, path)
    for source in (program, path):  # in memory, and read from the archive
        for size in (2, 65):
            with pytest.raises(ValueError, match=r"outside the range the program was exported "
                                                 r"for \(3\.\.64"):
                summarize_exported(source, input_size=[(size, 8)])
        assert summarize_exported(source, input_size=[(64, 8)]).total_mult_adds == 64 * 32


class Joined(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.cat([x, y], dim=1))  # type: ignore[no-any-return]


def test_input_size_must_fit_derived_sizes() -> None:
    # y's length is twice x's: before, a y of any length was accepted and its
    # MACs counted as if it had the derived one.
    batch, length = torch.export.Dim("batch", max=64), torch.export.Dim("length", max=64)
    program = torch.export.export(
        Joined().eval(), (torch.randn(2, 3, 8), torch.randn(2, 6, 8)),
        dynamic_shapes=({0: batch, 1: length}, {0: batch, 1: 2 * length}),
    )
    with pytest.raises(ValueError, match=r"input_size\[1\] \[4, 13, 8\] does not fit .* is 14"):
        summarize_exported(program, input_size=[(4, 7, 8), (4, 13, 8)])
    with pytest.raises(ValueError, match=r"gives s\d+ \(x\[0\]\) two values: 4 and 5"):
        summarize_exported(program, input_size=[(4, 7, 8), (5, 14, 8)])
    fitting = summarize_exported(program, input_size=[(4, 7, 8), (4, 14, 8)])
    assert fitting.total_mult_adds == 4 * 21 * 8 * 4


def test_dynamic_tinygpt_equals_eager_at_any_size() -> None:
    model = TinyGPT().eval()
    batch, length = torch.export.Dim("batch", max=64), torch.export.Dim("length", min=2, max=256)
    program = torch.export.export(
        model, (torch.randint(0, 1000, (2, 64)),), dynamic_shapes=({0: batch, 1: length},)
    )
    stats = summary(program, verbose=0)
    assert stats.summary_list[0].class_name == "TinyGPT"  # no row for export's size checks
    sources = {source: name for name, source in stats.size_sources.items()}
    b, s = sources["tokens[0]"], sources["tokens[1]"]
    assert stats.sizes == {b: 2, s: 64}
    # Per token: 2 blocks x (qkv 128*384 + proj 128*128 + mlp 2*128*512) + head 128*1000
    # = 2 * 196,608 + 128,000 = 521,216. Attention, per query and key position:
    # Q K^T and P V over the 128 channels of all heads: 2 blocks * 2 * 128 = 512.
    formula = parse_expr(stats.mult_adds_formula)
    expected = parse_expr(f"512*{b}*{s}**2 + 521216*{b}*{s}")
    assert formula - expected == 0, stats.mult_adds_formula
    assert stats.formula_exact
    for size in [(2, 64), (3, 32), (1, 200)]:
        at_size = summary(program, input_size=size, verbose=0)
        eager = summary(model, input_size=size, dtypes=[torch.long], verbose=0)
        assert at_size.total_mult_adds == eager.total_mult_adds
        assert [row.macs for row in at_size] == [row.macs for row in eager]
        assert at_size.total_output_bytes == eager.total_output_bytes
        assert at_size.total_input == eager.total_input
    assert str(stats.summary_list[1].output_size) == f"[{b}, {s}, 128]"


class Composites(nn.Module):
    """Ops a training-IR graph keeps whole (conv2d, conv_transpose1d, einsum):
    their MACs come from their decompositions."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.up = nn.ConvTranspose1d(8, 4, 2, stride=2)
        self.mix = nn.Parameter(torch.randn(4, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x).flatten(2)  # [B, 8, 36]
        y = self.up(y)  # [B, 4, 72]
        return torch.einsum("bct,cd->btd", y, self.mix)


@pytest.mark.parametrize("example_batch", [2, 5])
def test_composite_ops_count_as_a_formula_in_the_dynamic_sizes(example_batch: int) -> None:
    # Before: a composite's parts were counted at the example's sizes only, so a
    # CNN with a dynamic batch gave "388800 (exact at these sizes only)".
    model = Composites().eval()
    batch = torch.export.Dim("batch", max=64)
    program = torch.export.export(
        model, (torch.randn(example_batch, 3, 8, 8),), dynamic_shapes=({0: batch},)
    )
    stats = summary(program, verbose=0)
    (name,) = stats.sizes
    # conv: 36 positions x 8 x 3 x 3 x 3 = 7,776; transposed: 36 inputs x 8 x 4 x 2
    # = 2,304; einsum: 72 x 4 x 5 = 1,440, all per batch item.
    assert parse_expr(stats.mult_adds_formula) - parse_expr(f"11520*{name}") == 0
    assert stats.formula_exact
    for size in (1, 3, 64):
        eager = summary(model, input_size=(size, 3, 8, 8), verbose=0)
        assert eager.total_mult_adds == 11520 * size
        at_size = summary(program, input_size=(size, 3, 8, 8), verbose=0)
        assert at_size.total_mult_adds == eager.total_mult_adds


def test_composite_counts_follow_a_formula_replaced_and_put_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A composite's symbolic count is kept per (op, arguments, ranges): a
    # formula changed since must not be answered from it.
    from summaryplus.formulas import registry

    batch = torch.export.Dim("batch", max=64)
    program = torch.export.export(
        Composites().eval(), (torch.randn(2, 3, 8, 8),), dynamic_shapes=({0: batch},)
    )

    def per_item() -> Any:
        stats = summary(program, verbose=0)
        (name,) = stats.sizes
        return sympy.simplify(parse_expr(stats.mult_adds_formula) / parse_expr(name))

    assert per_item() == 11520  # conv 7,776 + transposed 2,304 + einsum 1,440
    with monkeypatch.context() as patch:
        patch.setitem(registry._REGISTRY, torch.ops.aten.convolution, lambda *a, **k: 0)
        assert per_item() == 1440  # the einsum's only
    assert per_item() == 11520


def test_composite_formulas_with_equal_sizes_ranges_and_strides() -> None:
    """Three dynamic sizes, equal at the export (no duck sizing: three symbols);
    a height and width whose exported minimum is 8, so no region sets them to 1;
    a stride, so the output size is a floor division, written as sympy's floor
    like the graph's own shapes; one Conv2d shape repeated (counted once)."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), *[nn.Conv2d(4, 4, 1) for _ in range(20)])
    batch, side = torch.export.Dim("batch", max=64), torch.export.Dim("side", min=8, max=512)
    program = torch.export.export(
        model.eval(), (torch.randn(16, 3, 16, 16),),
        dynamic_shapes=({0: batch, 2: side, 3: torch.export.Dim("width", min=8, max=512)},),
    )
    stats = summary(program, verbose=0)
    assert stats.formula_exact, stats.mult_adds_formula
    assert len(stats.sizes) == 3 and "//" not in stats.mult_adds_formula
    formula = parse_expr(stats.mult_adds_formula)
    b, h, w = (parse_expr(name) for name in sorted(stats.sizes, key=lambda n: (
        stats.size_sources[n])))
    out = (sympy.floor((h - 3) / 2) + 1) * (sympy.floor((w - 3) / 2) + 1)
    # stride-2 conv: 4 x 3 x 3 x 3 = 108 MACs a position; each 1x1 conv 16.
    assert sympy.simplify(formula - b * out * (108 + 20 * 16)) == 0
    for size in [(1, 3, 8, 9), (5, 3, 31, 16)]:
        at_size = summary(program, input_size=size, verbose=0)
        assert at_size.total_mult_adds == summary(model, input_size=size, verbose=0).total_mult_adds


def test_convolution_kernel_shape_and_groups_columns() -> None:
    model = nn.Sequential(
        nn.Conv2d(4, 8, 3, groups=2), nn.Conv2d(8, 8, (1, 5), groups=8, stride=2),
        nn.ConvTranspose2d(8, 4, 2, groups=2), nn.Conv1d(4, 6, 3, groups=2),
    ).eval()
    model[3] = nn.Sequential(nn.Flatten(2), nn.Conv1d(4, 6, 3, groups=2))
    x = torch.randn(1, 4, 16, 16)
    columns = ("kernel_size", "groups", "output_size", "num_params", "mult_adds")
    eager = summary(model, input_data=[x], col_names=columns, verbose=0)
    exported = summary(torch.export.export(model, (x,)), col_names=columns, verbose=0)
    assert str(exported) == str(eager)
    assert [row.kernel_size for row in exported][1:4] == [[3, 3], [1, 5], [2, 2]]


def test_summary_leaves_the_program_as_it_was() -> None:
    model = TinyGPT().eval()
    tokens = torch.randint(0, 1000, (2, 8))
    program = torch.export.export(model, (tokens,))
    code, state = program.graph_module.code, dict(program.state_dict)
    expected = program.module()(tokens)
    summary(program, verbose=0)
    assert program.graph_module.code == code
    assert all(program.state_dict[name] is tensor for name, tensor in state.items())
    assert torch.equal(program.module()(tokens), expected)


class FrozenUnusedBuffers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.unused = nn.Linear(4, 3)
        self.fc = nn.Linear(4, 4)
        self.fc.weight.requires_grad_(False)
        self.register_buffer("steps", torch.zeros(5))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.a(x))  # type: ignore[no-any-return]


def test_frozen_unused_parameters_and_buffers_count_as_in_eager(tmp_path: Path) -> None:
    eager, program = _eager_and_program(FrozenUnusedBuffers(), (torch.randn(2, 4),))
    _assert_same(eager, summary(program, col_names=COLUMNS, depth=10, verbose=0))
    # 20 + 15 (unused) + 20 = 55 params, the frozen 16 not trainable; 5 + 2 buffer elements
    assert (eager.total_params, eager.trainable_params, eager.total_buffers) == (55, 39, 7)
    path = tmp_path / "frozen.pt2"
    torch.export.save(program, path)
    formatting = eager.formatting
    options = FormattingOptions(10, 0, formatting.col_names, 25, formatting.row_settings)
    _assert_same(eager, summarize_exported(path, options))
