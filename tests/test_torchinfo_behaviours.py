"""Behaviours code written against torchinfo relies on (issue 16): tensors found
in any output container, and torchinfo's ``LayerInfo`` methods."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from summaryplus import SummaryError, summary


class Holder:
    """A plain class holding a tensor as an attribute."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


class NestedOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> dict[str, tuple[dict[str, list[Holder]]]]:
        return {"foo": ({"bar": [Holder(self.linear(x))]},)}


class CategoricalHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.linear(x))


class NormalHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.distributions.Normal:
        mean = self.linear(x)
        return torch.distributions.Normal(mean, mean.exp())


def test_tensors_inside_plain_objects_are_found() -> None:
    root = summary(NestedOutput(), input_size=(1, 4), verbose=0).summary_list[0]
    assert root.output_size == [1, 5]
    assert root.output_bytes == 5 * 4


def test_distributions_show_batch_and_event_shape() -> None:
    # Categorical over 5 classes: batch [1], event []; Normal: batch [1, 5]
    categorical = summary(CategoricalHead(), input_size=(1, 4), verbose=0)
    normal = summary(NormalHead(), input_size=(1, 4), verbose=0)
    assert categorical.summary_list[0].output_size == [1]
    assert normal.summary_list[0].output_size == [1, 5]
    assert normal.summary_list[0].output_bytes == 2 * 5 * 4  # loc and scale
    assert "[1, 5]" in str(normal).splitlines()[3]


@pytest.fixture(params=[True, False], ids=["validation_on", "validation_off"])
def validation(request: pytest.FixtureRequest) -> Iterator[bool]:
    """torch.distributions' default argument validation set to the parameter
    for the test, and put back after it."""
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(request.param)
    try:
        yield bool(request.param)
    finally:
        torch.distributions.Distribution.set_default_validate_args(before)


@pytest.mark.parametrize("head", [NormalHead, CategoricalHead])
def test_distributions_summarize_without_data_at_any_validation_setting(
    head: type[nn.Module], validation: bool
) -> None:
    # Validating Normal's scale > 0 (Categorical's logits) reads values: on meta
    # and fake tensors the summary's own forward runs without it, and the
    # setting is back as found after each summary.
    real = summary(head(), input_size=(1, 4), verbose=0)
    assert torch.distributions.Distribution._validate_args is validation
    on_fake = summary(head(), input_size=(1, 4), device="meta", verbose=0)
    assert torch.distributions.Distribution._validate_args is validation
    with torch.device("meta"):
        built_on_meta = head()
    on_meta = summary(built_on_meta, input_data=[torch.empty(1, 4, device="meta")], verbose=0)
    assert torch.distributions.Distribution._validate_args is validation
    for stats in (on_fake, on_meta):
        assert stats.summary_list[0].output_size == real.summary_list[0].output_size
        assert stats.total_mult_adds == real.total_mult_adds == 4 * 5  # Linear(4, 5), 1 row


