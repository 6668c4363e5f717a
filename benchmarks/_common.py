"""Helpers shared by the benchmark scripts: timing, tables, target checks, and
the hand-derived MAC counts.

The scripts run every tool in one process, interleaved, so that the machine's
state (CPU frequency, caches, other load) affects all of them alike.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from tabulate import tabulate


def describe_machine() -> str:
    """One line naming the interpreter, torch and the CPU budget."""
    threads = torch.get_num_threads()
    return (
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs visible, torch threads {threads}, {platform.machine()}, "
        f"{load_average()} at start"
    )


def load_average() -> str:
    """The 1-minute load average against the CPU count: other processes on the
    machine slow every timing here (multi-threaded forwards the most)."""
    try:
        one_minute = os.getloadavg()[0]
    except OSError:
        return "load average unknown"
    return f"load average {one_minute:.2f} on {os.cpu_count()} CPUs"


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``function`` takes (after a full garbage collection)."""
    gc.collect()
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    return elapsed, result


def interleaved(
    functions: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Runs each function once per round, round after round, and keeps every time.

    Alternating (a, b, a, b, ...) rather than (a, a, ..., b, b, ...) means a slow
    moment of the machine hits every contender, not just one.
    """
    times: dict[str, list[float]] = {name: [] for name in functions}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, function in functions.items():
            elapsed, results[name] = timed(function)
            times[name].append(elapsed)
    return times, results


def best(times: Sequence[float]) -> float:
    return min(times)


def median(times: Sequence[float]) -> float:
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (10**6 bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def markdown(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A GitHub-flavoured markdown table; numbers right-aligned by tabulate."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def seconds(value: float | None) -> str:
    if value is None:
        return "--"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def ratio(value: float | None) -> str:
    return "--" if value is None else f"{value:.2f}x"


class Targets:
    """Collects PASS/FAIL lines and prints them together at the end."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bool | None, str]] = []

    def check(self, name: str, passed: bool | None, detail: str) -> None:
        """``passed=None`` marks a target that could not be measured."""
        self.lines.append((name, passed, detail))

    def report(self) -> str:
        rows = []
        for name, passed, detail in self.lines:
            verdict = "SKIP" if passed is None else ("PASS" if passed else "FAIL")
            rows.append((verdict, name, detail))
        return markdown(rows, ("result", "target", "measured"))

    @property
    def all_passed(self) -> bool:
        return all(passed is not False for _, passed, _ in self.lines)


# ------------------------------------------------- hand-derived MAC counts
# Used as the truth by bench_accuracy and as the expected totals by bench_overhead.
def linear_macs(tokens: int, in_features: int, out_features: int) -> int:
    """A Linear over ``tokens`` rows: (tokens x in) @ (in x out)."""
    return tokens * in_features * out_features


def attention_macs(batch: int, queries: int, keys: int, width: int) -> int:
    """Q @ K^T then attn @ V, all heads together (``width`` = heads * head_dim).

    Per batch element: queries * keys * width for the scores plus the same for
    the weighted sum of values. Grouped-query attention changes how many K/V
    heads are *stored*, not how many query heads attend, so the width is the
    query width.
    """
    return batch * 2 * queries * keys * width


def conv_macs(positions: int, c_in: int, c_out: int, kernel: int, groups: int = 1) -> int:
    """``positions`` output positions (batch included) x ``c_out`` channels, each
    needing (c_in / groups) * kernel multiply-accumulates."""
    return positions * c_out * (c_in // groups) * kernel


def gpt2_truth(batch: int, seq: int) -> int:
    """GPT-2 small (``GPT2Config()``) on ``batch`` x ``seq`` token ids."""
    d, layers, vocab, ffn = 768, 12, 50257, 3072
    tokens = batch * seq
    per_layer = (
        linear_macs(tokens, d, 3 * d)  # c_attn: fused q, k, v
        + linear_macs(tokens, d, d)  # attn c_proj
        + attention_macs(batch, seq, seq, d)  # causal, computed dense
        + linear_macs(tokens, d, ffn)  # mlp c_fc
        + linear_macs(tokens, ffn, d)  # mlp c_proj
    )
    lm_head = linear_macs(tokens, d, vocab)  # tied to wte, still a full GEMM
    # 12 * 931,135,488 + 4,940,464,128 = 16,114,089,984 at (1, 128)
    return layers * per_layer + lm_head


def llama_truth(
    batch: int,
    seq: int,
    hidden_size: int,
    intermediate_size: int,
    num_hidden_layers: int,
    num_attention_heads: int,
    num_key_value_heads: int,
    vocab_size: int,
) -> int:
    """A ``LlamaForCausalLM`` of this config on ``batch`` x ``seq`` token ids."""
    d = hidden_size
    head_dim = d // num_attention_heads
    kv_width = num_key_value_heads * head_dim  # grouped-query: narrower k/v
    tokens = batch * seq
    per_layer = (
        linear_macs(tokens, d, d)  # q_proj
        + 2 * linear_macs(tokens, d, kv_width)  # k_proj, v_proj
        + linear_macs(tokens, d, d)  # o_proj
        + attention_macs(batch, seq, seq, num_attention_heads * head_dim)
        + 3 * linear_macs(tokens, d, intermediate_size)  # gate, up, down
    )
    lm_head = linear_macs(tokens, d, vocab_size)
    return num_hidden_layers * per_layer + lm_head
