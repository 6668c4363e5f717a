"""One rank of tests/test_distributed.py: summarizes an FSDP2-sharded transformer,
a tensor-parallel MLP and a DDP-wrapped model, writing its results as JSON.

Run as ``python distributed_worker.py RANK WORLD PORT OUT_DIR``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(x)  # type: ignore[no-any-return]


class Transformer(nn.Module):
    def __init__(self, vocab: int = 64, dim: int = 16, depth: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(x)  # type: ignore[no-any-return]


def _record(stats: Any) -> dict[str, Any]:
    memory = stats.training_memory("adam") if stats.grad_enabled else None
    return {
        "total_params": stats.total_params,
        "local_params": stats.local_params,
        "local_param_bytes": stats.local_param_bytes,
        "total_param_bytes": stats.total_param_bytes,
        "macs": stats.total_mult_adds,
        "uncounted": stats.uncounted_ops,
        "classes": [row.class_name for row in stats.summary_list],
        "paths": [row.module_path for row in stats.summary_list],
        "local_total": memory.local_total if memory else None,
        "total": memory.total if memory else None,
        "local_optimizer_state": memory.local_optimizer_state if memory else None,
        "optimizer_state": memory.optimizer_state if memory else None,
    }


def main(rank: int, world: int, port: str, out: Path) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        RowwiseParallel,
        parallelize_module,
    )

    from summaryplus import summary

    mesh = init_device_mesh("cpu", (world,))
    results: dict[str, Any] = {}
    printed = io.StringIO()

    torch.manual_seed(0)
    reference = Transformer()
    results["unsharded"] = _record(
        summary(reference, input_size=(2, 8), dtypes=[torch.long], mode="train", verbose=0)
    )

    torch.manual_seed(0)
    model = Transformer()
    for block in model.blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    with contextlib.redirect_stdout(printed):  # verbose=1: only rank 0 prints
        stats = summary(model, input_size=(2, 8), dtypes=[torch.long], mode="train", verbose=1)
    results["fsdp"] = _record(stats)
    results["fsdp_static"] = _record(summary(model, verbose=0))

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 8))
    results["mlp_unsharded"] = _record(summary(mlp, input_size=(4, 8), mode="train", verbose=0))
    parallelize_module(mlp, mesh, {"0": ColwiseParallel(), "2": RowwiseParallel()})
    results["tp"] = _record(summary(mlp, input_size=(4, 8), mode="train", verbose=0))

    ddp = nn.parallel.DistributedDataParallel(Transformer())
    results["ddp"] = _record(summary(ddp, input_size=(2, 8), dtypes=[torch.long], verbose=0))

    results["printed"] = printed.getvalue()
    (out / f"rank{rank}.json").write_text(json.dumps(results), encoding="utf-8")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
