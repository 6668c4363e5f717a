"""Configs and hub names from the command line, with the inputs each model needs.

- ``summaryplus.hf_inputs``: the keyword inputs of Whisper, CLIP, T5, BART, ViT,
  Llama, Mixtral and wav2vec2, read from the built model and scaled to
  ``--seq-len``/``--batch-size``/``--image-size``.
- ``--input NAME=SHAPE[:DTYPE]`` on configs and factories.
- Hub names (``org/model``) from a pre-filled local Hugging Face cache, offline;
  an existing path of the same spelling wins; unknown, gated and offline-miss
  names get one line each (the hub's exceptions are simulated).
- Quiet failures: library logging hidden unless ``--debug``; an unknown
  ``model_type`` names the closest known ones; no ``.partial`` in CLI errors.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from test_cli import REPO, cli, one_error_line

from summaryplus._configs import build_from_config
from summaryplus._factories import CommandError
from summaryplus._hub import looks_like_hub_name

transformers = pytest.importorskip("transformers")
hf_inputs = pytest.importorskip("summaryplus.hf_inputs")

# Tiny configs of each family: built and run on meta in well under a second.
TINY: dict[str, dict[str, Any]] = {
    "whisper": {
        "model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"],
        "d_model": 64, "encoder_layers": 1, "decoder_layers": 1,
        "encoder_attention_heads": 2, "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "num_mel_bins": 16,
        "max_source_positions": 30, "max_target_positions": 20, "vocab_size": 100,
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 3,
    },
    "clip": {
        "model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 16,
        "text_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                        "num_attention_heads": 2, "vocab_size": 100,
                        "max_position_embeddings": 40},
        "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                          "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
    },
    "t5": {
        "model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "d_model": 32,
        "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4, "vocab_size": 100,
    },
    "bart": {
        "model_type": "bart", "architectures": ["BartForConditionalGeneration"], "d_model": 32,
        "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
        "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
        "vocab_size": 100, "max_position_embeddings": 64,
    },
    "vit": {
        "model_type": "vit", "architectures": ["ViTForImageClassification"], "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
        "image_size": 32, "patch_size": 8,
    },
    "llama": {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 100,
    },
    "mixtral": {
        "model_type": "mixtral", "architectures": ["MixtralForCausalLM"], "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 100, "num_local_experts": 4,
        "num_experts_per_tok": 2,
    },
}
# The shapes each family gets with no flags (default 128 tokens, capped by the
# model's position table: 20 for this Whisper decoder, 40 for this CLIP text tower).
EXPECTED: dict[str, dict[str, tuple[tuple[int, ...], torch.dtype]]] = {
    # Whisper: [batch, num_mel_bins, 2 * max_source_positions] floats, decoder ids.
    "whisper": {"input_features": ((1, 16, 60), torch.float32),
                "decoder_input_ids": ((1, 20), torch.long)},
    "clip": {"input_ids": ((1, 40), torch.long), "pixel_values": ((1, 3, 32, 32), torch.float32)},
    "t5": {"input_ids": ((1, 128), torch.long), "decoder_input_ids": ((1, 128), torch.long),
           "decoder_attention_mask": ((1, 128), torch.long)},
    "bart": {"input_ids": ((1, 64), torch.long), "attention_mask": ((1, 64), torch.long),
             "decoder_input_ids": ((1, 64), torch.long)},
    "vit": {"pixel_values": ((1, 3, 32, 32), torch.float32)},
    "llama": {"input_ids": ((1, 128), torch.long)},
    "mixtral": {"input_ids": ((1, 128), torch.long)},
}
# The first row of the text table with no flags: the model's output shapes
# (every output tensor's, torchinfo's nested-list style cut at the column width).
FIRST_ROW = {
    "whisper": "WhisperForConditionalGeneration [[1, 20, 100], ...]",
    "clip": "CLIPModel [[1, 1], [1, 1], ...]",
    "t5": "T5ForConditionalGeneration [[1, 128, 100], ...]",
    "bart": "BartForConditionalGeneration [[1, 64, 100], ...]",
    "vit": "ViTForImageClassification [1, 2]",
    "llama": "LlamaForCausalLM [1, 128, 100]",
    "mixtral": "MixtralForCausalLM [1, 128, 100]",
}
# ViT at 32x32, patch 8: 16 patches + CLS = 17 tokens, hidden 32, MLP 64, 2 labels.
#   patch conv 16 * 32 * (3 * 8 * 8) = 98,304; q, k, v 3 * 17 * 32 * 32 = 52,224;
#   scores and weighted sum 2 * 17 * 17 * 32 = 18,496; out 17 * 32 * 32 = 17,408;
#   MLP 2 * 17 * 32 * 64 = 69,632; classifier on CLS 32 * 2 = 64.
VIT_MACS = 98_304 + 52_224 + 18_496 + 17_408 + 69_632 + 64
# As above at 64x64 and batch 2: 64 patches + CLS = 65 tokens.
VIT_MACS_64_B2 = 2 * (64 * 32 * 192 + 3 * 65 * 32 * 32 + 2 * 65 * 65 * 32 + 65 * 32 * 32
                      + 2 * 65 * 32 * 64 + 32 * 2)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("configs")
    for name, config in TINY.items():
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps(config))
    (root / "unknown.json").write_text(json.dumps({"model_type": "lamma", "hidden_size": 8}))
    (root / "factories.py").write_text(
        "from torch import nn\n\n\n"
        "class Keywords(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.embed = nn.Embedding(50, 8)\n"
        "        self.proj = nn.Linear(4, 8)\n\n"
        "    def forward(self, ids=None, features=None, mask=None):\n"
        "        assert mask is not None and mask.dtype.is_floating_point is False\n"
        "        return self.embed(ids).sum(1) + self.proj(features)\n\n\n"
        "class Open(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.proj = nn.Linear(4, 8)\n\n"
        "    def forward(self, features=None, **extras):\n"
        "        return self.proj(features) + extras['shift']\n\n\n"
        "def make_llama():\n"
        "    import torch, transformers\n"
        "    config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64,\n"
        "        num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,\n"
        "        vocab_size=100)\n"
        "    with torch.device('meta'):\n"
        "        return transformers.LlamaForCausalLM(config)\n\n\n"
        "def make_logging():\n"
        "    import logging, sys\n"
        "    logging.basicConfig(format='%(name)s: %(message)s')  # a handler made in the run\n"
        "    logging.getLogger('my_factory').warning('factory says hello')\n"
        "    print('factory print', file=sys.stderr)\n"
        "    return nn.Linear(2, 2)\n\n\n"
        "def make_warning():\n"
        "    import warnings\n"
        "    import torch\n"
        "    warnings.warn('check your inputs')\n"
        "    warnings.warn_explicit('library noise', UserWarning, torch.__file__, 1)\n"
        "    return nn.Linear(2, 2)\n"
    )
    return root


def build(config: dict[str, Any], **kwargs: Any) -> Any:
    made = transformers.AutoConfig.for_model(**config)
    cls = getattr(transformers, config["architectures"][0])
    with torch.device("meta"):
        return cls._from_config(made, **kwargs)


# ------------------------------------------------------------------ inputs per model type
@pytest.mark.parametrize("family", list(TINY))
def test_each_family_gets_the_inputs_its_forward_needs(family: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY[family]))
    built = build_from_config(tmp_path / "config.json", None, None, seq_len=None, batch=1)
    got = {name: (tuple(t.shape), t.dtype) for name, t in built.inputs.items()}
    assert got == EXPECTED[family]
    assert all(t.is_meta for t in built.inputs.values())
    # The older fields still describe the main input.
    main = next(iter(EXPECTED[family].values()))
    assert built.input_size == [main[0]] and built.dtypes == [main[1]]
    assert {n: (s.shape, s.dtype) for n, s in built.input_specs.items()} == EXPECTED[family]


def test_inputs_scale_with_batch_seq_len_and_image_size() -> None:
    clip = build(TINY["clip"])
    specs = hf_inputs.forward_input_specs(clip, seq_len=7, batch=3, image_size=(64, 48))
    assert specs["input_ids"].shape == (3, 7)
    assert specs["pixel_values"].shape == (3, 3, 64, 48)
    whisper = build(TINY["whisper"])
    specs = hf_inputs.forward_input_specs(whisper, seq_len=5, batch=2)
    # The mel length is the encoder's own (2 * max_source_positions), not --seq-len.
    assert specs["input_features"].shape == (2, 16, 60)
    assert specs["decoder_input_ids"].shape == (2, 5)
    with pytest.raises(hf_inputs.InputsError, match="at most 20 tokens"):
        hf_inputs.forward_input_specs(whisper, seq_len=21)


def test_float_inputs_follow_the_model_dtype_and_audio_waveforms_the_conv_stride() -> None:
    vit = build(TINY["vit"], torch_dtype=torch.bfloat16)
    assert hf_inputs.forward_input_specs(vit, seq_len=8)["pixel_values"].dtype == torch.bfloat16
    # wav2vec2's feature extractor strides 5 * 2**6 = 320 samples a frame.
    wav2vec2 = build({"model_type": "wav2vec2", "architectures": ["Wav2Vec2Model"],
                      "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                      "intermediate_size": 64, "conv_dim": [8] * 7,
                      "num_conv_pos_embeddings": 4, "num_conv_pos_embedding_groups": 2})
    specs = hf_inputs.forward_input_specs(wav2vec2, seq_len=10, batch=2)
    assert {n: s.shape for n, s in specs.items()} == {"input_values": (2, 3200)}


def test_real_inputs_are_valid_and_leave_the_global_rng_alone() -> None:
    with torch.device("cpu"):
        model = transformers.BartForConditionalGeneration(
            transformers.AutoConfig.for_model(**TINY["bart"]))
    specs = hf_inputs.forward_input_specs(model, seq_len=6, batch=2)
    state = torch.random.get_rng_state()
    inputs = hf_inputs.make_inputs(model, specs)
    assert torch.equal(state, torch.random.get_rng_state())
    assert int(inputs["input_ids"].max()) < 64  # below the smallest embedding (positions)
    assert bool((inputs["attention_mask"] == 1).all())
    model(**inputs)  # runs for real


def test_an_input_the_model_does_not_describe_says_to_pass_it() -> None:
    model = torch.nn.Linear(2, 2)
    model.config = SimpleNamespace(model_type="custom")  # type: ignore[assignment]
    model.main_input_name = "spectrogram"  # type: ignore[assignment]
    with pytest.raises(hf_inputs.InputsError, match="--input spectrogram=SHAPE"):
        hf_inputs.forward_input_specs(model, seq_len=4)


def test_real_whisper_and_clip_shapes() -> None:
    """The issue's examples, with whisper-tiny's and CLIP ViT-B/32's own sizes."""
    whisper = build({**TINY["whisper"], "d_model": 384, "num_mel_bins": 80,
                     "max_source_positions": 1500, "max_target_positions": 448,
                     "vocab_size": 51865, "pad_token_id": 50257, "bos_token_id": 50257,
                     "eos_token_id": 50257, "decoder_start_token_id": 50258})
    specs = hf_inputs.forward_input_specs(whisper, seq_len=128)
    assert (specs["input_features"].shape, specs["input_features"].dtype) == (
        (1, 80, 3000), torch.float32)
    assert (specs["decoder_input_ids"].shape, specs["decoder_input_ids"].dtype) == (
        (1, 128), torch.long)
    clip = build({"model_type": "clip", "architectures": ["CLIPModel"],
                  "text_config": {"num_hidden_layers": 1},
                  "vision_config": {"num_hidden_layers": 1}})
    assert hf_inputs.max_text_length(clip) == 77
    specs = hf_inputs.forward_input_specs(clip, seq_len=77)
    assert {n: s.shape for n, s in specs.items()} == {"input_ids": (1, 77),
                                                       "pixel_values": (1, 3, 224, 224)}


