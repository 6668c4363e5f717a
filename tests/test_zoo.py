"""The odd-model zoo: every model summarized in every mode, checked for exact
rows and totals, and fingerprinted to prove the summary left it untouched."""

from __future__ import annotations

import warnings
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.utils.prune as prune
from fingerprint import assert_same, fingerprint
from models import RecursiveNet, TiedNet
from torch import nn
from torch.nn.utils import parametrizations

from summaryplus import ModelStatistics, summary
from summaryplus.examples import deep_chain
from summaryplus.formatting import visible_rows


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x)))  # type: ignore[no-any-return]


SMALL_MACS = 2 * 4 * 4 + 2 * 4 * 2  # input (2, 4)


class Containers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.heads = nn.ModuleDict({"x": nn.Linear(4, 3), "unused": nn.Linear(4, 9)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.heads["x"](x)  # type: ignore[no-any-return]


class PackedGRU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)
        return self.gru(packed)[1]  # type: ignore[no-any-return]


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]  # type: ignore[no-any-return]


def _encoder() -> nn.Module:
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)


def _weight_norm() -> nn.Module:
    model = Small()
    parametrizations.weight_norm(model.a)
    return model


def _pruned() -> nn.Module:
    model = Small()
    prune.l1_unstructured(model.a, "weight", amount=0.5)
    return model


def _quantized() -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(Small(), {nn.Linear}, dtype=torch.qint8)


class Holder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.plist = nn.ParameterList([nn.Parameter(torch.ones(4)) for _ in range(2)])
        self.pdict = nn.ParameterDict({"scale": nn.Parameter(torch.ones(4))})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.plist[0] + self.plist[1] * self.pdict["scale"]


Pair = namedtuple("Pair", "logits hidden")


@dataclass
class Output:
    logits: torch.Tensor
    note: str


