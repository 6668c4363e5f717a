"""How does summary() time grow with the number of rows and the nesting depth?

Two model families, each summarized and printed (``str(summary(...))``: the whole
visible job) by summaryplus and torchinfo 1.8.0 in this
one process, interleaved (summaryplus, torchinfo, summaryplus, ...), best of a
few runs with a full garbage collection before each:

- *flat blocks*: ``nn.Sequential`` of N blocks ``nn.Sequential(nn.Linear(8, 8),
  nn.ReLU())``, so 3 rows per block (5,000 blocks = 15,001 rows);
- *deep chain*: a module holding a Linear(4, 4) and the next module, which holds
  a Linear and the next, ... ``depth`` levels (2 rows per level), each forward
  calling the next. torchinfo's time grows exponentially with depth here, so it
  runs only at small depths; its time at depth 200 is out of reach.

Targets: 5,000 blocks at least 5x faster than torchinfo; doubling the rows
(10,000 vs 5,000 blocks) at most 2.3x the time; the 200-deep chain under 0.5 s.

Run: ``python benchmarks/bench_scaling.py`` (five to seven minutes on 2 cores);
``--quick`` for a smoke run, ``--profile`` to print where summaryplus spends
its time on 5,000 blocks.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torchinfo
from _common import (  # benchmarks/_common.py
    Targets,
    best,
    describe_machine,
    interleaved,
    markdown,
    median,
    ratio,
    seconds,
    timed,
)
from torch import nn

from summaryplus import summary
from summaryplus.examples import deep_chain

BLOCKS = (2_500, 5_000, 10_000)
QUICK_BLOCKS = (500, 1_000, 2_000)
CHAIN_DEPTH = 200
# torchinfo's time roughly doubles per level of nesting (21 s at depth 25).
TORCHINFO_DEPTHS = (16, 18, 20, 22)
TORCHINFO_TIMEOUT_S = 30
# Depth doubling, summaryplus alone (extra check of "linear whatever the depth").
DOUBLING_DEPTHS = (400, 800)
QUICK_DOUBLING_DEPTHS = (200, 400)


def flat_blocks(blocks: int) -> nn.Module:
    return nn.Sequential(*[nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(blocks)])


class TimedOut(BaseException):
    """A BaseException, so torchinfo's ``except Exception`` cannot swallow it."""


@contextmanager
def time_limit(seconds_allowed: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds_allowed)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, previous))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def printed(make: Callable[[], Any]) -> Callable[[], Any]:
    """The whole visible job: the summary and its printed table (``str``)."""

    def job() -> Any:
        stats = make()
        str(stats)
        return stats

    return job


def run_summaryplus(model: nn.Module, size: tuple[int, ...]) -> Callable[[], Any]:
    return printed(lambda: summary(model, input_size=size, verbose=0))


def run_torchinfo(model: nn.Module, size: tuple[int, ...]) -> Callable[[], Any]:
    return printed(lambda: torchinfo.summary(model, input_size=size, verbose=0))


def run_bare(model: nn.Module, size: tuple[int, ...]) -> Callable[[], Any]:
    x = torch.rand(size)

    def forward() -> Any:
        with torch.no_grad():
            return model(x)

    return forward


def bench_blocks(
    sizes: tuple[int, ...], repeats: int
) -> tuple[list[tuple[Any, ...]], dict[int, dict[str, float]]]:
    """Each size: bare forward, summaryplus and torchinfo, round after round.

    Besides each tool's best time, the *paired* ratio: the median over rounds of
    torchinfo's time / summaryplus's in the same round. Adjacent runs see the
    same machine, so the paired ratio holds still where this machine's speed
    drifts by a third from one minute to the next (it does).
    """
    rows = []
    best_times: dict[int, dict[str, float]] = {}
    for blocks in sizes:
        model = flat_blocks(blocks)
        contenders = {
            "bare": run_bare(model, (1, 8)),
            "summaryplus": run_summaryplus(model, (1, 8)),
            "torchinfo": run_torchinfo(model, (1, 8)),
        }
        times, results = interleaved(contenders, repeats)
        b = best_times[blocks] = {name: best(values) for name, values in times.items()}
        b["paired"] = median(
            [t / o for t, o in zip(times["torchinfo"], times["summaryplus"], strict=True)]
        )
        ours, theirs = results["summaryplus"], results["torchinfo"]
        assert ours.total_params == theirs.total_params, (ours.total_params, theirs.total_params)
        rows.append(
            (
                f"{blocks:,}",
                f"{len(ours.summary_list):,}",
                f"{len(theirs.summary_list):,}",
                seconds(b["bare"]),
                seconds(b["summaryplus"]),
                seconds(b["torchinfo"]),
                ratio(b["torchinfo"] / b["summaryplus"]),
                ratio(b["paired"]),
            )
        )
        del model, results
    return rows, best_times