# ------------------------------------------------------------------ the command
@pytest.mark.parametrize("family", list(TINY))
def test_every_family_runs_from_the_cli_with_no_flags(family: str, configs: Path) -> None:
    result = cli(family, "--depth", "1", cwd=configs)
    assert result.code == 0, result.err
    assert result.err == ""
    assert " ".join(result.out.splitlines()[3].split()).startswith(FIRST_ROW[family])


def test_vit_macs_at_the_config_size_and_at_image_size_and_batch(configs: Path) -> None:
    default = cli("vit", "--format", "json", cwd=configs)
    assert json.loads(default.out)["totals"]["total_mult_adds"] == VIT_MACS == 256_128
    scaled = cli("vit", "--image-size", "64", "--batch-size", "2", "--format", "json",
                 cwd=configs)
    assert scaled.code == 0, scaled.err
    assert json.loads(scaled.out)["totals"]["total_mult_adds"] == VIT_MACS_64_B2


def test_input_size_on_whisper_is_the_audio_and_the_decoder_keeps_its_ids(configs: Path) -> None:
    # Before: the decoder got the --input-size shape as decoder_input_ids.
    positional = cli("whisper", "--input-size", "2,16,60", "--depth", "0", "--format", "json",
                     cwd=configs)
    assert positional.code == 0, positional.err
    keyword = cli("whisper", "--input", "input_features=2,16,60", "--depth", "0",
                  "--format", "json", cwd=configs)
    assert keyword.code == 0, keyword.err
    totals = [json.loads(r.out)["totals"]["total_mult_adds"] for r in (positional, keyword)]
    assert totals[0] == totals[1] > 0
    assert "[2, 20, 100]" in cli("whisper", "--input-size", "2,16,60", "--depth", "0",
                                 cwd=configs).out


