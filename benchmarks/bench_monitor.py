"""What does ``ParameterMonitor.check()`` cost per call, next to a forward pass?

Two models, both built here (nothing downloaded):

- GPT-2 small from its default config, ``transformers.GPT2LMHeadModel(GPT2Config())``
  (124M parameters, 148 tensors, 164 modules), input ids (1, 128);
- a ResNet-50-like CNN (bottleneck blocks [3, 4, 6, 3], BatchNorm; 25.6M
  parameters, 161 tensors), input (1, 3, 224, 224).

For each: ``check()`` when nothing changed (the every-step case), ``check()``
when something changed at every call (one tensor frozen/unfrozen in turn: the
names, dedup and counts are rebuilt), the hand-written
``sum(p.numel() for p in model.parameters() if p.requires_grad)`` for
reference, and a bare ``torch.no_grad()`` eval forward at batch 1 (the smallest
honest denominator: a training step is forward + backward + optimizer, several
times more). Each figure is the median over rounds of the mean of a batch of calls.

Run: ``python benchmarks/bench_monitor.py [--device cuda] [--rounds 15]``.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from tabulate import tabulate
from torch import nn

from summaryplus import ParameterMonitor


# ------------------------------------------------------------------ models
class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        width = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, width, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != width:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + identity)


class ResNetLike(nn.Module):
    """ResNet-50's layout: stem, four stages of bottleneck blocks, pooled classifier."""

    def __init__(self, layers: tuple[int, ...] = (3, 4, 6, 3), num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages: list[nn.Module] = []
        inplanes = 64
        for index, blocks in enumerate(layers):
            planes = 64 * 2**index
            stage = []
            for block in range(blocks):
                stride = 2 if block == 0 and index > 0 else 1
                stage.append(Bottleneck(inplanes, planes, stride))
                inplanes = planes * Bottleneck.expansion
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def gpt2_small() -> nn.Module:
    import transformers

    transformers.logging.set_verbosity_error()
    return transformers.GPT2LMHeadModel(transformers.GPT2Config())


# ------------------------------------------------------------------ timing
def per_call(function: Callable[[], object], calls: int, rounds: int, sync: bool) -> float:
    """Median over ``rounds`` of the mean seconds per call in a batch of ``calls``."""
    function()
    results = []
    for _ in range(rounds):
        if sync:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            function()
        if sync:
            torch.cuda.synchronize()
        results.append((time.perf_counter() - start) / calls)
    return statistics.median(results)


def measure(
    name: str, model: nn.Module, example: torch.Tensor, rounds: int, sync: bool
) -> list[str]:
    model.eval()
    monitor = ParameterMonitor(model, logger=logging.getLogger("bench_monitor.silent"))
    params = list(model.parameters())
    modules = sum(1 for _ in model.modules())

    unchanged = per_call(monitor.check, 500, rounds, sync=False)
    assert monitor.check() == [], "the model changed while nothing touched it"

    toggled = params[len(params) // 2]

    def check_changed() -> None:
        toggled.requires_grad_(not toggled.requires_grad)
        assert monitor.check(), "a change went unseen"

    changed = per_call(check_changed, 50, rounds, sync=False)
    toggled.requires_grad_(True)
    monitor.reset()

    def naive() -> int:
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    hand_written = per_call(naive, 500, rounds, sync=False)

    def forward() -> None:
        with torch.no_grad():
            model(example)

    forward_s = per_call(forward, 3, rounds, sync=sync)
    return [
        name,
        f"{sum(p.numel() for p in params):,}",
        f"{len(params)} / {modules}",
        f"{unchanged * 1e6:,.1f}",
        f"{changed * 1e6:,.0f}",
        f"{hand_written * 1e6:,.1f}",
        f"{forward_s * 1e3:,.2f}",
        f"{unchanged / forward_s:.3%}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="where the models and inputs live")
    parser.add_argument("--rounds", type=int, default=15, help="timing rounds per figure")
    parser.add_argument("--seq-len", type=int, default=128, help="GPT-2 input length")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    device = torch.device(args.device)
    sync = device.type == "cuda"

    rows = []
    gpt2 = gpt2_small().to(device)
    ids = torch.randint(0, 50257, (1, args.seq_len), device=device)
    rows.append(measure("GPT-2 small", gpt2, ids, args.rounds, sync))
    del gpt2
    cnn = ResNetLike().to(device)
    image = torch.rand(1, 3, 224, 224, device=device)
    rows.append(measure("ResNet-50-like CNN", cnn, image, args.rounds, sync))

    headers = [
        "Model",
        "Params",
        "Tensors / modules",
        "check() µs, no change",
        "check() µs, a change",
        "hand-written count µs",
        "forward ms",
        "check / forward",
    ]
    colalign = ("left", *("right",) * (len(headers) - 1))
    machine = f"{platform.processor() or platform.machine()}, torch {torch.__version__}"
    if sync:
        machine += f", {torch.cuda.get_device_name(device)}"
    else:
        machine += f", {torch.get_num_threads()} threads"
    print(f"ParameterMonitor.check() per call ({machine}; forward: batch 1, no_grad, {device})")
    print(tabulate(rows, headers=headers, tablefmt="github", colalign=colalign))


if __name__ == "__main__":
    main()
