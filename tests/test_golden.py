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
    if overwrite:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: write it with --overwrite and review it"
    assert text == path.read_text(encoding="utf-8")
    _check_invariants(stats, text)


def _printed_param_column(text: str) -> list[str]:
    """The Param # cells of the table's rows, read from the printed text.

    Cells sit under their header title, in fixed-width columns; the rows are the
    lines between the divider under the header and the next divider.
    """
    lines = text.splitlines()
    dividers = [i for i, line in enumerate(lines) if line and set(line) == {"="}]
    header = lines[dividers[0] + 1]
    start = header.index("Param #")
    later = [header.index(title, start + 1) for title in header[start + len("Param #"):].split("  ")
             if title.strip()]
    end = min(later, default=None)
    return [line[start:end].strip() for line in lines[dividers[1] + 1 : dividers[2]]]


def _cell_params(cell: str) -> int:
    """What one Param # cell adds to the total: its count ("1,600", or "(1,600)"
    for frozen parameters); nothing for "--", "(recursive)", "(shared)", and for
    verbose per-tensor lines ("├─2,048"), which detail the row above them."""
    if cell.startswith(("├─", "└─")) or not any(ch.isdigit() for ch in cell):
        return 0
    return int(cell.strip("()").replace(",", ""))


def _check_invariants(stats: ModelStatistics, text: str) -> None:
    if "Param #" in text:
        shown_params = sum(_cell_params(cell) for cell in _printed_param_column(text))
        assert shown_params == stats.total_params
        assert f"Total params: {stats.total_params:,}" in text
    for row in stats.summary_list:
        assert row.macs == row.own_macs + sum(child.macs for child in row.children)
    if stats.summary_list:
        assert stats.summary_list[0].macs == stats.total_mult_adds