def test_keyword_inputs_replace_and_extend_a_configs_inputs(configs: Path) -> None:
    result = cli("clip", "--input", "input_ids=2,9", "--input", "pixel_values=2,3,32,32",
                 "--depth", "0", "--format", "json", cwd=configs)
    assert result.code == 0, result.err
    sizes = json.loads(result.out)["input_size"]
    assert sizes == {"input_ids": [2, 9], "pixel_values": [2, 3, 32, 32]}


@pytest.mark.parametrize(
    ("family", "flag", "expected"),
    [
        # T5: the decoder mask built for 128 tokens follows 5 decoder ids.
        ("t5", "decoder_input_ids=1,5",
         {"input_ids": [1, 128], "decoder_input_ids": [1, 5], "decoder_attention_mask": [1, 5]}),
        ("bart", "input_ids=1,9",
         {"input_ids": [1, 9], "attention_mask": [1, 9], "decoder_input_ids": [1, 64]}),
    ],
)
def test_masks_follow_the_token_ids_given(family: str, flag: str,
                                          expected: dict[str, list[int]], configs: Path) -> None:
    # Before: the masks kept the config's length and the forward failed.
    result = cli(family, "--input", flag, "--depth", "0", "--format", "json", cwd=configs)
    assert result.code == 0, result.err
    assert json.loads(result.out)["input_size"] == expected


