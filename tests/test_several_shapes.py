"""A call that returns (or takes) several tensors shows every shape, in
torchinfo's nested-list style, shortened with ``...`` past the column width;
JSON keeps them all."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.formatting import shapes_text


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
