"""Every way of describing inputs reaches forward() as the user meant it."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import summaryplus
from summaryplus import summary


class Recorder(nn.Module):
    """Remembers what forward received."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)
        self.seen: list[Any] = []

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.seen.append((args, kwargs))
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        return self.linear(tensors[0].float())


def _received(**kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    model = Recorder()
    summary(model, verbose=0, **kwargs)
    assert len(model.seen) == 1
    return model.seen[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "input_size,shapes",
    [
        ((3, 4), [(3, 4)]),
        ([3, 4], [(3, 4)]),
        (torch.Size([3, 4]), [(3, 4)]),
        ([(3, 4), (3, 4)], [(3, 4), (3, 4)]),
        (((2, 4), (5, 4)), [(2, 4), (5, 4)]),
        ([[1, 4]], [(1, 4)]),
    ],
)
def test_input_size_forms(input_size: Any, shapes: list[tuple[int, ...]]) -> None:
    args, kwargs = _received(input_size=input_size)
    assert [tuple(a.shape) for a in args] == shapes
    assert kwargs == {}


def test_zero_dimensional_input() -> None:
    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(3))

        def forward(self, s: torch.Tensor) -> torch.Tensor:
            return self.w * s

    stats = summary(Scale(), input_data=torch.tensor(2.0), verbose=0)
    assert stats.summary_list[0].input_size == []
    assert stats.summary_list[0].output_size == [3]
    stats = summary(Scale(), input_size=[()], verbose=0)
    assert stats.summary_list[0].output_size == [3]


def test_batch_dim_inserts_a_batch_of_one() -> None:
    args, _ = _received(input_size=(4,), batch_dim=0)
    assert tuple(args[0].shape) == (1, 4)
    args, _ = _received(input_size=(5, 4), batch_dim=-2)
    assert tuple(args[0].shape) == (5, 1, 4)


def test_integer_inputs_are_valid_indices_not_zeros() -> None:
    class Embed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.Embedding(7, 3)
            self.seen: list[torch.Tensor] = []

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            self.seen.append(ids)
            return self.tokens(ids)

    model = Embed()
    summary(model, input_size=(4, 50), dtypes=[torch.long], verbose=0)
    ids = model.seen[0]
    assert ids.dtype == torch.long
    assert int(ids.min()) >= 0 and int(ids.max()) < 7
    assert len(torch.unique(ids)) > 1


def test_dict_input_data_becomes_keyword_arguments() -> None:
    x = torch.randn(2, 4)
    args, kwargs = _received(input_data={"x": x, "flag": True})
    assert args == () and kwargs["x"] is x and kwargs["flag"] is True


def test_list_input_data_keeps_non_tensors_untouched() -> None:
    x = torch.randn(2, 4)
    marker = object()
    args, _ = _received(input_data=[x, None, "text", 3, marker, [x, {"k": x}]])
    assert args[0] is x and args[1] is None and args[2] == "text" and args[3] == 3
    assert args[4] is marker
    assert args[5][0] is x and args[5][1]["k"] is x


def test_namedtuple_inputs() -> None:
    Pair = namedtuple("Pair", "a b")
    args, _ = _received(input_data=[torch.ones(1, 4), Pair(torch.ones(1, 4), 2)])
    assert isinstance(args[1], Pair) and args[1].b == 2