def test_every_id_and_mask_of_a_stream_follows_its_ids() -> None:
    spec = hf_inputs.InputSpec
    ids, mask, values = (1, 64), "mask", "values"
    specs = {
        "input_ids": spec(ids, torch.long, "ids"), "attention_mask": spec(ids, torch.long, mask),
        "token_type_ids": spec(ids, torch.long, "ids"), "langs": spec(ids, torch.long, "ids"),
        "decoder_input_ids": spec(ids, torch.long, "ids"),
        "decoder_attention_mask": spec(ids, torch.long, mask),
        "input_features": spec((1, 64), torch.float32, values),  # not ids: stays
    }
    encoder = hf_inputs.follow_given_ids(specs, {"input_ids": (2, 9)})
    assert {name: s.shape for name, s in encoder.items()} == {
        "attention_mask": (2, 9), "token_type_ids": (2, 9), "langs": (2, 9)}
    decoder = hf_inputs.follow_given_ids(specs, {"decoder_input_ids": (1, 5),
                                                 "decoder_attention_mask": (1, 3)})
    assert decoder == {}  # the mask given keeps the user's shape; the encoder's stay
    assert hf_inputs.follow_given_ids(specs, {"decoder_input_ids": (1, 5)}) == {
        "decoder_attention_mask": spec((1, 5), torch.long, mask)}


