"""Parameter accounting: each tensor once, buffers apart, every module counted."""

from __future__ import annotations

import pytest
import torch
import torch.nn.utils.prune as prune
from models import NestedNet, TiedNet
from torch import nn

from summaryplus import load_summary, parameter_table, summary
from summaryplus.formatting import visible_rows


def _column_sum(stats) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """What the Param # column adds up to at the chosen depth."""
    params = trainable = 0
    for row, deepest in visible_rows(stats):
        if row.is_recursive:
            continue
        if deepest or row.is_leaf_layer:
            params += row.subtree_params
            trainable += row.subtree_trainable_params
        else:
            params += row.counted_params
            trainable += row.counted_trainable_params
    return params, trainable


def test_gpt2_counts_tied_embedding_once() -> None:
    transformers = pytest.importorskip("transformers")
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
    assert stats.total_params == 124_439_808
    assert stats.total_param_bytes == 124_439_808 * 4
    lm_head = next(row for row in stats.summary_list if row.var_name == "lm_head")
    assert lm_head.num_params == 50257 * 768
    assert lm_head.counted_params == 0
    for depth in (0, 1, 2, 3, 6):
        stats.formatting.max_depth = depth
        assert _column_sum(stats) == (stats.total_params, stats.trainable_params)


def test_tied_shared_and_uncalled_modules() -> None:
    model = TiedNet()
    stats = summary(model, input_size=(2, 5), dtypes=[torch.long], verbose=0)
    # 50*12 embedding (tied head) + 12*12+12 shared Linear + 12*3+3 unused Linear
    assert stats.total_params == 600 + 156 + 39
    assert stats.total_params == sum(p.numel() for p in model.parameters())
    root = stats.summary_list[0]
    assert root.counted_params == 39  # the never-called Linear belongs to the model row
    for depth in (0, 1, 2):
        stats.formatting.max_depth = depth
        assert _column_sum(stats) == (795, 795)
    text = str(stats)
    assert "(shared)" in text and "(recursive)" in text


def test_weights_tied_by_data_are_counted_once() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    model[1].weight = nn.Parameter(model[0].weight.data)  # same storage, new object
    stats = summary(model, input_size=(1, 4), verbose=0)
    assert stats.total_params == 16 + 4 + 4


def test_parameters_over_one_address_count_once_per_distinct_view() -> None:
    base = nn.Linear(6, 4)
    first_rows = nn.Linear(6, 2)
    first_rows.weight = nn.Parameter(base.weight.data[:2])  # starts where base.weight does
    again = nn.Linear(6, 4)
    again.weight = nn.Parameter(base.weight.data)  # the very same view, another object
    model = nn.ModuleList([base, first_rows, again])
    stats = summary(model, verbose=0)
    # base.weight 24 + first_rows.weight 12 (a different view) + three biases.
    assert stats.total_params == 24 + 12 + 4 + 2 + 4


def test_buffers_are_counted_apart_from_params() -> None:
    stats = summary(NestedNet(), input_size=(2, 3, 8, 8), verbose=0)
    # BatchNorm2d(8): running_mean, running_var (8 each) + num_batches_tracked
    assert stats.total_buffers == 8 + 8 + 1
    assert stats.total_buffer_bytes == 8 * 4 * 2 + 8
    assert stats.total_params == 5962
    assert "Buffers size (MB)" in str(stats)


def test_frozen_layers_are_in_parentheses() -> None:
    stats = summary(NestedNet(), input_size=(2, 3, 8, 8), verbose=0)
    assert stats.trainable_params == 5962 - 5130
    assert "(5,130)" in str(stats)


def test_parameter_containers_and_direct_parameters() -> None:
    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))
            self.plist = nn.ParameterList([nn.Parameter(torch.zeros(2, 2)) for _ in range(2)])
            self.pdict = nn.ParameterDict({"a": nn.Parameter(torch.zeros(5))})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.scale + self.plist[0].sum() + self.pdict["a"].sum()

    stats = summary(Holder(), input_size=(2, 3), verbose=0)
    assert stats.total_params == 3 + 8 + 5
    assert stats.summary_list[0].subtree_params == 16


def test_parameter_bytes_follow_each_dtype() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    model[0].half()
    model[1].to(torch.float64)
    stats = summary(model, verbose=0)
    assert stats.total_param_bytes == 72 * 2 + 72 * 8


def test_lazy_modules_are_counted_after_the_forward() -> None:
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU())
    stats = summary(model, input_size=(2, 6), verbose=0)
    assert stats.total_params == 6 * 4 + 4


def test_pruned_weights_count_the_weights_the_mask_keeps() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 10, 5), nn.Flatten(), nn.Linear(10 * 24 * 24, 3))
    prune.l1_unstructured(model[0], "weight", amount=0.5)
    stats = summary(model, input_size=(1, 1, 28, 28), verbose=0)
    # 125 of 250 weights survive, + 10 bias: torchinfo's 135.
    assert stats.summary_list[1].num_params == 135
    assert stats.total_params == stats.trainable_params == 135 + 5760 * 3 + 3
    assert stats.pruned_params == 125
    # Params size: the bytes stored (weight_orig as it is); the mask is a buffer.
    assert stats.total_param_bytes == 4 * (250 + 10 + 5760 * 3 + 3)
    assert stats.total_buffers == 250
    assert [name for name, _ in model.named_buffers()] == ["0.weight_mask"]
    assert "Pruned weights: 125 (masked out)" in str(stats).splitlines()
    assert stats.to_dict()["totals"]["pruned_params"] == 125
    assert load_summary(stats.to_dict()).pruned_params == 125
    unpruned = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
    assert unpruned.pruned_params == 0 and "Pruned" not in str(unpruned)


