"""Same text as torchinfo 1.8.0 on models where torchinfo is right.

Allowed differences are the documented corrections (README "Differences from
torchinfo"): footer lines whose numbers torchinfo gets wrong.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
import torch
from models import LSTMNet, NestedNet, RecursiveNet, SingleInputNet
from torch import nn

import summaryplus

torchinfo = pytest.importorskip("torchinfo")

# Footer lines torchinfo computes differently (MACs guessed from class names,
# 2 x outputs as activations, sys.getsizeof for inputs, Units.MEGABYTES label).
CORRECTED_PREFIXES = (
    "Total mult-adds",
    "Mult-adds are partial",
    "Input size (MB)",
    "Forward/backward pass size (MB)",
    "Buffers size (MB)",
    "Estimated Total Size (MB)",
)

CASES: list[tuple[type[nn.Module], dict[str, Any]]] = [
    (SingleInputNet, {"input_size": (16, 1, 28, 28)}),
    (NestedNet, {"input_size": (2, 3, 8, 8)}),
    (RecursiveNet, {"input_size": (2, 16)}),
    (LSTMNet, {"input_size": (2, 7), "dtypes": [torch.long]}),
]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"col_names": ("input_size", "output_size", "num_params", "params_percent",
                   "kernel_size", "trainable")},
    {"verbose": 2, "col_names": ("kernel_size", "num_params")},
    {"depth": 1, "row_settings": ("var_names", "ascii_only")},
    {"depth": 2, "row_settings": ("hide_recursive_layers", "depth", "var_names")},
    {"col_width": 12, "col_names": ("output_size", "num_params", "trainable")},
]


def _printed(function: Any, model: nn.Module, **kwargs: Any) -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        function(model, **kwargs)
    lines = buffer.getvalue().rstrip("\n").splitlines()
    return [line for line in lines if not line.startswith(CORRECTED_PREFIXES)]


@pytest.mark.parametrize("model_class,inputs", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("options", OPTIONS, ids=[str(sorted(o)) for o in OPTIONS])
def test_same_table_as_torchinfo(
    model_class: type[nn.Module], inputs: dict[str, Any], options: dict[str, Any]
) -> None:
    torch.manual_seed(0)
    model = model_class()
    kwargs = {"verbose": 1, **inputs, **options}
    assert _printed(summaryplus.summary, model, **kwargs) == _printed(
        torchinfo.summary, model, **kwargs
    )


@pytest.mark.parametrize("model_class", [SingleInputNet, NestedNet, RecursiveNet])
def test_same_table_without_input(model_class: type[nn.Module]) -> None:
    model = model_class()
    assert _printed(summaryplus.summary, model, verbose=1) == _printed(
        torchinfo.summary, model, verbose=1
    )


def test_same_totals_as_torchinfo() -> None:
    model = NestedNet()
    ours = summaryplus.summary(model, input_size=(2, 3, 8, 8), verbose=0)
    theirs = torchinfo.summary(model, input_size=(2, 3, 8, 8), verbose=0)
    assert ours.total_params == theirs.total_params
    assert ours.trainable_params == theirs.trainable_params
    assert ours.total_param_bytes == theirs.total_param_bytes
    assert ours.input_size == theirs.input_size
