"""MACs of the op families beyond dense layers: grouped GEMMs (mixture of
experts), quantized and weight-packed kernels, composite ops inside
``torch.inference_mode()``, and how uncounted ops are named."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.ao.nn.quantized as nnq
import torch.nn.functional as F
from torch import nn

from summaryplus import summary
from summaryplus.formulas.grouped import grouped_mm_shape_macs


def stats_on(model: nn.Module, device: str | None = None, **kwargs: Any) -> Any:
    stats = summary(model, verbose=0, device=device, **kwargs)
    assert stats.uncounted_ops == {}
    return stats


# ------------------------------------------------------------- grouped GEMM
def test_grouped_mm_formula_for_every_layout() -> None:
    # 2-d x 3-d, tokens sorted by expert: 16 tokens * 8 in * 16 out
    assert grouped_mm_shape_macs((16, 8), (3, 8, 16), (16, 16)) == 2048
    # 3-d x 2-d, N split in groups: 4 rows * 8 in * 16 outputs in all
    assert grouped_mm_shape_macs((3, 4, 8), (8, 16), (4, 16)) == 512
    # 2-d x 2-d, K split in groups (out [3, 4, 8]): 4 * 16 (all of K) * 8
    assert grouped_mm_shape_macs((4, 16), (16, 8), (3, 4, 8)) == 512
    # 3-d x 3-d, batched: 3 groups * 4 * 8 * 16
    assert grouped_mm_shape_macs((3, 4, 8), (3, 8, 16), (3, 4, 16)) == 1536


class GroupedExperts(nn.Module):
    """A mixture-of-experts layer the way transformers 5 runs it: a router picks
    the top-k experts per token, tokens are sorted by expert, and one grouped
    GEMM per projection runs every expert at once."""

    def __init__(self, hidden: int = 16, inner: int = 32, experts: int = 4, top_k: int = 2):
        super().__init__()
        self.top_k, self.experts = top_k, experts
        self.router = nn.Linear(hidden, experts, bias=False)
        # Stored [experts, out, in], used transposed: column-major operands.
        self.up = nn.Parameter(torch.randn(experts, inner, hidden) / 4)
        self.down = nn.Parameter(torch.randn(experts, hidden, inner) / 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, x.shape[-1])
        weights, chosen = self.router(tokens).softmax(-1).topk(self.top_k, dim=-1)
        order = chosen.reshape(-1).argsort()
        # histc, not bincount: its output size does not depend on the values.
        per_expert = torch.histc(chosen.float(), bins=self.experts, min=0, max=self.experts - 1)
        offsets = per_expert.cumsum(0).to(torch.int32)
        routed = tokens.repeat_interleave(self.top_k, dim=0)[order]
        hidden = F.silu(torch._grouped_mm(routed, self.up.transpose(1, 2), offsets))
        out = torch._grouped_mm(hidden, self.down.transpose(1, 2), offsets)
        mixed = torch.zeros_like(routed).index_copy(0, order, out)
        return (mixed.view(-1, self.top_k, x.shape[-1]) * weights[..., None]).sum(1).view_as(x)


# 2 * 8 = 16 tokens: router 16 * 16 * 4; each token reaches 2 experts, each
# doing 16 -> 32 -> 16: 16 * 2 * (16 * 32 + 32 * 16)
GROUPED_EXPERTS_MACS = 16 * 16 * 4 + 16 * 2 * (16 * 32 + 32 * 16)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_grouped_gemm_experts_count_the_same_on_cpu_fake_and_meta(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = GroupedExperts().to(dtype)
    x = torch.randn(2, 8, 16, dtype=dtype)
    cpu = stats_on(model, input_data=[x])
    fake = stats_on(model, device="meta", input_data=[x])
    with torch.device("meta"):
        meta_model = GroupedExperts().to(dtype)
    meta = stats_on(meta_model, input_size=(2, 8, 16), dtypes=[dtype])
    assert cpu.total_mult_adds == fake.total_mult_adds == meta.total_mult_adds
    assert cpu.total_mult_adds == GROUPED_EXPERTS_MACS


def test_grouped_mm_meta_stand_in_matches_the_real_kernel_shapes() -> None:
    # On meta, fp32 grouped GEMMs are built from shapes (torch's meta kernel takes
    # bf16 only): the output must match the CPU kernel's in every layout.
    from summaryplus.capture.fallbacks import runner

    op = torch.ops.aten._grouped_mm.default
    build = runner(op, op)
    offs = torch.tensor([4, 8, 16], dtype=torch.int32)
    layouts = [
        (torch.randn(16, 8), torch.randn(3, 16, 8).transpose(1, 2), offs),
        (torch.randn(3, 4, 8), torch.randn(16, 8).t(), offs),
        (torch.randn(4, 16), torch.randn(8, 16).t(), offs),
        (torch.randn(3, 4, 8), torch.randn(3, 16, 8).transpose(1, 2), None),
    ]
    for a, b, groups in layouts:
        real = op(a, b, groups)
        stand_in = build(a.to("meta"), b.to("meta"), None if groups is None else groups.to("meta"))
        assert stand_in.shape == real.shape and stand_in.dtype == real.dtype


# ---------------------------------------------------- quantized and packed
class WeightOnlyInt8(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.randint(-128, 127, (64, 32), dtype=torch.int8))
        self.register_buffer("scales", torch.rand(64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int8pack_mm(x, self.weight, self.scales)


class WeightOnlyInt4(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        unpacked = torch.randint(0, 16, (64, 32), dtype=torch.int32)
        self.register_buffer("weight", torch._convert_weight_to_int4pack_for_cpu(unpacked, 2))
        self.register_buffer("scales_and_zeros", torch.rand(1, 64, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int4pack_mm_for_cpu(
            x, self.weight, 32, self.scales_and_zeros
        )


class IntMM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.ones(32, 24, dtype=torch.int8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch._int_mm(x, self.weight)


class Quantized(nn.Module):
    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = torch.quantize_per_tensor(x, 0.1, 0, torch.quint8)
        return self.layer(q).dequantize()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("model", "inputs", "expected"),
    [
        # x (4, 32) @ W^T (32, 64): 4 * 32 * 64, the float linear it replaces
        (WeightOnlyInt8(), {"input_size": (4, 32)}, 4 * 32 * 64),
        (WeightOnlyInt4(), {"input_size": (4, 32)}, 4 * 32 * 64),
        # int8 (17, 32) @ (32, 24): 17 * 32 * 24
        (IntMM(), {"input_data": [torch.ones(17, 32, dtype=torch.int8)]}, 17 * 32 * 24),
        # 2 images * 8x8 outputs * (8 out * 3 in * 3 * 3)
        (Quantized(nnq.Conv2d(3, 8, 3)), {"input_size": (2, 3, 10, 10)}, 2 * 64 * 8 * 3 * 9),
        # transposed: per input position, 2 * 10x10 * (3 in * 8 out * 3 * 3)
        (Quantized(nnq.ConvTranspose2d(3, 8, 3)), {"input_size": (2, 3, 10, 10)}, 2 * 100 * 216),
        (Quantized(nnq.Linear(32, 16)), {"input_size": (4, 32)}, 4 * 32 * 16),
    ],
    ids=["int8-weight-only", "int4-weight-only", "int_mm", "qconv2d", "qconv_transpose2d",
         "qlinear"],
)
def test_quantized_kernels_count_the_float_op_they_replace(
    model: nn.Module, inputs: dict[str, Any], expected: int
) -> None:
    assert stats_on(model, **inputs).total_mult_adds == expected


class Mystery(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.summaryplus_test.mystery(x)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def mystery_op() -> Any:
    library = torch.library.Library("summaryplus_test", "DEF")
    library.define("mystery(Tensor x) -> Tensor")
    library.impl("mystery", lambda x: x * 2, "CompositeExplicitAutograd")
    yield library
    library._destroy()


def test_uncounted_ops_of_other_namespaces_keep_their_namespace(mystery_op: Any) -> None:
    stats = summary(Mystery(), input_size=(2, 3), verbose=0)
    assert stats.uncounted_ops == {"summaryplus_test::mystery": 1}
    assert "summaryplus_test::mystery x1" in str(stats)


def test_rows_whose_subtree_ran_uncounted_ops_are_marked(mystery_op: Any) -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(Mystery(), nn.Linear(3, 2)))
    stats = summary(model, input_size=(2, 3), col_names=["mult_adds"], verbose=0)
    marked = {row.module_path: row.macs_partial for row in stats.summary_list}
    assert marked == {"": True, "0": False, "1": True, "1.0": True, "1.1": False}
    lines = {line.split()[0]: line for line in str(stats).splitlines() if line[:1] in "S├│"}
    assert lines["Sequential"].endswith("30*")  # 2*3*3 + 2*3*2, a lower bound
    assert "Mult-adds are partial (rows marked *)" in str(stats)


def test_elementwise_ops_without_the_pointwise_tag_are_free() -> None:
    class Routing(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.floor_divide(x, 2) + torch.isin(x, torch.tensor([1.0])).float()

    assert stats_on(Routing(), input_size=(4, 8)).total_mult_adds == 0


# ----------------------------------------------------------- inference mode
class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).view(2, 8, 3, 2, 8).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class Composite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x).flatten(2)  # (2, 4, 36)
        return torch.einsum("bcn,bdn->bcd", y, y) + torch.matmul(y, y.transpose(1, 2))


@pytest.mark.parametrize(
    ("model", "shape", "expected"),
    [
        # qkv 2*8 * 16*48, attention 2 batch * 2 heads * 8 * 8 * (8 + 8)
        (Attention(), (2, 8, 16), 2 * 8 * 16 * 48 + 2 * 2 * 8 * 8 * 16),
        # conv 2 * 36 * (4*3*9); einsum and matmul each 2 * 4 * 36 * 4
        (Composite(), (2, 3, 8, 8), 2 * 36 * 108 + 2 * (2 * 4 * 36 * 4)),
    ],
    ids=["sdpa", "conv-einsum-matmul"],
)
def test_inference_mode_counts_what_grad_mode_counts(
    model: nn.Module, shape: tuple[int, ...], expected: int
) -> None:
    assert stats_on(model, input_size=shape).total_mult_adds == expected
    with torch.inference_mode():
        assert stats_on(model, input_size=shape).total_mult_adds == expected
        assert stats_on(model, input_size=shape, device="meta").total_mult_adds == expected


@pytest.mark.parametrize("mode", ["train", "same"])
def test_train_mode_inside_inference_mode_is_refused(mode: str) -> None:
    model = nn.Linear(4, 2).train()
    with torch.inference_mode(), pytest.raises(ValueError, match="inference_mode"):
        summary(model, input_size=(2, 4), mode=mode, verbose=0)
    assert model.training


# ----------------------------------------------------------- nested tensors
class Projection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("layout", "ragged"),
    [(torch.strided, "ragged"), (torch.jagged, "j")],
    ids=["strided", "jagged"],
)
def test_nested_tensor_inputs_count_the_real_tokens(layout: torch.layout, ragged: str) -> None:
    nested = torch.nested.nested_tensor([torch.randn(3, 8), torch.randn(5, 8)], layout=layout)
    stats = stats_on(Projection(), input_data=[nested])
    # 3 + 5 real tokens * 8 in * 4 out; no padding counted
    assert stats.total_mult_adds == 8 * 8 * 4
    batch, middle, features = stats.summary_list[1].output_size
    assert (batch, features) == (2, 4) and str(middle).startswith(ragged)
    assert f"[2, {middle}, 4]" in str(stats)
    with pytest.raises(ValueError, match="nested tensor"):
        summary(Projection(), input_data=[nested], device="meta", verbose=0)


def test_a_nested_tensors_metadata_reads_leave_torchs_mode_stack_as_found() -> None:
    # numel on a jagged tensor was decomposed, and its composite kernel
    # dispatched numel again, through the counter, until the recursion limit;
    # the RecursionError was swallowed as "no data pointer", and on torch 2.14
    # two counters stayed on torch's dispatch mode stack, counting (with their
    # old formulas) every op of every later summary.
    from summaryplus.formulas import is_zero_mac

    for op in (torch.ops.aten.numel, torch.ops.aten.size, torch.ops.aten.stride,
               torch.ops.aten.dim, torch.ops.aten.storage_offset):
        assert is_zero_mac(op.default), op
    nested = torch.nested.nested_tensor([torch.randn(3, 8), torch.randn(5, 8)], layout=torch.jagged)
    depth = torch._C._len_torch_dispatch_stack()
    stats = stats_on(Projection(), input_data=[nested])
    assert torch._C._len_torch_dispatch_stack() == depth
    assert stats.uncounted_ops == {}
    assert stats.total_mult_adds == 8 * 8 * 4  # 3 + 5 tokens * 8 in * 4 out


def test_a_recursion_error_is_never_taken_for_a_tensor_without_data() -> None:
    from summaryplus._tensors import data_pointer

    class Recursing(torch.Tensor):
        def data_ptr(self) -> int:
            raise RecursionError("maximum recursion depth exceeded")

    with pytest.raises(RecursionError):
        data_pointer(torch.zeros(2).as_subclass(Recursing))


def test_transformer_encoder_fast_path_with_padding_mask() -> None:
    # In eval mode with a padding mask the encoder packs the batch into a nested
    # tensor and runs its fused kernel on the real tokens only: 2 and 3 of them.
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1, enable_nested_tensor=True
    ).eval()
    mask = torch.tensor([[False, False, True, True], [False, False, False, True]])
    stats = stats_on(encoder, input_data=[torch.randn(2, 4, 8)], src_key_padding_mask=mask)

    def per_sequence(tokens: int) -> int:
        # q, k, v and out projections 4 * L * 8 * 8; scores and mix 2 * L * L * 8;
        # feed-forward 2 * L * 8 * 16
        return 4 * tokens * 64 + 2 * tokens * tokens * 8 + 2 * tokens * 8 * 16

    assert stats.total_mult_adds == per_sequence(2) + per_sequence(3)


def test_failure_inside_torchs_fake_support_is_not_blamed_on_the_model() -> None:
    from summaryplus import SummaryError

    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1, enable_nested_tensor=True
    ).eval()
    mask = torch.tensor([[False, False, True, True], [False, False, False, True]])
    with pytest.raises(SummaryError, match="fake/meta tensor support"):
        summary(encoder, input_data=[torch.randn(2, 4, 8)], src_key_padding_mask=mask,
                device="meta", verbose=0)


def test_an_error_in_summaryplus_own_code_names_summaryplus_and_the_op(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from summaryplus import SummaryError
    from summaryplus.formulas import registry

    def broken(*args: Any, **kwargs: Any) -> int:
        raise ZeroDivisionError("a bug")

    with monkeypatch.context() as patch:
        patch.setitem(registry._REGISTRY, torch.ops.aten.mm, broken)
        with pytest.raises(SummaryError, match=r"summaryplus failed .*could not count the MACs"):
            summary(nn.Linear(4, 2, bias=False), input_size=(3, 4), verbose=0)
    # The broken formula put back, the next summary counts with the real one
    # (it once outlived the test through a per-op cache): 3 * 4 * 2 = 24.
    assert summary(nn.Linear(4, 2, bias=False), input_size=(3, 4), verbose=0).total_mult_adds == 24


@pytest.mark.parametrize("cache_forward_pass", [False, True])
@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_a_formula_replaced_and_put_back_counts_at_once(
    monkeypatch: pytest.MonkeyPatch, cache_forward_pass: bool, device: str
) -> None:
    from summaryplus.formulas import registry, registry_version

    model = nn.Linear(4, 2, bias=False)

    def macs() -> int:
        return summary(
            model, input_size=(3, 4), device=device, cache_forward_pass=cache_forward_pass,
            verbose=0,
        ).total_mult_adds

    assert macs() == 24  # 3 * 4 * 2
    version = registry_version()
    with monkeypatch.context() as patch:
        patch.setitem(registry._REGISTRY, torch.ops.aten.mm, lambda *args, **kwargs: 1000)
        assert registry_version() != version
        assert macs() == 1000  # the replacement, not a kept count
    assert macs() == 24  # the original again, the moment it is back
    # A formula added where there was none, then removed: counted, then not.
    with monkeypatch.context() as patch:
        patch.delitem(registry._REGISTRY, torch.ops.aten.mm)
        assert macs() == 0
    assert macs() == 24


def test_every_change_of_the_registry_changes_its_version() -> None:
    from summaryplus.formulas import registry, registry_version

    table = registry._REGISTRY
    mm = torch.ops.aten.mm
    original, every = table[mm], dict(table)
    seen = [registry_version()]

    def changed() -> bool:
        seen.append(registry_version())
        return seen[-1] != seen[-2]

    try:
        table[mm] = lambda *args, **kwargs: 1
        assert changed()
        del table[mm]
        assert changed()
        table.update({mm: original})
        assert changed()
        table.pop(mm)
        assert changed()
        table.setdefault(mm, original)
        assert changed()
        table.clear()
        assert changed()
    finally:
        table.update(every)
    assert dict(table) == every
    assert registry.formula_for(torch.ops.aten.mm.default) is original


@pytest.mark.parametrize(
    ("a", "b", "macs"),
    [
        ((5,), (5,), 5),  # dot: 5
        ((3, 5), (5,), 15),  # mv: 3 * 5
        ((5,), (5, 4), 20),  # vector @ matrix: 5 * 4
        ((2, 3, 5), (5, 4), 120),  # 2 * 3 * 5 * 4
        ((1, 2, 3, 5), (4, 1, 5, 6), 720),  # broadcast batch 4 * 2: 8 * 3 * 5 * 6
        ((7,), (2, 7, 3), 42),  # 2 * 7 * 3
    ],
)
def test_matmul_formula_equals_its_decomposition(
    a: tuple[int, ...], b: tuple[int, ...], macs: int
) -> None:
    from summaryplus.formulas import count_macs, formula_for

    class MatMul(nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.matmul(x, y)

    x, y = torch.randn(a), torch.randn(b)
    # Eager forwards decompose matmul into mm/bmm/mv/dot; the whole op's
    # formula (exported graphs, inference mode) must give the same count.
    assert summary(MatMul(), input_data=[x, y], verbose=0).total_mult_adds == macs
    formula = formula_for(torch.ops.aten.matmul.default)
    assert formula is not None
    assert count_macs(formula, (x, y), {}, torch.matmul(x, y)) == macs