class ArrayIn(nn.Module):
    """A forward that insists on numpy arrays, as torchinfo lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.seen: list[Any] = []

    def forward(self, x: np.ndarray, extra: list[np.ndarray]) -> torch.Tensor:
        assert isinstance(x, np.ndarray) and isinstance(extra[0], np.ndarray)
        self.seen.append((x, extra))
        return self.linear(torch.from_numpy(x))


def test_ndarray_inputs_reach_the_forward_untouched() -> None:
    x, y = np.ones(3, dtype=np.float32), np.ones((2, 5), dtype=np.float64)
    model = ArrayIn()
    stats = summary(model, input_data=[x, [y]], verbose=0)
    (seen_x, seen_extra), = model.seen
    assert seen_x is x and seen_extra[0] is y
    assert stats.input_size == [torch.Size([3]), [torch.Size([2, 5])]]
    assert stats.summary_list[0].input_size == [3]
    assert stats.total_input == x.nbytes + y.nbytes == 12 + 80


@pytest.mark.parametrize("caught", [ValueError, RuntimeError, summaryplus.InputConflictError])
@pytest.mark.parametrize("function", [summary, summaryplus.training_flops])
def test_both_input_size_and_input_data(caught: type[Exception], function: Any) -> None:
    # torchinfo raises RuntimeError; every other bad argument is a ValueError.
    with pytest.raises(caught, match="only one of input_size and input_data"):
        function(Recorder(), input_size=(3, 4), input_data=torch.ones(3, 4))


def test_kwargs_are_forwarded() -> None:
    _, kwargs = _received(input_size=(2, 4), scale=3, mask=None)
    assert kwargs == {"scale": 3, "mask": None}


def test_dtypes_per_input() -> None:
    args, _ = _received(input_size=[(2, 4), (2, 4)], dtypes=[torch.float64, torch.int32])
    assert [a.dtype for a in args] == [torch.float64, torch.int32]


def test_legacy_tensor_types_stand_for_their_dtypes() -> None:
    types = [torch.FloatTensor, torch.LongTensor, torch.DoubleTensor, torch.cuda.HalfTensor]
    args, _ = _received(input_size=[(2, 4)] * 4, dtypes=types)
    assert [a.dtype for a in args] == [torch.float32, torch.int64, torch.float64, torch.float16]
    # A torch.cuda type gives the dtype only: the inputs stay where the model is.
    assert {a.device.type for a in args} == {"cpu"}


def test_input_creation_leaves_the_global_rng_alone() -> None:
    model = Recorder()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    summary(model, input_size=(2, 4), mode="train", verbose=0)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "kwargs,error,text",
    [
        ({"input_size": "3,4"}, TypeError, "input_size"),
        ({"input_size": (3, -4)}, ValueError, "negative"),
        ({"input_size": [(3, 4), 5]}, ValueError, "input_size"),
        ({"input_size": (3, 4), "input_data": torch.ones(3, 4)}, ValueError, "only one"),
        ({"input_size": (3, 4), "dtypes": [torch.float, torch.float, torch.float]},
         ValueError, "dtypes"),
        ({"input_size": (3, 4), "dtypes": ["float"]}, TypeError, "dtypes"),
        ({"input_size": (3, 4), "dtypes": [torch.Tensor]}, TypeError, "dtypes"),
        ({"input_size": (3, 4), "dtypes": [int]}, TypeError, "dtypes"),
        ({"input_size": (3, 4), "dtypes": torch.float32}, TypeError, "dtypes"),
        ({"input_size": (3, 4), "col_names": ["nope"]}, ValueError, "col_names"),
        ({"input_size": (3, 4), "row_settings": ["nope"]}, ValueError, "row_settings"),
        ({"input_size": (3, 4), "mode": "training"}, ValueError, "'train', 'eval', 'same'"),
        ({"input_size": (3, 4), "verbose": 3}, ValueError, "verbose"),
        ({"input_size": (3, 4), "col_width": 0}, ValueError, "col_width"),
        ({"input_size": (3, 4), "depth": -1}, ValueError, "depth"),
        ({"col_names": ["output_size"]}, ValueError, "need input_size"),
        ({"input_size": (3, 4), "device": "nonsense"}, ValueError, "device"),
        ({"input_size": (3, 4), "batch_dim": 5}, ValueError, "batch_dim"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        summary(Recorder(), **{"verbose": 0, **kwargs})


def test_not_a_module() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        summary(lambda x: x, input_size=(1,))  # type: ignore[arg-type]


def test_device_must_agree_with_the_model() -> None:
    model = Recorder()
    with pytest.raises(ValueError, match="never moves a model"):
        summary(model, input_size=(2, 4), device="cuda", verbose=0)
    assert next(model.parameters()).device.type == "cpu"
    with pytest.raises(ValueError, match=r"one device"):
        summary(model, input_data=torch.ones(2, 4, device="meta"), verbose=0)


def test_strings_and_enums_are_both_accepted() -> None:
    from summaryplus import ColumnSettings, Mode, RowSettings

    a = summary(Recorder(), input_size=(2, 4), col_names=[ColumnSettings.MULT_ADDS],
                row_settings=[RowSettings.VAR_NAMES], mode=Mode.EVAL, verbose=0)
    b = summary(Recorder(), input_size=(2, 4), col_names=["mult_adds"],
                row_settings=["var_names"], mode="eval", verbose=0)
    assert str(a) == str(b)
