"""``inference_memory``: weights per dtype, the KV cache measured from the cache a
meta forward returns (GQA/MQA/MHA by the hand formula; sliding windows, MLA,
SSM and hybrid caches against the cache the model itself returns), the prefill
peak, and ``training_memory(dtype=...)``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from torch import nn

from summaryplus import InferenceMemory, inference_memory, load_summary, summary
from summaryplus.values import iter_tensors

transformers = pytest.importorskip("transformers")

SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             vocab_size=100)


def _meta(cls: Any, config: Any) -> nn.Module:
    with torch.device("meta"):
        model: nn.Module = cls(config)
    return model


def _returned_cache_elements(model: nn.Module, context: int, batch: int) -> int:
    """Float elements of the cache a plain meta forward returns (each view once)."""
    ids = torch.zeros(batch, context, dtype=torch.long, device="meta")
    with torch.no_grad():
        output = model(ids, use_cache=True)
    cache = output["cache"] if "cache" in output else output["past_key_values"]
    tensors = {id(t): t for t in iter_tensors(cache) if t.is_floating_point()}
    return sum(int(t.numel()) for t in tensors.values())


@pytest.mark.parametrize("kv_heads", [4, 2, 1])  # MHA, GQA, MQA
@pytest.mark.parametrize(("context", "batch", "kv_dtype", "size"),
                         [(64, 1, None, 2), (96, 3, "float8", 1), (32, 2, "float32", 4)])
def test_kv_cache_is_the_hand_formula_for_llama(
    kv_heads: int, context: int, batch: int, kv_dtype: str | None, size: int
) -> None:
    model = _meta(transformers.LlamaForCausalLM,
                  transformers.LlamaConfig(**SMALL, num_key_value_heads=kv_heads))
    memory = inference_memory(model, context=context, batch=batch, kv_dtype=kv_dtype)
    # 2 (K and V) x layers x kv heads x head dim (64 / 4) x context x batch x bytes
    assert memory.kv_cache == 2 * 2 * kv_heads * 16 * context * batch * size
    assert memory.has_cache and memory.kv_dtype == (kv_dtype or "bfloat16")


def test_a_mixture_of_experts_runs_through_the_fallbacks() -> None:
    # A meta forward cannot route tokens: the capture reruns on fake tensors with
    # an assumed routing, and the measurement starts afresh each time.
    config = transformers.MixtralConfig(**SMALL, num_key_value_heads=2, num_local_experts=4,
                                        num_experts_per_tok=2)
    model = _meta(transformers.MixtralForCausalLM, config)
    first, again = (inference_memory(model, context=64, batch=2) for _ in range(2))
    assert first.kv_cache == 2 * 2 * 2 * 16 * 64 * 2 * 2
    assert first.activations == again.activations > 0


def test_sliding_window_cache_is_the_window() -> None:
    model = _meta(transformers.MistralForCausalLM,
                  transformers.MistralConfig(**SMALL, num_key_value_heads=2, sliding_window=16))
    short, long = (inference_memory(model, context=t, batch=2) for t in (64, 256))
    # The window (15 kept tokens) and not the context: 2 x 2 x 2 x 16 x 15 x 2 x 2
    # bytes, plus the layers' int64 token counters.
    floats = 2 * 2 * 2 * 16 * 15 * 2 * 2
    assert short.kv_cache == long.kv_cache
    assert floats <= short.kv_cache <= floats + 2 * 8
    assert short.kv_cache - floats + 2 * _returned_cache_elements(model, 64, 2) == short.kv_cache


def test_mixed_sliding_and_global_layers_match_the_returned_cache() -> None:
    config = transformers.Gemma2Config(**SMALL, num_key_value_heads=2, head_dim=16,
                                       sliding_window=16)
    model = _meta(transformers.Gemma2ForCausalLM, config)
    memory = inference_memory(model, context=64, batch=2, kv_dtype="float16")
    elements = _returned_cache_elements(model, 64, 2)
    assert elements == 2 * 2 * 16 * 2 * (15 + 64)  # K,V x kv heads x dim x batch x (window + full)
    assert 2 * elements <= memory.kv_cache <= 2 * elements + 16


def test_mla_cache_is_the_compressed_latent() -> None:
    config = transformers.DeepseekV3Config(
        hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, vocab_size=100, kv_lora_rank=16,
        q_lora_rank=24, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16,
        n_routed_experts=4, num_experts_per_tok=2, first_k_dense_replace=2, n_group=1,
        topk_group=1,
    )
    model = _meta(transformers.DeepseekV3ForCausalLM, config)
    memory = inference_memory(model, context=64, batch=2)
    # (dense layers only: a plain meta forward cannot run the routed experts)
    # What transformers' DeepSeek-V3 keeps: layers x (kv_lora_rank + rope dims) per token,
    # far below the 2 x heads x head dim a plain cache would hold.
    assert memory.kv_cache == 2 * _returned_cache_elements(model, 64, 2)
    assert memory.kv_cache == 2 * (16 + 8) * 64 * 2 * 2


def test_ssm_state_does_not_grow_with_the_context() -> None:
    config = transformers.MambaConfig(hidden_size=64, num_hidden_layers=2, vocab_size=100,
                                      state_size=8, conv_kernel=4, expand=2)
    model = _meta(transformers.MambaForCausalLM, config)
    short, long = (inference_memory(model, context=t, batch=2) for t in (16, 64))
    # What transformers' Mamba keeps per layer x batch x (expand x hidden): its conv
    # window (4) in the weights' dtype (bf16: 2 B), its SSM state (8) in float32,
    # as its own code computes it (4 B), and one int64 token counter per layer.
    conv = 2 * 2 * 128 * 4 * 2
    ssm = 2 * 2 * 128 * 8 * 4
    counters = 2 * 8
    assert short.kv_cache == long.kv_cache == conv + ssm + counters == 20_496
    assert short.cache_fixed == ssm and short.cache_counters == counters
    text = str(short)
    assert "KV cache (bfloat16, incl. 16.38 kB float32 state, incl. 16 B counters)" in text
    assert "includes 16 B of integer bookkeeping" in text


def test_hybrid_cache_matches_the_returned_cache() -> None:
    config = transformers.JambaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100, attn_layer_period=2, attn_layer_offset=1,
        expert_layer_period=2, expert_layer_offset=1, num_experts=1, mamba_d_state=8,
        mamba_d_conv=4, mamba_expand=2,
    )
    model = _meta(transformers.JambaForCausalLM, config)
    memory = inference_memory(model, context=64, batch=2)
    # one attention layer (K and V x 2 heads x 16 x 64 tokens x batch 2, bf16), one
    # Mamba layer (batch 2 x 128 x conv 4 in bf16, x state 8 in float32) and the
    # one int64 length counter the returned cache keeps (8 B)
    attention = 2 * 2 * 16 * 64 * 2 * 2
    mamba = 2 * 128 * 4 * 2 + 2 * 128 * 8 * 4
    assert memory.kv_cache == attention + mamba + 8 == 26_632
    assert memory.cache_counters == 8
    floats = _returned_cache_elements(model, 64, 2)
    assert floats == 2 * 2 * 16 * 64 * 2 + 2 * 128 * (4 + 8)


def test_an_encoder_has_no_cache_and_says_so() -> None:
    config = transformers.BertConfig(**SMALL)
    memory = inference_memory(_meta(transformers.BertModel, config), context=64)
    assert memory.kv_cache == 0 and not memory.has_cache
    assert any("no cache" in line for line in memory.assumptions)
    assert "KV cache (none returned)" in str(memory)


def test_weights_per_dtype() -> None:
    model = nn.Sequential(nn.Embedding(100, 256), nn.LayerNorm(256), nn.Linear(256, 100))
    found = {d: inference_memory(model, context=8, dtype=d) for d in
             ("float32", "bfloat16", "int8", "int4")}
    params = 100 * 256 + 2 * 256 + 256 * 100 + 100
    assert found["float32"].weights == 4 * params
    assert found["bfloat16"].weights == 2 * params
    # Linear weight quantized; embedding, norm and bias stay bf16.
    kept = 100 * 256 + 2 * 256 + 100
    assert found["int8"].weights == kept * 2 + 25600 + 100 * 2  # + one scale per output row
    assert found["int4"].weights == kept * 2 + 25600 // 2 + 100 * 2 * 2  # 2 groups of 128 a row
    assert found["int4"].quantized_params == 25600 and found["int4"].unquantized_params == kept
    assert "one bfloat16 scale per 128 weights" in found["int4"].assumptions[0]
    assert found["int4"].scale_bytes == 400 and found["float32"].scale_bytes == 0


def test_output_head_and_tied_weights_stay_unquantized() -> None:
    config = transformers.LlamaConfig(**SMALL, num_key_value_heads=2, tie_word_embeddings=False)
    model = _meta(transformers.LlamaForCausalLM, config)
    memory = inference_memory(model, context=8, dtype="int4")
    # embed_tokens and lm_head (100 x 64 each) and 2 x 2 + 1 norms of 64 in bf16
    assert memory.unquantized_params == 2 * 100 * 64 + 5 * 64
    assert memory.quantized_params + memory.unquantized_params == sum(
        p.numel() for p in model.parameters()
    )


def test_prefill_peak_is_measured_once_per_layer_not_per_model() -> None:
    def activations(layers: int) -> int:
        config = transformers.LlamaConfig(**{**SMALL, "num_hidden_layers": layers},
                                          num_key_value_heads=2)
        model = _meta(transformers.LlamaForCausalLM, config)
        return inference_memory(model, context=256, batch=2).activations

    first = activations(2)
    # Freed tensors are freed: a deeper model holds the same working memory,
    # and the same run gives the same number.
    assert first == activations(4) == activations(2) > 0
    # At least the MLP's two [2, 256, 128] bf16 intermediates are alive at once.
    assert first >= 2 * 2 * 256 * 128 * 2


def test_summary_method_and_its_errors(tmp_path: Any) -> None:
    config = transformers.LlamaConfig(**SMALL, num_key_value_heads=2)
    model = _meta(transformers.LlamaForCausalLM, config)
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], verbose=0)
    memory = stats.inference_memory(context=128, batch=2, dtype="int8", kv_dtype="fp8")
    assert isinstance(memory, InferenceMemory)
    assert memory.kv_cache == 2 * 2 * 2 * 16 * 128 * 2 * 1
    assert memory.total == memory.weights + memory.buffers + memory.kv_cache + memory.activations
    data = json.loads(json.dumps(memory.to_dict()))
    assert data["total"] == memory.total and data["dtype"] == "int8"

    path = tmp_path / "s.json"
    stats.to_json(path)
    with pytest.raises(ValueError, match="loaded from JSON has none"):
        load_summary(path).inference_memory(context=128)  # type: ignore[attr-defined]
    vision = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
    with pytest.raises(ValueError, match="took float32 inputs"):
        vision.inference_memory(context=16)
    with pytest.raises(ValueError, match="dtype='int3' is not valid"):
        stats.inference_memory(context=16, dtype="int3")
    with pytest.raises(ValueError, match="context=0"):
        stats.inference_memory(context=0)


def test_the_model_is_left_as_it_was() -> None:
    config = transformers.LlamaConfig(**SMALL, num_key_value_heads=2)
    model = transformers.LlamaForCausalLM(config)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    inference_memory(model, context=32)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not p.is_meta for p in model.parameters())


def test_training_memory_in_a_planned_dtype() -> None:
    model = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 64))
    stats = summary(model, input_size=(8, 64), mode="train", verbose=0)
    full = stats.training_memory("adam")
    half = stats.training_memory("adam", mixed_precision=True, dtype="bfloat16")
    assert full.dtype is None and half.dtype == "bfloat16"
    assert half.params * 2 == full.params == stats.total_param_bytes
    assert half.gradients * 2 == full.gradients
    assert half.activations * 2 == full.activations
    assert half.master_weights == 4 * stats.trainable_params
    assert half.optimizer_state == 2 * 4 * stats.trainable_params
    assert "Params (bfloat16)" in str(half)
    with pytest.raises(ValueError, match="dtype='int4' is not valid"):
        stats.training_memory(dtype="int4")


def test_plot_memory_draws_inference_memory(tmp_path: Any) -> None:
    pytest.importorskip("matplotlib")
    from summaryplus import plot_memory

    config = transformers.LlamaConfig(**SMALL, num_key_value_heads=2)
    model = _meta(transformers.LlamaForCausalLM, config)
    memories = [inference_memory(model, context=64, dtype=d) for d in ("bfloat16", "int4")]
    figure = plot_memory(memories, path=tmp_path / "inference.png")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["weights bfloat16", "weights int4"]
    widths = {patch.get_gid(): patch.get_width() for patch in axes.patches if patch.get_y() < 0}
    assert widths["memory:KV cache (bfloat16)"] * 1e3 == pytest.approx(memories[0].kv_cache)
    assert (tmp_path / "inference.png").stat().st_size > 0
    assert plot_memory(memories[1]).axes[0].get_title(loc="left").startswith("Inference memory")
    with pytest.raises(ValueError, match="optimizer= applies to training memory"):
        plot_memory(memories[0], optimizer="adam")


@pytest.mark.parametrize("context", [0, -1])
def test_bad_counts_get_one_wording(context: int) -> None:
    stats = summary(nn.Sequential(nn.Embedding(10, 4)), input_size=(1, 3),
                    dtypes=[torch.long], verbose=0)
    with pytest.raises(ValueError, match=rf"context={context} is not valid; accepted "
                                         r"values: an int >= 1$"):
        stats.inference_memory(context=context)


def test_rwkv_state_is_found_by_what_it_is_and_held_in_its_own_dtype() -> None:
    # RWKV returns its recurrent state as `state` (no "cache" in the name): five
    # [batch, hidden, layers] tensors, the two token shifts in the weights' dtype
    # and the three WKV accumulators (num, den, max) in float32, which its code
    # creates as float32 whatever the weights.
    config = transformers.RwkvConfig(vocab_size=100, hidden_size=64, num_hidden_layers=2,
                                     attention_hidden_size=64, intermediate_size=128)
    model = _meta(transformers.RwkvForCausalLM, config)
    short, long = (inference_memory(model, context=t, batch=2) for t in (16, 64))
    # layers 2 x batch 2 x (2 x 64 x 2 B + 3 x 64 x 4 B): the same at any context
    assert short.kv_cache == long.kv_cache == 2 * 2 * (2 * 64 * 2 + 3 * 64 * 4) == 4_096
    assert short.has_cache and short.cache_fixed == 2 * 2 * 3 * 64 * 4
    assert not any("no cache" in line for line in short.assumptions)
    # kv_dtype applies to the part that follows the weights' dtype only
    assert inference_memory(model, context=16, batch=2, kv_dtype="float8").kv_cache == (
        2 * 2 * (2 * 64 * 1 + 3 * 64 * 4)
    )


def test_xlstm_state_is_measured_as_its_cache_holds_it() -> None:
    # transformers 5.x creates xLSTM's cache in the dtype of its embeddings
    # (xLSTMCache(..., dtype=inputs_embeds.dtype)): a bf16 model holds a bf16
    # state; a float32 model (the config's default dtype) a float32 one.
    config = transformers.xLSTMConfig(vocab_size=100, hidden_size=128, num_blocks=2,
                                      num_hidden_layers=2, num_heads=4)
    model = _meta(transformers.xLSTMForCausalLM, config)
    # per block: batch 2 x 4 heads x (C 16 x 32 + n 16 + m 1) = 4,232 elements
    elements = 2 * 2 * 4 * (16 * 32 + 16 + 1)
    served = inference_memory(model, context=16, batch=2)
    assert served.kv_cache == elements * 2 + 8 == 16_936  # + its int64 offset counter
    held = inference_memory(model, context=16, batch=2, kv_dtype="float32")
    assert held.kv_cache == elements * 4 + 8 == 33_864


def test_an_rnn_state_returned_next_to_the_output_is_the_cache() -> None:
    # nn.LSTM returns (output, (h, c)) and takes (h, c) back as its `hx`.
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    memory = inference_memory(lstm, input_size=(2, 5, 8), batch=2)
    # h and c: layers 2 x batch 2 x hidden 16, bf16
    assert memory.has_cache and memory.kv_cache == 2 * 2 * 2 * 16 * 2
    # A plain two-output forward whose second parameter takes no state: no cache.
    pair = nn.Bilinear(4, 4, 2)
    assert not inference_memory(pair, input_size=[(1, 4), (1, 4)], batch=1).has_cache
