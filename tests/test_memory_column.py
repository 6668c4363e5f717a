"""The Memory column says what it holds, and its root cell equals its footer total.

Train mode: activations saved for backward + parameter bytes, header "Memory";
the root is "Forward/backward pass size" + "Params size". Eval mode (or no
forward): parameter bytes only, header "Memory (params)"; the root is "Params size".
(The column needs a forward: it is refused without inputs.)
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.examples import SmallCNN, TinyGPT
from summaryplus.formatting import memory_bytes

COLUMNS = ("output_size", "num_params", "memory")


def _cases() -> list[tuple[str, nn.Module, dict[str, Any]]]:
    ids = {"input_size": (2, 16), "dtypes": [torch.long]}
    return [
        ("cnn", SmallCNN(), {"input_size": (2, 3, 32, 32)}),
        ("gpt", TinyGPT(), ids),  # tied embedding and head: counted once
    ]


@pytest.mark.parametrize("name,model,inputs", _cases(), ids=["cnn", "gpt"])
@pytest.mark.parametrize("mode", ["train", "eval", "same"])
def test_root_memory_equals_its_footer_total(
    name: str, model: nn.Module, inputs: dict[str, Any], mode: str
) -> None:
    model.eval()  # "same" keeps eval: no activations saved
    stats = summary(model, col_names=COLUMNS, mode=mode, verbose=0, **inputs)
    root = memory_bytes(stats.summary_list[0])
    header = str(stats).splitlines()[1]
    if mode == "train":
        assert root == stats.total_output_bytes + stats.total_param_bytes
        assert stats.total_output_bytes > 0
        assert "Memory" in header and "Memory (params)" not in header
    else:
        assert root == stats.total_param_bytes
        assert "Memory (params)" in header
    # the same header in every other view, and after a JSON round trip
    assert ("Memory (params)" in stats.render("github")) == (mode != "train")
    loaded = load_summary(stats.to_dict())
    assert str(loaded).splitlines()[1] == header


def test_eval_memory_cell_is_param_bytes() -> None:
    stats = summary(nn.Sequential(nn.Linear(4, 8)), input_size=(1, 4),
                    col_names=COLUMNS, verbose=0)
    # (4 * 8 + 8) * 4 bytes = 160 B, the Linear's parameters and nothing else
    line = next(line for line in str(stats).splitlines() if "Linear: 1-1" in line)
    assert line.split()[-2:] == ["160", "B"]
