"""What one keyword input of a transformers model's forward looks like: its spec
(shape, dtype, fill), the rules that derive it from the model's config (token ids,
pixels, NaFlex patches, audio, time series), and the model's position-table limit.
Used by :mod:`summaryplus.hf_inputs`, which decides which inputs a forward needs.

Nothing here imports transformers: it reads attributes of a model already built.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from .errors import InputsError

#: What fills a tensor: token ids (valid for every embedding), all ones (masks),
#: random values in [0, 1) in the model's floating dtype, or ``InputSpec.row``
#: repeated over the leading dimensions (NaFlex ``spatial_shapes``).
Fill = Literal["ids", "mask", "values", "row"]
_TOKEN_NAMES = ("input_ids", "token_type_ids", "langs")
# NaFlex vision inputs (SigLIP2) besides pixel_values: built with them.
NAFLEX_INPUTS = ("pixel_attention_mask", "spatial_shapes")
# A time series: (steps, channels) of ``past_values`` (PatchTST, PatchTSMixer).
_SERIES_KEYS = ("context_length", "num_input_channels")
_MASK_NAMES = ("attention_mask",)
# Keys of a config naming the length of a learned position table (an embedding
# with one row per position: a longer sequence indexes past its end).
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")


@dataclass(frozen=True)
class InputSpec:
    """One keyword input of a forward call: shape, dtype, and what fills it."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    fill: Fill = "values"
    # The values of each last-dimension row when ``fill`` is "row".
    row: tuple[int, ...] = ()




def forward_names(model: nn.Module) -> list[str] | None:
    """The names ``model.forward`` declares, in order (None: it cannot be
    inspected). Names it would only take through ``**kwargs`` are not among
    them: a head without decoder (``T5EncoderModel``) declares no
    ``decoder_input_ids``."""
    parameters = forward_parameters(model)
    if parameters is None:
        return None
    return [
        parameter.name
        for parameter in parameters
        if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
    ]


def forward_parameters(model: nn.Module) -> list[inspect.Parameter] | None:
    """The parameters of ``model.forward`` (None: it cannot be inspected)."""
    try:
        return list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None


