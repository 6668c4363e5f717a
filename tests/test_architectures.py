"""Real architectures from transformers, built from small configs (never
downloaded): exact parameter counts, MACs equal to an independent count
(``torch.utils.flop_counter.FlopCounterMode`` on eager code paths), and the same
total on CPU, on fake tensors (``device="meta"``) and for a model built on meta.

summaryplus runs each model as it comes: its default attention (SDPA for most;
Gemma2 and GPT-OSS default to eager) and, for mixture-of-experts models,
transformers 5's default ``grouped_mm`` experts (``torch._grouped_mm`` on CPU).
FlopCounterMode counts a copy with the same weights built with
``_attn_implementation = "eager"`` and ``_experts_implementation = "eager"`` (one
GEMM per hit expert): it has no formula for ``torch._grouped_mm``, nor for the CPU
flash-attention kernel. Routing sends every token to exactly ``top_k`` experts on
both paths, so the expert GEMMs add up to the same ``tokens * top_k`` rows
whatever the router picks; Switch Transformers' capacity-limited routing could
drop tokens, which the capacity of 64 (> 16 tokens) rules out here. On these
eager paths FlopCounterMode misses nothing, so no hand formula is needed."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from summaryplus import ModelStatistics, summary

VOCAB = 1000
BATCH, SEQ = 2, 8

Inputs = dict[str, torch.Tensor]


def tokens(batch: int = BATCH, seq: int = SEQ) -> Inputs:
    return {"input_ids": torch.randint(0, VOCAB, (batch, seq))}


def seq2seq(batch: int = BATCH, enc: int = SEQ, dec: int = 4) -> Inputs:
    return {
        "input_ids": torch.randint(0, VOCAB, (batch, enc)),
        "decoder_input_ids": torch.randint(0, VOCAB, (batch, dec)),
    }


def pixels(batch: int = BATCH, size: int = 32) -> Inputs:
    return {"pixel_values": torch.rand(batch, 3, size, size)}


@dataclass
class Arch:
    name: str
    model_class: str  # an attribute of ``transformers``
    config: Callable[[], Any]
    inputs: Callable[[], Inputs] = tokens
    # For a mixture of experts: transformers' default experts implementation,
    # the one summaryplus is checked on.
    moe: str | None = None
    marks: list[Any] = field(default_factory=list)
    # Marks for one test only ("params", "macs", "fake", "meta").
    xfail: dict[str, list[Any]] = field(default_factory=dict)


# Shared small sizes: hidden 64, 2 layers, 4 heads (2 KV heads where the model
# has grouped-query attention), MLP 128, vocabulary 1000.
DECODER = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
)
MOE = dict(DECODER, num_experts_per_tok=2)


# The slower half of the zoo by measured time (seq2seq, state-space, MoE...):
# run by default; ``-m "not slow"`` leaves them out.
SLOW = pytest.mark.slow




def _config(name: str, **kwargs: Any) -> Callable[[], Any]:
    transformers = pytest.importorskip("transformers")
    return lambda: getattr(transformers, name)(**kwargs)


ARCHITECTURES: list[Arch] = [
    # ---------------------------------------------------------- dense decoders
    Arch("gpt2", "GPT2LMHeadModel",
         _config("GPT2Config", n_layer=2, n_embd=64, n_head=4, vocab_size=VOCAB)),
    Arch("llama", "LlamaForCausalLM", _config("LlamaConfig", **DECODER)),
    Arch("mistral", "MistralForCausalLM", _config("MistralConfig", **DECODER, sliding_window=4)),
    Arch("qwen2", "Qwen2ForCausalLM", _config("Qwen2Config", **DECODER)),
    Arch("qwen3", "Qwen3ForCausalLM", _config("Qwen3Config", **DECODER, head_dim=16)),
    Arch("gemma", "GemmaForCausalLM", _config("GemmaConfig", **DECODER, head_dim=16)),
    Arch("gemma2", "Gemma2ForCausalLM",
         _config("Gemma2Config", **DECODER, head_dim=16, sliding_window=4), marks=[SLOW]),
    Arch("phi", "PhiForCausalLM", _config("PhiConfig", **DECODER)),
    Arch("phi3", "Phi3ForCausalLM",
         _config("Phi3Config", **DECODER, pad_token_id=0, eos_token_id=2)),
    Arch("opt", "OPTForCausalLM",
         _config("OPTConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, ffn_dim=128, word_embed_proj_dim=64)),
    Arch("gpt-neox", "GPTNeoXForCausalLM",
         _config("GPTNeoXConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=128)),
    Arch("falcon", "FalconForCausalLM",
         _config("FalconConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4)),
    # ---------------------------------------------------------------- encoders
    Arch("bert", "BertModel",
         _config("BertConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=128)),
    Arch("roberta", "RobertaForMaskedLM",
         _config("RobertaConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=128)),
    Arch("distilbert", "DistilBertModel",
         _config("DistilBertConfig", vocab_size=VOCAB, dim=64, n_layers=2, n_heads=4,
                 hidden_dim=128)),
    # ALBERT runs its one shared layer group num_hidden_layers times: its
    # parameters count once, its MACs every time.
    Arch("albert", "AlbertModel",
         _config("AlbertConfig", vocab_size=VOCAB, embedding_size=32, hidden_size=64,
                 num_hidden_layers=3, num_attention_heads=4, intermediate_size=128), marks=[SLOW]),
    # ---------------------------------------------------------- encoder-decoders
    Arch("t5", "T5ForConditionalGeneration",
         _config("T5Config", vocab_size=VOCAB, d_model=64, d_ff=128, num_layers=2,
                 num_heads=4, d_kv=16), seq2seq, marks=[SLOW]),
    Arch("bart", "BartForConditionalGeneration",
         _config("BartConfig", vocab_size=VOCAB, d_model=64, encoder_layers=2,
                 decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
                 encoder_ffn_dim=128, decoder_ffn_dim=128), seq2seq, marks=[SLOW]),
    Arch("whisper", "WhisperForConditionalGeneration",
         _config("WhisperConfig", vocab_size=VOCAB, d_model=64, encoder_layers=2,
                 decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
                 encoder_ffn_dim=128, decoder_ffn_dim=128, num_mel_bins=16,
                 max_source_positions=16, max_target_positions=32, pad_token_id=0,
                 bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
                 begin_suppress_tokens=None),
         lambda: {"input_features": torch.rand(BATCH, 16, 32),
                  "decoder_input_ids": torch.randint(0, VOCAB, (BATCH, 4))}, marks=[SLOW]),
    # ------------------------------------------------------------------ vision
    Arch("vit", "ViTModel",
         _config("ViTConfig", hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=128, image_size=32, patch_size=8), pixels),
    Arch("resnet", "ResNetForImageClassification",
         _config("ResNetConfig", embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1],
                 num_labels=10), pixels),
    Arch("convnext", "ConvNextForImageClassification",
         _config("ConvNextConfig", num_stages=2, hidden_sizes=[16, 32], depths=[1, 1],
                 num_labels=10),
         pixels),
    Arch("swin", "SwinForImageClassification",
         _config("SwinConfig", image_size=32, patch_size=4, embed_dim=16, depths=[1, 1],
                 num_heads=[2, 4], window_size=4, num_labels=10), pixels, marks=[SLOW]),
    # ------------------------------------------------------------------- audio
    Arch("wav2vec2", "Wav2Vec2Model",
         _config("Wav2Vec2Config", hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=128, conv_dim=(16, 16),
                 conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                 num_conv_pos_embedding_groups=4, do_stable_layer_norm=True),
         lambda: {"input_values": torch.rand(BATCH, 400)}, marks=[SLOW]),
    # ------------------------------------------------------------- state space
    Arch("mamba", "MambaForCausalLM",
         _config("MambaConfig", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 state_size=8), marks=[SLOW]),
    Arch("mamba2", "Mamba2ForCausalLM",
         _config("Mamba2Config", vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_heads=8, head_dim=16, state_size=8, n_groups=1, chunk_size=8), marks=[SLOW]),
    # ------------------------------------------------------- mixture of experts
    Arch("mixtral", "MixtralForCausalLM",
         _config("MixtralConfig", **MOE, num_local_experts=4), moe="grouped_mm", marks=[SLOW]),
    Arch("qwen2-moe", "Qwen2MoeForCausalLM",
         _config("Qwen2MoeConfig", **MOE, num_experts=4, moe_intermediate_size=32,
                 shared_expert_intermediate_size=64), moe="grouped_mm", marks=[SLOW]),
    Arch("qwen3-moe", "Qwen3MoeForCausalLM",
         _config("Qwen3MoeConfig", **MOE, num_experts=4, moe_intermediate_size=32,
                 head_dim=16), moe="grouped_mm", marks=[SLOW]),
    Arch("olmoe", "OlmoeForCausalLM",
         _config("OlmoeConfig", **MOE, num_experts=4), moe="grouped_mm", marks=[SLOW]),
    # Multi-head latent attention keeps one key per query head (as the real
    # config does: 128 and 128), so no grouped-query key/value heads.
    Arch("deepseek-v3", "DeepseekV3ForCausalLM",
         _config("DeepseekV3Config", **dict(MOE, num_key_value_heads=4),
                 moe_intermediate_size=32, n_routed_experts=4, n_shared_experts=1,
                 n_group=2, topk_group=1, first_k_dense_replace=1,
                 kv_lora_rank=16, q_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=8,
                 v_head_dim=16), moe="grouped_mm", marks=[SLOW]),
    Arch("jamba", "JambaForCausalLM",
         _config("JambaConfig", **MOE, num_experts=4, expert_layer_period=2,
                 expert_layer_offset=1, attn_layer_period=2, attn_layer_offset=1,
                 mamba_d_state=8, mamba_dt_rank=8), moe="grouped_mm", marks=[SLOW]),
    Arch("gpt-oss", "GptOssForCausalLM",
         _config("GptOssConfig", **MOE, num_local_experts=4, head_dim=16, sliding_window=4),
         moe="grouped_mm", marks=[SLOW]),
    Arch("switch", "SwitchTransformersForConditionalGeneration",
         _config("SwitchTransformersConfig", vocab_size=VOCAB, d_model=64, d_ff=128, d_kv=16,
                 num_heads=4, num_layers=2, num_decoder_layers=2, num_sparse_encoder_layers=1,
                 num_sparse_decoder_layers=1, num_experts=4, expert_capacity=64),
         seq2seq, moe="eager", marks=[SLOW]),
]
BY_NAME = {arch.name: arch for arch in ARCHITECTURES}


@functools.cache
def on_cpu(name: str) -> tuple[Any, Inputs, ModelStatistics]:
    """The model (default implementations), its inputs and its CPU summary,
    shared by the tests of one architecture."""
    arch = BY_NAME[name]
    torch.manual_seed(0)
    model = build(arch)
    inputs = arch.inputs()
    return model, inputs, summary(model, input_data=inputs, verbose=0)


def build(arch: Arch, eager: bool = False) -> Any:
    transformers = pytest.importorskip("transformers")
    config = arch.config()
    if eager:
        config._attn_implementation = "eager"
        if arch.moe:
            config._experts_implementation = "eager"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(transformers, arch.model_class)(config).eval()


def flop_counter_macs(arch: Arch) -> int:
    """The same model (same weights, so the same routing) on its eager code
    paths, counted by FlopCounterMode."""
    model, inputs, _ = on_cpu(arch.name)
    eager = build(arch, eager=True)
    eager.load_state_dict(model.state_dict())
    try:
        return _flop_counter_macs(eager, inputs, grad=False)
    except AssertionError as error:
        # FlopCounterMode's module tracker asks every module input for a grad
        # function; under no_grad a parameter fed straight into a forward
        # (transformers 5.x Mamba, Falcon-H1, Zamba2 ...) has none. The
        # forward's ops are the same with grad enabled.
        if "gradient function" not in str(error):
            raise
        return _flop_counter_macs(eager, inputs, grad=True)


def _flop_counter_macs(model: nn.Module, inputs: dict[str, Any], grad: bool) -> int:
    counter = FlopCounterMode(display=False)
    with torch.set_grad_enabled(grad), counter:
        model(**inputs)
    return counter.get_total_flops() // 2  # type: ignore[no-any-return]


def params(test: str) -> list[Any]:
    """One pytest.param per architecture, with its marks for ``test``."""
    return [
        pytest.param(a, id=a.name, marks=[*a.marks, *a.xfail.get(test, [])])
        for a in ARCHITECTURES
    ]


@pytest.fixture(autouse=True)
def _quiet_transformers() -> Iterator[None]:
    logger = logging.getLogger("transformers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@pytest.mark.parametrize("arch", params("params"))
def test_params_are_the_unique_parameter_elements(arch: Arch) -> None:
    # model.parameters() yields a tied tensor once (GPT-2, T5, BART, Whisper...
    # tie the LM head to the embedding; ALBERT reuses one layer's module).
    model, _, stats = on_cpu(arch.name)
    assert stats.total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch", params("macs"))
def test_macs_equal_flop_counter_on_eager_paths(arch: Arch) -> None:
    model, _, stats = on_cpu(arch.name)
    if arch.moe:
        # The MoE rows are about grouped GEMMs: make sure that is what ran.
        assert model.config._experts_implementation == arch.moe
    assert stats.uncounted_ops == {}
    assert stats.total_mult_adds == flop_counter_macs(arch) > 0


@pytest.mark.slow
def test_mixtral_matches_the_hand_count() -> None:
    # 16 tokens, head_dim 16, k/v width 2 * 16 = 32; per layer:
    #   q, o 2 * 16*64*64 = 131,072; k, v 2 * 16*64*32 = 65,536;
    #   attention 2 * 2*8*8*64 = 16,384; router 16*64*4 = 4,096;
    #   top-2 experts, gate + up + down: 2 * 3 * 16*64*128 = 786,432 -> 1,003,520
    # 2 * 1,003,520 + LM head 16*64*1000 = 1,024,000 -> 3,031,040
    _, _, stats = on_cpu("mixtral")
    assert stats.total_mult_adds == 3_031_040


@pytest.mark.parametrize("arch", params("fake"))
def test_fake_tensors_count_the_same(arch: Arch) -> None:
    model, inputs, cpu = on_cpu(arch.name)
    fake = summary(model, input_data=inputs, device="meta", verbose=0)
    assert fake.uncounted_ops == {}
    assert (fake.total_params, fake.total_mult_adds) == (cpu.total_params, cpu.total_mult_adds)


@pytest.mark.parametrize("arch", params("meta"))
def test_model_built_on_meta_counts_the_same(arch: Arch) -> None:
    _, inputs, cpu = on_cpu(arch.name)
    with torch.device("meta"):
        meta = build(arch)
    # (Wav2Vec2 keeps one CPU parameter: see
    # test_model_built_on_meta_with_one_cpu_parameter.)
    stats = summary(meta, input_data=inputs, verbose=0)
    assert stats.uncounted_ops == {}
    assert (stats.total_params, stats.total_mult_adds) == (cpu.total_params, cpu.total_mult_adds)


def test_grouped_mm_with_a_parameter_operand_on_fake_tensors() -> None:
    class Experts(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 8, 16))  # (groups, in, out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            offs = torch.tensor([2, 4, 6, 8], dtype=torch.int32, device=x.device)
            return torch._grouped_mm(x, self.weight, offs=offs)

    # 8 rows split 2/2/2/2 over 4 groups, each (2 x 8) @ (8 x 16):
    # 4 * 2 * 8 * 16 = 1,024
    assert summary(Experts(), input_size=(8, 8), verbose=0).total_mult_adds == 1024
    fake = summary(Experts(), input_size=(8, 8), device="meta", verbose=0)
    assert fake.total_mult_adds == 1024


def test_model_built_on_meta_with_one_cpu_parameter() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # The legacy constructor ignores the default device (Wav2Vec2's
            # masked_spec_embed, used only when masking in training).
            self.mask_embedding = nn.Parameter(torch.Tensor(4).fill_(1.0))
            self.linear = nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x)  # type: ignore[no-any-return]

    with torch.device("meta"):
        model = Mixed()
    assert model.mask_embedding.device.type == "cpu" and model.linear.weight.is_meta
    # (2 x 8) @ (8 x 4): 2 * 8 * 4 = 64
    assert summary(model, input_size=(2, 8), verbose=0).total_mult_adds == 64