def paired_growth(small: int, large: int, repeats: int) -> float:
    """summaryplus on ``large`` blocks / on ``small`` blocks, the two run in turn,
    round after round: the median of the rounds' ratios."""
    models = {size: flat_blocks(size) for size in (small, large)}
    runs = {str(size): run_summaryplus(model, (1, 8)) for size, model in models.items()}
    times, _ = interleaved(runs, repeats)
    return median([b / a for a, b in zip(times[str(small)], times[str(large)], strict=True)])


def chain_at_default_limit(depth: int) -> str | None:
    """None when summaryplus handles the chain at Python's default recursion
    limit (a bare forward does); else the error it raised."""
    model = deep_chain(depth)
    run_bare(model, (1, 4))()
    try:
        summary(model, input_size=(1, 4), verbose=0)
    except Exception as error:
        cause = error.__cause__ if error.__cause__ is not None else error
        return f"{type(error).__name__} caused by {type(cause).__name__}"
    return None


def bench_chain(
    repeats: int, torchinfo_depths: tuple[int, ...], depth: int
) -> tuple[list[tuple[Any, ...]], dict[int, float]]:
    rows = []
    ours_at: dict[int, float] = {}
    theirs_at: dict[int, float] = {}
    stopped = f"> {TORCHINFO_TIMEOUT_S} s (stopped)"
    for level in torchinfo_depths:
        model = deep_chain(level)
        ours_only = {"summaryplus": run_summaryplus(model, (1, 4))}
        both = {**ours_only, "torchinfo": run_torchinfo(model, (1, 4))}
        theirs_best: float | None = None
        try:
            with time_limit(TORCHINFO_TIMEOUT_S):
                times, results = interleaved(both, repeats)
            theirs_best = theirs_at[level] = best(times["torchinfo"])
        except TimedOut:
            # A fresh model: the interrupted torchinfo may have left hooks behind.
            fresh = deep_chain(level)
            times, results = interleaved({"summaryplus": run_summaryplus(fresh, (1, 4))}, repeats)
        ours_at[level] = best(times["summaryplus"])
        rows.append(
            (
                level,
                f"{len(results['summaryplus'].summary_list):,}",
                seconds(ours_at[level]),
                seconds(theirs_best) if theirs_best is not None else stopped,
                ratio(theirs_best / ours_at[level]) if theirs_best is not None else "--",
            )
        )
    # The deep case itself: summaryplus only. Hooked module calls take more
    # Python frames than bare ones, so leave room for them.
    with recursion_limit(20 * depth + 1_000):
        model = deep_chain(depth)
        times, results = interleaved({"summaryplus": run_summaryplus(model, (1, 4))}, repeats)
    ours_at[depth] = best(times["summaryplus"])
    estimate = ""
    measured = sorted(theirs_at)
    if len(measured) >= 2:
        low, high = measured[0], measured[-1]
        per_level = (theirs_at[high] / theirs_at[low]) ** (1 / (high - low))
        at_25 = theirs_at[high] * per_level ** (25 - high)
        estimate = f"not run (x{per_level:.2f} per level: ~{at_25:.0f} s at depth 25)"
    rows.append(
        (
            depth,
            f"{len(results['summaryplus'].summary_list):,}",
            seconds(ours_at[depth]),
            estimate or "not run",
            "--",
        )
    )
    return rows, ours_at


def bench_depth_doubling(
    depths: tuple[int, int], repeats: int
) -> tuple[list[tuple[Any, ...]], dict[bool, float]]:
    """summaryplus at two depths, plain and with one tied weight, the two depths
    run in turn round after round; returns the growth factor per variant (the
    median over rounds of the deep time / the shallow one: a best of a few
    50-150 ms runs swings by half on this machine)."""
    rows = []
    growth: dict[bool, float] = {}
    shallow, deep = depths
    with recursion_limit(20 * deep + 1_000):
        for tied in (False, True):
            runs = {
                str(depth): run_summaryplus(deep_chain(depth, tied), (1, 4)) for depth in depths
            }
            times, _ = interleaved(runs, repeats)
            growth[tied] = median(
                [b / a for a, b in zip(times[str(shallow)], times[str(deep)], strict=True)]
            )
            rows.append(
                (
                    "one tied weight" if tied else "no sharing",
                    seconds(best(times[str(shallow)])),
                    seconds(best(times[str(deep)])),
                    ratio(growth[tied]),
                )
            )
    return rows, growth


def gc_share(blocks: int) -> tuple[float, float]:
    """summaryplus on ``blocks`` blocks with the cyclic garbage collector on and off."""
    model = flat_blocks(blocks)
    on, _ = timed(run_summaryplus(model, (1, 8)))
    gc.disable()
    try:
        off, _ = timed(run_summaryplus(model, (1, 8)))
    finally:
        gc.enable()
    return on, off


