"""Training-step memory: summaryplus's estimate against what CUDA really allocates.

For each model: ``summary(..., mode="train").training_memory("adam").total``
against ``torch.cuda.max_memory_allocated()`` over a full training step (forward,
backward, Adam step) taken after a warm-up step, so the optimizer state exists as
it does for the rest of training. Prints a markdown table; exits 0 without a GPU.

    python benchmarks/gpu_memory_check.py            # CUDA, full-size models
    python benchmarks/gpu_memory_check.py --dry-run  # CPU, tiny models: checks the script
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import torch
import transformers
from torch import nn

from summaryplus import summary

Case = tuple[str, Callable[[], nn.Module], tuple[int, int]]


def cases(dry_run: bool) -> list[Case]:
    if dry_run:
        small = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 500}
        return [("gpt2-tiny", lambda: transformers.GPT2LMHeadModel(
            transformers.GPT2Config(**small)), (2, 32))]
    return [
        ("GPT-2 small", lambda: transformers.GPT2LMHeadModel(transformers.GPT2Config()), (4, 256)),
        ("BERT-base", lambda: transformers.BertModel(transformers.BertConfig()), (8, 256)),
        ("Llama 0.5B (GQA)", lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(
            hidden_size=1024, intermediate_size=4096, num_hidden_layers=16,
            num_attention_heads=16, num_key_value_heads=4, vocab_size=32000)), (4, 512)),
    ]


def _loss(output: Any) -> torch.Tensor:
    tensor = output if isinstance(output, torch.Tensor) else output[0]
    return tensor.float().mean()


def measure(build: Callable[[], nn.Module], shape: tuple[int, int], device: str) -> dict[str, Any]:
    torch.manual_seed(0)
    model = build().to(device)
    vocab = min(m.num_embeddings for m in model.modules() if isinstance(m, nn.Embedding))
    ids = torch.randint(0, vocab, shape, device=device)
    optimizer = torch.optim.Adam(model.parameters())
    model.train()
    peak = forward_peak = backward_peak = step_peak = before = after_forward = 0
    cuda = device == "cuda"
    for _ in range(2):
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        loss = _loss(model(ids))
        if cuda:
            after_forward = torch.cuda.memory_allocated()
            forward_peak = torch.cuda.max_memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        loss.backward()
        del loss
        if cuda:
            backward_peak = torch.cuda.max_memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        optimizer.step()
        if cuda:
            torch.cuda.synchronize()
            step_peak = torch.cuda.max_memory_allocated()
            peak = max(forward_peak, backward_peak, step_peak)
    # The summary runs after the measured steps, so nothing it does can touch them.
    stats = summary(model, input_data=[ids], mode="train", verbose=0)
    estimate = stats.training_memory("adam")
    result = {
        "estimate": estimate.total,
        "peak": peak,
        "before": before,
        "forward_resident": after_forward - before,
        "forward_peak": forward_peak,
        "backward_peak": backward_peak,
        "step_peak": step_peak,
        "params": estimate.params,
        "activations": estimate.activations,
        "optimizer": estimate.optimizer_state,
    }
    del model, optimizer, ids
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny models on CPU")
    args = parser.parse_args()
    if not args.dry_run and not torch.cuda.is_available():
        print("no CUDA device: nothing to measure (skipped)")
        return 0
    device = "cpu" if args.dry_run else "cuda"
    card = torch.cuda.get_device_name() if device == "cuda" else "cpu (dry run)"
    print(f"device: {card}, torch {torch.__version__}, transformers {transformers.__version__}\n")
    print("| model | tokens | params MB | activations MB | Adam state MB "
          "| estimate MB | measured peak MB | estimate / peak |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    details: list[str] = []
    for name, build, shape in cases(args.dry_run):
        r = measure(build, shape, device)
        ratio = r["estimate"] / r["peak"] if r["peak"] else float("nan")
        if r["peak"]:
            worst = max(worst, abs(ratio - 1))
        print(f"| {name} | {shape[0]}x{shape[1]} | {r['params'] / 1e6:,.0f} | "
              f"{r['activations'] / 1e6:,.0f} | {r['optimizer'] / 1e6:,.0f} | "
              f"{r['estimate'] / 1e6:,.0f} | {r['peak'] / 1e6:,.0f} | {ratio:.3f} |")
        details.append(
            f"{name}: resident before forward {r['before'] / 1e6:,.0f} MB, kept by forward "
            f"{r['forward_resident'] / 1e6:,.0f} MB, peaks: forward {r['forward_peak'] / 1e6:,.0f}"
            f", backward {r['backward_peak'] / 1e6:,.0f}, step {r['step_peak'] / 1e6:,.0f} MB"
        )
    print("\n" + "\n".join(details))
    if device == "cuda":
        print(f"\nlargest deviation: {worst:.1%} (target: within 10%) "
              f"{'PASS' if worst <= 0.10 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