def test_masks_follow_a_positional_input_size(configs: Path) -> None:
    # BART: --input-size replaces input_ids; the encoder mask follows it.
    result = cli("bart", "--input-size", "2,7", "--depth", "2", cwd=configs)
    assert result.code == 0, result.err
    rows = [" ".join(line.split()) for line in result.out.splitlines()]
    assert any(row.startswith("│ └─BartEncoder: 2-1 [2, 7, 32]") for row in rows), rows


def test_keyword_inputs_on_a_factory(configs: Path) -> None:
    result = cli("factories.py:Keywords", "--input", "ids=2,5", "--input", "features=2,4",
                 "--input", "mask=2,5:bool", cwd=configs)
    assert result.code == 0, result.err
    rows = [" ".join(line.split()) for line in result.out.splitlines()]
    assert any(row.startswith("Keywords [2, 8]") for row in rows)
    assert any(row.startswith("├─Linear: 1-2 [2, 8] 40 64") for row in rows)  # 2 * 4 * 8


def test_a_factory_with_kwargs_takes_names_it_does_not_declare(configs: Path) -> None:
    # Its own code reads **extras (a transformers model's **kwargs is refused).
    result = cli("factories.py:Open", "--input", "features=2,4", "--input", "shift=2,8",
                 "--depth", "0", "--format", "json", cwd=configs)
    assert result.code == 0, result.err
    assert json.loads(result.out)["input_size"] == {"features": [2, 4], "shift": [2, 8]}


