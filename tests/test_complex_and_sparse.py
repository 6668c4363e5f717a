"""Complex tensors are counted in real multiply-accumulates; sparse tensors by
what they store and the products of their non-zeros."""

from __future__ import annotations

import json

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


def _ring_adjacency() -> torch.Tensor:
    """10 nodes, 12 edges: a ring and two chords."""
    rows = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    cols = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 5, 6])
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.ones(12), (10, 10)).coalesce()


class GraphConv(nn.Module):
    """A GCN layer: ``A (X W)`` with a sparse adjacency ``A``."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(16, 8, bias=False)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(adjacency, self.lin(x))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("layout", "stored"),
    [("coo", 12), ("csr", 12), ("csc", 12), ("bsr", 48)],
)
def test_sparse_products_count_the_stored_elements(layout: str, stored: int) -> None:
    adjacency = _ring_adjacency()
    adjacency = {
        "coo": adjacency,
        "csr": adjacency.to_sparse_csr(),
        "csc": adjacency.to_sparse_csc(),
        # 2 x 2 blocks: the 12 edges fall in 12 blocks of 4 stored values
        "bsr": adjacency.to_sparse_bsr((2, 2)),
    }[layout]
    result = summary(GraphConv(), input_data=[torch.rand(10, 16), adjacency], verbose=0)
    # dense part X W: 10 * 16 * 8 = 1,280; sparse part: stored * 8
    # (COO: 1,280 + 12 * 8 = 1,376, where the dense count was 1,280 + 100 * 8 = 2,080)
    assert result.total_mult_adds == 1_280 + stored * 8
    assert not result.uncounted_ops


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_sparse_inputs_take_the_bytes_they_store() -> None:
    adjacency = _ring_adjacency()
    x = torch.rand(10, 16)
    coo = summary(GraphConv(), input_data=[x, adjacency], verbose=0)
    # x: 10 * 16 * 4 = 640; COO: [2, 12] int64 indices (192) + 12 float32 values (48)
    assert coo.total_input == 640 + 192 + 48
    csr = summary(GraphConv(), input_data=[x, adjacency.to_sparse_csr()], verbose=0)
    # CSR: 11 row pointers (88) + 12 column indices (96) + 12 values (48)
    assert csr.total_input == 640 + 88 + 96 + 48


class SparseWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        weight = torch.zeros(100, 100)
        weight[torch.arange(60), torch.arange(60)] = 1.0
        self.weight = nn.Parameter(weight.to_sparse())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(self.weight, x)


def test_sparse_parameters_count_their_stored_values() -> None:
    result = summary(SparseWeight(), input_size=(100, 4), verbose=0)
    # 60 stored values; bytes: 60 * 4 values + [2, 60] int64 indices = 240 + 960
    assert result.total_params == 60
    assert result.total_param_bytes == 1_200
    assert result.total_mult_adds == 60 * 4  # nnz * columns of x


def test_sparse_on_meta_is_counted_dense_and_says_so() -> None:
    from summaryplus.formulas import SPARSE_WITHOUT_DATA

    result = summary(SparseWeight(), input_size=(100, 4), device="meta", verbose=0)
    assert result.total_mult_adds == 100 * 100 * 4  # no non-zeros known: dense
    assert SPARSE_WITHOUT_DATA in result.assumptions


class Propagate(nn.Module):
    def forward(self, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(adjacency, x)


def test_sparse_shapes_show_their_layout_and_non_zeros() -> None:
    weight = torch.zeros(100, 100)
    weight[torch.arange(60), torch.arange(60)] = 1.0
    result = summary(
        Propagate(),
        input_data=[weight.to_sparse(), torch.rand(100, 4)],
        verbose=0,
        col_names=["input_size", "output_size", "mult_adds"],
    )
    row = result.summary_list[0]
    assert str(row.input_size) == "[100, 100] sparse_coo nnz=60"
    assert list(row.input_size) == [100, 100]  # still the list of sizes
    assert "[100, 100] sparse_coo nnz=60" in str(result)
    assert result.total_mult_adds == 60 * 4
    assert not result.uncounted_ops  # reading nnz is metadata, not an uncounted op
    # JSON keeps the sizes (a list of ints), as for any shape
    assert json.loads(result.to_json())["layers"][0]["input_size"] == [100, 100]


def test_a_sparse_first_factor_of_mm_counts_its_non_zeros() -> None:
    # mm's schema is (self, mat2): self is a factor there, not a bias as in addmm.
    class Product(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return torch.mm(a, b)

    a = torch.eye(6).to_sparse()  # 6 stored of 36
    result = summary(Product(), input_data=[a, torch.rand(6, 5)], verbose=0)
    # dense 6 * 6 * 5 = 180 MACs; stored: 6 non-zeros x 5 columns = 30
    assert result.total_mult_adds == 6 * 5
