"""How many multiply-accumulates does each tool report for real models?

For a zoo of models (transformers models built from config classes only, never
downloaded, plus a plain-torch CNN) this prints, side by side:

- ``truth``: MACs derived by hand below (and in ``_common.py`` for GPT-2 and
  Llama, which bench_overhead checks too), layer by layer, with the arithmetic in
  comments (GEMM of an (m x k) by a (k x n) matrix = m * k * n MACs; a
  convolution = output elements * input channels per group * kernel elements);
- summaryplus on CPU (real tensors) and on meta (``device="meta"``: fake
  tensors, nothing computed);
- torchinfo 1.8.0's ``total_mult_adds``;
- ``torch.utils.flop_counter.FlopCounterMode`` total FLOPs / 2;
- the ops summaryplus saw but has no formula for (``uncounted_ops``).

Attention is counted dense (Q @ K^T and attn @ V over every query/key pair,
causal masks included) because that is what the kernels compute and what
PyTorch's flop counter counts.

Run: ``python benchmarks/bench_accuracy.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torchinfo
from _common import (  # benchmarks/_common.py
    attention_macs,
    conv_macs,
    describe_machine,
    gpt2_truth,
    linear_macs,
    llama_truth,
    markdown,
)
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from summaryplus import summary


@dataclass
class Case:
    name: str
    build: Callable[[], nn.Module]
    # Positional inputs (a tuple) or keyword inputs (a dict), on CPU.
    inputs: Callable[[], tuple[Any, ...] | dict[str, Any]]
    truth: int | None
    # What the truth covers, for the notes under the table.
    note: str = ""


# ------------------------------------------------------------------- GPT-2
def gpt2_case() -> Case:
    import transformers

    batch, seq = 1, 128
    return Case(
        "GPT-2 small (1,128)",
        lambda: transformers.GPT2LMHeadModel(transformers.GPT2Config()),
        lambda: (torch.randint(0, 50257, (batch, seq)),),
        gpt2_truth(batch, seq),
        "GPT-2: 12 x (qkv + proj + 2 attention GEMMs + MLP) + LM head",
    )


# -------------------------------------------------------------------- BERT
def bert_truth(batch: int, seq: int) -> int:
    d, layers, ffn = 768, 12, 3072
    tokens = batch * seq
    per_layer = (
        3 * linear_macs(tokens, d, d)  # query, key, value
        + linear_macs(tokens, d, d)  # attention output dense
        + attention_macs(batch, seq, seq, d)
        + linear_macs(tokens, d, ffn)  # intermediate
        + linear_macs(tokens, ffn, d)  # output
    )
    pooler = linear_macs(batch, d, d)  # dense on the [CLS] token only
    # 12 * 918,552,576 + 1,179,648 = 11,023,810,560 at (2, 64)
    return layers * per_layer + pooler


def bert_case() -> Case:
    import transformers

    batch, seq = 2, 64
    return Case(
        "BERT-base (2,64)",
        lambda: transformers.BertModel(transformers.BertConfig()),
        lambda: (torch.randint(0, 30522, (batch, seq)),),
        bert_truth(batch, seq),
        "BERT: BertModel with pooler, no MLM head",
    )


# --------------------------------------------------------------------- ViT
def vit_truth(batch: int) -> int:
    d, layers, ffn, patch, image = 768, 12, 3072, 16, 224
    patches = (image // patch) ** 2  # 196
    seq = patches + 1  # + [CLS]
    tokens = batch * seq
    embed = conv_macs(batch * patches, 3, d, patch * patch)  # 16x16 stride-16 conv
    per_layer = (
        4 * linear_macs(tokens, d, d)  # q, k, v, attention output
        + attention_macs(batch, seq, seq, d)
        + linear_macs(tokens, d, ffn)
        + linear_macs(tokens, ffn, d)
    )
    pooler = linear_macs(batch, d, d)
    # 115,605,504 + 12 * 1,453,955,328 + 589,824 = 17,563,659,264
    return embed + layers * per_layer + pooler


def vit_case() -> Case:
    import transformers

    return Case(
        "ViT-base/16 (1,3,224,224)",
        lambda: transformers.ViTModel(transformers.ViTConfig()),
        lambda: (torch.rand(1, 3, 224, 224),),
        vit_truth(1),
        "ViT: ViTModel with pooler",
    )


# ------------------------------------------------------- Llama (small, GQA)
LLAMA_SMALL = dict(
    hidden_size=512,
    intermediate_size=1376,
    num_hidden_layers=4,
    num_attention_heads=8,
    num_key_value_heads=2,
    vocab_size=32000,
)


def llama_case() -> Case:
    import transformers

    batch, seq = 1, 128
    return Case(
        "Llama GQA 4L d512 8q/2kv (1,128)",
        lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA_SMALL)),
        lambda: (torch.randint(0, LLAMA_SMALL["vocab_size"], (batch, seq)),),
        llama_truth(batch, seq, **LLAMA_SMALL),
        "Llama: q/o full width, k/v 2 heads of 64, SwiGLU MLP, untied LM head",
    )


# ------------------------------------------------------------------ T5-small
def t5_truth(batch: int, enc: int, dec: int) -> int:
    # T5Config() is t5-small: d_model 512, 8 heads x d_kv 64, d_ff 2048 (ReLU),
    # 6 + 6 layers, vocabulary 32128.
    d, inner, ffn, layers, vocab = 512, 8 * 64, 2048, 6, 32128
    e_tokens, d_tokens = batch * enc, batch * dec
    encoder_layer = (
        4 * linear_macs(e_tokens, d, inner)  # q, k, v, o (o is inner -> d)
        + attention_macs(batch, enc, enc, inner)
        + 2 * linear_macs(e_tokens, d, ffn)  # wi, wo
    )
    decoder_layer = (
        4 * linear_macs(d_tokens, d, inner)  # self-attention q, k, v, o
        + attention_macs(batch, dec, dec, inner)
        + 2 * linear_macs(d_tokens, d, inner)  # cross-attention q, o
        + 2 * linear_macs(e_tokens, d, inner)  # cross-attention k, v (encoder states)
        + attention_macs(batch, dec, enc, inner)
        + 2 * linear_macs(d_tokens, d, ffn)
    )
    lm_head = linear_macs(d_tokens, d, vocab)
    return layers * (encoder_layer + decoder_layer) + lm_head


def t5_case() -> Case:
    import transformers

    batch, enc, dec = 1, 64, 32
    return Case(
        "T5-small enc 64 / dec 32",
        lambda: transformers.T5ForConditionalGeneration(transformers.T5Config()),
        lambda: {
            "input_ids": torch.randint(0, 32128, (batch, enc)),
            "decoder_input_ids": torch.randint(0, 32128, (batch, dec)),
        },
        t5_truth(batch, enc, dec),
        "T5: encoder + decoder with cross-attention + LM head",
    )


# ---------------------------------------------------------------- ResNet-50
def resnet50_truth(batch: int, image: int = 224, classes: int = 1000) -> int:
    """transformers' ResNet (v1.5: the stride sits on the 3x3 conv)."""
    size = image // 2  # 7x7 stride-2 stem
    total = conv_macs(batch * size * size, 3, 64, 7 * 7)
    size //= 2  # 3x3 stride-2 max pool
    channels = 64
    stages = [(256, 3, 1), (512, 4, 2), (1024, 6, 2), (2048, 3, 2)]
    for out_channels, depth, stride in stages:
        for block in range(depth):
            block_stride = stride if block == 0 else 1
            reduced = out_channels // 4
            out_size = size // block_stride
            total += conv_macs(batch * size * size, channels, reduced, 1)  # 1x1 reduce
            total += conv_macs(batch * out_size * out_size, reduced, reduced, 3 * 3)
            total += conv_macs(batch * out_size * out_size, reduced, out_channels, 1)
            if channels != out_channels or block_stride != 1:
                total += conv_macs(batch * out_size * out_size, channels, out_channels, 1)
            channels, size = out_channels, out_size
    total += linear_macs(batch, channels, classes)  # classifier after global pool
    return total  # 4,089,184,256 at (1, 3, 224, 224), the published ResNet-50 figure


