"""Measured latency per layer against the roofline bound: GPT-2, a Llama-shaped
1B in bf16, a ResNet-50-shaped CNN.

For each model, ``measure_latency`` times every layer (CUDA events on a GPU,
perf_counter on a CPU) and puts each row's time bound beside it; the script
prints the top-level rows and the totals, and a markdown summary of the
bound/measured fractions (for docs/benchmarks.md, with the GPU's name).

    python benchmarks/bench_latency.py                 # CUDA, full-size models
    python benchmarks/bench_latency.py --dry-run       # CPU, small shapes: checks the script
    python benchmarks/bench_latency.py --gpu h100-sxm  # bounds for a named hardware row
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import torch
import transformers
from torch import nn

from summaryplus.latency import Latency, measure_latency


class Bottleneck(nn.Module):
    """ResNet-50's block: 1x1, 3x3 (stride), 1x1 convolutions with BatchNorm."""

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


def resnet50_shaped(width: int = 64, blocks: tuple[int, ...] = (3, 4, 6, 3)) -> nn.Module:
    layers: list[nn.Module] = [
        nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    inplanes = width
    for stage, count in enumerate(blocks):
        planes = width * 2**stage
        stage_blocks = []
        for index in range(count):
            stage_blocks.append(Bottleneck(inplanes, planes, 2 if index == 0 and stage else 1))
            inplanes = planes * 4
        layers.append(nn.Sequential(*stage_blocks))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inplanes, 1000)]
    return nn.Sequential(*layers)


Case = tuple[str, Callable[[], nn.Module], dict[str, Any]]


def cases(dry_run: bool) -> list[Case]:
    if dry_run:
        gpt2 = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=500)
        llama = transformers.LlamaConfig(hidden_size=64, intermediate_size=256,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, vocab_size=500)  # fmt: skip
        return [
            ("GPT-2 (tiny)", lambda: transformers.GPT2LMHeadModel(gpt2),
             {"input_data": torch.randint(0, 500, (1, 32))}),
            ("Llama-shaped (tiny), bf16", lambda: transformers.LlamaForCausalLM(llama).bfloat16(),
             {"input_data": torch.randint(0, 500, (1, 32))}),
            ("ResNet-50-shaped (narrow)", lambda: resnet50_shaped(8, (1, 1, 1, 1)),
             {"input_size": (1, 3, 64, 64)}),
        ]  # fmt: skip
    gpt2 = transformers.GPT2Config()
    # Llama-3.2-1B's shape: 16 layers of 2048, 32 heads (8 kv), 8192 MLP, 128k vocabulary.
    llama = transformers.LlamaConfig(hidden_size=2048, intermediate_size=8192,
                                     num_hidden_layers=16, num_attention_heads=32,
                                     num_key_value_heads=8, vocab_size=128256,
                                     tie_word_embeddings=True)  # fmt: skip
    return [
        ("GPT-2 124M, fp32, 1 x 1024", lambda: transformers.GPT2LMHeadModel(gpt2),
         {"input_data": torch.randint(0, 50257, (1, 1024))}),
        ("Llama-shaped 1B, bf16, 1 x 2048", lambda: transformers.LlamaForCausalLM(llama).bfloat16(),
         {"input_data": torch.randint(0, 128256, (1, 2048))}),
        ("ResNet-50-shaped, fp32, 32 x 224^2", resnet50_shaped, {"input_size": (32, 3, 224, 224)}),
    ]  # fmt: skip


def run(name: str, build: Callable[[], nn.Module], inputs: dict[str, Any], device: str,
        gpu: str | None, repeats: int) -> Latency:  # fmt: skip
    model = build().to(device).eval()
    moved = {key: value.to(device) if isinstance(value, torch.Tensor) else value
             for key, value in inputs.items()}  # fmt: skip
    found = measure_latency(model, gpu=gpu, repeats=repeats, **moved)
    print(f"\n## {name}\n")
    print(found.to_table(depth=1))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="small models on the CPU")
    parser.add_argument("--gpu", help="hardware row for the bounds (default: the device's own)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() and not args.dry_run else "cpu"
    gpu = args.gpu or ("l4" if device == "cpu" else None)  # CPU: any row, to show the columns
    torch.manual_seed(0)
    results = []
    for name, build, inputs in cases(args.dry_run):
        found = run(name, build, inputs, device, gpu, args.repeats)
        leaves = [row for row in found.rows if row.is_leaf and row.fraction is not None]
        fractions = sorted(row.fraction for row in leaves if row.fraction is not None)
        median = fractions[len(fractions) // 2] if fractions else None
        results.append((name, found, median))
    where = torch.cuda.get_device_name() if device == "cuda" else "CPU (dry run)"
    print(f"\n### Bound / measured on {where}\n")
    print("| model | forward | bound | bound / measured | median per leaf "
          "| rows faster than bound |")
    print("|---|---|---|---|---|---|")
    for name, found, median in results:
        bound = found.bound or 0.0
        print(f"| {name} | {found.forward * 1e3:.3f} ms | {bound * 1e3:.3f} ms | "
              f"{bound / found.forward:.2f} | {'--' if median is None else f'{median:.2f}'} | "
              f"{len(found.flagged)} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
