"""Findings: each rule fires on its case, with the numbers, and stays silent on
clean models (GPT-2, a ResNet-shaped CNN, the built-in examples)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.examples import SmallCNN, TinyGPT, deep_chain
from summaryplus.findings import RULES, Finding, find
from summaryplus.render.findings import findings_text

transformers = pytest.importorskip("transformers")


def rules_of(stats: Any) -> list[str]:
    return [finding.rule for finding in stats.findings()]


def only(stats: Any, rule: str) -> Finding:
    found = [finding for finding in stats.findings() if finding.rule == rule]
    assert len(found) == 1, stats.findings()
    return found[0]


# ----------------------------------------------------------------- clean models
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """ResNet-18's shape (11.7M params): stem, 4 stages of 2 blocks, pooled FC."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )
        widths, blocks, cin = (64, 128, 256, 512), [], 64
        for stage, width in enumerate(widths):
            for index in range(2):
                blocks.append(BasicBlock(cin, width, 2 if stage and not index else 1))
                cin = width
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))  # type: ignore[no-any-return]


def gpt2_small(**config: Any) -> nn.Module:
    with torch.device("meta"):
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(**config))


CLEAN = {
    "gpt2-eval": lambda: summary(gpt2_small(), input_size=(1, 128), dtypes=[torch.long],
                                 verbose=0),
    "gpt2-train": lambda: summary(gpt2_small(), input_size=(2, 128), dtypes=[torch.long],
                                  mode="train", verbose=0),
    "resnet18-train": lambda: summary(ResNet18(), input_size=(2, 3, 224, 224), device="meta",
                                      mode="train", verbose=0),
    "small-cnn": lambda: summary(SmallCNN(), input_size=(8, 3, 32, 32), mode="train",
                                 verbose=0),
    "tiny-gpt-train": lambda: summary(TinyGPT(), input_size=(2, 64), dtypes=[torch.long],
                                      mode="train", verbose=0),
    "tiny-gpt-bf16": lambda: summary(TinyGPT().to(torch.bfloat16), input_size=(2, 64),
                                     dtypes=[torch.long], mode="train", verbose=0),
    "deep-chain": lambda: summary(deep_chain(20, tied=True), input_size=(2, 4), mode="train",
                                  verbose=0),
}


@pytest.mark.parametrize("name", CLEAN)
def test_clean_models_have_no_findings(name: str) -> None:
    stats = CLEAN[name]()
    assert stats.findings() == []
    assert stats.to_dict()["findings"] == []


# ---------------------------------------------------------- unused parameters
class TwoHeads(nn.Module):
    def __init__(self, use_b: bool = False) -> None:
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head_a = nn.Linear(8, 2)
        self.head_b = nn.Linear(8, 2)
        self.use_b = use_b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        if self.use_b:
            self.head_b(x)  # runs, but its output is thrown away: no gradient
        return self.head_a(x)  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_unused_parameters_are_named(mode: str) -> None:
    stats = summary(TwoHeads(), input_size=(2, 8), mode=mode, verbose=0)
    finding = only(stats, "unused-parameters")
    assert finding.severity == "error"
    assert finding.params == ("head_b.weight", "head_b.bias")
    assert finding.rows == ("head_b",)
    assert finding.evidence == {"tensors": 2, "params": 8 * 2 + 2}  # 18
    assert "find_unused_parameters=True" in finding.action


def test_parameters_without_gradient_in_train_mode() -> None:
    stats = summary(TwoHeads(use_b=True), input_size=(2, 8), mode="train", verbose=0)
    assert rules_of(stats) == ["no-gradient"]
    assert only(stats, "no-gradient").params == ("head_b.weight", "head_b.bias")
    # In eval mode nothing says which parameters get gradients: no finding.
    assert summary(TwoHeads(use_b=True), input_size=(2, 8), verbose=0).findings() == []


def _ddp_rejects(model: nn.Module) -> tuple[str, ...]:
    """The parameters DistributedDataParallel (gloo, world size 1) names as having
    no gradient: it raises on the second step, naming their indices."""
    import re
    import socket

    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch.distributed missing")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1
    )
    try:
        wrapped = nn.parallel.DistributedDataParallel(model)
        x = torch.ones(2, 8)
        wrapped(x).sum().backward()
        with pytest.raises(RuntimeError, match="did not receive grad") as raised:
            wrapped(x).sum().backward()
    finally:
        dist.destroy_process_group()
    found = re.search(r"did not receive grad for rank 0: ([\d ]+)", str(raised.value))
    assert found is not None
    names = [name for name, _ in model.named_parameters()]
    return tuple(names[int(index)] for index in found.group(1).split())


