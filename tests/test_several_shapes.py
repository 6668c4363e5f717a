"""A call that returns (or takes) several tensors shows every shape, in
torchinfo's nested-list style, shortened with ``...`` past the column width;
JSON keeps them all."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.shapes import shapes_text


class _ReturnDictLayer(nn.Module):
    """torchinfo's ReturnDictLayer: a dict of five tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        x = self.conv1(x)
        out["conv1"] = x
        x = self.conv2(F.relu(F.max_pool2d(x, 2)))
        out["conv2"] = x
        x = F.relu(self.fc1(F.relu(F.max_pool2d(x, 2)).view(-1, 320)))
        out["fc1"] = x
        x = self.fc2(x)
        out["fc2"] = x
        out["output"] = F.log_softmax(x, dim=1)
        return out


_ALL = [[1, 10, 24, 24], [1, 20, 8, 8], [1, 50], [1, 10], [1, 10]]


def test_every_output_shape_in_a_wide_column() -> None:
    stats = summary(_ReturnDictLayer(), input_size=(1, 1, 28, 28), verbose=0, col_width=65,
                    col_names=("output_size",))
    assert stats.summary_list[0].output_shapes == _ALL
    assert str(stats).splitlines()[3].split(None, 1)[1].strip() == str(_ALL)


def test_shapes_past_the_column_width_end_in_dots() -> None:
    stats = summary(_ReturnDictLayer(), input_size=(1, 1, 28, 28), verbose=0)
    root = str(stats).splitlines()[3]
    # width 25: "[[1, 10, 24, 24], [1, 20, 8, 8], ...]" is 38 characters
    assert "[[1, 10, 24, 24], ...]" in root
    assert stats.summary_list[0].output_size == [1, 10, 24, 24]  # torchinfo's one shape


def test_json_keeps_every_shape_and_loads_back() -> None:
    stats = summary(_ReturnDictLayer(), input_size=(1, 1, 28, 28), verbose=0)
    data = stats.to_dict()
    assert data["layers"][0]["output_shapes"] == _ALL
    assert data["layers"][1]["output_shapes"] is None  # one tensor: output_size says it
    assert str(load_summary(data)) == str(stats)


def test_several_inputs_show_every_shape() -> None:
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(3, 4)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.a(x) + y

    stats = summary(Pair(), input_size=[(2, 3), (2, 4)], verbose=0,
                    col_names=("input_size", "output_size"))
    assert stats.summary_list[0].input_shapes == [[2, 3], [2, 4]]
    assert "[[2, 3], [2, 4]]" in str(stats).splitlines()[3]


def test_lstm_output_and_state_shapes() -> None:
    lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
    stats = summary(lstm, input_size=(2, 7, 16), verbose=0, col_width=50)
    # output [2, 7, 32] and the (h, c) state, [layers, batch, hidden] each
    assert stats.summary_list[0].output_shapes == [[2, 7, 32], [2, 2, 32], [2, 2, 32]]
    assert "[[2, 7, 32], [2, 2, 32], [2, 2, 32]]" in str(stats)


def test_shapes_text() -> None:
    shapes = [[1, 10, 24, 24], [1, 20, 8, 8], [1, 50]]
    assert shapes_text(shapes, 60) == "[[1, 10, 24, 24], [1, 20, 8, 8], [1, 50]]"
    assert shapes_text(shapes, 40) == "[[1, 10, 24, 24], [1, 20, 8, 8], ...]"
    assert shapes_text(shapes, 25) == "[[1, 10, 24, 24], ...]"
    assert shapes_text(shapes, 12) == "[1, 10, 24, 24]"  # as torchinfo shows it


class _Block(nn.ModuleList):
    """One inner ModuleList registered twice in a list, as torchinfo's
    ``test_shared_module_in_nested_list`` builds it."""

    def __init__(self) -> None:
        inner = nn.ModuleList([nn.Linear(4, 4)])
        super().__init__([inner, nn.ReLU(), inner, nn.ReLU()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self:
            if isinstance(module, nn.ModuleList):
                for layer in module:
                    x = layer(x)
            else:
                x = module(x)
        return x


class _SharedModuleInNestedList(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([_Block() for _ in range(2)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x


def test_a_list_met_again_in_a_list_is_recursive_with_torchinfos_index() -> None:
    stats = summary(_SharedModuleInNestedList(), input_size=(1, 4), depth=4, verbose=0)
    table = [" ".join(line.split()) for line in str(stats).splitlines()[3:18]]
    # torchinfo's current main: both appearances of the inner list are one row
    # object, shown with the last index (3-3) and (recursive); its Linear is
    # the same module both times, so its second call is (recursive) here
    # (torchinfo counts its 20 parameters twice).
    assert table == [
        "_SharedModuleInNestedList [1, 4] --",
        "├─ModuleList: 1-1 -- --",
        "│ └─_Block: 2-1 [1, 4] --",
        "│ │ └─ModuleList: 3-3 -- (recursive)",
        "│ │ │ └─Linear: 4-1 [1, 4] 20",
        "│ │ └─ReLU: 3-2 [1, 4] --",
        "│ │ └─ModuleList: 3-3 -- (recursive)",
        "│ │ │ └─Linear: 4-2 [1, 4] (recursive)",
        "│ │ └─ReLU: 3-4 [1, 4] --",
        "│ └─_Block: 2-2 [1, 4] --",
        "│ │ └─ModuleList: 3-7 -- (recursive)",
        "│ │ │ └─Linear: 4-3 [1, 4] 20",
        "│ │ └─ReLU: 3-6 [1, 4] --",
        "│ │ └─ModuleList: 3-7 -- (recursive)",
        "│ │ │ └─Linear: 4-4 [1, 4] (recursive)",
    ]
    assert stats.total_params == 2 * 20  # one Linear per block, once