class Returns(nn.Module):
    """Returns a dict, namedtuple, dataclass, distribution, None or str."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> Any:
        y = self.fc(x)
        return {
            "dict": lambda: {"logits": y, "n": 3},
            "namedtuple": lambda: Pair(y, x),
            "dataclass": lambda: Output(y, "ok"),
            "distribution": lambda: torch.distributions.Normal(y, 1.0),
            "none": lambda: None,
            "str": lambda: "done",
        }[self.kind]()


class Scalar(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Embedding(10, 3)

    def forward(self, index: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.table(index) * scale


def _gpt2() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100)
    )


ZOO: dict[str, tuple[Callable[[], nn.Module], dict[str, Any], int, int]] = {
    # name: (build, summary kwargs, expected params, expected MACs)
    "shared_module_and_tied_weight": (TiedNet, {"input_size": (2, 5), "dtypes": [torch.long]},
                                      795, 2 * 5 * (2 * 144 + 12 * 50)),
    "recursion": (RecursiveNet, {"input_size": (2, 16)}, 340, 3 * 2 * 256 + 2 * 64),
    "containers_never_called": (Containers, {"input_size": (2, 4)},
                                2 * 20 + 15 + 45, 2 * (2 * 16 + 12)),
    "packed_gru": (PackedGRU, {"input_data": [torch.randn(3, 5, 4), torch.tensor([5, 2, 3])]},
                   3 * 6 * 4 + 3 * 6 * 6 + 2 * 18, 10 * (72 + 108)),
    "multihead_attention": (Attention, {"input_size": (2, 3, 8)},
                            4 * 64 + 4 * 8, 6 * 3 * 64 + 2 * 2 * 9 * 8 + 6 * 64),
    "transformer_encoder": (_encoder, {"input_size": (2, 3, 8)},
                            2 * (4 * 72 + 8 * 16 + 16 + 16 * 8 + 8 + 4 * 8),
                            2 * (6 * 256 + 2 * 2 * 9 * 8 + 2 * 6 * 8 * 16)),
    "jit_script": (lambda: torch.jit.script(Small()), {"input_size": (2, 4)}, 30, SMALL_MACS),
    "torch_compile": (lambda: torch.compile(Small(), backend="eager"), {"input_size": (2, 4)},
                      30, SMALL_MACS),
    "data_parallel": (lambda: nn.DataParallel(Small()), {"input_size": (2, 4)}, 30, SMALL_MACS),
    "weight_norm": (_weight_norm, {"input_size": (2, 4)}, 4 + 16 + 4 + 10, SMALL_MACS),
    # a.weight: 16 stored, 8 masked out by the pruning mask
    "pruned": (_pruned, {"input_size": (2, 4)}, 30 - 8, SMALL_MACS),
    "dynamic_quantized": (_quantized, {"input_size": (2, 4)}, 30, SMALL_MACS),
    "lazy": (lambda: nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 2)),
             {"input_size": (2, 4)}, 30, SMALL_MACS),
    "parameter_list_and_dict": (Holder, {"input_size": (2, 4)}, 12, 0),
    "zero_dim_and_integer_inputs": (Scalar, {"input_data": [torch.tensor(3), torch.tensor(2.0)]},
                                    30, 0),
    "transformers_model_output_with_cache": (_gpt2, {"input_size": (1, 8),
                                                     "dtypes": [torch.long], "use_cache": True},
                                             None, None),
    **{
        f"returns_{kind}": (lambda kind=kind: Returns(kind), {"input_size": (2, 4)}, 10, 16)
        for kind in ("dict", "namedtuple", "dataclass", "distribution", "none", "str")
    },
}
NO_META = {"jit_script", "torch_compile", "dynamic_quantized", "lazy", "packed_gru"}


def _check(stats: ModelStatistics, model: nn.Module, params: int | None, macs: int | None) -> None:
    if params is None:  # model.parameters() yields each tensor once
        params = sum(p.numel() for p in model.parameters())
    assert stats.total_params == params
    if macs is not None:
        assert stats.total_mult_adds == macs
    assert stats.uncounted_ops == {}
    shown = sum(
        row.subtree_params if (deepest or row.is_leaf_layer) else row.counted_params
        for row, deepest in visible_rows(stats)
        if not row.is_recursive
    )
    assert shown == stats.total_params
    str(stats)  # renders


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("mode", ["eval", "train", "same"])
def test_zoo_model(name: str, mode: str) -> None:
    build, kwargs, params, macs = ZOO[name]
    torch.manual_seed(0)
    model = build()
    before = fingerprint(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summary(model, mode=mode, verbose=0, **kwargs)
    assert_same(before, fingerprint(model))
    _check(stats, model, params, macs)
    assert stats.summary_list[0].executed


@pytest.mark.parametrize("name", sorted(set(ZOO) - NO_META))
def test_zoo_model_on_fake_tensors(name: str) -> None:
    build, kwargs, _, _ = ZOO[name]
    torch.manual_seed(0)
    model = build()
    before = fingerprint(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summary(model, device="meta", mode="train", verbose=0, **kwargs)
        real = summary(model, mode="train", verbose=0, **kwargs)
    assert_same(before, fingerprint(model))
    assert stats.total_mult_adds == real.total_mult_adds
    assert stats.total_params == real.total_params


def test_zoo_rows() -> None:
    rows = lambda stats: [(r.class_name, r.depth, r.is_recursive) for r in stats.summary_list]  # noqa: E731
    containers = summary(Containers(), input_size=(2, 4), verbose=0)
    assert rows(containers) == [
        ("Containers", 0, False), ("ModuleList", 1, False), ("Linear", 2, False),
        ("Linear", 2, False), ("ModuleDict", 1, False), ("Linear", 2, False),
    ]
    # the never-called head is accounted by the container row that holds it
    assert containers.summary_list[4].counted_params == 45
    recursive = summary(RecursiveNet(), input_size=(2, 16), verbose=0)
    assert [r.is_recursive for r in recursive.summary_list] == [False, False, True, True, False]
    scripted = summary(torch.jit.script(Small()), input_size=(2, 4), verbose=0)
    assert rows(scripted)[0] == ("Small", 0, False)
    assert scripted.summary_list[0].output_size == [2, 2]
    wrapped = summary(nn.DataParallel(Small()), input_size=(2, 4), verbose=0)
    assert [(r.class_name, r.module_path) for r in wrapped.summary_list] == [
        ("Small", ""), ("Linear", "a"), ("Linear", "b"),
    ]  # the wrapper is transparent
    lazy = nn.Sequential(nn.LazyLinear(4))
    summary(lazy, input_size=(2, 4), verbose=0)
    assert lazy[0].has_uninitialized_params()  # a copy was summarized


def test_deeply_nested_model_runs_at_the_default_recursion_limit() -> None:
    import sys

    model = deep_chain(300)
    limit = sys.getrecursionlimit()
    stats = summary(model, input_size=(1, 4), depth=400, verbose=0)
    assert sys.getrecursionlimit() == limit
    assert stats.total_params == 300 * 20
    assert stats.summary_list[-1].depth == 300  # the innermost Linear
    assert stats.total_mult_adds == 300 * 16