KEYWORD_ERRORS = {
    "no equals": (("factories.py:Keywords", "--input", "ids"), "is not NAME=SHAPE[:DTYPE]"),
    "bad shape": (("factories.py:Keywords", "--input", "ids=2,x"), "not a shape"),
    "bad dtype": (("factories.py:Keywords", "--input", "ids=2,5:flot"),
                  "--input ids: 'flot' is not a torch dtype"),
    "two dtypes": (("factories.py:Keywords", "--input", "ids=2,5:long,int"),
                   "--input ids: give one dtype"),
    "twice": (("factories.py:Keywords", "--input", "ids=2,5", "--input", "ids=2,6"),
              "--input ids is given twice"),
    "image size on a factory": (("factories.py:Keywords", "--image-size", "32"),
                                "--image-size does not apply to a factory"),
    "bad image size": (("vit", "--image-size", "1,2,3"), "is not an image size"),
    "decoder too long": (("whisper", "--seq-len", "21"), "takes at most 20 tokens"),
    "unknown model type": (("unknown.json",), "closest: llama"),
    # Before: accepted and dropped into **kwargs; the table was the config's inputs'.
    "an input the forward does not take": (
        ("llama", "--input", "bogus=1,5"),
        "--input bogus: LlamaForCausalLM.forward takes no input named 'bogus' (it takes input_ids"),
    "an input a factory does not take": (("factories.py:Keywords", "--input", "bogus=2,5"),
                                         "Keywords.forward takes no input named 'bogus'"),
    # A factory's transformers model: its **kwargs takes attention options only.
    "an input a factory's transformers model does not take": (
        ("factories.py:make_llama", "--input", "input_ids=1,5", "--input", "bogus=1,5"),
        "LlamaForCausalLM.forward takes no input named 'bogus'"),
    # Before: accepted and ignored on a model without pixels.
    "image size on a text model": (("llama", "--image-size", "64"),
                                   "pixel_values, which LlamaForCausalLM does not take"),
    # Before: transformers' AttributeError alone.
    "a class of another model type": (
        ("llama", "--model-class", "BertModel"),
        "(BertModel is made for a BertConfig, this is a llama config: pass its own classes "
        "(such as LlamaForCausalLM) or AutoModel)"),
    # Built, then failed in its forward: the same hint (before: the forward's error alone).
    "a class of another model type that builds": (
        ("llama", "--model-class", "MistralForCausalLM"),
        "MistralForCausalLM is made for a MistralConfig, this is a llama config"),
    # Before: "got multiple values for argument" from the forward (exit 1).
    "two input sizes on a config": (("bart", "--input-size", "2,9", "--input-size", "2,9"),
                                    "a config takes one --input-size: its main input, input_ids"),
    "the main input twice": (("bart", "--input-size", "2,9", "--input", "input_ids=2,9"),
                             "--input input_ids: the main input, given by --input-size"),
    # Before: advised --input pixel_values, which Whisper's forward then refused.
    "image size on a model that takes no pixels": (
        ("whisper", "--image-size", "32"),
        "pixel_values, which WhisperForConditionalGeneration does not take"),
    "a missing file is no hub name": (("org/config.json",),
                                      "no such file or folder: org/config.json"),
}


@pytest.mark.parametrize("case", list(KEYWORD_ERRORS))
def test_bad_inputs_get_one_line(case: str, configs: Path) -> None:
    args, expected = KEYWORD_ERRORS[case]
    result = cli(*args, cwd=configs)
    assert result.code in (1, 2)
    line = one_error_line(result)
    assert expected in line
    assert len(line) < 600  # never transformers' list of ~800 model types (~10k characters)


def test_a_failing_forward_is_one_line_without_python_attributes(configs: Path) -> None:
    result = cli("vit", "--input", "pixel_values=1,3,30,30", cwd=configs)
    assert result.code == 1
    line = one_error_line(result)
    assert line.startswith("summaryplus: error: Failed to run the forward pass of ViT")
    assert "it received" in line and ".partial" not in line