def profile_blocks(blocks: int) -> str:
    model = flat_blocks(blocks)
    summary(model, input_size=(1, 8), verbose=0)
    profiler = cProfile.Profile()
    profiler.enable()
    summary(model, input_size=(1, 8), verbose=0)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument(
        "--repeats", type=int, default=5, help="rounds per case (best times, paired ratios)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile summaryplus")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    sizes = QUICK_BLOCKS if args.quick else BLOCKS
    repeats = 1 if args.quick else args.repeats
    torchinfo_depths = TORCHINFO_DEPTHS[:2] if args.quick else TORCHINFO_DEPTHS

    print(f"# bench_scaling — {describe_machine()}\n")
    start = time.perf_counter()
    # Warm up both tools (imports, first-call caches) outside the timings.
    summary(flat_blocks(4), input_size=(1, 8), verbose=0)
    torchinfo.summary(flat_blocks(4), input_size=(1, 8), verbose=0)

    block_rows, block_times = bench_blocks(sizes, repeats)
    print(f"## Flat blocks: N x Sequential(Linear(8, 8), ReLU()), {repeats} rounds\n")
    headers = (
        "blocks",
        "rows (summaryplus)",
        "rows (torchinfo)",
        "bare forward (best)",
        "summaryplus (best)",
        "torchinfo (best)",
        "ratio of bests",
        "paired ratio",
    )
    print(markdown(block_rows, headers))
    small, middle, large = sizes
    theirs_growth = block_times[large]["torchinfo"] / block_times[middle]["torchinfo"]
    ours_best_growth = block_times[large]["summaryplus"] / block_times[middle]["summaryplus"]
    ours_growth = paired_growth(middle, large, repeats)
    print(
        f"\nGrowth when rows double ({large:,} vs {middle:,} blocks): summaryplus "
        f"{ratio(ours_growth)} paired ({ratio(ours_best_growth)} from the bests above), "
        f"torchinfo {ratio(theirs_growth)} from its bests. Paired: the median over rounds "
        "of one tool's two times (or the two tools' times) in the same round."
    )

    targets = Targets()
    default_failure = chain_at_default_limit(CHAIN_DEPTH)
    chain_rows, chain_times = bench_chain(repeats, torchinfo_depths, CHAIN_DEPTH)
    print(f"\n## Deep chain: module -> (Linear(4, 4), module -> ...), best of {repeats}\n")
    headers = ("depth", "rows", "summaryplus", "torchinfo", "torchinfo / summaryplus")
    print(markdown(chain_rows, headers))
    if default_failure:
        print(
            f"\nAt Python's default recursion limit ({sys.getrecursionlimit()}) summaryplus "
            f"fails on the {CHAIN_DEPTH}-deep chain ({default_failure}) although a bare "
            f"forward of it runs; the time above was measured with the limit raised."
        )

    speedup = block_times[middle]["paired"]
    targets.check(
        f"{middle:,} blocks: summaryplus >= 5x faster than torchinfo (paired)",
        speedup >= 5,
        f"{ratio(speedup)} paired; bests {seconds(block_times[middle]['summaryplus'])} vs "
        f"{seconds(block_times[middle]['torchinfo'])}",
    )
    targets.check(
        f"doubling rows ({middle:,} -> {large:,} blocks) <= 2.3x the time (paired)",
        ours_growth <= 2.3,
        ratio(ours_growth),
    )
    targets.check(
        f"{CHAIN_DEPTH}-deep chain < 0.5 s",
        chain_times[CHAIN_DEPTH] < 0.5,
        seconds(chain_times[CHAIN_DEPTH]),
    )
    targets.check(
        f"{CHAIN_DEPTH}-deep chain runs at the default recursion limit (bare forward does)",
        default_failure is None,
        default_failure or "ran",
    )
    doubling = QUICK_DOUBLING_DEPTHS if args.quick else DOUBLING_DEPTHS
    doubling_repeats = 1 if args.quick else 7
    doubling_rows, growth = bench_depth_doubling(doubling, doubling_repeats)
    print(
        f"\n## Deep chain, depth doubling: summaryplus alone, {doubling_repeats} rounds "
        "(bests; growth paired)\n"
    )
    shallow, deep = doubling
    headers = ("chain", f"depth {shallow}", f"depth {deep}", "growth (paired)")
    print(markdown(doubling_rows, headers))
    for tied, label in ((False, "no sharing"), (True, "one tied weight")):
        targets.check(
            f"(extra) depth {shallow} -> {deep}, {label}: <= 2.3x the time",
            growth[tied] <= 2.3,
            ratio(growth[tied]),
        )

    gc_on, gc_off = gc_share(middle)
    print(
        f"\nsummaryplus on {middle:,} blocks, one run each: {seconds(gc_on)} with the garbage "
        f"collector on, {seconds(gc_off)} with gc.disable() "
        f"({(gc_on - gc_off) / gc_on:.0%} of the time in collections)."
    )

    print("\n## Targets\n")
    print(targets.report())
    print(f"\n({time.perf_counter() - start:.0f} s in all; {small:,} blocks shown for the trend)")

    if args.profile:
        print(f"\n## cProfile of summaryplus on {middle:,} blocks (by own time)\n")
        print(profile_blocks(middle))
    return 1 if args.strict and not targets.all_passed else 0


if __name__ == "__main__":
    sys.exit(main())