def test_a_pruned_weight_tied_to_another_module_counts_once() -> None:
    first, second = nn.Linear(10, 10), nn.Linear(10, 10)
    prune.l1_unstructured(second, "weight", amount=0.3)
    first.weight = second.weight_orig  # tied; the holder without the mask comes first
    model = nn.Sequential(first, second)
    stats = summary(model, input_size=(1, 10), verbose=0)
    assert stats.total_params == 70 + 10 + 10
    assert stats.pruned_params == 30
    assert sum(row.counted_params for row in stats.summary_list) == stats.total_params


def test_uninitialized_lazy_layers_make_the_totals_a_lower_bound() -> None:
    model = nn.Sequential(nn.LazyLinear(16), nn.Linear(16, 4))
    stats = summary(model, verbose=0)
    assert stats.total_params == 16 * 4 + 4
    assert stats.uninitialized_layers == 1
    lines = str(stats).splitlines()
    lazy_row = next(line for line in lines if line.startswith("├─LazyLinear"))
    assert lazy_row.endswith("(uninitialized)")
    assert "Total params: 68" in lines
    assert "Params are a lower bound: 1 layer uninitialized" in lines
    html = stats.to_html()
    assert "(uninitialized)" in html and "Params are a lower bound" in html
    assert stats.to_dict()["totals"]["uninitialized_layers"] == 1
    reloaded = load_summary(stats.to_dict())
    assert reloaded.uninitialized_layers == 1
    assert [row.uninitialized for row in parameter_table(model)] == [True, True, False, False]
    two = summary(nn.Sequential(nn.LazyLinear(4), nn.LazyConv1d(2, 3)), verbose=0)
    assert "Params are a lower bound: 2 layers uninitialized" in str(two)
    # With an input the lazy layer is materialised (on a copy): exact totals.
    ran = summary(model, input_size=(2, 8), verbose=0)
    assert ran.uninitialized_layers == 0 and ran.total_params == 8 * 16 + 16 + 68
    assert "lower bound" not in str(ran)


def test_no_input_summary_lists_every_module() -> None:
    stats = summary(NestedNet(), verbose=0)
    assert [row.class_name for row in stats.summary_list][:4] == [
        "NestedNet", "Sequential", "Conv2d", "BatchNorm2d",
    ]
    assert stats.total_params == 5962
    assert stats.total_mult_adds == 0
    assert "Total mult-adds" not in str(stats)


def test_helpers_without_a_forward_handle_lazy_and_cyclic_models() -> None:
    import pytest

    from summaryplus import count_parameters, parameter_table

    lazy = nn.Sequential(nn.LazyLinear(4), nn.Linear(4, 2))
    assert count_parameters(lazy) == 10  # the lazy layer has no elements yet
    assert [row.shape for row in parameter_table(lazy)][:1] == [()]
    cyclic = nn.Sequential(nn.Linear(2, 2))
    cyclic.add_module("loop", cyclic)
    with pytest.raises(ValueError, match="cycle"):
        count_parameters(cyclic)


def test_training_memory_from_a_summary_reloaded_from_json() -> None:
    import json

    from summaryplus import compare, load_summary

    stats = summary(nn.Linear(100, 10), input_size=(8, 100), mode="train", verbose=0)
    record = load_summary(json.loads(stats.to_json()))
    assert record.training_memory("adamw").total == stats.training_memory("adamw").total
    table = compare({"live": stats, "reloaded": record})
    assert table["reloaded"].training_memory_bytes == stats.training_memory().total


def test_packed_four_bit_weights_count_their_true_elements() -> None:
    from types import SimpleNamespace

    class Params4bit(nn.Parameter):
        """What bitsandbytes hands a Linear4bit: uint8 bytes, two weights each."""

    layer = nn.Linear(64, 32)
    packed = Params4bit(torch.zeros(64 * 32 // 2, 1, dtype=torch.uint8), requires_grad=False)
    packed.quant_state = SimpleNamespace(shape=torch.Size([32, 64]))  # type: ignore[attr-defined]
    layer.weight = packed
    stats = summary(layer, verbose=0)
    assert stats.total_params == 32 * 64 + 32  # true weights, plus the bias
    assert stats.total_param_bytes == 32 * 64 // 2 + 32 * 4  # packed bytes, fp32 bias
    assert stats.trainable_params == 32


def test_a_parameter_subclass_tied_to_a_plain_parameter_counts_once() -> None:
    class Tagged(nn.Parameter):
        pass

    plain, tagged = nn.Linear(8, 8, bias=False), nn.Linear(8, 8, bias=False)
    tagged.weight = Tagged(plain.weight.data)
    assert summary(nn.ModuleList([plain, tagged]), verbose=0).total_params == 64
    assert summary(nn.ModuleList([tagged, plain]), verbose=0).total_params == 64


def test_a_sparse_parameter_is_counted() -> None:
    holder = nn.Module()
    holder.weight = nn.Parameter(torch.eye(3).to_sparse())
    stats = summary(holder, verbose=0)
    # its 3 stored values (the 6 zeros are not parameters); bytes: 3 float32
    # values + [2, 3] int64 indices = 12 + 48
    assert (stats.total_params, stats.total_param_bytes) == (3, 60)


def test_two_parameters_over_the_same_view_count_once_in_the_row_share() -> None:
    class TwoViews(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            base = torch.randn(4, 4)
            self.a = nn.Parameter(base)
            self.b = nn.Parameter(base)  # another Parameter object, the same memory

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.a + x @ self.b

    stats = summary(nn.Sequential(TwoViews()), input_size=(2, 4), verbose=0)
    assert stats.total_params == 16
    row = stats.summary_list[1]
    assert (row.num_params, row.counted_params, row.subtree_params) == (16, 16, 16)
    assert stats.summary_list[0].subtree_params == 16  # rows add up to the total
