"""Golden text tables: ``pytest tests/test_golden.py --overwrite`` rewrites them.

Besides the exact text, every case checks the column-sum invariant: the Param #
column adds up to the total, and MACs of each row are its own plus its children's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from models import LSTMNet, NestedNet, RecursiveNet, SingleInputNet, TiedNet
from torch import nn

from summaryplus import ModelStatistics, summary
from summaryplus.examples import SmallCNN, TinyGPT
from summaryplus.formatting import visible_rows

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, tuple[Callable[[], nn.Module], dict[str, Any]]] = {
    "single_input_all_columns": (SingleInputNet, {
        "input_size": (16, 1, 28, 28),
        "col_names": ("input_size", "output_size", "num_params", "params_percent",
                      "kernel_size", "mult_adds", "flops", "trainable"),
    }),
    "nested_groups_var_names": (NestedNet, {
        "input_size": (2, 3, 8, 8), "col_names": ("output_size", "num_params", "groups",
                                                  "mult_adds", "trainable"),
        "row_settings": ("depth", "var_names"),
    }),
    "recursive_ascii": (RecursiveNet, {"input_size": (2, 16), "row_settings": ("ascii_only",)}),
    "lstm_verbose": (LSTMNet, {"input_size": (2, 7), "dtypes": [torch.long], "verbose": 2,
                               "col_names": ("kernel_size", "num_params", "mult_adds")}),
    "tied_shared_uncalled": (TiedNet, {"input_size": (2, 5), "dtypes": [torch.long],
                                       "col_names": ("output_size", "num_params",
                                                     "params_percent", "mult_adds")}),
    "small_cnn_train_memory": (SmallCNN, {"input_size": (4, 3, 32, 32), "mode": "train",
                                          "col_names": ("output_size", "num_params", "memory")}),
    "tiny_gpt_depth_1": (TinyGPT, {"input_size": (2, 32), "dtypes": [torch.long], "depth": 1,
                                   "col_names": ("output_size", "num_params", "mult_adds")}),
    "tiny_gpt_no_input": (TinyGPT, {"depth": 2}),
}


def _render(stats: ModelStatistics, verbose: int) -> str:
    stats.formatting.verbose = verbose
    return str(stats) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, overwrite: bool) -> None:
    build, kwargs = CASES[name]
    torch.manual_seed(0)
    verbose = kwargs.pop("verbose", 0) if "verbose" in kwargs else 0
    stats = summary(build(), verbose=0, **kwargs)
    kwargs["verbose"] = verbose
    text = _render(stats, verbose)
    path = GOLDEN / f"{name}.txt"
    if overwrite or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    _check_invariants(stats)


def _check_invariants(stats: ModelStatistics) -> None:
    shown_params = sum(
        row.subtree_params if (deepest or row.is_leaf_layer) else row.counted_params
        for row, deepest in visible_rows(stats)
        if not row.is_recursive
    )
    assert shown_params == stats.total_params
    for row in stats.summary_list:
        assert row.macs == row.own_macs + sum(child.macs for child in row.children)
    if stats.summary_list:
        assert stats.summary_list[0].macs == stats.total_mult_adds
