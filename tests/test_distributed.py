"""Summaries under torch.distributed: two real gloo ranks on CPU, spawned here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist

from summaryplus import summary

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed missing")
WORLD = 2


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("ranks")
    worker = Path(__file__).with_name("distributed_worker.py")
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(worker), str(rank), str(WORLD), port, str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
        )
        for rank in range(WORLD)
    ]
    logs = []
    try:
        for process in processes:
            logs.append(process.communicate(timeout=240)[0])
    finally:
        for process in processes:
            process.kill()
    for rank, process in enumerate(processes):
        assert process.returncode == 0, f"rank {rank} failed:\n{logs[rank][-4000:]}"
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(WORLD)]


def test_fsdp2_totals_equal_the_unsharded_model(ranks: list[dict[str, Any]]) -> None:
    for result in ranks:
        fsdp, plain = result["fsdp"], result["unsharded"]
        assert fsdp["total_params"] == plain["total_params"]
        assert fsdp["total_param_bytes"] == plain["total_param_bytes"]
        assert fsdp["macs"] == plain["macs"] > 0
        assert fsdp["uncounted"] == {}
        assert fsdp["classes"] == plain["classes"]  # FSDPBlock reads as Block
        assert result["fsdp_static"]["total_params"] == plain["total_params"]
        # After the train-mode summary the model is resharded, as it was before.
        assert result["fsdp_static"]["local_params"] == result["fsdp"]["local_params"]


def test_fsdp2_local_shards_add_up_to_the_totals(ranks: list[dict[str, Any]]) -> None:
    total = ranks[0]["fsdp"]["total_params"]
    assert sum(r["fsdp"]["local_params"] for r in ranks) == total
    assert all(r["fsdp"]["local_params"] < total for r in ranks)
    assert sum(r["fsdp"]["local_param_bytes"] for r in ranks) == ranks[0]["fsdp"][
        "total_param_bytes"
    ]
    for r in ranks:
        assert r["fsdp"]["local_total"] < r["fsdp"]["total"]
        assert r["fsdp"]["local_optimizer_state"] < r["fsdp"]["optimizer_state"]


def test_tensor_parallel_mlp(ranks: list[dict[str, Any]]) -> None:
    for result in ranks:
        tp, plain = result["tp"], result["mlp_unsharded"]
        assert tp["total_params"] == plain["total_params"]
        assert tp["macs"] == plain["macs"] == 4 * 8 * 32 + 4 * 32 * 8
        assert tp["uncounted"] == {}
    # Colwise fc1 is sharded; Rowwise fc2 shards its weight and replicates its bias.
    replicated_bias = 8
    total = ranks[0]["tp"]["total_params"]
    assert sum(r["tp"]["local_params"] for r in ranks) == total + (WORLD - 1) * replicated_bias


def test_ddp_wrapper_is_transparent(ranks: list[dict[str, Any]]) -> None:
    for result in ranks:
        ddp = result["ddp"]
        assert ddp["classes"][0] == "Transformer"
        assert not any(path.startswith("module") for path in ddp["paths"])
        assert ddp["total_params"] == result["unsharded"]["total_params"]


def test_only_rank_zero_prints(ranks: list[dict[str, Any]]) -> None:
    assert "Total params" in ranks[0]["printed"]
    assert ranks[1]["printed"] == ""


def test_planning_a_sharded_run_on_the_meta_device() -> None:
    from torch import nn

    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(1024, 4096), nn.GELU(), nn.Linear(4096, 1024))
    stats = summary(model, input_size=(8, 1024), mode="train", verbose=0)
    whole = stats.training_memory("adam")
    per_rank = stats.training_memory("adam", shards=8)
    params = 2 * 1024 * 4096 + 4096 + 1024
    assert per_rank.local_params == -(-params * 4 // 8)
    assert per_rank.local_optimizer_state == -(-2 * params * 4 // 8)
    assert per_rank.local_total < whole.total
    with pytest.raises(ValueError, match="shards"):
        stats.training_memory("adam", shards=0)