def test_distributions_still_validate_on_real_tensors() -> None:
    # Only forwards without data skip validation: a negative scale on real
    # tensors is the model's own error, as it would be outside the summary.
    class NegativeScale(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.distributions.Normal:
            return torch.distributions.Normal(x, -torch.ones_like(x))

    with pytest.raises(SummaryError, match="ValueError"):
        summary(NegativeScale(), input_size=(1, 4), verbose=0)
    assert summary(NegativeScale(), input_size=(1, 4), device="meta", verbose=0)


def test_distributions_validation_is_put_back_when_the_forward_fails() -> None:
    class Fails(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert not torch.distributions.Distribution._validate_args  # off inside
            raise RuntimeError("boom")

    before = torch.distributions.Distribution._validate_args
    with pytest.raises(SummaryError, match="boom"):
        summary(Fails(), input_size=(1, 4), device="meta", verbose=0)
    assert torch.distributions.Distribution._validate_args is before


def test_objects_referring_to_each_other_are_walked_once() -> None:
    class Loop(nn.Module):
        def forward(self, x: torch.Tensor) -> Holder:
            holder = Holder(x * 2)
            holder.itself = holder  # type: ignore[attr-defined]
            return holder

    assert summary(Loop(), input_size=(2, 3), verbose=0).summary_list[0].output_size == [2, 3]


def test_layer_info_methods_of_torchinfo_work_on_rows() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    model = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.Linear(8, 2)))
    ours = summary(model, input_size=(2, 4), verbose=0)
    theirs = torchinfo.summary(model, input_size=(2, 4), verbose=0)
    for row, reference in zip(ours.summary_list, theirs.summary_list, strict=True):
        for deepest in (False, True):
            assert row.num_params_to_str(deepest) == reference.num_params_to_str(deepest)
            assert row.params_percent(ours.total_params, deepest) == reference.params_percent(
                theirs.total_params, deepest
            )
        assert row.leftover_params() == reference.leftover_params()
        assert row.leftover_trainable_params() == reference.leftover_trainable_params()
        assert row.get_layer_name(True, True) == reference.get_layer_name(True, True)
        assert row.trainable == reference.trainable
    # MACs are ours (counted op by op): the first Linear's 2 * 4 * 8
    assert ours.summary_list[1].macs_to_str(True) == "64"
    assert ours.summary_list[0].get_kernel_size(nn.Conv2d(1, 1, 3)) == [3, 3]
    shape, size = ours.summary_list[0].calculate_size([torch.zeros(3, 2)], None)
    assert (shape, size) == ([3, 2], 24)
    # check_recursive marks a row while rows are being made (as in torchinfo's
    # capture); a built summary's rows are read-only and say so.
    from summaryplus.layer_info import LayerInfo

    fresh = LayerInfo("0", model[0], 1)
    fresh.check_recursive({fresh.layer_id})
    assert fresh.is_recursive
    built = ours.summary_list[2]
    with pytest.raises(AttributeError, match="read-only once the summary is built"):
        built.check_recursive({built.layer_id})
    assert not built.is_recursive


def test_get_param_count_counts_the_weights_a_pruning_mask_keeps() -> None:
    import torch.nn.utils.prune as prune

    conv = nn.Conv2d(1, 10, 5)
    prune.l1_unstructured(conv, "weight", amount=0.5)
    row = summary(conv, verbose=0).summary_list[0]
    # 250 weights, half pruned away: 125 survive, shown under the name "weight"
    assert row.get_param_count(conv, "weight_orig", conv.weight_orig) == (125, "weight")
    assert row.get_param_count(conv, "bias", conv.bias) == (10, "bias")


class SharedInNestedLists(nn.Module):
    """One Linear registered in two inner ModuleLists, called once through each."""

    def __init__(self) -> None:
        super().__init__()
        shared = nn.Linear(4, 4)
        self.a = nn.ModuleList(
            [nn.ModuleList([shared, nn.ReLU()]), nn.ModuleList([shared, nn.ReLU()])]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for inner in self.a:
            for layer in inner:
                x = layer(x)
        return x


def test_a_module_shared_by_nested_lists_appears_under_each_list() -> None:
    stats = summary(
        SharedInNestedLists(), input_size=(2, 4), verbose=0,
        col_names=("num_params",), row_settings=("depth", "var_names"),
    )
    table = [" ".join(line.split()) for line in str(stats).splitlines()[4:11]]
    assert table == [
        "├─ModuleList (a): 1-1 --",
        "│ └─ModuleList (0): 2-1 --",
        "│ │ └─Linear (0): 3-1 20",
        "│ │ └─ReLU (1): 3-2 --",
        "│ └─ModuleList (1): 2-2 --",
        "│ │ └─Linear (0): 3-3 (recursive)",
        "│ │ └─ReLU (1): 3-4 --",
    ]
    linear_rows = [row for row in stats.summary_list if row.class_name == "Linear"]
    assert [row.module_path for row in linear_rows] == ["a.0.0", "a.1.0"]
    assert [row.is_recursive for row in linear_rows] == [False, True]
    assert stats.total_params == 20


def test_changing_the_name_settings_after_the_summary_renames_the_rows() -> None:
    """Row names are made once per summary and kept for the table; code that
    turns on var names afterwards (torchinfo's attributes) still gets them."""
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    stats = summary(model, input_size=(1, 4), verbose=0)
    assert "├─Linear: 1-1" in str(stats)
    stats.formatting.show_var_name = True
    assert "├─Linear (0): 1-1" in str(stats)
    stats.formatting.show_depth = False
    assert "├─ReLU (1) " in str(stats)
    # Another list of rows of the same length gets its own names.
    other = summary(nn.Sequential(nn.Conv1d(1, 1, 1), nn.Tanh()), input_size=(1, 1, 4), verbose=0)
    names = stats.formatting.row_names(other.summary_list)
    assert names == ["Sequential (Sequential)", "Conv1d (0)", "Tanh (1)"]