def resnet_case() -> Case:
    import transformers

    return Case(
        "ResNet-50 (1,3,224,224)",
        lambda: transformers.ResNetForImageClassification(
            transformers.ResNetConfig(num_labels=1000)
        ),
        lambda: (torch.rand(1, 3, 224, 224),),
        resnet50_truth(1),
        "ResNet-50: 1000-class head",
    )


# --------------------------------------------------------------- Whisper-tiny
def whisper_truth(batch: int, dec: int) -> int:
    # Whisper tiny: d_model 384, 6 heads, FFN 1536, 4 + 4 layers, 80 mel bins,
    # 3000 frames -> 1500 positions after the stride-2 conv, vocabulary 51865.
    d, ffn, layers, mels, frames, vocab = 384, 1536, 4, 80, 3000, 51865
    enc = frames // 2
    e_tokens, d_tokens = batch * enc, batch * dec
    stem = conv_macs(batch * frames, mels, d, 3) + conv_macs(e_tokens, d, d, 3)
    encoder_layer = (
        4 * linear_macs(e_tokens, d, d)
        + attention_macs(batch, enc, enc, d)
        + 2 * linear_macs(e_tokens, d, ffn)
    )
    decoder_layer = (
        4 * linear_macs(d_tokens, d, d)
        + attention_macs(batch, dec, dec, d)
        + 2 * linear_macs(d_tokens, d, d)  # cross q, o
        + 2 * linear_macs(e_tokens, d, d)  # cross k, v on the encoder states
        + attention_macs(batch, dec, enc, d)
        + 2 * linear_macs(d_tokens, d, ffn)
    )
    proj_out = linear_macs(d_tokens, d, vocab)
    return stem + layers * (encoder_layer + decoder_layer) + proj_out


