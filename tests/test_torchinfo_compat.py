"""Same text as torchinfo 1.8.0 on models where torchinfo is right.

Allowed differences are the documented corrections (README "Differences from
torchinfo"): footer lines whose numbers torchinfo gets wrong.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from models import LSTMNet, NestedNet, RecursiveNet, SingleInputNet
from torch import nn

import summaryplus

torchinfo = pytest.importorskip("torchinfo")


class ArrayIn(nn.Module):
    """A forward that insists on a numpy array."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x: np.ndarray) -> torch.Tensor:
        assert isinstance(x, np.ndarray)
        return self.linear(torch.from_numpy(x))

# Footer lines torchinfo computes differently (MACs guessed from class names,
# 2 x outputs as activations, sys.getsizeof for inputs, Units.MEGABYTES label).
CORRECTED_PREFIXES = (
    "Total mult-adds",
    "Mult-adds are partial",
    "Input size (MB)",
    "Forward/backward pass size (MB)",
    "Buffers size (MB)",
    "Estimated Total Size (MB)",
    # Lines torchinfo does not print.
    "Pruned weights",
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


# A cell with several shapes (``[[2, 7, 32], [2, 2, 32], ...]``): torchinfo 1.8.0
# shows only the first (a documented correction).
SEVERAL_SHAPES = re.compile(r"\[(\[[^\[\]]*\])(?:, \[[^\[\]]*\])*(?:, \.\.\.)?\]")


def _printed(function: Any, model: nn.Module, **kwargs: Any) -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        function(model, **kwargs)
    lines = buffer.getvalue().rstrip("\n").splitlines()
    if function is summaryplus.summary:
        lines = [
            SEVERAL_SHAPES.sub(lambda m: m.group(1).ljust(len(m.group(0))), line)
            for line in lines
        ]
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


def _pruned() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 10, 5), nn.Flatten(), nn.Linear(10 * 24 * 24, 3))
    prune.l1_unstructured(model[0], "weight", amount=0.5)
    return model


def _call_forms() -> list[Any]:
    """Ways of calling torchinfo 1.8.0 that must keep working the same way."""
    return [
        pytest.param(
            LSTMNet(), {"input_size": (2, 7), "dtypes": [torch.LongTensor]}, id="tensor-types"
        ),
        pytest.param(ArrayIn(), {"input_data": [np.ones(3, dtype=np.float32)]}, id="ndarray"),
        pytest.param(_pruned(), {"input_size": (1, 1, 28, 28)}, id="pruned"),
        pytest.param(_pruned(), {"input_size": (1, 1, 28, 28), "verbose": 2}, id="pruned-verbose"),
    ]


@pytest.mark.parametrize("model,kwargs", _call_forms())
def test_same_table_for_torchinfo_call_forms(model: nn.Module, kwargs: dict[str, Any]) -> None:
    columns = ("input_size", "output_size", "num_params", "params_percent", "kernel_size")
    kwargs = {"verbose": 1, "col_names": columns, **kwargs}
    assert _printed(summaryplus.summary, model, **kwargs) == _printed(
        torchinfo.summary, model, **kwargs
    )


class AnyInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.linear(inputs[0].flatten()[:1])


@pytest.mark.parametrize(
    "input_size,batch_dim",
    [
        ((2, 3, 8, 8), None),
        ([2, 3], None),
        (torch.Size([2, 3]), None),
        ([(2, 3), (2, 3)], None),
        (((2, 3), [2, 3]), None),
        ([[1, 4]], 0),
        ([torch.Size([1, 28, 28]), [12]], 0),
    ],
)
def test_input_size_reported_as_passed(input_size: Any, batch_dim: int | None) -> None:
    ours = summaryplus.summary(AnyInputs(), input_size=input_size, batch_dim=batch_dim, verbose=0)
    theirs = torchinfo.summary(AnyInputs(), input_size=input_size, batch_dim=batch_dim, verbose=0)
    assert ours.input_size == theirs.input_size
    assert repr(ours.input_size) == repr(theirs.input_size)


def test_shared_module_in_nested_lists_has_torchinfos_rows() -> None:
    # Without input torchinfo 1.8.0 places and numbers the rows right; it adds
    # the shared Linear's 20 params again at the second list and in the totals
    # (40; counted once here), so only the names and depth indices are compared.
    from test_torchinfo_behaviours import SharedInNestedLists

    model = SharedInNestedLists()

    def names(function: Any) -> list[str]:
        lines = _printed(function, model, verbose=1)
        end = next(i for i, line in enumerate(lines) if line.startswith("Total params"))
        return [line[:40] for line in lines[:end]]

    assert names(summaryplus.summary) == names(torchinfo.summary)
