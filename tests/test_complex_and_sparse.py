"""Complex tensors are counted in real multiply-accumulates; sparse tensors by
what they store and the products of their non-zeros."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from summaryplus import summary, training_flops
from summaryplus.formulas import COMPLEX_NOTE, complex_factor


class SpectralConv(nn.Module):
    """A Fourier neural operator layer: complex weights on the lowest modes."""

    def __init__(self, channels: int = 12, modes: int = 7) -> None:
        super().__init__()
        self.modes = modes
        self.weight = nn.Parameter(
            torch.randn(channels, channels, modes, dtype=torch.cfloat) / channels**2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(
            x.shape[0], self.weight.shape[1], x.shape[-1] // 2 + 1, dtype=torch.cfloat
        )
        out_ft[..., : self.modes] = torch.einsum(
            "bix,iox->box", x_ft[..., : self.modes], self.weight
        )
        return torch.fft.irfft(out_ft, n=x.shape[-1])


def test_complex_products_count_real_multiply_accumulates() -> None:
    result = summary(SpectralConv(), input_size=(1, 12, 32), verbose=0)
    # 1 batch * 12 in * 12 out * 7 modes = 1,008 complex MACs; each is 4 real
    # ones ((a+bi)(c+di): ac, bd, ad, bc): 4,032
    assert result.total_mult_adds == 4_032
    assert result.notes == (COMPLEX_NOTE,)
    assert f"Note: {COMPLEX_NOTE}" in str(result)


@pytest.mark.filterwarnings("ignore:Complex modules are a new feature")
def test_complex_backward_counts_real_multiply_accumulates_too() -> None:
    layer = nn.Linear(8, 4, bias=False).to(torch.cfloat)
    step = training_flops(layer, input_data=[torch.randn(2, 8, dtype=torch.cfloat)])
    # forward 2 * 8 * 4 = 64 complex MACs = 256 real; backward: the weight
    # gradient only (the input needs none), 64 complex = 256 real
    assert (step.forward_macs, step.backward_macs) == (256, 256)


def test_real_products_carry_no_complex_note() -> None:
    result = summary(nn.Linear(8, 4), input_size=(2, 8), verbose=0)
    assert result.notes == () and "Note:" not in str(result)


def test_complex_factor_by_operands() -> None:
    z = torch.ones(2, 2, dtype=torch.cfloat)
    r = torch.ones(2, 2)
    assert complex_factor((z, z), z) == 4  # complex x complex
    assert complex_factor((z, r), z) == 2  # complex x real
    assert complex_factor((r, r), r) == 1
