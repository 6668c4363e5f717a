"""``plan()`` and ``summaryplus plan``: Llama-3-8B/70B- and Mixtral-8x7B-shaped
configs built on meta, an encoder config, a factory; text and JSON; GPU fit."""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from summaryplus.cli import main
from summaryplus.gpus import GPUS
from summaryplus.plan import plan

transformers = pytest.importorskip("transformers")

LLAMA_8B = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                max_position_embeddings=8192, architectures=["LlamaForCausalLM"])
LLAMA_70B = dict(LLAMA_8B, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                 num_attention_heads=64)
MIXTRAL = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
               num_attention_heads=32, num_key_value_heads=8, vocab_size=32000,
               num_local_experts=8, num_experts_per_tok=2, architectures=["MixtralForCausalLM"])


def _config(tmp_path: Path, name: str, config: Any) -> Path:
    folder = tmp_path / name
    config.save_pretrained(folder)
    return folder / "config.json"


def _tiny_whisper(layers: int, **overrides: Any) -> Any:
    """A Whisper config small enough to plan in a test (``layers`` each side)."""
    return transformers.WhisperConfig(
        d_model=64, encoder_layers=layers, decoder_layers=layers, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=100,
        num_mel_bins=80, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        decoder_start_token_id=1, suppress_tokens=None, begin_suppress_tokens=None,
        architectures=["WhisperForConditionalGeneration"], **overrides,
    )


def _plan_json(capsys: Any, *argv: str) -> dict[str, Any]:
    assert main(["plan", *argv, "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _kv(layers: int, kv_heads: int, head_dim: int, context: int, batch: int, size: int) -> int:
    return 2 * layers * kv_heads * head_dim * context * batch * size


def test_gpu_sizes_in_one_place() -> None:
    keys = ["l4", "a100-40gb", "l40s", "h100-sxm", "h200", "b200", "mi300x"]
    assert [g.key for g in GPUS] == keys
    # usable: the driver's total less 512 MiB (an 80 GB H100: 81,559 MiB reported)
    assert GPUS[3].bytes == (81_559 - 512) * 2**20


def test_plan_of_a_factory_model() -> None:
    model = nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100))
    found = plan(model, context=32, batch=2)
    assert found.total_params == 100 * 16 + 16 * 100 + 100
    assert found.forward_flops_per_token == 2 * 16 * 100
    # backward: the Linear's weight gradient and its input gradient (2 x 1600 MACs a
    # token), the embedding's gradient is a scatter (no MACs)
    assert found.training_flops_per_token == 3 * 2 * 16 * 100
    assert [m.dtype for m in found.inference] == ["bfloat16", "int8", "int4"]
    assert all(m.kv_cache == 0 and not m.has_cache for m in found.inference)
    assert found.training.dtype == "bfloat16" and found.training.master_weights == 4 * 3300
    assert all(n == 1 for row in found.fits().values() for n in row.values())


def test_plan_llama_8b_config(tmp_path: Path, capsys: Any) -> None:
    path = _config(tmp_path, "llama8b", transformers.LlamaConfig(**LLAMA_8B))
    data = _plan_json(capsys, str(path), "--context", "256", "--batch", "2")
    assert data["params"] == {"total": 8_030_261_248, "trainable": 8_030_261_248,
                              "active_per_token": None}
    bf16, int8, int4 = data["inference"]
    assert bf16["kv_cache"] == _kv(32, 8, 128, 256, 2, 2) == 67_108_864
    assert int4["kv_cache"] == bf16["kv_cache"]
    assert bf16["weights"] == 2 * 8_030_261_248
    # Kept in bf16: embeddings and lm_head (2 x 128256 x 4096) and 65 norms of 4096.
    kept = 2 * 128256 * 4096 + 65 * 4096
    quantized = 8_030_261_248 - kept
    # int8: one bf16 scale per output row: 32 x (4096 + 1024 + 1024 + 4096 + 3 x 14336 - 14336
    # + 4096) = 32 x 43008 rows
    assert int8["weights"] == 2 * kept + quantized + 32 * 43008 * 2 == 9_083_953_152
    # int4: half a byte a weight and one bf16 scale per 128 weights
    assert int4["weights"] == 2 * kept + quantized // 2 + quantized // 128 * 2 == 5_700_591_616
    assert data["fits"]["inference bfloat16"]["l4"] == 1
    assert data["fits"]["training Adam, bf16 mixed"]["h100-sxm"] is None
    assert data["flops_per_token"]["complete"] is True


