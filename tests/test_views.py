"""Views and exports: parameter tables, queries, tabulate formats, JSON/CSV/pandas, logs.

Real architectures (GPT-2 and BERT built from small configs, a BatchNorm CNN, a
partially frozen model with a reused block) and invariants rather than
snapshots: tied weights once, buffers apart, groups adding up to the totals,
exports reading back equal.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tabulate
import torch
from models import bert, gpt2
from torch import nn

from summaryplus import (
    ModelStatistics,
    buffer_table,
    count_parameters,
    group_params,
    load_summary,
    parameter_table,
    summary,
)
from summaryplus.examples import SmallCNN
from summaryplus.formatting import params_shown, visible_rows
from summaryplus.records import LayerRecord, TotalsRecord
from summaryplus.render.table import footer_items

README = Path(__file__).resolve().parent.parent / "README.md"


# --------------------------------------------------------------------- models
class PartlyFrozen(nn.Module):
    """A frozen encoder, a Linear with a frozen weight and a trainable bias, a block
    called twice, and a parameter used inline by the model's own forward."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16))
        self.encoder.requires_grad_(False)
        self.block = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)
        self.head.weight.requires_grad_(False)
        self.mix = nn.Parameter(torch.ones(16, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder(x)
        x = self.block(self.block(x))
        x = x @ self.mix  # own work of the root: 2 * 16 * 16 MACs
        return self.head(x)


class DataTied(nn.Module):
    """Two Parameter objects over the same storage (tied by assigning ``.data``)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 6)
        self.b.weight.data = self.a.weight.data
        self.half = nn.Linear(6, 6).to(torch.float16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))


@pytest.fixture(scope="module")
def gpt2_stats() -> tuple[nn.Module, ModelStatistics]:
    model = gpt2()
    return model, summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)


@pytest.fixture(scope="module")
def bert_stats() -> tuple[nn.Module, ModelStatistics]:
    model = bert()
    return model, summary(model, input_size=(2, 8), dtypes=[torch.long], verbose=0, depth=4)


@pytest.fixture(scope="module")
def cnn_stats() -> tuple[nn.Module, ModelStatistics]:
    model = SmallCNN()
    columns = ["output_size", "num_params", "mult_adds", "memory", "trainable"]
    stats = summary(model, input_size=(2, 3, 32, 32), mode="train", col_names=columns, verbose=0)
    return model, stats


@pytest.fixture(scope="module")
def frozen_stats() -> tuple[nn.Module, ModelStatistics]:
    model = PartlyFrozen()
    columns = ["num_params", "mult_adds", "trainable"]
    return model, summary(model, input_size=(2, 8), col_names=columns, verbose=0)


ALL = ["gpt2_stats", "bert_stats", "cnn_stats", "frozen_stats"]


def _get(request: pytest.FixtureRequest, name: str) -> tuple[nn.Module, ModelStatistics]:
    value: tuple[nn.Module, ModelStatistics] = request.getfixturevalue(name)
    return value


# ------------------------------------------------------------ params.py: no forward
def test_count_parameters_counts_tied_weights_once(gpt2_stats: Any) -> None:
    model, stats = gpt2_stats
    naive = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
    # wte (1000 x 64) is also lm_head.weight
    assert naive - count_parameters(model) == 1000 * 64
    assert count_parameters(model) == stats.total_params == 168_192
    assert count_parameters(model, trainable_only=True) == stats.trainable_params


def test_count_parameters_trainable_only(frozen_stats: Any) -> None:
    model, stats = frozen_stats
    # encoder 8*16+16 + 16*16+16 = 416 frozen; head.weight 16*4 = 64 frozen
    assert count_parameters(model) - count_parameters(model, trainable_only=True) == 416 + 64
    assert count_parameters(model, trainable_only=True) == stats.trainable_params


def test_parameter_table_lists_each_tensor_once_with_its_aliases(gpt2_stats: Any) -> None:
    model, _ = gpt2_stats
    rows = parameter_table(model)
    assert sum(row.numel for row in rows) == count_parameters(model)
    assert len({row.name for row in rows}) == len(rows)
    wte = next(row for row in rows if row.name == "transformer.wte.weight")
    assert wte.shared_with == ("lm_head.weight",)
    assert wte.shape == (1000, 64)
    assert (wte.dtype, wte.device, wte.requires_grad) == ("float32", "cpu", True)
    assert wte.bytes == 1000 * 64 * 4
    assert all(row.shared_with == () for row in rows if row is not wte)
    assert "lm_head.weight" not in {row.name for row in rows}


def test_parameter_table_sees_data_tied_weights_and_dtypes() -> None:
    model = DataTied()
    assert model.a.weight is not model.b.weight  # two objects, one storage
    rows = {row.name: row for row in parameter_table(model)}
    assert rows["a.weight"].shared_with == ("b.weight",)
    assert "b.weight" not in rows
    # 36 + 6 (a) + 6 (b.bias) + 36 + 6 (half)
    assert count_parameters(model) == 90
    assert rows["half.weight"].dtype == "float16"
    assert rows["half.weight"].bytes == 36 * 2


def test_buffer_table_bert_persistence_matches_state_dict(bert_stats: Any) -> None:
    model, stats = bert_stats
    rows = buffer_table(model)
    saved = set(model.state_dict())
    assert rows, "BERT registers position_ids / token_type_ids buffers"
    for row in rows:
        assert row.persistent == (row.name in saved), row.name
    assert sum(row.numel for row in rows) == stats.total_buffers
    assert sum(row.bytes for row in rows) == stats.total_buffer_bytes
    # buffers never count as parameters
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_buffer_table_batchnorm(cnn_stats: Any) -> None:
    model, stats = cnn_stats
    rows = {row.name: row for row in buffer_table(model)}
    bn = "features.0.1"
    assert rows[f"{bn}.running_mean"].shape == (32,)
    assert rows[f"{bn}.running_mean"].persistent
    assert rows[f"{bn}.num_batches_tracked"].dtype == "int64"
    assert rows[f"{bn}.num_batches_tracked"].bytes == 8
    # 3 BatchNorms: mean + var per channel (32, 64, 128) and one counter each
    assert sum(row.numel for row in rows.values()) == 2 * (32 + 64 + 128) + 3
    assert stats.total_buffers == 2 * (32 + 64 + 128) + 3
    assert not any(name in {p for p, _ in model.named_parameters()} for name in rows)


def test_buffer_table_non_persistent() -> None:
    model = nn.Module()
    model.register_buffer("kept", torch.zeros(3))
    model.register_buffer("scratch", torch.zeros(2, 2), persistent=False)
    rows = {row.name: row.persistent for row in buffer_table(model)}
    assert rows == {"kept": True, "scratch": False}


@pytest.mark.parametrize("name", ALL)
def test_group_params_add_up_at_every_depth(request: pytest.FixtureRequest, name: str) -> None:
    model, _ = _get(request, name)
    total = count_parameters(model)
    trainable = count_parameters(model, trainable_only=True)
    for depth in range(8):
        groups = group_params(model, depth)
        assert sum(g.params for g in groups) == total, depth
        assert sum(g.trainable_params for g in groups) == trainable, depth
        assert sum(g.bytes for g in groups) == sum(r.bytes for r in parameter_table(model))
        assert sum(g.percent for g in groups) == pytest.approx(100.0)
        assert len({g.name for g in groups}) == len(groups)
    assert [g.name for g in group_params(model, 0)] == [""]


def test_group_params_gpt2_prefixes_and_tied_head(gpt2_stats: Any) -> None:
    model, _ = gpt2_stats
    groups = {g.name: g for g in group_params(model, depth=2)}
    assert list(groups) == [
        "transformer.wte",
        "transformer.wpe",
        "transformer.h",
        "transformer.ln_f",
        "lm_head",
    ]
    assert groups["transformer.wte"].params == 64_000
    assert groups["lm_head"].params == 0
    assert groups["lm_head"].shared_params == 64_000
    # 2 blocks: 2 LayerNorms (2*64*2) + c_attn (64*192+192) + c_proj (64*64+64)
    #           + c_fc (64*256+256) + mlp c_proj (256*64+64) = 49,984 each
    assert groups["transformer.h"].params == 2 * 49_984


def test_group_params_trainable_split_and_root_params(frozen_stats: Any) -> None:
    model, _ = frozen_stats
    groups = {g.name: g for g in group_params(model, depth=1)}
    assert groups["encoder"].trainable_params == 0
    assert groups["encoder"].non_trainable_params == 416
    assert (groups["head"].params, groups["head"].trainable_params) == (68, 4)
    assert groups[""].params == 256  # `mix`, registered on the model itself
    assert groups["block"].percent == pytest.approx(100 * 272 / count_parameters(model))


def test_params_bad_input() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        count_parameters("gpt2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        parameter_table([nn.Linear(2, 2)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        buffer_table(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        count_parameters(nn.Linear(2, 2), trainable_only="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="accepted values: an int >= 0"):
        group_params(nn.Linear(2, 2), depth=-1)
    with pytest.raises(TypeError, match="int"):
        group_params(nn.Linear(2, 2), depth=1.5)  # type: ignore[arg-type]


# ------------------------------------------------------------------ queries
def _memory_total(stats: ModelStatistics) -> int:
    return stats.activation_bytes + stats.total_param_bytes


@pytest.mark.parametrize("name", ALL)
def test_query_values_partition_the_totals(request: pytest.FixtureRequest, name: str) -> None:
    _, stats = _get(request, name)
    totals = {
        "params": stats.total_params,
        "trainable_params": stats.trainable_params,
        "macs": stats.total_mult_adds,
        "flops": stats.total_flops,
        "memory": _memory_total(stats),
    }
    deepest = max(row.depth for row in stats)
    for depth in [None, *range(deepest + 1)]:
        for by, total in totals.items():
            scores = stats.layers_over(0, by=by, depth=depth)
            assert sum(score.value for score in scores) == total, (by, depth)
            assert sum(score.share for score in scores) == pytest.approx(1.0 if total else 0.0)
        for group_depth in range(deepest + 1):
            groups = stats.group_by(group_depth)
            assert sum(g.params for g in groups) == stats.total_params
            assert sum(g.trainable_params for g in groups) == stats.trainable_params
            assert sum(g.macs for g in groups) == stats.total_mult_adds
            assert sum(g.memory for g in groups) == _memory_total(stats)


def test_largest_gpt2(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    top = stats.largest(3, by="macs")
    assert top[0].layer.module_path == "lm_head"
    # lm_head: 16 tokens x 64 x 1000 = 1,024,000 MACs
    assert top[0].value == 1_024_000
    assert top[0].share == pytest.approx(1_024_000 / stats.total_mult_adds)
    assert [s.value for s in top] == sorted((s.value for s in top), reverse=True)
    params = stats.largest(1, by="params")[0]
    assert (params.layer.module_path, params.value) == ("transformer.wte", 64_000)
    # the tied head accounts for no parameters of its own
    assert "lm_head" not in {s.layer.module_path for s in stats.largest(100, by="params")}
    assert stats.largest(0) == []
    assert len(stats.largest(1000, by="flops")) == len(stats.layers_over(0, by="flops"))


def test_largest_sees_inline_work_of_non_leaf_modules(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    attention = {s.layer.module_path: s.value for s in stats.largest(100, by="macs")}
    # q @ k^T and attn @ v: 2 heads x 16 x 16 x 32, twice = 32,768, outside any child
    assert attention["transformer.h.0.attn"] == 32_768
    by_depth = {s.layer.module_path: s.value for s in stats.largest(100, by="macs", depth=4)}
    assert by_depth["transformer.h.0.attn"] == 294_912  # whole subtree at its depth


def test_largest_params_at_table_depth_match_the_param_column(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    depth = stats.formatting.max_depth
    scores = {id(s.layer): s.value for s in stats.layers_over(0, "params", depth=depth)}
    for row, deepest in visible_rows(stats):
        assert scores.get(id(row), 0) == params_shown(row, deepest)[0]


def test_queries_frozen_model(frozen_stats: Any) -> None:
    _, stats = frozen_stats
    over = stats.layers_over(100, by="params")
    # call order, the model first: its own mix (256), encoder.0 (144), encoder.2 (272),
    # block (272, its second call accounts for none)
    assert [(s.layer.module_path, s.value) for s in over] == [
        ("", 256),
        ("encoder.0", 144),
        ("encoder.2", 272),
        ("block", 272),
    ]
    assert [s.layer.module_path for s in stats.largest(2, by="trainable_params")] == [
        "block",
        "",
    ]
    groups = {(g.module_path, g.own_only): g for g in stats.group_by(1)}
    block = groups[("block", False)]
    # called twice: MACs twice (2 x 2 x 16 x 16), parameters once
    assert (block.calls, block.params, block.macs) == (2, 272, 2 * 512)
    root = groups[("", True)]
    assert (root.params, root.macs, root.class_name) == (256, 2 * 16 * 16, "PartlyFrozen")
    assert groups[("head", False)].trainable_params == 4
    assert [g.module_path for g in stats.group_by(0)] == [""]


def test_queries_bad_arguments(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    with pytest.raises(ValueError, match="accepted values: 'params', 'trainable_params', 'macs'"):
        stats.largest(3, by="size")
    with pytest.raises(ValueError, match="k=-1"):
        stats.largest(-1)
    with pytest.raises(TypeError, match="k must be an int"):
        stats.largest(True)
    with pytest.raises(ValueError, match="memory"):
        stats.layers_over(10, by="bytes")
    with pytest.raises(ValueError, match="threshold"):
        stats.layers_over(-1)
    with pytest.raises(ValueError, match="depth=-2"):
        stats.group_by(-2)
    with pytest.raises(ValueError, match="depth=-1"):
        stats.largest(2, depth=-1)


# ------------------------------------------------------------------ tables
@pytest.mark.parametrize("tablefmt", tabulate.tabulate_formats)
def test_every_tabulate_format_renders_the_layers(gpt2_stats: Any, tablefmt: str) -> None:
    _, stats = gpt2_stats
    before = getattr(tabulate, "PRESERVE_WHITESPACE", None)
    text = stats.to_table(tablefmt, columns=["output_size", "num_params", "mult_adds"])
    assert getattr(tabulate, "PRESERVE_WHITESPACE", None) == before
    for row, _ in visible_rows(stats):
        assert row.get_layer_name(False, True) in text, (tablefmt, row.module_path)
    for number in ("64,000", "49,984", "1,024,000"):
        assert number in text, tablefmt


def test_to_table_cells_are_the_text_table_cells(cnn_stats: Any) -> None:
    _, stats = cnn_stats
    table = stats.to_table("tsv").splitlines()
    text = str(stats)
    assert len(table) == 1 + len(visible_rows(stats))
    for line in table[1:]:
        cells = [cell.strip() for cell in line.split("\t")]
        # each line of the text table holds the same cells, in the same order
        pattern = r"\s+".join(re.escape(cell) for cell in cells)
        assert re.search(pattern, text), line


def test_to_table_depth_and_columns(bert_stats: Any) -> None:
    _, stats = bert_stats
    shallow = stats.to_table("github", depth=1, columns=["num_params", "flops"])
    assert "BertEmbeddings: 1-1" in shallow
    assert "Embedding: 2-1" not in shallow
    assert "FLOPs" in shallow.splitlines()[0]
    assert "Output Shape" not in shallow
    # at depth 1 each child of the root shows its whole subtree
    assert f"{stats.summary_list[1].subtree_params:,}" in shallow
    assert "BertLayer: 3-1" in stats.to_table("plain", depth=3)
    single = stats.to_table("plain", columns="kernel_size")
    assert single.splitlines()[0].split() == ["Layer", "(type:depth-idx)", "Kernel", "Shape"]


def test_to_table_bad_arguments(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    with pytest.raises(ValueError, match=r"did you mean 'markdown'.*accepted values: .*github"):
        stats.to_table("markdwn")
    with pytest.raises(ValueError, match="not a tabulate format"):
        stats.to_table("json")
    with pytest.raises(ValueError, match=r"columns='params'.*'num_params'"):
        stats.to_table(columns=["params"])
    with pytest.raises(ValueError, match="depth"):
        stats.to_table(depth=-1)


def test_footer_items_are_the_text_footer(cnn_stats: Any, gpt2_stats: Any) -> None:
    from summaryplus.footer import footer_sections
    from summaryplus.units import readable_bytes, readable_count

    for _, stats in (cnn_stats, gpt2_stats):
        text = str(stats)
        fixed = [item for section in footer_sections(stats) for item in section]
        for label, value in fixed:
            assert f"\n{label}: {value}\n" in text
        # the same lines, each figure in a unit chosen for its value
        items = footer_items(stats)
        assert len(items) == len(fixed)
        assert items[0] == ("Total params", f"{stats.total_params:,}")
        assert ("Total mult-adds (M)", f"{stats.total_mult_adds / 1e6:.2f}") in fixed
        assert ("Total mult-adds", readable_count(stats.total_mult_adds)) in items
        assert ("Params size", readable_bytes(stats.total_param_bytes)) in items
        assert not any(value.startswith("0.00") for _, value in items)


# ------------------------------------------------------------- dict / JSON / CSV
def _layer_fields() -> list[str]:
    return [field.name for field in dataclasses.fields(LayerRecord)]


@pytest.mark.parametrize("name", ALL)
def test_to_dict_has_every_layer_field_and_total(request: pytest.FixtureRequest, name: str) -> None:
    _, stats = _get(request, name)
    data = stats.to_dict()
    assert data["schema"] == "summaryplus.summary/1"
    assert data["model"] == stats.summary_list[0].class_name
    assert len(data["layers"]) == len(stats.summary_list)
    index = {id(row): position for position, row in enumerate(stats)}
    for position, (layer, row) in enumerate(zip(data["layers"], stats, strict=True)):
        assert list(layer) == _layer_fields()
        assert layer["index"] == position
        parent = row.parent_info
        assert layer["parent"] == (None if parent is None else index[id(parent)])
        for field in _layer_fields()[2:]:
            if field == "own_backward_macs":  # kept for schema 1 readers: not per layer
                assert layer[field] is None
                continue
            expected = getattr(row, field)
            if isinstance(expected, tuple):  # nested tuples (own_op_points) as lists
                expected = json.loads(json.dumps(expected))
            if field == "trainable":  # JSON booleans: true, false, "partial", null
                expected = {"True": True, "False": False, "Partial": "partial"}.get(expected)
            assert layer[field] == expected, (row.module_path, field)
    totals = data["totals"]
    assert list(totals) == [field.name for field in dataclasses.fields(TotalsRecord)]
    for field, value in totals.items():
        expected = getattr(stats, field)
        if isinstance(expected, tuple):
            expected = list(expected)
        assert value == expected, field
    assert sum(layer["counted_params"] for layer in data["layers"]) == stats.total_params


@pytest.mark.parametrize("name", ALL)
def test_json_round_trip(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> None:
    _, stats = _get(request, name)
    path = tmp_path / "summary.json"
    text = stats.to_json(path)
    assert json.loads(text) == stats.to_dict()
    assert json.loads(path.read_text(encoding="utf-8")) == stats.to_dict()
    loaded = load_summary(path)
    assert loaded.to_dict() == stats.to_dict()
    assert loaded == load_summary(stats.to_dict()) == stats.to_record()
    assert loaded.total_params == stats.total_params
    assert loaded.total_mult_adds == stats.total_mult_adds
    assert loaded.uncounted_ops == stats.uncounted_ops
    assert len(loaded) == len(stats)
    for record, row in zip(loaded, stats, strict=True):
        assert (record.module_path, record.macs, record.subtree_params) == (
            row.module_path,
            row.macs,
            row.subtree_params,
        )
    assert loaded.summary_list[0].output_size == tuple(stats.summary_list[0].output_size)
    with pytest.raises(AttributeError, match="no_such_total"):
        _ = loaded.no_such_total
    # Read-only, saying so as live rows do (before: dataclasses' "cannot assign
    # to field"); still a FrozenInstanceError.
    with pytest.raises(dataclasses.FrozenInstanceError,
                       match=r"rows of a summary record .* are read-only \(set 'macs'\)"):
        loaded.summary_list[0].macs = 0
    with pytest.raises(AttributeError, match=r"is read-only \(delete 'layers'\)"):
        del loaded.layers

    class Annotated(type(loaded)):  # type: ignore[misc]
        """A user's subclass says the same (before: a KeyError)."""

    fields = {field.name: getattr(loaded, field.name) for field in dataclasses.fields(loaded)}
    with pytest.raises(dataclasses.FrozenInstanceError, match="is read-only"):
        Annotated(**fields).layers = ()
    assert loaded.summary_list[0].macs == stats.summary_list[0].macs
    assert copy.deepcopy(loaded) == loaded


def test_load_summary_rejects_what_it_cannot_read(gpt2_stats: Any, tmp_path: Path) -> None:
    _, stats = gpt2_stats
    data = stats.to_dict()
    with pytest.raises(ValueError, match=r"accepted values: 'summaryplus\.summary/1'"):
        load_summary({**data, "schema": "summaryplus.summary/99"})
    broken = json.loads(json.dumps(data))
    del broken["layers"][3]["macs"]
    with pytest.raises(ValueError, match=r"layers\[3\] lacks the field\(s\) macs"):
        load_summary(broken)
    with pytest.raises(ValueError, match="totals"):
        load_summary({key: value for key, value in data.items() if key != "totals"})
    with pytest.raises(TypeError, match="path to a JSON file"):
        load_summary(42)  # type: ignore[arg-type]
    extra = json.loads(json.dumps(data))
    extra["layers"][0]["added_later"] = 1  # a newer writer within schema 1
    assert load_summary(extra).to_dict() == data


def test_to_csv(frozen_stats: Any, tmp_path: Path) -> None:
    _, stats = frozen_stats
    path = tmp_path / "layers.csv"
    text = stats.to_csv(path)
    assert path.read_text(encoding="utf-8") == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == _layer_fields()
    assert len(rows) == len(stats.summary_list)
    assert sum(int(row["counted_params"]) for row in rows) == stats.total_params
    assert sum(int(row["own_macs"]) for row in rows) == stats.total_mult_adds
    assert rows[0]["parent"] == ""
    assert json.loads(rows[1]["output_size"]) == stats.summary_list[1].output_size
    assert [row["trainable"] for row in rows][:2] == ["Partial", "False"]


def test_to_dataframe(gpt2_stats: Any) -> None:
    pytest.importorskip("pandas")
    _, stats = gpt2_stats
    frame = stats.to_dataframe()
    assert list(frame.columns) == _layer_fields()[1:]
    assert len(frame) == len(stats.summary_list)
    assert int(frame["counted_params"].sum()) == stats.total_params
    assert int(frame["own_macs"].sum()) == stats.total_mult_adds
    assert frame.attrs["totals"]["total_params"] == stats.total_params
    assert str(frame["parent"].dtype) == "Int64"
    lm_head = frame[frame["module_path"] == "lm_head"].iloc[0]
    assert (lm_head["num_params"], lm_head["counted_params"]) == (64_000, 0)


def test_static_summary_exports() -> None:
    model = PartlyFrozen()
    stats = summary(model, verbose=0)
    data = stats.to_dict()
    assert data["totals"]["executed"] is False
    assert data["totals"]["total_mult_adds"] == 0
    assert load_summary(json.loads(stats.to_json())).to_dict() == data
    assert [label for label, _ in footer_items(stats)] == [
        "Total params",
        "Trainable params",
        "Non-trainable params",
    ]
    assert "Linear: 1-2" in stats.to_table("grid")
    assert sum(g.params for g in stats.group_by(1)) == count_parameters(model)


# ------------------------------------------------------------------ HTML / Markdown
def test_repr_html(gpt2_stats: Any) -> None:
    _, stats = gpt2_stats
    page = stats._repr_html_()
    assert page.startswith('<div class="summaryplus">')
    assert '<table class="summaryplus-layers">' in page
    assert '<table class="summaryplus-totals">' in page
    for row, _ in visible_rows(stats):
        assert row.get_layer_name(False, True) in page
    # the tree is indentation: 4 non-breaking spaces per level
    assert "\u00a0" * 8 + "Embedding: 2-1" in page
    assert "├─" not in page
    assert "Total params" in page
    assert "168,192" in page
    assert "Total mult-adds" in page and "2.66M" in page


def test_repr_html_escapes_names() -> None:
    odd = type("Odd<b>Layer</b>", (nn.Linear,), {})
    stats = summary(nn.Sequential(odd(2, 2)), input_size=(1, 2), verbose=0)
    page = stats.to_html()
    assert "Odd&lt;b&gt;Layer&lt;/b&gt;" in page
    assert "<b>" not in page


def test_repr_markdown(cnn_stats: Any) -> None:
    _, stats = cnn_stats
    text = stats._repr_markdown_()
    assert text.startswith("| Layer (type:depth-idx)")
    assert "| ├─Sequential: 1-1" in text
    assert "| Total params" in text
    assert f"{stats.total_params:,}" in text


# ------------------------------------------------------------------ logs / rich
def test_log_writes_the_text_table_line_by_line(
    cnn_stats: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, stats = cnn_stats
    logger = logging.getLogger("summaryplus.test.views")
    with caplog.at_level(logging.INFO, logger=logger.name):
        stats.log(logger)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == str(stats).splitlines()
    assert all(record.levelno == logging.INFO for record in caplog.records)
    assert not any("\x1b" in message for message in messages)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=logger.name):
        stats.log(logger.name, level=logging.DEBUG)  # below the logger's level
        stats.log(logging.LoggerAdapter(logger, {}), level="warning")
    assert [r.levelno for r in caplog.records] == [logging.WARNING] * len(messages)


def test_log_bad_arguments(cnn_stats: Any) -> None:
    _, stats = cnn_stats
    with pytest.raises(ValueError, match="'INFO'"):
        stats.log(level="LOUD")
    with pytest.raises(TypeError, match=r"logging\.Logger"):
        stats.log(print)


def test_rich_console(frozen_stats: Any) -> None:
    rich_console = pytest.importorskip("rich.console")
    _, stats = frozen_stats
    console = rich_console.Console(width=160, record=True, color_system=None, file=io.StringIO())
    console.print(stats)
    text = console.export_text()
    for row, _ in visible_rows(stats):
        assert row.get_layer_name(False, True) in text
    assert "(recursive)" in text
    assert "Total params" in text
    assert f"{stats.total_params:,}" in text


def test_import_stays_light() -> None:
    code = (
        "import sys, summaryplus; "
        "print(sorted(m for m in ('pandas', 'rich', 'IPython', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_every_view_works_on_a_summary_loaded_from_json(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2)))
    live = summary(
        model, input_size=(2, 4), col_names=["output_size", "num_params", "mult_adds"], verbose=0
    )
    path = tmp_path / "summary.json"
    live.to_json(path)
    record = load_summary(path)
    # the same table, queries and exports as the live summary
    assert str(record) == str(live)
    assert [(s.layer.module_path, s.value) for s in record.largest(2, by="macs")] == [
        ("0", 64), ("2.0", 32)  # 2 * 4 * 8, 2 * 8 * 2
    ]
    assert [(g.module_path, g.params) for g in record.group_by(1)] == [
        (g.module_path, g.params) for g in live.group_by(1)
    ]
    assert [s.layer.module_path for s in record.layers_over(20)] == ["0"]
    assert record.to_table("simple") == live.to_table("simple")
    assert record.to_csv() == live.to_csv()
    assert record.to_json() == live.to_json()
    assert "<table" in record.to_html() and "Linear" in record._repr_markdown_()
    assert [child.module_path for child in record.layers[3].children] == ["2.0"]


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"depth": 1},
        {"col_names": ("input_size", "output_size", "num_params", "kernel_size"),
         "row_settings": ("var_names", "ascii_only"), "col_width": 18},
    ],
    ids=["defaults", "depth-1", "columns-rows-width"],
)
def test_a_loaded_summary_shows_as_the_live_one(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    # The table settings travel in the JSON (key "table"): text, table and HTML
    # of the loaded summary equal the live one's.
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ReLU(), nn.Flatten()))
    live = summary(model, input_size=(1, 3, 8, 8), verbose=0, **settings)
    live.to_json(tmp_path / "s.json")
    loaded = load_summary(tmp_path / "s.json")
    assert str(loaded) == str(live)
    assert loaded.to_table("simple") == live.to_table("simple")
    assert loaded.to_html() == live.to_html()
    # A file written before the key existed shows torchinfo's defaults.
    data = live.to_dict()
    del data["table"]
    assert load_summary(data).formatting.max_depth == 3
    with pytest.raises(ValueError, match="table: not valid table settings"):
        load_summary({**live.to_dict(), "table": {"depth": 1}})