@pytest.mark.parametrize("use_b", [False, True])
def test_the_names_are_what_ddp_rejects(use_b: bool) -> None:
    stats = summary(TwoHeads(use_b), input_size=(2, 8), mode="train", verbose=0)
    (finding,) = stats.findings()
    assert finding.rule == ("no-gradient" if use_b else "unused-parameters")
    assert finding.params == _ddp_rejects(TwoHeads(use_b)) == ("head_b.weight", "head_b.bias")


def test_a_module_used_by_another_ones_code_is_not_unused() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(8, 8)
            self.head = nn.Linear(8, 8)  # never called, its weight used below

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.linear(self.proj(x), self.head.weight, self.head.bias)

    stats = summary(Shared(), input_size=(2, 8), mode="train", verbose=0)
    assert stats.findings() == []


# ---------------------------------------------------------------- tied weights
def test_config_says_tied_but_tensors_differ() -> None:
    model = gpt2_small(n_layer=1, n_embd=64, n_head=4, vocab_size=1000)
    model.lm_head.weight = nn.Parameter(torch.empty(1000, 64, device="meta"))
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
    finding = only(stats, "tied-weights")
    assert finding.severity == "warning"
    assert finding.rows == ("transformer.wte", "lm_head")
    assert finding.evidence["bytes_if_tied"] == 1000 * 64 * 4  # 256,000


def test_config_says_untied_but_tensors_are_one() -> None:
    model = gpt2_small(n_layer=1, n_embd=64, n_head=4, vocab_size=1000)
    model.config.tie_word_embeddings = False
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
    assert only(stats, "tied-weights").severity == "warning"


def test_untied_embedding_and_head_of_one_shape() -> None:
    class Untied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(1000, 64)
            self.head = nn.Linear(64, 1000, bias=False)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.head(self.embed(tokens))  # type: ignore[no-any-return]

    stats = summary(Untied(), input_size=(1, 16), dtypes=[torch.long], verbose=0)
    finding = only(stats, "tied-weights")
    assert finding.severity == "note"
    assert finding.evidence["bytes_saved_if_tied"] == 1000 * 64 * 4  # 256,000
    # TinyGPT ties them: nothing to say.
    assert summary(TinyGPT(), input_size=(1, 16), dtypes=[torch.long], verbose=0).findings() == []


# ------------------------------------------------------------- dtype leftovers
def test_fp32_leftovers_in_a_bf16_model() -> None:
    model = nn.Sequential(*(nn.Linear(1024, 1024) for _ in range(4))).to(torch.bfloat16)
    model[3].float()
    stats = summary(model, input_data=[torch.ones(2, 1024, dtype=torch.bfloat16)],
                    device="meta", verbose=0)
    finding = only(stats, "dtype-leftovers")
    assert finding.params == ("3.weight", "3.bias")
    assert finding.evidence["bytes"] == (1024 * 1024 + 1024) * 4  # 4,198,400
    assert finding.evidence["bytes_in_dtype"] == (1024 * 1024 + 1024) * 2
    model[3].to(torch.bfloat16)
    stats = summary(model, input_data=[torch.ones(2, 1024, dtype=torch.bfloat16)],
                    device="meta", verbose=0)
    assert stats.findings() == []


def test_mixed_dtypes_inside_one_matmul() -> None:
    model = nn.Sequential(nn.Linear(8, 8).to(torch.bfloat16))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        stats = summary(model, input_size=(2, 8), verbose=0)  # fp32 input, bf16 weight
    finding = only(stats, "mixed-dtype-matmul")
    assert finding.rows == ("0",)
    assert finding.evidence["layers"] == [{"row": "0", "input": "float32", "weight": "bfloat16"}]