# ------------------------------------------------------------------ hub names
def fill_cache(cache: Path, repo: str, config: dict[str, Any]) -> None:
    """The hub cache layout: models--ORG--NAME/refs/main and snapshots/SHA/config.json."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    sha = "0123456789abcdef0123456789abcdef01234567"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(sha)
    (folder / "snapshots" / sha).mkdir(parents=True)
    (folder / "snapshots" / sha / "config.json").write_text(json.dumps(config))


def test_hub_name_rule() -> None:
    for name in ("openai/whisper-tiny", "meta-llama/Llama-3.1-8B", "org/model.v2"):
        assert looks_like_hub_name(name), name
    for name in ("gpt2", "./org/model", "/org/model", "a/b/c", "org/config.json",
                 "org/model.safetensors", "org/../x", "org/", "-org/model"):
        assert not looks_like_hub_name(name), name


def test_hub_name_from_a_prefilled_cache_offline(tmp_path: Path) -> None:
    """A real process: huggingface_hub reads HF_HUB_CACHE and HF_HUB_OFFLINE from the
    environment; only config.json is in the cache, so nothing else was fetched."""
    cache = tmp_path / "hub"
    fill_cache(cache, "tiny-org/tiny-vit", TINY["vit"])
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "home")}
    completed = subprocess.run(
        [sys.executable, "-m", "summaryplus", "tiny-org/tiny-vit", "--format", "json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert json.loads(completed.stdout)["totals"]["total_mult_adds"] == VIT_MACS
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == ["config.json", "main"]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """huggingface_hub in this process, pointed at an empty cache, offline."""
    hub_module = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub_module.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(hub_module.constants, "HF_HUB_OFFLINE", True)
    return hub_module


def test_offline_miss_is_one_line(hub: Any, tmp_path: Path) -> None:
    result = cli("nobody/nothing", cwd=tmp_path)  # the real hf_hub_download, offline
    assert result.code == 1
    line = one_error_line(result)
    assert "nobody/nothing: config.json is not in the Hugging Face cache" in line
    assert "HF_HUB_OFFLINE" in line


def test_a_path_that_exists_wins_over_the_hub_name(hub: Any, configs: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(hub, "hf_hub_download", lambda **kw: asked.append(kw) or "")
    (configs / "org").mkdir(exist_ok=True)
    (configs / "org" / "vit").mkdir(exist_ok=True)
    (configs / "org" / "vit" / "config.json").write_text(json.dumps(TINY["vit"]))
    result = cli("org/vit", "--format", "json", cwd=configs)
    assert result.code == 0, result.err
    assert json.loads(result.out)["totals"]["total_mult_adds"] == VIT_MACS
    assert asked == []


def _hub_error(hub: Any, name: str) -> Exception:
    response = SimpleNamespace(headers={}, status_code=401, request=None)
    error: Exception = getattr(hub.errors, name)("simulated", response=response)
    return error


@pytest.mark.parametrize(
    ("error", "code", "expected"),
    [
        ("GatedRepoError", 1, "org/gated is gated: accept its terms at "
                              "https://huggingface.co/org/gated and log in"),
        ("RepositoryNotFoundError", 2, "org/gated: no such model on the Hugging Face hub"),
        ("RemoteEntryNotFoundError", 1, "org/gated has no config.json"),
    ],
)
def test_hub_failures_are_one_line(error: str, code: int, expected: str, hub: Any,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def download(**kwargs: Any) -> str:
        asked.append(kwargs)
        raise _hub_error(hub, error)

    monkeypatch.setattr(hub, "hf_hub_download", download)
    result = cli("org/gated", cwd=tmp_path)
    assert result.code == code
    assert expected in one_error_line(result)
    assert asked == [{"repo_id": "org/gated", "filename": "config.json"}]  # never weights


def test_hub_needs_huggingface_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    result = cli("org/model", cwd=tmp_path)
    assert result.code == 2
    assert "pip install 'summaryplus[hub]'" in one_error_line(result)


# ------------------------------------------------------------------ quiet
def test_library_logging_shows_only_with_debug(configs: Path) -> None:
    """A real process (transformers binds its log handler to stderr on import):
    this CLIP config makes transformers log two lines about its token ids."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("TRANSFORMERS_VERBOSITY", None)  # the suite's quiet (conftest): a user's default here
    runs = [
        subprocess.run([sys.executable, "-m", "summaryplus", "clip", "--depth", "0", *extra],
                       cwd=configs, env=env, capture_output=True, text=True, timeout=300)
        for extra in ((), ("--debug",))
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stderr == ""
    assert "[transformers]" in runs[1].stderr


def test_torch_logging_set_up_at_import_is_hidden_too(configs: Path) -> None:
    """torch binds its log handlers to stderr when imported, before the command
    hides library output: a meta kernel that fails logs a traceback there."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "summaryplus", "llama", "--input", "attention_mask=1,7"],
        cwd=configs, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 1
    # Before: some 30 lines of torch's "failed while attempting to run meta" first.
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith(
        "summaryplus: error: Failed to run the forward pass of LlamaForCausalLM"
    )


def test_a_factorys_own_logging_and_prints_show(configs: Path) -> None:
    """A real process: the factory configures logging while the command runs."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "summaryplus", "factories.py:make_logging", "--depth", "0"],
        cwd=configs, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    # Before: both were dropped with the libraries' output.
    # (then, without an input, the hint on how to get MACs and shapes)
    lines = run.stderr.splitlines()
    assert lines[:2] == ["my_factory: factory says hello", "factory print"]
    assert len(lines) == 3 and lines[2].startswith("summaryplus: no input given")


def test_warnings_from_libraries_are_hidden_and_the_users_own_shown(configs: Path) -> None:
    result = cli("factories.py:make_warning", cwd=configs)
    assert result.code == 0, result.err
    assert "UserWarning: check your inputs" in result.err
    assert "library noise" not in result.err
    with pytest.warns(UserWarning) as warned:  # --debug: everything warned as usual
        assert cli("factories.py:make_warning", "--debug", cwd=configs).code == 0
    assert {str(w.message) for w in warned} == {"check your inputs", "library noise"}


def test_numpy_is_a_declared_dependency() -> None:
    """Without numpy, importing torch warns "Failed to initialize NumPy"."""
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    required = parser["options"]["install_requires"].split()
    assert "numpy" in required
    assert "huggingface_hub>=0.24" in parser["options.extras_require"]["hub"].split()


def test_build_from_config_errors_are_command_errors(configs: Path) -> None:
    with pytest.raises(CommandError, match="closest: llama"):
        build_from_config(configs / "unknown.json", None, None, seq_len=8, batch=1)


def test_help_shows_the_new_options_and_hub_names(tmp_path: Path) -> None:
    result = cli("--help", cwd=tmp_path)
    assert result.code == 0
    for text in ("--input NAME=SHAPE[:DTYPE]", "--image-size", "ORG/NAME", "--debug"):
        assert text in result.out, text


@pytest.mark.parametrize("auto_map", [False, True], ids=["unknown-class", "remote-code"])
def test_an_architecture_transformers_lacks_is_refused_not_replaced(
    tmp_path: Path, auto_map: bool
) -> None:
    # Never a silent fallback to the base model (no LM head: other numbers).
    data = {**TINY["llama"], "architectures": ["XForCausalLM"]}
    if auto_map:
        data["auto_map"] = {"AutoModelForCausalLM": "modeling_x.XForCausalLM"}
    (tmp_path / "config.json").write_text(json.dumps(data))
    why = "custom code" if auto_map else "no class of transformers"
    with pytest.raises(CommandError, match=rf"\['XForCausalLM'\] name {why}.*--model-class"):
        build_from_config(tmp_path / "config.json", None, None, seq_len=8, batch=1)
    built = build_from_config(
        tmp_path / "config.json", "AutoModelForCausalLM", None, seq_len=8, batch=1
    )
    assert type(built.model).__name__ == "LlamaForCausalLM"


def test_library_handlers_bound_before_the_run_are_hidden_and_put_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from summaryplus.cli.quiet import library_output_hidden

    # As torch does on import: a handler bound to the stderr of that moment.
    logger = logging.getLogger("torch.summaryplus_test")
    handler = logging.StreamHandler(sys.stderr)
    logger.addHandler(handler)
    own = logging.getLogger("summaryplus_test_user")  # not a library's: left alone
    own_handler = logging.StreamHandler(sys.stderr)
    own.addHandler(own_handler)
    try:
        with pytest.raises(KeyError), library_output_hidden():
            logger.error("library noise")
            own.error("the user's own line")
            raise KeyError("the run failed")
        assert handler.stream is sys.stderr and own_handler.stream is sys.stderr
        logger.error("after the run")
    finally:
        logger.removeHandler(handler)
        own.removeHandler(own_handler)
    err = capsys.readouterr().err
    assert "library noise" not in err
    assert "the user's own line" in err and "after the run" in err
