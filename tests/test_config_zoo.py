"""Newer architectures of transformers 5.x from their ``config.json`` alone, as a
user meets them: each tiny config is written by its own config class
(``to_json_file``: ``{"__float__": "Infinity"}`` for an infinite
``time_step_limit``, nested sub-configs, no ``architectures``), then
``summaryplus CONFIG`` and ``summaryplus plan CONFIG`` run with no flags, or
with exactly the flags the first message names.

Also: configs read by transformers' loader, ``auto_map`` code never imported
without ``--trust-remote-code``, the causal-LM head for a config that names no
architectures, the user's inputs placed before derived ones, NaFlex inputs and
the position-table limit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli import cli, one_error_line

transformers = pytest.importorskip("transformers")

D = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=2)
MAMBA2 = dict(mamba_n_heads=8, mamba_d_head=16, mamba_d_state=8, mamba_n_groups=1,
              mamba_chunk_size=8)


def _config(name: str, **kwargs: Any) -> Callable[[], Any]:
    return lambda: getattr(transformers, name)(**kwargs)


# name -> (config, flags `summaryplus CONFIG` needs (named by its first message),
# whether `plan` runs it: a model that takes no tokens is refused, naming the
# command that summarizes it)
ZOO: dict[str, tuple[Callable[[], Any], list[str], bool]] = {
    "falcon_h1": (_config("FalconH1Config", **D, head_dim=16, mamba_d_ssm=64, mamba_n_heads=4,
                          mamba_d_head=16, mamba_d_state=8, mamba_n_groups=1,
                          mamba_chunk_size=8), [], True),
    "zamba2": (_config("Zamba2Config", vocab_size=1000, hidden_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, mamba_d_state=8,
                       mamba_headdim=16, n_mamba_heads=8, hybrid_layer_ids=[1],
                       intermediate_size=128, chunk_size=8,
                       layers_block_type=["mamba", "hybrid"]), [], True),
    "qwen3_next": (_config("Qwen3NextConfig", **D, head_dim=16, num_experts=4,
                           num_experts_per_tok=2, moe_intermediate_size=32,
                           shared_expert_intermediate_size=32, linear_num_value_heads=4,
                           linear_num_key_heads=2, linear_key_head_dim=16,
                           linear_value_head_dim=16, full_attention_interval=2), [], True),
    "rwkv": (_config("RwkvConfig", vocab_size=1000, hidden_size=64, num_hidden_layers=2,
                     attention_hidden_size=64, intermediate_size=128, context_length=128),
             [], True),
    "xlstm": (_config("xLSTMConfig", vocab_size=1000, hidden_size=128, num_blocks=2,
                      num_hidden_layers=2, num_heads=4), [], True),
    "mamba2": (_config("Mamba2Config", vocab_size=1000, hidden_size=64, num_hidden_layers=2,
                       num_heads=8, head_dim=16, state_size=8, n_groups=1, chunk_size=8),
               [], True),
    "jamba": (_config("JambaConfig", **D, num_experts=4, num_experts_per_tok=2,
                      expert_layer_period=2, expert_layer_offset=1, attn_layer_period=2,
                      attn_layer_offset=1, mamba_d_state=8, mamba_dt_rank=8), [], True),
    "bamba": (_config("BambaConfig", **D, **MAMBA2, attn_layer_indices=[1]), [], True),
    "falcon_mamba": (_config("FalconMambaConfig", vocab_size=1000, hidden_size=64,
                             num_hidden_layers=2, state_size=8), [], True),
    "granitemoehybrid": (_config("GraniteMoeHybridConfig", **D, **MAMBA2, num_local_experts=4,
                                 num_experts_per_tok=2, layer_types=["mamba", "attention"]),
                         [], True),
    "nemotron_h": (_config("NemotronHConfig", **D, mamba_num_heads=8, mamba_head_dim=16,
                           ssm_state_size=8, n_groups=1, chunk_size=8,
                           hybrid_override_pattern="M*"), [], True),
    "recurrent_gemma": (_config("RecurrentGemmaConfig", vocab_size=1000, hidden_size=64,
                                intermediate_size=128, num_hidden_layers=3,
                                num_attention_heads=4, num_key_value_heads=1, lru_width=64,
                                attention_window_size=16), [], True),
    "lfm2": (_config("Lfm2Config", **D, layer_types=["conv", "full_attention"]), [], True),
    "siglip2": (_config("Siglip2Config",
                        text_config=dict(vocab_size=1000, hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4),
                        vision_config=dict(hidden_size=64, intermediate_size=128,
                                           num_hidden_layers=2, num_attention_heads=4,
                                           num_patches=64, patch_size=4)), [], True),
    "patchtst": (_config("PatchTSTConfig", num_input_channels=3, context_length=32,
                         patch_length=8, patch_stride=8, d_model=32, num_hidden_layers=2,
                         num_attention_heads=4, ffn_dim=64), [], False),
    "patchtsmixer": (_config("PatchTSMixerConfig", num_input_channels=3, context_length=32,
                             patch_length=8, patch_stride=8, d_model=16, num_layers=2),
                     [], False),
    # EnCodec keeps its convolutions' strides as int64 buffers and pads by them:
    # a meta model has no values there, and the message says so (--device cpu).
    "encodec": (_config("EncodecConfig", num_filters=4, hidden_size=16, codebook_size=32,
                        upsampling_ratios=[4, 2], num_residual_layers=1),
                ["--device", "cpu"], False),
    "dac": (_config("DacConfig", encoder_hidden_size=8, downsampling_ratios=[2, 2],
                    decoder_hidden_size=16, n_codebooks=2, codebook_size=32, codebook_dim=4,
                    hidden_size=32, upsampling_ratios=[2, 2]), [], False),
    "timesfm": (_config("TimesFmConfig", hidden_size=64, intermediate_size=128,
                        num_hidden_layers=2, num_attention_heads=4, head_dim=16,
                        patch_length=8, context_length=64, horizon_length=16),
                ["--input", "past_values_padding=1,64:long", "--input", "freq=1:long"], False),
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables ``build_from_config`` sets for the command (whose process
    ends after it), restored after a test that calls it directly."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TRANSFORMERS_DISABLE_TORCH_CHECK"):
        monkeypatch.setenv(name, "1")


def _write(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    ZOO[name][0]().to_json_file(str(path))
    return path


def _named_flags(message: str) -> list[str]:
    """The flags an error line tells the user to add: `--device cpu`, or each
    `--input NAME=SHAPE[:DTYPE]` (the test fills in the shape)."""
    flags = []
    if "try --device cpu" in message:
        flags += ["--device", "cpu"]
    for name in re.findall(r"--input (\w+)=SHAPE", message):
        flags += ["--input", name]
    return flags


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ZOO))
def test_each_newer_architecture_goes_through_summary_and_plan(name: str, tmp_path: Path) -> None:
    path = _write(name, tmp_path / name)
    _, flags, takes_tokens = ZOO[name]
    result = cli(path, cwd=tmp_path)
    if flags:
        # The first message names exactly the flags that make it work.
        named = _named_flags(one_error_line(result))
        assert named == [f.split("=")[0] if f.startswith(("past", "freq")) else f
                         for f in flags], result.err
        result = cli(path, *flags, cwd=tmp_path)
    assert result.code == 0, result.err
    lines = result.out.rstrip().splitlines()
    assert lines[-1].startswith("Inputs: ")
    assert lines[-2].startswith("built ") and "the config names no architectures" in lines[-2]
    planned = cli("plan", path, cwd=tmp_path)
    if takes_tokens:
        assert planned.code == 0, planned.err
        try:
            built = transformers.MODEL_FOR_CAUSAL_LM_MAPPING[type(ZOO[name][0]())].__name__
        except KeyError:
            built = None
        if built is not None:  # the causal-LM head, said
            assert planned.out.startswith(f"{built} at context")
            assert f"Assumed: built {built}: the config names no architectures" in planned.out
    else:
        assert planned.code == 2
        line = one_error_line(planned)
        assert "plan is for models that take tokens" in line or "plan takes no --input" in line
        assert "summarize it with `summaryplus TARGET`" in line


@pytest.mark.parametrize("name", ["mamba2", "falcon_h1"])
def test_infinite_floats_in_a_config_read_back_as_transformers_reads_them(
    name: str, tmp_path: Path, offline: None
) -> None:
    from summaryplus._configs import build_from_config

    path = _write(name, tmp_path)
    data = json.loads(path.read_text())
    assert {"__float__": "Infinity"} in data["time_step_limit"]
    built = build_from_config(path, None, None, seq_len=8, batch=1)
    assert built.model.config.time_step_limit[1] == float("inf")


def test_dtype_and_nested_configs_read_as_transformers_reads_them(
    tmp_path: Path, offline: None
) -> None:
    from summaryplus._configs import build_from_config

    path = _write("siglip2", tmp_path)
    data = json.loads(path.read_text())
    data["torch_dtype"] = "bfloat16"  # the older key, as many hub configs still write it
    data.pop("dtype", None)
    path.write_text(json.dumps(data))
    built = build_from_config(path, None, None, seq_len=8, batch=1)
    assert type(built.model.config.vision_config).__name__ == "Siglip2VisionConfig"
    assert {p.dtype for p in built.model.parameters()} == {__import__("torch").bfloat16}


def test_remote_code_is_imported_only_with_trust_remote_code(tmp_path: Path) -> None:
    marker = tmp_path / "remote-code-ran"
    (tmp_path / "configuration_x.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import LlamaConfig\n"
        "class XConfig(LlamaConfig):\n"
        "    model_type = 'x-remote'\n"
    )
    config = {"model_type": "x-remote", "architectures": ["XForCausalLM"],
              "auto_map": {"AutoConfig": "configuration_x.XConfig"},
              "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100}
    (tmp_path / "config.json").write_text(json.dumps(config))
    for argv in ([tmp_path / "config.json"], ["plan", tmp_path / "config.json"]):
        line = one_error_line(cli(*argv, cwd=tmp_path))
        assert "needs custom code (auto_map)" in line and "--trust-remote-code" in line
        assert not marker.exists()
    # With the flag, transformers imports it (and the missing model class is said).
    result = cli(tmp_path / "config.json", "--trust-remote-code", cwd=tmp_path)
    assert marker.read_text() == "ran"
    assert "XForCausalLM" in one_error_line(result)


def test_a_config_without_architectures_gets_its_causal_lm_head(tmp_path: Path) -> None:
    config = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
              "vocab_size": 100, "tie_word_embeddings": False}
    (tmp_path / "config.json").write_text(json.dumps(config))
    planned = cli("plan", tmp_path / "config.json", "--context", "16", cwd=tmp_path)
    assert planned.code == 0, planned.err
    # base: embeddings 100 x 32 + attention (32 x 32 x 2 + 32 x 16 x 2) + MLP 3 x 32 x 64
    # + 3 norms of 32 = 3,200 + 3,072 + 6,144 + 96 = 12,512; the head adds 100 x 32
    assert "Params  " in planned.out and "15,712" in planned.out
    assert planned.out.startswith("LlamaForCausalLM at context 16")
    assert "built LlamaForCausalLM: the config names no architectures, so its causal-LM head" in (
        planned.out
    )
    summarized = cli(tmp_path / "config.json", cwd=tmp_path)
    assert "Total params: 15,712" in summarized.out
    assert "built LlamaForCausalLM: the config names no architectures" in summarized.out
    # --model-class still picks the base model, and then nothing is said.
    base = cli(tmp_path / "config.json", "--model-class", "AutoModel", cwd=tmp_path)
    assert "Total params: 12,512" in base.out and "built " not in base.out


def test_the_advice_for_inputs_the_model_does_not_describe_works(tmp_path: Path) -> None:
    # TimesFM's forward needs a padding mask and a frequency no config describes:
    # one message names both flags, and the given inputs are placed before anything
    # is derived (past_values follows their batch).
    path = _write("timesfm", tmp_path)
    line = one_error_line(cli(path, cwd=tmp_path))
    assert "cannot tell the shapes of 'past_values_padding', 'freq'" in line
    assert "--input past_values_padding=SHAPE[:DTYPE] --input freq=SHAPE[:DTYPE]" in line
    result = cli(path, "--input", "past_values_padding=2,64:long", "--input", "freq=2,1:long",
                 cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out.rstrip().endswith(
        "Inputs: past_values [2, 64] float32, past_values_padding [2, 64] int64, freq [2, 1] int64"
    )


def test_naflex_inputs_are_built_from_the_image_size(tmp_path: Path) -> None:
    path = _write("siglip2", tmp_path)
    # default: the num_patches table as a square (8 x 8 patches of 4 x 4 x 3 values)
    default = cli(path, cwd=tmp_path)
    assert default.code == 0, default.err
    assert ("pixel_values [1, 64, 48] float32, pixel_attention_mask [1, 64] int64, "
            "spatial_shapes [1, 2] int64") in default.out
    # 32 x 48 pixels: 8 x 12 = 96 patches
    wide = cli(path, "--image-size", "32,48", "--batch-size", "2", cwd=tmp_path)
    assert wide.code == 0, wide.err
    assert "pixel_values [2, 96, 48] float32, pixel_attention_mask [2, 96] int64" in wide.out


def test_naflex_spatial_shapes_hold_the_patch_grid() -> None:
    from types import SimpleNamespace

    import torch
    from torch import nn

    from summaryplus.hf_inputs import forward_input_specs, make_inputs

    class NaFlex(nn.Module):
        main_input_name = "pixel_values"
        config = SimpleNamespace(model_type="siglip2_vision", patch_size=4, num_channels=3,
                                 num_patches=64)

        def forward(self, pixel_values: Any, pixel_attention_mask: Any,
                    spatial_shapes: Any) -> Any:
            return pixel_values

    specs = forward_input_specs(NaFlex(), seq_len=8, batch=2, image_size=(32, 48))
    tensors = make_inputs(NaFlex(), specs, "cpu")
    assert tensors["spatial_shapes"].tolist() == [[8, 12], [8, 12]]  # 32 / 4, 48 / 4
    assert tensors["pixel_attention_mask"].dtype == torch.long


@pytest.mark.parametrize("argv", [["--seq-len", "4096"], ["plan", "--context", "100000"]],
                         ids=["summary", "plan"])
def test_a_sequence_past_the_position_table_is_refused_on_meta(
    argv: list[str], tmp_path: Path
) -> None:
    config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 32,
              "n_layer": 1, "n_head": 4, "n_positions": 128, "vocab_size": 100}
    (tmp_path / "config.json").write_text(json.dumps(config))
    command, flags = (argv[:1], argv[1:]) if argv[0] == "plan" else ([], argv)
    result = cli(*command, tmp_path / "config.json", *flags, cwd=tmp_path)
    line = one_error_line(result)
    assert result.code == 2
    # (GPT-2's config reads n_positions as max_position_embeddings)
    assert "GPT2LMHeadModel takes at most 128 tokens (max_position_embeddings=128" in line
    assert "transformer.wpe" in line
    # As on the CPU, where the forward would index past the table:
    cpu = cli(tmp_path / "config.json", "--seq-len", "4096", "--device", "cpu", cwd=tmp_path)
    assert "at most 128 tokens" in one_error_line(cpu)
    # 128 tokens fit; a rotary model (no table) takes any length.
    assert cli(tmp_path / "config.json", "--seq-len", "128", cwd=tmp_path).code == 0


def test_a_rotary_model_has_no_position_table_limit(tmp_path: Path) -> None:
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 32,
              "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 64}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = cli(tmp_path / "config.json", "--seq-len", "256", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "input_ids [1, 256] int64" in result.out