# ------------------------------------------------------------- dominant layers
class FlatClassifier(nn.Module):
    """VGG's pattern: a small conv stack and a Linear over the flattened map."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
        )
        self.fc = nn.Linear(64 * 16 * 16, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.fc(self.features(x).flatten(1)))  # type: ignore[no-any-return]


def test_a_dominant_fully_connected_layer() -> None:
    stats = summary(FlatClassifier(), input_size=(1, 3, 16, 16), device="meta", verbose=0)
    finding = next(f for f in stats.findings() if f.evidence.get("measure") == "params")
    assert finding.rule == "dominant-layer" and finding.rows == ("fc",)
    fc = 64 * 16 * 16 * 256 + 256  # 4,194,560
    total = 3 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + fc + 256 * 10 + 10
    assert (finding.evidence["value"], finding.evidence["total"]) == (fc, total)
    assert finding.evidence["candidates"][0] == {
        "row": "fc", "params": fc, "param_bytes": fc * 4
    }
    assert "global average pooling" in finding.action
    # The rows alone say it: a loaded summary without saved findings finds it too.
    data = stats.to_dict()
    del data["findings"]
    loaded = load_summary(data).findings()
    assert next(f.rows for f in loaded if f.rule == "dominant-layer") == ("fc",)


# --------------------------------------------------- what a deployment carries
def test_frozen_parameters() -> None:
    model = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 8))
    model[0].requires_grad_(False)
    stats = summary(model, input_size=(1, 64), verbose=0)
    finding = only(stats, "frozen-parameters")
    assert finding.evidence["frozen_params"] == 64 * 64 + 64  # 4,160
    assert finding.evidence["frozen_bytes"] == 4160 * 4


class MaskedLayer(nn.Module):
    def __init__(self, length: int, persistent: bool) -> None:
        super().__init__()
        self.proj = nn.Linear(16, 16)
        self.register_buffer(
            "mask", torch.ones(length, length, dtype=torch.bool).tril(), persistent=persistent
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).masked_fill(~self.mask[: x.shape[1], : x.shape[1], None], 0)


@pytest.mark.parametrize("persistent", [True, False])
def test_a_mask_buffer_repeated_per_layer(persistent: bool) -> None:
    model = nn.Sequential(*(MaskedLayer(1024, persistent) for _ in range(4)))
    stats = summary(model, input_size=(1, 8, 16), verbose=0)
    finding = only(stats, "repeated-buffers")
    assert finding.params == ("0.mask", "1.mask", "2.mask", "3.mask")
    assert finding.evidence["bytes_each"] == 1024 * 1024  # bool: 1 B each
    assert finding.evidence["bytes"] == 4 * 1024 * 1024
    # Saved with every state_dict unless non-persistent: 4 MiB >= 1 MiB.
    assert ("large-buffers" in rules_of(stats)) is persistent


# ----------------------------------------------------- tensor-core alignment
def test_gpt2_vocabulary_in_bf16_is_not_aligned() -> None:
    model = gpt2_small(n_layer=1).to(torch.bfloat16)
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
    finding = only(stats, "tensor-core-alignment")
    # 50,257 = 8 * 6,282 + 1; padded to 64 * 786 = 50,304 (nanoGPT's vocabulary)
    assert finding.evidence == {"dim": 50257, "multiple": 8, "padded": 50304}
    assert finding.rows == ("lm_head",)


def test_fp8_wants_multiples_of_16() -> None:
    model = nn.Sequential(nn.Linear(8, 8))  # stand-in for the rule's arithmetic
    from summaryplus.findings.alignment import MULTIPLE

    assert MULTIPLE[torch.bfloat16] == 8 and MULTIPLE[torch.int8] == 16
    assert MULTIPLE.get(getattr(torch, "float8_e4m3fn", torch.int8)) == 16
    assert summary(model, input_size=(1, 8), verbose=0).findings() == []


# ------------------------------------------------------------ eager attention
def test_eager_attention_saves_probabilities() -> None:
    model = gpt2_small(n_layer=2, attn_implementation="eager")
    stats = summary(model, input_size=(2, 128), dtypes=[torch.long], mode="train", verbose=0)
    finding = only(stats, "eager-attention")
    assert finding.rows == ("transformer.h.0.attn", "transformer.h.1.attn")
    probabilities = 2 * 12 * 128 * 128  # B x H x T x T = 393,216
    # Per layer, three fp32 [B, H, T, T]: softmax's output, dropout's mask (a
    # float tensor on the CPU's path) and dropout's output (which p @ v saves).
    assert finding.evidence["bytes"] == 2 * probabilities * 3 * 4  # 9,437,184
    # Without dropout only the probabilities: 393,216 x 4 B = 1,572,864 per layer.
    model = gpt2_small(n_layer=2, attn_implementation="eager", attn_pdrop=0.0)
    stats = summary(model, input_size=(2, 128), dtypes=[torch.long], mode="train", verbose=0)
    assert only(stats, "eager-attention").evidence["bytes"] == 2 * probabilities * 4
    # The fused kernel (transformers' default, sdpa) is clean: see CLEAN.


# ---------------------------------------------------------- counts and sizes
def test_uncounted_ops() -> None:
    # (linalg has formulas; an FFT has none yet: aten._fft_r2c is uncounted)
    class Spectrum(nn.Module):
        def forward(self, a: torch.Tensor) -> torch.Tensor:
            return torch.fft.rfft(a @ a.mT).abs()

    stats = summary(Spectrum(), input_size=(2, 3, 3), verbose=0)
    assert stats.uncounted_ops
    finding = only(stats, "uncounted-ops")
    assert finding.evidence["ops"] == stats.uncounted_ops


def test_data_dependent_counts() -> None:
    from tests.test_moe import ListedExperts

    model = ListedExperts()
    model.gate.expert_capacity = 4
    stats = summary(model, input_size=(2, 5, 8), verbose=0)
    assert "data-dependent-counts" in rules_of(stats)
    # expert 2 got no tokens: DDP would reject its weight on this batch too
    assert only(stats, "unused-parameters").params == ("experts.2.weight",)


def test_an_8b_model_exceeds_one_gpu() -> None:
    config = transformers.LlamaConfig(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
    )
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    stats = summary(model, verbose=0)  # no forward: parameters only
    finding = only(stats, "exceeds-one-gpu")
    assert finding.evidence["bytes"] == 16 * stats.trainable_params
    assert finding.evidence["min_gpus"] == 2  # 128.5 GB over 80 GiB


# ------------------------------------------------- registry, JSON, text, CLI
def test_every_rule_has_a_test_and_docs() -> None:
    from pathlib import Path

    docs = (Path(__file__).parent.parent / "docs" / "findings.md").read_text()
    tests = Path(__file__).read_text()
    for name in RULES:
        assert f"`{name}`" in docs, name
        assert f'"{name}"' in tests, name


def test_findings_round_trip_through_json() -> None:
    stats = summary(TwoHeads(), input_size=(2, 8), verbose=0)
    data = json.loads(stats.to_json())
    assert data["findings"][0]["rule"] == "unused-parameters"
    loaded = load_summary(data)
    assert loaded.findings() == stats.findings()
    assert loaded.to_dict() == stats.to_dict()
    assert find(loaded, rules=["frozen-parameters"]) == []
    with pytest.raises(ValueError, match="unknown rule ids"):
        stats.findings(rules=["no-such-rule"])


def test_text_lines_are_capped() -> None:
    found = [Finding("uncounted-ops", "note", f"n{i}", "act") for i in range(7)]
    text = findings_text(found, limit=5)
    assert text.splitlines()[0] == "Findings: 7 notes"
    assert text.splitlines()[-1].startswith("  ... and 2 more")
    assert "-> act" in findings_text(found, limit=None)
    stats = summary(TwoHeads(), input_size=(2, 8), verbose=0)
    assert "-> DistributedDataParallel" in str(find(stats))


def test_cli_shows_findings_under_the_table(tmp_path: Any) -> None:
    from tests.test_cli import cli

    (tmp_path / "heads.py").write_text(
        "from torch import nn\n"
        "class TwoHeads(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a, self.head_b = nn.Linear(8, 2), nn.Linear(8, 2)\n"
        "    def forward(self, x):\n"
        "        return self.a(x)\n"
        "def make():\n"
        "    return TwoHeads()\n"
    )
    short = cli("heads.py:make", "--input-size", "2,8", cwd=tmp_path)
    assert short.code == 0, short.err
    tail = short.out.split("=" * 20)[-1].strip().splitlines()
    assert tail[-2:] == [
        "Findings: 1 error",
        "  [error] unused-parameters: 2 trainable parameter tensor(s) (18 params) belong "
        "to modules that never ran in the forward: head_b.weight, head_b.bias",
    ]
    full = cli("heads.py:make", "--input-size", "2,8", "--findings", cwd=tmp_path)
    assert "-> DistributedDataParallel fails on them" in full.out
    none = cli("heads.py:make", "--input-size", "2,8", "--no-findings", cwd=tmp_path)
    assert "Findings" not in none.out
    data = json.loads(cli("heads.py:make", "--input-size", "2,8", "--format", "json",
                          cwd=tmp_path).out)
    assert [f["rule"] for f in data["findings"]] == ["unused-parameters"]


def test_compare_says_which_model_has_which_finding() -> None:
    from summaryplus import compare

    table = compare({"plain": nn.Linear(8, 2), "two-heads": TwoHeads()}, input_size=(2, 8))
    assert table["plain"].findings == ()
    assert table["two-heads"].findings == (("unused-parameters", "error"),)
    assert "Findings: unused-parameters (error): 'two-heads'" in str(table)
    assert json.loads(table.to_json())["rows"][1]["findings"] == [["unused-parameters", "error"]]


def test_the_report_lists_findings_linked_to_their_rows() -> None:
    import re

    page = summary(TwoHeads(use_b=True), input_size=(2, 8), mode="train", verbose=0).to_html()
    anchor = re.search(r'<tr id="(sp[0-9a-f]+-\d+)"', page)
    assert anchor is not None  # the row of head_b
    assert f'<a href="#{anchor.group(1)}">head_b</a>' in page
    assert 'class="sp-findings"' in page and "<code>no-gradient</code>" in page
    clean = summary(TinyGPT(), input_size=(1, 8), dtypes=[torch.long], verbose=0).to_html()
    assert "sp-findings" not in clean.split("</style>")[-1]
