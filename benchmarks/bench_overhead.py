"""What does a full summary() cost compared with the forward pass it wraps?

Two models, each timed in this one process with the bare forward and the full
``summary(...)`` (exact MACs, shapes, parameters) alternating round after round;
the median of the per-round ratios (summary / the bare forward just before
it) is compared with the target, or, when other processes visibly disturbed the
rounds, the ratio of the fastest rounds; ratios of medians and of minimums are
shown too.

- Llama-3-70B-shaped ``LlamaForCausalLM`` built on the meta device (no weights
  allocated), input ids (1, 4096) on meta: overhead, peak resident memory of the
  process, total parameters and MACs against hand-derived values. It runs first
  so that the process's peak memory is not GPT-2's.
- GPT-2 small on CPU, input ids (1, 128): bare ``torch.no_grad()`` forward vs
  ``summary``.

Targets: GPT-2 summary <= 1.3x the bare forward; Llama-70B on meta <= 1.5x the
bare meta forward; peak RSS < 800 MB; 70,553,706,496 parameters.

Run: ``python benchmarks/bench_overhead.py`` (about half a minute on 2 cores).
Models come from transformers config classes; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil
import torch
from _common import (  # benchmarks/_common.py
    Targets,
    describe_machine,
    gpt2_truth,
    interleaved,
    llama_truth,
    load_average,
    markdown,
    median,
    peak_rss_mb,
    ratio,
    seconds,
)
from torch import nn

from summaryplus import summary

LLAMA_70B = dict(
    hidden_size=8192,
    intermediate_size=28672,
    num_hidden_layers=80,
    num_attention_heads=64,
    num_key_value_heads=8,
    vocab_size=128256,
)
LLAMA_70B_PARAMS = 70_553_706_496
GPT2_SEQ = 128
LLAMA_SEQ = 4096
NOISY_SPREAD = 1.5


def llama_params(
    hidden_size: int,
    intermediate_size: int,
    num_hidden_layers: int,
    num_attention_heads: int,
    num_key_value_heads: int,
    vocab_size: int,
) -> int:
    d = hidden_size
    kv_width = num_key_value_heads * (d // num_attention_heads)
    per_layer = (
        2 * d * d  # q_proj, o_proj (no bias)
        + 2 * d * kv_width  # k_proj, v_proj
        + 3 * d * intermediate_size  # gate, up, down
        + 2 * d  # two RMSNorm weights
    )
    # embeddings + layers + final norm + untied LM head = 70,553,706,496
    return vocab_size * d + num_hidden_layers * per_layer + d + d * vocab_size


def bare(model: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    def forward() -> Any:
        with torch.no_grad():
            return model(x)

    return forward


def full_summary(model: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    return lambda: summary(model, input_data=[x], verbose=0)


@dataclass
class Overhead:
    bare: list[float]
    summary: list[float]
    stats: Any

    @property
    def ratio_of_medians(self) -> float:
        return median(self.summary) / median(self.bare)

    @property
    def paired_ratio(self) -> float:
        """Median over rounds of summary / the bare forward just before it: a
        burst of load elsewhere on the machine tends to hit both of a pair."""
        return median([s / b for s, b in zip(self.summary, self.bare, strict=True)])

    @property
    def ratio_of_minimums(self) -> float:
        return min(self.summary) / min(self.bare)

    @property
    def noisy(self) -> bool:
        """The bare forward's slowest round took over 1.5x its fastest: something
        else was using the CPUs, and the medians are not to be trusted."""
        return max(self.bare) > NOISY_SPREAD * min(self.bare)

    @property
    def judged_ratio(self) -> float:
        """The paired ratio; on a busy machine the ratio of the fastest rounds,
        the ones least disturbed."""
        return self.ratio_of_minimums if self.noisy else self.paired_ratio

    def row(self, name: str) -> tuple[str, ...]:
        return (
            name,
            seconds(median(self.bare)),
            seconds(median(self.summary)),
            ratio(self.ratio_of_medians),
            ratio(self.paired_ratio),
            ratio(self.ratio_of_minimums),
            f"{seconds(min(self.bare))} .. {seconds(max(self.bare))}",
            f"{seconds(min(self.summary))} .. {seconds(max(self.summary))}",
        )


def measure(model: nn.Module, x: torch.Tensor, rounds: int) -> Overhead:
    contenders = {"bare": bare(model, x), "summary": full_summary(model, x)}
    interleaved(contenders, 1)  # warm-up: first calls pay for caches and imports
    times, results = interleaved(contenders, rounds)
    return Overhead(times["bare"], times["summary"], results["summary"])


def described(result: Overhead) -> str:
    detail = (
        f"medians {seconds(median(result.summary))} vs {seconds(median(result.bare))}, "
        f"minimums {ratio(result.ratio_of_minimums)}"
    )
    if result.noisy:
        return (
            f"{ratio(result.judged_ratio)} of minimums (machine busy); paired "
            f"{ratio(result.paired_ratio)}, {detail}"
        )
    return f"{ratio(result.judged_ratio)} paired; {detail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds per model")
    parser.add_argument("--quick", action="store_true", help="3 rounds, for a smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    import transformers

    print(f"# bench_overhead — {describe_machine()}, transformers {transformers.__version__}\n")
    process = psutil.Process()
    targets = Targets()
    rows = []
    start = time.perf_counter()

    # ------------------------------------------------ Llama-3-70B shape, meta
    rss_before = process.memory_info().rss / 1e6
    built = time.perf_counter()
    with torch.device("meta"):
        llama = transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA_70B))
    llama.eval()
    build_s = time.perf_counter() - built
    ids = torch.zeros((1, LLAMA_SEQ), dtype=torch.long, device="meta")
    result = measure(llama, ids, rounds)
    llama_peak = peak_rss_mb()
    stats = result.stats
    rows.append(result.row(f"Llama-3-70B shape, meta, (1,{LLAMA_SEQ})"))
    # 80 * 3,779,571,220,480 + 4,303,557,230,592 = 306,669,254,868,992 at 4096 tokens
    expected_macs = llama_truth(1, LLAMA_SEQ, **LLAMA_70B)
    print(
        f"Llama-70B on meta: built in {seconds(build_s)}; {stats.total_params:,} params "
        f"(derived {llama_params(**LLAMA_70B):,}); {stats.total_mult_adds:,} MACs "
        f"(derived {expected_macs:,}); uncounted ops: {stats.uncounted_ops or 'none'}; "
        f"RSS {rss_before:.0f} MB before building, peak {llama_peak:.0f} MB."
    )
    targets.check(
        "Llama-70B (meta): summary <= 1.5x the bare meta forward",
        result.judged_ratio <= 1.5,
        described(result),
    )
    targets.check(
        "Llama-70B (meta): peak RSS of the process < 800 MB",
        llama_peak < 800,
        f"{llama_peak:.0f} MB",
    )
    targets.check(
        f"Llama-70B: total params = {LLAMA_70B_PARAMS:,}",
        stats.total_params == LLAMA_70B_PARAMS,
        f"{stats.total_params:,}",
    )
    targets.check(
        "Llama-70B: MACs = hand-derived (dense attention)",
        stats.total_mult_adds == expected_macs,
        f"{stats.total_mult_adds:,}",
    )
    del llama, stats, result

    # ------------------------------------------------------- GPT-2 small, CPU
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config()).eval()
    ids = torch.randint(0, gpt2.config.vocab_size, (1, GPT2_SEQ))
    result = measure(gpt2, ids, rounds)
    stats = result.stats
    rows.append(result.row(f"GPT-2 small, CPU, (1,{GPT2_SEQ})"))
    print(
        f"GPT-2 on CPU: {stats.total_params:,} params, {stats.total_mult_adds:,} MACs "
        f"(derived {gpt2_truth(1, GPT2_SEQ):,}); uncounted ops: {stats.uncounted_ops or 'none'}."
    )
    targets.check(
        "GPT-2 (CPU): summary <= 1.3x the bare no_grad forward",
        result.judged_ratio <= 1.3,
        described(result),
    )
    targets.check(
        "GPT-2: MACs = hand-derived",
        stats.total_mult_adds == gpt2_truth(1, GPT2_SEQ),
        f"{stats.total_mult_adds:,}",
    )

    print(f"\n## Overhead: bare forward vs full summary(), medians of {rounds} rounds\n")
    headers = (
        "model",
        "bare forward",
        "summary()",
        "ratio of medians",
        "paired ratio",
        "ratio of minimums",
        "bare min..max",
        "summary min..max",
    )
    print(markdown(rows, headers))
    print("\n## Targets\n")
    print(targets.report())
    print(
        "\nThe targets use the paired ratio: the median over rounds of summary() / the "
        "bare forward run just before it. When the bare forward's slowest round is over "
        f"{NOISY_SPREAD}x its fastest, other processes were competing for the CPUs; the "
        "target then uses the ratio of minimums (rerun on a quiet machine to be sure)."
    )
    print(f"\n({time.perf_counter() - start:.0f} s in all; {load_average()} at the end)")
    return 1 if args.strict and not targets.all_passed else 0


if __name__ == "__main__":
    sys.exit(main())