def test_plan_text_and_shards(tmp_path: Path, capsys: Any) -> None:
    config = transformers.LlamaConfig(**{**LLAMA_8B, "num_hidden_layers": 2})
    path = _config(tmp_path, "llama8b", config)
    assert main(["plan", str(path.parent), "--context", "128", "--shards", "8"]) == 0
    out = capsys.readouterr().out
    # 2 x 128256 x 4096 embeddings + 2 layers x (2 x 4096^2 + 2 x 4096 x 1024 + 3 x 4096 x 14336)
    # + 5 norms of 4096
    for text in ("Params", "1,486,901,248", "Forward FLOPs per token", "KV cache (bfloat16)",
                 "weights int4", "Training memory (adam, bf16 mixed precision, 8 GPUs)",
                 "Per GPU with 8 shards (FSDP)", "h200", "GPUs needed per GPU model",
                 "Per GPU of 8", "Per GPU on 8 (tensor parallel)", "Speed bounds at context 128"):
        assert text in out
    # One header per section: the inference section is one table, not one per dtype.
    assert out.count("Inference memory at") == 1
    assert "on 1 GPU" not in out
    data = _plan_json(capsys, str(path), "--context", "128", "--shards", "8")
    training = data["training"]
    assert training["per_gpu"] == training["local_total"] < training["total"]
    # Tensor parallel: weights and KV cache split 8 ways, buffers and activations whole.
    for memory in data["inference"]:
        split = -(-(memory["weights"] + memory["kv_cache"]) // 8)
        assert memory["per_gpu"] == split + memory["buffers"] + memory["activations"]
        assert memory["per_gpu"] < memory["total"]
    for gpu in GPUS:
        expected = 1 if training["total"] <= gpu.bytes else (
            8 if training["per_gpu"] <= gpu.bytes else None
        )
        assert data["fits"]["training Adam, bf16 mixed"][gpu.key] == expected


@pytest.mark.slow
def test_plan_llama_70b_config_costs_seconds_not_memory(tmp_path: Path, capsys: Any) -> None:
    path = _config(tmp_path, "llama70b", transformers.LlamaConfig(**LLAMA_70B))
    data = _plan_json(capsys, str(path), "--context", "64")
    assert data["params"]["total"] == 70_553_706_496
    bf16 = data["inference"][0]
    assert bf16["kv_cache"] == _kv(80, 8, 128, 64, 1, 2)
    assert bf16["weights"] == 2 * 70_553_706_496
    assert data["fits"]["inference bfloat16"]["h100-sxm"] is None
    assert data["fits"]["inference int4"]["l40s"] == 1
    # Built and run on meta: the process never held the 141 GB of bf16 weights.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 8 * 2**20  # kB: 8 GiB


@pytest.mark.slow
def test_plan_mixtral_config(tmp_path: Path, capsys: Any) -> None:
    path = _config(tmp_path, "mixtral", transformers.MixtralConfig(**MIXTRAL))
    data = _plan_json(capsys, str(path), "--context", "64")
    assert data["params"]["total"] == 46_702_792_704
    assert data["params"]["active_per_token"] == 12_879_925_248
    assert data["inference"][0]["kv_cache"] == _kv(32, 8, 128, 64, 1, 2)
    # Expert weights (3-D) are quantized too.
    assert data["inference"][2]["quantized_params"] > 45e9


def test_plan_encoder_config_has_no_kv_cache(tmp_path: Path, capsys: Any) -> None:
    config = transformers.BertConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                     num_attention_heads=4, vocab_size=100)
    data = _plan_json(capsys, str(_config(tmp_path, "bert", config)), "--context", "32")
    assert all(m["kv_cache"] == 0 and not m["has_cache"] for m in data["inference"])
    assert "no cache" in data["inference"][0]["assumptions"][-1]


def test_plan_errors(tmp_path: Path, capsys: Any) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    assert main(["plan", str(weights)]) == 2
    assert "plan needs a config.json or a factory" in capsys.readouterr().err
    assert main(["plan", "torch.nn:Linear"]) == 1  # Linear() needs arguments
    assert capsys.readouterr().err.count("\n") == 1
    for value in ("0", "-5", "abc"):  # one wording for every bad count
        with pytest.raises(SystemExit):
            main(["plan", "x.json", "--context", value])
        assert f"--context: {value!r} is not an integer >= 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="shards=0"):
        plan(nn.Linear(2, 2), context=4, shards=0)


