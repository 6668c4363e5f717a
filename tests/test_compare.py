"""compare() and diff(): real models (GPT-2 and BERT from small configs), exact numbers.

Scenarios: three GPT-2 widths side by side, a frozen BERT backbone, a replaced
classifier head, a GPT-2 grown by one block and compared with the JSON summary
saved before, a module called more often. Numbers are checked against
``summary()`` and ``count_parameters`` and, where small, derived by hand.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import models
import pytest
import torch
from models import bert_classifier
from torch import nn

from summaryplus import (
    Comparison,
    SummaryDiff,
    compare,
    count_parameters,
    diff,
    load_summary,
    summary,
)

if TYPE_CHECKING:
    import transformers


def gpt2(width: int, layers: int = 2) -> transformers.GPT2LMHeadModel:
    return models.gpt2(width, layers, bos_token_id=0, eos_token_id=0)


IDS = {"input_size": (1, 16), "dtypes": [torch.long]}


# --------------------------------------------------------------------- compare
@pytest.fixture(scope="module")
def three_gpt2s() -> tuple[dict[str, nn.Module], Comparison]:
    models = {"gpt2-32": gpt2(32), "gpt2-64": gpt2(64), "gpt2-128": gpt2(128)}
    return models, compare(models, mode="train", **IDS)


def test_compare_three_gpt2_widths_matches_their_summaries(
    three_gpt2s: tuple[dict[str, nn.Module], Comparison],
) -> None:
    models, table = three_gpt2s
    assert [row.name for row in table] == ["gpt2-32", "gpt2-64", "gpt2-128"]
    assert table.baseline == "gpt2-32"
    for name, model in models.items():
        stats = summary(model, mode="train", verbose=0, **IDS)
        row = table[name]
        assert row.model == "GPT2LMHeadModel"
        # Tied lm_head counted once, as summary() and count_parameters do.
        assert row.params == stats.total_params == count_parameters(model)
        assert row.trainable_params == count_parameters(model, trainable_only=True)
        assert row.macs == stats.total_mult_adds and row.flops == 2 * row.macs
        assert row.param_bytes == stats.total_param_bytes == 4 * row.params
        assert row.training_memory_bytes == stats.training_memory("adam").total
        assert row.macs_complete
    base = table["gpt2-32"]
    assert base.params_ratio == base.macs_ratio == base.memory_ratio == 1.0
    wide = table["gpt2-128"]
    assert wide.params_ratio == pytest.approx(wide.params / base.params)
    assert wide.macs_ratio == pytest.approx(wide.macs / base.macs)
    # Wider is bigger on every axis, and in order.
    rows = list(table)
    for field in ("params", "macs", "training_memory_bytes"):
        values = [getattr(row, field) for row in rows]
        assert values == sorted(values) and len(set(values)) == 3, field


def test_compare_macs_by_hand() -> None:
    # Linear(4, 2) on (3, 4): 3 * 4 * 2 = 24 MACs; Linear(4, 8): 3 * 4 * 8 = 96.
    table = compare({"small": nn.Linear(4, 2), "big": nn.Linear(4, 8)}, input_size=(3, 4))
    assert (table["small"].macs, table["big"].macs) == (24, 96)
    assert table["big"].macs_ratio == 4.0
    assert table["big"].params_ratio == 40 / 10
    assert table["small"].training_memory_bytes is None  # eval: nothing measured


def test_compare_renders_every_view(three_gpt2s: tuple[dict[str, nn.Module], Comparison]) -> None:
    _, table = three_gpt2s
    text = str(table)
    for header in (
        "Model",
        "Params",
        "Trainable",
        "MACs",
        "FLOPs",
        "Params size",
        "Train mem",
        "Params ratio",
        "MACs ratio",
        "Memory ratio",
    ):
        assert header in text, header
    assert f"{table['gpt2-128'].params:,}" in text
    assert "1.00x" in text and "Ratios are against 'gpt2-32'." in text
    github = table.to_table("github")
    assert github.splitlines()[1].startswith("|--")
    assert "gpt2-64" in table.to_table("rst")
    html = table._repr_html_()
    assert '<table class="summaryplus-compare">' in html and "gpt2-128" in html
    data = json.loads(json.dumps(table.to_dict()))
    assert data["baseline"] == "gpt2-32" and data["optimizer"] == "adam"
    assert [row["params"] for row in data["rows"]] == [row.params for row in table]
    assert json.loads(table.to_json())["rows"][2]["macs"] == table["gpt2-128"].macs


def test_compare_baseline_and_summaries_already_taken(tmp_path: Path) -> None:
    narrow, wide = gpt2(32), gpt2(64)
    saved = tmp_path / "narrow.json"
    summary(narrow, verbose=0, **IDS).to_json(saved)
    live = summary(wide, verbose=0, **IDS)
    table = compare(
        {"narrow (json)": saved, "wide (stats)": live, "wide (module)": wide},
        baseline="wide (stats)",
        **IDS,
    )
    assert table.baseline == "wide (stats)"
    assert table["wide (stats)"].params_ratio == 1.0
    assert table["wide (module)"].macs == live.total_mult_adds
    assert table["narrow (json)"].macs == load_summary(saved).total_mult_adds
    assert table["narrow (json)"].params_ratio == pytest.approx(
        count_parameters(narrow) / count_parameters(wide)
    )


def test_compare_without_inputs_reports_no_macs() -> None:
    table = compare({"a": nn.Linear(4, 2), "b": nn.Linear(4, 3)})
    assert table["a"].macs is None and table["a"].macs_ratio is None
    assert "MACs" not in str(table)


def test_compare_marks_partial_macs() -> None:
    class Spectrum(nn.Module):  # an FFT: no MACs formula
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.fft.rfft(x).abs()

    table = compare({"linear": nn.Linear(4, 4), "fft": Spectrum()}, input_size=(2, 4))
    assert table["linear"].macs_complete and not table["fft"].macs_complete
    text = str(table)
    assert "0*" in text and "MACs are partial (ops without a formula ran) for 'fft'" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"models": {}}, ValueError, "models"),
        ({"models": [nn.Linear(2, 2)]}, TypeError, "models"),
        ({"models": {"a": 3}}, TypeError, "models['a']"),
        ({"models": {1: nn.Linear(2, 2)}}, TypeError, "models keys"),
        ({"models": {"a": nn.Linear(2, 2)}, "baseline": "b"}, ValueError, "baseline='b'"),
        ({"models": {"a": nn.Linear(2, 2)}, "optimizer": "lion"}, ValueError, "optimizer"),
    ],
)
def test_compare_bad_arguments_name_the_argument(
    kwargs: dict[str, object], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names.replace("[", r"\[").replace("]", r"\]")):
        compare(**kwargs)  # type: ignore[arg-type]


def test_compare_inputs_without_any_module_is_an_error() -> None:
    stats = summary(nn.Linear(2, 2), verbose=0)
    with pytest.raises(ValueError, match="input_size"):
        compare({"a": stats}, input_size=(1, 2))


# ------------------------------------------------------------------------ diff
def test_diff_frozen_bert_backbone() -> None:
    model = bert_classifier()
    before = summary(model, verbose=0)
    model.bert.requires_grad_(False)
    result = diff(before, model)

    assert not result.added and not result.removed
    assert result.changed
    for change in result.changed:
        assert change.module_path.startswith("bert.")
        assert [(f.field, f.before, f.after) for f in change.changes] == [
            ("trainable", "True", "False")
        ]
    # Every parameter-holding layer of the backbone is listed, the head is not.
    holders = {name.rsplit(".", 1)[0] for name, _ in model.bert.named_parameters(prefix="bert")}
    assert {change.module_path for change in result.changed} == holders
    head = count_parameters(model.classifier)  # 32 * 2 + 2 = 66
    assert head == 66
    trainable = result.total("trainable_params")
    assert (trainable.before, trainable.after) == (count_parameters(model), head)
    assert result.total("total_params").delta == 0
    assert result.total("non_trainable_params").after == count_parameters(model.bert)
    assert not result.compared_forward
    assert "trainable" in str(result) and "~ bert.embeddings.word_embeddings" in str(result)


def test_diff_replaced_classifier_head() -> None:
    model = bert_classifier(num_labels=2)
    before = summary(model, verbose=0, **IDS)
    model.classifier = nn.Linear(32, 5)
    result = diff(before, model, **IDS)

    assert result.compared_forward
    assert not result.added and not result.removed
    changed = {change.module_path: change for change in result.changed}
    assert set(changed) == {"", "classifier"}  # the model's logits change shape too
    head = {f.field: (f.before, f.after) for f in changed["classifier"].changes}
    # params 32 * 2 + 2 = 66 -> 32 * 5 + 5 = 165; MACs 1 * 32 * 2 = 64 -> 1 * 32 * 5 = 160
    assert head == {"output_size": ((1, 2), (1, 5)), "params": (66, 165), "macs": (64, 160)}
    assert result.total("total_params").delta == 99
    assert result.total("total_mult_adds").delta == 96
    text = str(result)
    assert "~ classifier" in text and "[1, 2]" in text and "[1, 5]" in text and "+99" in text


def test_diff_grown_gpt2_against_json_saved_earlier(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block

    model = gpt2(64, layers=2)
    path = tmp_path / "before.json"
    summary(model, verbose=0, **IDS).to_json(path)

    model.transformer.h.append(GPT2Block(model.config, layer_idx=2))
    model.config.n_layer = 3  # the KV cache is sized from the config
    after = summary(model, verbose=0, **IDS)
    result = diff(path, after)

    block = count_parameters(model.transformer.h[2])
    # 64 * 2 (ln_1) + 64 * 192 + 192 (c_attn) + 64 * 64 + 64 (c_proj) + 64 * 2 (ln_2)
    # + 64 * 256 + 256 (c_fc) + 256 * 64 + 64 (c_proj) = 49,984
    assert block == 49_984
    assert not result.removed
    assert {entry.module_path for entry in result.added} == {
        path for path, _ in model.named_modules() if path.startswith("transformer.h.2")
    } - {"transformer.h.2.attn.attn_dropout"}  # never called with SDPA, so no row
    top = result.added[0]
    assert (top.module_path, top.class_name, top.subtree_params) == (
        "transformer.h.2",
        "GPT2Block",
        block,
    )
    assert top.output_size == (1, 16, 64)
    assert result.total("total_params").delta == block
    assert (
        result.total("total_mult_adds").delta
        == after.total_mult_adds - load_summary(path).total_mult_adds
        > 0
    )
    assert not result.changed  # nothing else moved
    text = str(result)
    assert "+ transformer.h.2" in text and "GPT2Block" in text
    assert "transformer.h.2.ln_1" not in text  # folded into its block
    data = json.loads(json.dumps(result.to_dict()))
    assert data["totals"]["total_params"]["delta"] == block
    assert data["added"][0]["output_size"] == [1, 16, 64]


def test_diff_matches_repeated_calls_by_call_index() -> None:
    class Repeat(nn.Module):
        def __init__(self, times: int) -> None:
            super().__init__()
            self.times = times
            self.block = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for _ in range(self.times):
                x = self.block(x)
            return x

    model = Repeat(2)
    before = summary(model, input_size=(1, 4), verbose=0)
    model.times = 3
    result = diff(before, model, input_size=(1, 4))
    assert [(e.module_path, e.call, e.params, e.macs) for e in result.added] == [
        ("block", 2, 0, 16)  # the reused weights count once; 1 * 4 * 4 = 16 MACs
    ]
    assert not result.removed and not result.changed
    assert result.total("total_params").delta == 0
    assert result.total("total_mult_adds").delta == 16
    assert "+ block (call 3)" in str(result)


def test_diff_of_identical_summaries_is_empty(tmp_path: Path) -> None:
    model = gpt2(32)
    stats = summary(model, verbose=0, **IDS)
    path = tmp_path / "same.json"
    stats.to_json(path)
    result = diff(path, model, **IDS)
    assert isinstance(result, SummaryDiff)
    assert not result.has_changes
    assert "0 layer(s) added, 0 removed, 0 changed" in str(result)


def test_diff_warns_when_only_one_side_ran_a_forward() -> None:
    model = nn.Sequential(nn.Linear(4, 2))
    ran = summary(model, input_size=(1, 4), verbose=0)
    with pytest.warns(UserWarning, match="input_size"):
        result = diff(ran, model)
    assert not result.compared_forward
    assert all(change.module_path != "0" for change in result.changed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diff(model, model)  # neither ran: nothing to warn about


def test_diff_bad_arguments() -> None:
    with pytest.raises(TypeError, match="before must be"):
        diff(42, nn.Linear(2, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="after must be"):
        diff(nn.Linear(2, 2), [1])  # type: ignore[arg-type]
