"""Ops a module's own forward pre-hooks and forward hooks run belong to that
module's row (as FlopCounterMode and ModTracker count them)."""

from __future__ import annotations

import torch
from torch import nn

from summaryplus import summary


class _Hooked(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.w = nn.Parameter(torch.randn(16, 16))
        self.a.register_forward_pre_hook(lambda module, args: (args[0] @ self.w,))
        self.a.register_forward_hook(lambda module, args, out: out @ self.w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.a(x)
        return out


def test_pre_hook_and_hook_ops_belong_to_the_module() -> None:
    stats = summary(_Hooked(), input_size=(4, 16), verbose=0)
    rows = {row.module_path: row for row in stats.summary_list}
    # pre-hook 4 * 16 * 16 = 1,024 + the linear 1,024 + the hook 1,024 = 3,072
    assert rows["a"].own_macs == 3_072
    assert rows[""].own_macs == 0
    assert stats.total_mult_adds == 3_072


def test_spectral_norm_power_iteration_is_the_layers() -> None:
    model = nn.Sequential(nn.utils.spectral_norm(nn.Linear(32, 64)))
    stats = summary(model, input_size=(2, 32), mode="train", verbose=0)
    rows = {row.module_path: row for row in stats.summary_list}
    # linear 2 * 32 * 64 = 4,096; power iteration: W^T u 64 * 32 = 2,048 and
    # W v 2,048; sigma = u . (W v): mv 2,048 + dot 64: 10,304 in all
    assert rows["0"].own_macs == 10_304
    assert rows[""].own_macs == 0


def test_inputs_are_those_the_pre_hooks_hand_the_forward() -> None:
    class Sliced(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(16, 16)
            self.a.register_forward_pre_hook(lambda module, args: (args[0][:, :16],))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.a(x)
            return out

    stats = summary(Sliced(), input_size=(4, 32), verbose=0)
    assert stats.summary_list[1].input_size == [4, 16]  # as torchinfo shows it