def test_plan_whisper_and_clip_configs(tmp_path: Path, capsys: Any) -> None:
    whisper = _tiny_whisper(layers=2)
    data = _plan_json(capsys, str(_config(tmp_path, "whisper", whisper)), "--context", "64")
    # The encoder-decoder cache it returns: decoder self-attention at 64 tokens and
    # cross-attention over the 1500 encoder positions (2 layers, 4 heads of 16 dims).
    assert data["inference"][0]["kv_cache"] == _kv(2, 4, 16, 64, 1, 2) + _kv(2, 4, 16, 1500, 1, 2)
    assert data["params"]["trainable"] == data["params"]["total"] - 1500 * 64  # frozen positions

    clip = transformers.CLIPConfig(
        text_config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, vocab_size=100),
        vision_config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, image_size=32, patch_size=8),
        projection_dim=32, architectures=["CLIPModel"],
    )
    data = _plan_json(capsys, str(_config(tmp_path, "clip", clip)), "--context", "16")
    assert data["params"]["total"] == 163_137
    assert all(m["kv_cache"] == 0 and not m["has_cache"] for m in data["inference"])
    assert data["flops_per_token"]["forward"] > 0


def test_plan_of_a_hub_name_reads_only_its_config(tmp_path: Path) -> None:
    """``summaryplus plan ORG/NAME`` in a real process, offline, from a pre-filled
    hub cache holding config.json only: the KV cache is the GQA hand formula."""
    import os
    import subprocess
    import sys

    from test_cli_inputs import fill_cache  # the hub cache layout, written once there

    small = dict(LLAMA_8B, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                 num_attention_heads=8, num_key_value_heads=2, vocab_size=1000)
    cache = tmp_path / "hub"
    fill_cache(cache, "tiny-org/tiny-llama", {**small, "model_type": "llama"})
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1",
           "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "home")}
    completed = subprocess.run(
        [sys.executable, "-m", "summaryplus", "plan", "tiny-org/tiny-llama",
         "--context", "512", "--batch", "2", "--format", "json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    # 2 x 2 layers x 2 KV heads x 32 dims x 512 tokens x batch 2 x 2 bytes
    assert data["inference"][0]["kv_cache"] == _kv(2, 2, 32, 512, 2, 2) == 524_288
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == ["config.json", "main"]


def test_a_context_longer_than_the_decoder_takes_is_one_line(tmp_path: Path, capsys: Any) -> None:
    whisper = _tiny_whisper(layers=1, max_target_positions=64)
    assert main(["plan", str(_config(tmp_path, "whisper", whisper)), "--context", "100"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seq-len" not in err
    assert "100 tokens: the whisper decoder takes at most 64 tokens" in err


def test_without_context_a_decoder_plans_at_the_most_it_takes(tmp_path: Path, capsys: Any) -> None:
    # Before: 4,096 tokens by default, so every Whisper config failed without --context.
    whisper = _tiny_whisper(layers=1, max_target_positions=64)
    data = _plan_json(capsys, str(_config(tmp_path, "whisper", whisper)))
    assert data["context"] == 64
    assert data["inference"][0]["kv_cache"] == _kv(1, 4, 16, 64, 1, 2) + _kv(1, 4, 16, 1500, 1, 2)
    llama = transformers.LlamaConfig(**dict(LLAMA_8B, hidden_size=64, intermediate_size=128,
                                            num_hidden_layers=1, num_attention_heads=4,
                                            num_key_value_heads=2, vocab_size=100))
    assert _plan_json(capsys, str(_config(tmp_path, "llama", llama)))["context"] == 4096


def test_a_factory_model_that_takes_no_tokens_says_what_plan_gave_it(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vision.py").write_text(
        "from torch import nn\n\n"
        "def make():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten())\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "vision.py:make", "--context", "16", "--batch", "2"]) == 1
    err = capsys.readouterr().err
    # Before: torch's dtype error alone.
    assert err.count("\n") == 1
    assert "plan runs a factory's model on token ids of shape [2, 16] (int64)" in err


def test_plan_refuses_what_has_no_tokens(tmp_path: Path, capsys: Any) -> None:
    # Before: a ViT config was planned "at context 4,096" with FLOPs per token of
    # its 197 patches; an exported archive was read as a config ("not valid JSON").
    vit = transformers.ViTConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                 num_attention_heads=2, image_size=32, patch_size=8,
                                 architectures=["ViTForImageClassification"])
    assert main(["plan", str(_config(tmp_path, "vit", vit))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "plan is for models that take tokens; ViTForImageClassification takes " in err
    program = torch.export.export(nn.Linear(4, 2), (torch.randn(3, 4),))
    torch.export.save(program, tmp_path / "linear.pt2")
    assert main(["plan", str(tmp_path / "linear.pt2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plan needs a config.json or a factory (an exported" in err