def whisper_case() -> Case:
    import transformers

    config = transformers.WhisperConfig(
        d_model=384,
        encoder_layers=4,
        decoder_layers=4,
        encoder_attention_heads=6,
        decoder_attention_heads=6,
        encoder_ffn_dim=1536,
        decoder_ffn_dim=1536,
        num_mel_bins=80,
        vocab_size=51865,
    )
    batch, dec = 1, 32
    return Case(
        "Whisper-tiny (1,80,3000) dec 32",
        lambda: transformers.WhisperForConditionalGeneration(config),
        lambda: {
            "input_features": torch.rand(batch, 80, 3000),
            "decoder_input_ids": torch.randint(0, 51865, (batch, dec)),
        },
        whisper_truth(batch, dec),
        "Whisper: conv stem + encoder + decoder with cross-attention + proj_out",
    )


# ------------------------------------------------- mixtures of experts (MoE)
# Run in transformers 5's default experts implementation, ``grouped_mm``: per
# layer, the tokens routed to each expert are sorted into groups and every
# projection is one ``torch._grouped_mm`` over all experts. FlopCounterMode has no
# formula for it, so it counts attention, routers and the LM head only.
def moe_truth(
    batch: int,
    seq: int,
    hidden_size: int,
    num_hidden_layers: int,
    num_attention_heads: int,
    num_key_value_heads: int,
    vocab_size: int,
    num_experts: int,
    top_k: int,
    expert_intermediate: int,
    shared_intermediate: int = 0,
) -> int:
    """A decoder whose every MLP is a mixture of SwiGLU experts (gate, up, down)."""
    d = hidden_size
    kv_width = num_key_value_heads * (d // num_attention_heads)
    tokens = batch * seq
    per_layer = (
        2 * linear_macs(tokens, d, d)  # q_proj, o_proj
        + 2 * linear_macs(tokens, d, kv_width)  # k_proj, v_proj (grouped-query)
        + attention_macs(batch, seq, seq, d)
        + linear_macs(tokens, d, num_experts)  # router logits
        # Every token runs exactly top_k experts, whatever the router picks:
        # tokens * top_k rows through gate + up (fused, d -> 2 * I) and down (I -> d).
        + top_k * 3 * linear_macs(tokens, d, expert_intermediate)
    )
    if shared_intermediate:
        per_layer += (
            3 * linear_macs(tokens, d, shared_intermediate)  # shared expert, every token
            + linear_macs(tokens, d, 1)  # its sigmoid gate
        )
    lm_head = linear_macs(tokens, d, vocab_size)
    return num_hidden_layers * per_layer + lm_head


MOE_SMALL = dict(
    hidden_size=256,
    num_hidden_layers=2,
    num_attention_heads=8,
    num_key_value_heads=2,
    vocab_size=1000,
)


def mixtral_case() -> Case:
    import transformers

    batch, seq = 2, 64
    experts = dict(num_local_experts=8, num_experts_per_tok=2, intermediate_size=512)
    # tokens 128, head_dim 32, k/v width 64; per layer:
    #   q, o 2 * 128*256*256 = 16,777,216; k, v 2 * 128*256*64 = 4,194,304;
    #   attention 2 * 2*64*64*256 = 4,194,304; router 128*256*8 = 262,144;
    #   experts 2 * 3 * 128*256*512 = 100,663,296 -> 126,091,264
    # 2 * 126,091,264 + LM head 128*256*1000 = 32,768,000 -> 284,950,528
    return Case(
        "Mixtral 2L d256 8 experts top-2 (2,64)",
        lambda: transformers.MixtralForCausalLM(
            transformers.MixtralConfig(**MOE_SMALL, **experts)
        ),
        lambda: (torch.randint(0, 1000, (batch, seq)),),
        moe_truth(batch, seq, **MOE_SMALL, num_experts=8, top_k=2, expert_intermediate=512),
        "Mixtral: router + top-2 of 8 SwiGLU experts (grouped_mm) + GQA attention + LM head",
    )


def qwen2_moe_case() -> Case:
    import transformers

    batch, seq = 2, 64
    experts = dict(
        num_experts=8,
        num_experts_per_tok=2,
        moe_intermediate_size=128,
        shared_expert_intermediate_size=512,
    )
    # per layer: q, o, k, v and attention as Mixtral 25,165,824; router 262,144;
    #   experts 2 * 3 * 128*256*128 = 25,165,824;
    #   shared expert 3 * 128*256*512 = 50,331,648; its gate 128*256*1 = 32,768
    #   -> 100,958,208
    # 2 * 100,958,208 + LM head 32,768,000 -> 234,684,416
    return Case(
        "Qwen2-MoE 2L d256 8 experts top-2 + shared (2,64)",
        lambda: transformers.Qwen2MoeForCausalLM(
            transformers.Qwen2MoeConfig(**MOE_SMALL, **experts)
        ),
        lambda: (torch.randint(0, 1000, (batch, seq)),),
        moe_truth(
            batch, seq, **MOE_SMALL, num_experts=8, top_k=2, expert_intermediate=128,
            shared_intermediate=512,
        ),
        "Qwen2-MoE: router + top-2 of 8 experts + gated shared expert (every token)",
    )


def olmoe_case() -> Case:
    import transformers

    batch, seq = 2, 64
    experts = dict(num_experts=16, num_experts_per_tok=4, intermediate_size=128)
    # per layer: q, o, k, v and attention 25,165,824; router 128*256*16 = 524,288;
    #   experts 4 * 3 * 128*256*128 = 50,331,648 -> 76,021,760
    # 2 * 76,021,760 + LM head 32,768,000 -> 184,811,520
    return Case(
        "OLMoE 2L d256 16 experts top-4 (2,64)",
        lambda: transformers.OlmoeForCausalLM(transformers.OlmoeConfig(**MOE_SMALL, **experts)),
        lambda: (torch.randint(0, 1000, (batch, seq)),),
        moe_truth(batch, seq, **MOE_SMALL, num_experts=16, top_k=4, expert_intermediate=128),
        "OLMoE: router + top-4 of 16 experts (q/k norms add no MACs)",
    )


# --------------------------------------------------------- plain-torch CNN
class SmallCNN(nn.Module):
    """Covers grouped, strided, 1x1 and transposed convolutions and a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.depthwise = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pointwise = nn.Conv2d(32, 64, 1)
        self.down = nn.Conv2d(64, 128, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(128, 64, 2, stride=2)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem(x))
        x = self.pointwise(self.depthwise(x))
        return self.head(self.up(self.down(x)))


def cnn_truth(batch: int) -> int:
    total = conv_macs(batch * 64 * 64, 3, 32, 3 * 3)  # stem: 2*64*64*32*3*9 = 7,077,888
    # max pool 64 -> 32
    total += conv_macs(batch * 32 * 32, 32, 32, 3 * 3, groups=32)  # depthwise: 589,824
    total += conv_macs(batch * 32 * 32, 32, 64, 1)  # pointwise: 4,194,304
    total += conv_macs(batch * 16 * 16, 64, 128, 3 * 3)  # stride 2: 37,748,736
    # A transposed conv scatters every *input* element to c_out * k * k outputs:
    # 2 * 16*16 inputs * 128 in * 64 out * 2*2 = 16,777,216
    total += batch * 16 * 16 * 128 * 64 * 2 * 2
    total += linear_macs(batch, 64, 10)  # 1,280
    return total  # 66,389,248 at batch 2


def cnn_case() -> Case:
    return Case(
        "plain CNN (2,3,64,64)",
        SmallCNN,
        lambda: (torch.rand(2, 3, 64, 64),),
        cnn_truth(2),
        "CNN: conv 3x3, depthwise, 1x1, strided, transposed, Linear",
    )


CASES: list[Callable[[], Case]] = [
    gpt2_case,
    bert_case,
    vit_case,
    llama_case,
    t5_case,
    resnet_case,
    whisper_case,
    mixtral_case,
    qwen2_moe_case,
    olmoe_case,
    cnn_case,
]


# ----------------------------------------------------------------- the tools
def call(model: nn.Module, inputs: tuple[Any, ...] | dict[str, Any]) -> Any:
    return model(**inputs) if isinstance(inputs, dict) else model(*inputs)


def summaryplus_macs(
    model: nn.Module, inputs: Any, device: str | None
) -> tuple[int, dict[str, int]]:
    data = inputs if isinstance(inputs, dict) else list(inputs)
    stats = summary(model, input_data=data, device=device, verbose=0)
    return stats.total_mult_adds, stats.uncounted_ops


def torchinfo_macs(model: nn.Module, inputs: Any) -> int:
    data = inputs if isinstance(inputs, dict) else list(inputs)
    stats = torchinfo.summary(model, input_data=data, verbose=0)
    return int(stats.total_mult_adds)


def flop_counter_macs(model: nn.Module, inputs: Any) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        call(model, inputs)
    return counter.get_total_flops() // 2


def attempt(function: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return function(), None
    except Exception as error:  # a peer failing is a result, not a crash
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return None, f"{type(error).__name__}: {first_line[:120]}"


def giga(value: int | None) -> str:
    return "--" if value is None else f"{value / 1e9:,.4f}G"


def verdict(value: int | None, truth: int | None) -> str:
    if value is None or truth is None:
        return ""
    if value == truth:
        return " ✓"
    relative = (value - truth) / truth
    if abs(relative) < 0.0005:  # too small for a percentage: show the MACs
        return f" ({value - truth:+,d})"
    return f" ({relative:+.1%})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when summaryplus differs from a truth"
    )
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.manual_seed(0)
    print(f"# bench_accuracy — {describe_machine()}\n")

    rows = []
    notes = []
    problems = []
    exact = 0
    with_truth = 0
    start = time.perf_counter()
    for make_case in CASES:
        case, error = attempt(make_case)
        if case is None:
            problems.append(f"{make_case.__name__}: could not build the case: {error}")
            continue
        model, error = attempt(case.build)
        if model is None:
            rows.append((case.name, giga(case.truth), f"build failed: {error}", "", "", "", ""))
            continue
        model.eval()
        inputs = case.inputs()
        cpu, cpu_error = attempt(partial(summaryplus_macs, model, inputs, None))
        meta, meta_error = attempt(partial(summaryplus_macs, model, inputs, "meta"))
        info, info_error = attempt(partial(torchinfo_macs, model, inputs))
        flops, flops_error = attempt(partial(flop_counter_macs, model, inputs))
        cpu_macs, uncounted = cpu if cpu is not None else (None, {})
        meta_macs = meta[0] if meta is not None else None
        for tool, message in (
            ("summaryplus CPU", cpu_error),
            ("summaryplus meta", meta_error),
            ("torchinfo", info_error),
            ("FlopCounterMode", flops_error),
        ):
            if message:
                problems.append(f"{case.name}: {tool} raised {message}")
        if case.truth is not None:
            with_truth += 1
            exact += int(cpu_macs == case.truth and meta_macs == case.truth)
        if case.note:
            notes.append(case.note)
        rows.append(
            (
                case.name,
                giga(case.truth),
                giga(cpu_macs) + verdict(cpu_macs, case.truth),
                giga(meta_macs) + verdict(meta_macs, case.truth),
                giga(info) + verdict(info, case.truth),
                giga(flops) + verdict(flops, case.truth),
                ", ".join(f"{op} x{n}" for op, n in uncounted.items()) or "none",
            )
        )
        del model
    headers = (
        "model",
        "truth (MACs)",
        "summaryplus CPU",
        "summaryplus meta",
        "torchinfo 1.8.0",
        "FlopCounterMode / 2",
        "uncounted ops",
    )
    print(markdown(rows, headers))
    print(
        "\n✓ = equal to the hand-derived truth; (+x%) = relative error against it, "
        "(+n) = absolute error in MACs when under 0.05%."
    )
    print("Truths: " + "; ".join(notes) + ".")
    print(
        "Peers: FlopCounterMode has no formula for the CPU attention kernel "
        "(aten._scaled_dot_product_flash_attention_for_cpu), so it misses attention on "
        "CPU, and none for torch._grouped_mm, so it misses the experts of the MoE "
        "models (transformers' default grouped_mm path); torchinfo 1.8.0 counts a "
        "Linear's weights once per batch element rather than per token, takes "
        "transformers' Conv1D (GPT-2) for a convolution by its class name, and misses "
        "functional ops such as attention."
    )
    if problems:
        print("\nErrors:")
        for problem in problems:
            print(f"- {problem}")
    print(
        f"\nsummaryplus equals the truth on CPU and meta for {exact}/{with_truth} models "
        f"({time.perf_counter() - start:.0f} s)."
    )
    return 1 if args.strict and exact != with_truth else 0


if __name__ == "__main__":
    sys.exit(main())