def position_table(model: nn.Module) -> tuple[int, str, str] | None:
    """The learned position table of ``model``'s token input, if it has one:
    (rows, the config key naming them, the embedding's dotted path). A sequence
    longer than ``rows`` makes the CPU forward index past the table's end
    (``IndexError``); rotary and relative positions (Llama, T5) have no table
    and no such limit. Read from the config keys in ``_POSITION_KEYS`` (and its
    ``text_config``'s) and an ``nn.Embedding`` of that many rows (an offset of up
    to 2 rows allowed: OPT and BART keep 2 extra)."""
    config = getattr(model, "config", None)
    limits: dict[int, str] = {}
    for where in (config, getattr(config, "text_config", None)):
        for key in _POSITION_KEYS:
            value = getattr(where, key, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                limits.setdefault(value, key)
    if not limits:
        return None
    for path, module in model.named_modules():
        rows = getattr(module, "num_embeddings", None)
        if not isinstance(module, nn.Embedding) or not isinstance(rows, int):
            continue
        leaf = path.rsplit(".", 1)[-1]
        if "position" not in leaf and leaf not in ("wpe", "pos_emb"):
            continue
        for limit, key in sorted(limits.items()):
            if limit <= rows <= limit + 2:
                return limit, key, path
    return None


def check_positions(model: nn.Module, name: str, length: int) -> None:
    """Refuses ``length`` tokens of ``name`` where the model's position table
    (``position_table``) is shorter, as the CPU forward would (on meta no index is
    checked, so the summary would print numbers for a forward that cannot run).

    Raises:
        InputsError: naming the limit and the config key that sets it.
    """
    found = position_table(model)
    if found is None or name.startswith("decoder_") or length <= found[0]:
        return
    limit, key, path = found
    raise InputsError(
        # No flag named: `summaryplus` calls it --seq-len, `plan` --context.
        f"{length} tokens of {name}: {type(model).__name__} takes at most {limit} tokens "
        f"({key}={limit}: its position table {path} has no row for position {limit})"
    )


# ------------------------------------------------------------------ one input
def derived_spec(
    name: str,
    model: nn.Module,
    config: Any,
    seq_len: int,
    batch: int,
    image_size: tuple[int, int] | None,
) -> InputSpec:
    if name in _TOKEN_NAMES:
        return InputSpec((batch, seq_len), torch.long, "ids")
    if name in _MASK_NAMES:
        return InputSpec((batch, seq_len), torch.long, "mask")
    if name.startswith("decoder_"):
        limit = getattr(config, "max_target_positions", None)
        if isinstance(limit, int) and seq_len > limit:
            raise InputsError(
                # No flag named: `summaryplus` calls it --seq-len, `plan` --context.
                f"{seq_len} tokens: the {config.model_type} decoder takes at most "
                f"{limit} tokens (max_target_positions)"
            )
        fill: Fill = "mask" if name.endswith("mask") else "ids"
        return InputSpec((batch, seq_len), torch.long, fill)
    dtype = _floating_dtype(model)
    if name in NAFLEX_INPUTS or (name == "pixel_values" and is_naflex(model)):
        return _naflex_spec(name, config, batch, image_size, dtype)
    if name == "pixel_values":
        channels, (height, width) = _image_shape(config, image_size)
        return InputSpec((batch, channels, height, width), dtype)
    if name == "past_values":
        steps, series = (getattr(config, key, None) for key in _SERIES_KEYS)
        if isinstance(steps, int) and isinstance(series, int):
            return InputSpec((batch, steps, series), dtype)
        if isinstance(steps, int):  # one series (TimesFM)
            return InputSpec((batch, steps), dtype)
    if name == "input_features":
        shape = _audio_features_shape(config, seq_len)
        if shape is not None:
            return InputSpec((batch, *shape), dtype)
    if name == "input_values":
        strides = getattr(config, "conv_stride", None)
        if isinstance(strides, (list, tuple)) and strides:
            return InputSpec((batch, seq_len * math.prod(int(s) for s in strides)), dtype)
        hop = _hop_length(config)
        if hop is not None:  # an audio codec: [batch, channels, samples]
            channels = int(getattr(config, "audio_channels", 1) or 1)
            return InputSpec((batch, channels, seq_len * hop), dtype)
    raise InputsError(
        f"cannot tell the shape of {name!r} for {config.model_type} "
        f"({type(model).__name__}); give it with --input {name}=SHAPE[:DTYPE]"
    )


def _hop_length(config: Any) -> int | None:
    """Samples per frame of an audio codec: ``hop_length``, else the product of its
    encoder's ``downsampling_ratios`` (or ``upsampling_ratios``)."""
    hop = getattr(config, "hop_length", None)
    if isinstance(hop, int) and hop > 0:
        return hop
    for key in ("downsampling_ratios", "upsampling_ratios"):
        ratios = getattr(config, key, None)
        if isinstance(ratios, (list, tuple)) and ratios:
            return math.prod(int(r) for r in ratios)
    return None


def is_naflex(model: nn.Module) -> bool:
    accepted = forward_names(model)
    return accepted is not None and "spatial_shapes" in accepted


def _naflex_spec(
    name: str,
    config: Any,
    batch: int,
    image_size: tuple[int, int] | None,
    dtype: torch.dtype,
) -> InputSpec:
    """NaFlex inputs (SigLIP2): the image as ``(height / patch) x (width / patch)``
    flattened patches, a mask over them and the patch grid. Default size: the
    square of the config's ``num_patches`` position table."""
    vision = getattr(config, "vision_config", None) or config
    patch = int(getattr(vision, "patch_size", 16))
    channels = int(getattr(vision, "num_channels", 3))
    if image_size is None:
        side = math.isqrt(int(getattr(vision, "num_patches", 256))) * patch
        image_size = (side, side)
    rows, cols = image_size[0] // patch, image_size[1] // patch
    if rows < 1 or cols < 1:
        raise InputsError(
            f"an image of {image_size[0]}x{image_size[1]} holds no {patch}x{patch} patch "
            f"of {config.model_type}: give a larger --image-size"
        )
    if name == "spatial_shapes":
        return InputSpec((batch, 2), torch.long, "row", (rows, cols))
    if name == "pixel_attention_mask":
        return InputSpec((batch, rows * cols), torch.long, "mask")
    return InputSpec((batch, rows * cols, channels * patch * patch), dtype)


def _audio_features_shape(config: Any, seq_len: int) -> tuple[int, ...] | None:
    mel_bins = getattr(config, "num_mel_bins", None)
    positions = getattr(config, "max_source_positions", None)
    if isinstance(mel_bins, int) and isinstance(positions, int):
        # Whisper: the encoder's two convolutions (the second of stride 2) must
        # map the frames onto exactly max_source_positions positions.
        return (mel_bins, 2 * positions)
    per_channel = getattr(config, "input_feat_per_channel", None)
    if isinstance(per_channel, int):  # Speech2Text: [frames, features]
        return (seq_len, per_channel * int(getattr(config, "input_channels", 1)))
    return None


def _image_shape(config: Any, image_size: tuple[int, int] | None) -> tuple[int, tuple[int, int]]:
    vision = getattr(config, "vision_config", None) or config
    channels = int(getattr(vision, "num_channels", 3))
    if image_size is not None:
        return channels, image_size
    size = getattr(vision, "image_size", None)
    if isinstance(size, int):
        return channels, (size, size)
    if isinstance(size, (list, tuple)) and len(size) >= 2:
        return channels, (int(size[0]), int(size[1]))
    if isinstance(size, Mapping) and "height" in size and "width" in size:
        return channels, (int(size["height"]), int(size["width"]))
    raise InputsError(
        f"the {config.model_type} config has no image_size: give one with --image-size"
    )


def _floating_dtype(model: nn.Module) -> torch.dtype:
    """Float inputs in the model's own dtype: a bfloat16 model's conv cannot take float32."""
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


__all__ = [
    "NAFLEX_INPUTS",
    "Fill",
    "InputSpec",
    "InputsError",
    "check_positions",
    "derived_spec",
    "forward_names",
    "forward_parameters",
    "is_naflex",
    "position_table",
]
