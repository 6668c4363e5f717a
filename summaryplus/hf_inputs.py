"""The keyword inputs a transformers model's forward needs, read from the model itself.

A config says what a model is, not what it eats: a Whisper model takes log-mel
``input_features`` and decoder token ids, CLIP takes token ids *and* pixels, ViT
takes pixels, T5 and BART take encoder and decoder token ids. This module asks
the built model (its ``main_input_name``, the ``dummy_inputs`` its class defines,
``config.is_encoder_decoder``, the names its ``forward`` accepts) and gives each
input a shape scaled to the requested batch, sequence length and image size.

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

from .inputs import index_bound, random_tensor

#: What fills a tensor: token ids (valid for every embedding), all ones (masks),
#: random values in [0, 1) in the model's floating dtype, or ``InputSpec.row``
#: repeated over the leading dimensions (NaFlex ``spatial_shapes``).
Fill = Literal["ids", "mask", "values", "row"]
#: Inputs the user gave: name -> (shape, dtype; None: the dtype the model's input takes).
GivenInputs = Mapping[str, tuple[tuple[int, ...], torch.dtype | None]]

_TOKEN_NAMES = ("input_ids", "token_type_ids", "langs")
# NaFlex vision inputs (SigLIP2) besides pixel_values: built with them.
_NAFLEX = ("pixel_attention_mask", "spatial_shapes")
# A time series: (steps, channels) of ``past_values`` (PatchTST, PatchTSMixer).
_SERIES_KEYS = ("context_length", "num_input_channels")
_MASK_NAMES = ("attention_mask",)
# The token ids of each stream (the encoder's, the decoder's): the built ids
# and masks of that stream share their [batch, seq_len].
_STREAM_IDS = ("input_ids", "decoder_input_ids")
# Keys of a config naming the length of a learned position table (an embedding
# with one row per position: a longer sequence indexes past its end).
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")
# Configs of multimodal models that splice image features into the text at
# placeholder tokens: their token ids must hold those tokens, which random ids
# do not, so such models run on text alone unless the user gives the inputs.
_IMAGE_TOKEN_KEYS = ("image_token_id", "image_token_index")


@dataclass(frozen=True)
class InputSpec:
    """One keyword input of a forward call: shape, dtype, and what fills it."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    fill: Fill = "values"
    # The values of each last-dimension row when ``fill`` is "row".
    row: tuple[int, ...] = ()


class InputsError(ValueError):
    """The inputs of a model cannot be worked out from it; the message says which
    one and how to give it (``--input NAME=SHAPE``)."""


def forward_input_specs(
    model: nn.Module,
    *,
    seq_len: int,
    batch: int = 1,
    image_size: tuple[int, int] | None = None,
    given: GivenInputs | None = None,
) -> dict[str, InputSpec]:
    """The keyword inputs ``model``'s forward needs, main input first.

    An input in ``given`` takes its shape (and its dtype, when one is given)
    from there before anything is derived: an input this module cannot describe
    can be given, and the masks and token types of a stream follow its given ids.

    Args:
        model: a transformers ``PreTrainedModel`` (any module with ``config`` and
            ``main_input_name``), on any device, meta included.
        seq_len: tokens per sequence (encoder and decoder), or frames for audio
            models whose length is free (``input_values``: ``seq_len`` times the
            feature extractor's total stride, in samples).
        batch: batch size of every input.
        image_size: ``(height, width)`` of ``pixel_values``; default the config's
            ``image_size`` (or its ``vision_config``'s). A NaFlex model (SigLIP2:
            its forward takes ``spatial_shapes``) gets that image as patches.
        given: the user's inputs, name -> (shape, dtype or None).

    Shapes:
        ``input_ids``, ``attention_mask``, ``decoder_input_ids``: ``[batch, seq_len]``;
        ``pixel_values``: ``[batch, num_channels, height, width]``;
        Whisper ``input_features``: ``[batch, num_mel_bins, 2 * max_source_positions]``
        (its encoder only accepts that length: two convolutions, the second of
        stride 2); Speech2Text ``input_features``:
        ``[batch, seq_len, input_feat_per_channel * input_channels]``;
        ``input_values``: ``[batch, seq_len * prod(conv_stride)]`` (wav2vec2), or
        ``[batch, audio_channels, seq_len * hop_length]`` (EnCodec, DAC);
        ``past_values``: ``[batch, context_length, num_input_channels]`` (PatchTST);
        NaFlex ``pixel_values``: ``[batch, patches, num_channels * patch_size ** 2]``,
        ``pixel_attention_mask``: ``[batch, patches]``, ``spatial_shapes``: ``[batch, 2]``.

    Raises:
        InputsError: an input whose shape the model does not say (an unknown
            ``main_input_name``, no image size), or token ids longer than the
            model's position table (``max_position_embeddings``, ``n_positions``,
            a decoder's ``max_target_positions``), which the forward would refuse.

    Example (a stand-in with what a transformers ViT has: ``config`` and
    ``main_input_name``):
        >>> from types import SimpleNamespace
        >>> from torch import nn
        >>> vit = nn.Conv2d(3, 8, 16)
        >>> vit.config = SimpleNamespace(model_type="vit", image_size=224, num_channels=3)
        >>> vit.main_input_name = "pixel_values"
        >>> forward_input_specs(vit, seq_len=128, batch=2)["pixel_values"].shape
        (2, 3, 224, 224)
    """
    config = getattr(model, "config", None)
    if config is None:
        raise InputsError(f"{type(model).__name__} has no config: give its inputs with --input")
    accepted = forward_names(model)
    names = [str(getattr(model, "main_input_name", "input_ids"))]
    names += [n for n in _dummy_input_names(model) if n not in names]
    if getattr(config, "is_encoder_decoder", False) and "decoder_input_ids" not in names:
        names.append("decoder_input_ids")
    if _takes_image_pair(model, config, names[0], accepted):
        names.append("pixel_values")
    if "pixel_values" in names and accepted is not None and "spatial_shapes" in accepted:
        names += [n for n in _NAFLEX if n not in names]  # SigLIP2's patches need both
    wanted = dict(given or {})
    derived: dict[str, InputSpec] = {}
    for name in names:
        if name != names[0] and accepted is not None and name not in accepted:
            continue  # a dummy input this head does not take (e.g. a base model)
        try:
            derived[name] = _spec(name, model, config, seq_len, batch, image_size)
        except InputsError:
            if name not in wanted:
                raise
    followers = follow_given_ids(derived, {n: shape for n, (shape, _) in wanted.items()})
    specs: dict[str, InputSpec] = {}
    for name in names:
        if name in wanted:
            shape, dtype = wanted[name]
            built = derived.get(name)
            specs[name] = (
                InputSpec(tuple(shape), built.dtype, built.fill)
                if built is not None and dtype is None
                else default_spec(name, tuple(shape), dtype)
            )
        elif name in followers or name in derived:
            specs[name] = followers.get(name) or derived[name]
    for name, spec in specs.items():
        if spec.fill == "ids" and len(spec.shape) >= 1:
            check_positions(model, name, spec.shape[-1])
    return specs


def make_inputs(
    model: nn.Module,
    specs: Mapping[str, InputSpec],
    device: torch.device | str | None = None,
) -> dict[str, torch.Tensor]:
    """Tensors for ``specs`` on ``device`` (default: where ``model`` is).

    On the meta device they are empty (shapes only). Elsewhere token ids are
    random and valid for every embedding of ``model``, masks are ones, values
    are random in [0, 1), all from a private seeded generator (the global RNG is
    not touched).
    """
    if device is None:
        held = next(iter(model.parameters()), None)
        device = held.device if held is not None else torch.device("cpu")
    where = torch.device(device)
    generator = torch.Generator().manual_seed(0)
    bound = index_bound(model.modules()) if any(s.fill == "ids" for s in specs.values()) else 2
    tensors = {}
    for name, spec in specs.items():
        if spec.fill == "row":
            row = torch.tensor(spec.row, dtype=spec.dtype)
            tensors[name] = row.expand(spec.shape).contiguous().to(where)
        elif spec.fill == "mask" and where.type != "meta":
            tensors[name] = torch.ones(spec.shape, dtype=spec.dtype, device=where)
        else:
            tensors[name] = random_tensor(spec.shape, spec.dtype, where, generator, bound)
    return tensors


def forward_flags(model: nn.Module, image_size: tuple[int, int] | None) -> dict[str, bool]:
    """Keyword flags the forward needs next to its tensors: at an ``image_size``
    other than the config's, ``interpolate_pos_encoding=True`` where the forward
    takes it (ViT, CLIP: the position table is resized, as transformers does
    for higher-resolution inference; the parameters stay the config's)."""
    config = getattr(model, "config", None)
    if image_size is None or config is None:
        return {}
    vision = getattr(config, "vision_config", None) or config
    size = getattr(vision, "image_size", None)
    native = (size, size) if isinstance(size, int) else None
    accepted = forward_names(model)
    if native != tuple(image_size) and accepted is not None and (
        "interpolate_pos_encoding" in accepted
    ):
        return {"interpolate_pos_encoding": True}
    return {}


def follow_given_ids(
    specs: Mapping[str, InputSpec], given: Mapping[str, tuple[int, ...]]
) -> dict[str, InputSpec]:
    """The built inputs that must change shape with token ids given another shape,
    resized: every other token or mask input of the same stream built at the
    ids' shape (``attention_mask``, ``token_type_ids``, ``langs`` with
    ``input_ids``; ``decoder_attention_mask`` with ``decoder_input_ids``). An
    input in ``given`` itself keeps the user's shape (it is left out).

    Example:
        >>> specs = {"input_ids": InputSpec((1, 128), torch.long, "ids"),
        ...          "attention_mask": InputSpec((1, 128), torch.long, "mask")}
        >>> follow_given_ids(specs, {"input_ids": (2, 7)})["attention_mask"].shape
        (2, 7)
    """
    resized = {}
    for leader in _STREAM_IDS:
        built, shape = specs.get(leader), given.get(leader)
        if built is None or shape is None or tuple(shape) == built.shape:
            continue
        decoder = leader.startswith("decoder_")
        for name, spec in specs.items():
            follows = (
                name != leader
                and name not in given
                and name.startswith("decoder_") == decoder
                and spec.fill in ("ids", "mask")
                and spec.shape == built.shape
            )
            if follows:
                resized[name] = InputSpec(tuple(shape), spec.dtype, spec.fill)
    return resized


def forward_names(model: nn.Module) -> list[str] | None:
    """The names ``model.forward`` declares, in order (None: it cannot be
    inspected). Names it would only take through ``**kwargs`` are not among
    them: a head without decoder (``T5EncoderModel``) declares no
    ``decoder_input_ids``."""
    parameters = _forward_parameters(model)
    if parameters is None:
        return None
    return [
        parameter.name
        for parameter in parameters
        if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
    ]


def is_transformers_model(model: nn.Module) -> bool:
    """Whether ``model`` is a transformers ``PreTrainedModel`` (read from its
    classes' modules: transformers is not imported here)."""
    return any(
        cls.__name__ == "PreTrainedModel" and cls.__module__.startswith("transformers.")
        for cls in type(model).__mro__
    )


def default_text_length(model: nn.Module, default: int) -> int:
    """``default`` tokens, or fewer when the model's config says it takes fewer
    (``max_text_length``: Whisper's decoder 448, GPT-2's 1,024 positions)."""
    return min(default, max_text_length(model) or default)


def takes_any_keyword(model: nn.Module) -> bool:
    """Whether ``model.forward`` has a ``**kwargs`` (True when it cannot be inspected)."""
    parameters = _forward_parameters(model)
    if parameters is None:
        return True
    return any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters)


def _forward_parameters(model: nn.Module) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None


def default_spec(name: str, shape: tuple[int, ...], dtype: torch.dtype | None) -> InputSpec:
    """The spec of a keyword input given on the command line (``--input NAME=SHAPE``):
    without a dtype, names ending in ``ids`` or ``mask`` are int64, others float32."""
    is_ids = name.endswith("ids")
    is_mask = name.endswith("mask")
    if dtype is None:
        dtype = torch.long if is_ids or is_mask else torch.float32
    fill: Fill = "mask" if is_mask else "ids" if is_ids else "values"
    if dtype.is_floating_point or dtype.is_complex:
        fill = "values"
    return InputSpec(shape, dtype, fill)


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


def max_text_length(model: nn.Module) -> int | None:
    """The longest token sequence the model's position tables take (the smallest
    of ``max_position_embeddings``, ``n_positions`` and, for a decoder,
    ``max_target_positions``, in the config and its ``text_config``); None when
    the config names no limit. CLIP's text tower stops at 77 tokens."""
    config = getattr(model, "config", None)
    limits = []
    for where in (config, getattr(config, "text_config", None)):
        for key in ("max_position_embeddings", "n_positions", "max_target_positions"):
            value = getattr(where, key, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                limits.append(value)
    return min(limits) if limits else None


# ------------------------------------------------------------------ one input
def _spec(
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
    if name in _NAFLEX or (name == "pixel_values" and _is_naflex(model)):
        return _naflex_spec(name, config, batch, image_size, dtype)
    if name == "pixel_values":
        channels, (height, width) = _image_shape(config, image_size)
        return InputSpec((batch, channels, height, width), dtype)
    if name == "past_values":
        steps, series = (getattr(config, key, None) for key in _SERIES_KEYS)
        if isinstance(steps, int) and isinstance(series, int):
            return InputSpec((batch, steps, series), dtype)
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


def _is_naflex(model: nn.Module) -> bool:
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


# ------------------------------------------------------------------ which inputs
def _dummy_input_names(model: nn.Module) -> list[str]:
    """The names of the class's own ``dummy_inputs``. transformers' base class
    defines ``{"input_ids": ...}`` for every model, Whisper and ViT included, so
    only a subclass's own definition says something about the model."""
    for cls in type(model).__mro__:
        if "dummy_inputs" in vars(cls):
            if cls.__module__ == "transformers.modeling_utils":
                return []
            break
    else:
        return []
    try:
        dummy = model.dummy_inputs
    except Exception:  # a dummy that cannot be built (e.g. on meta) says nothing
        return []
    return [str(name) for name in dummy] if isinstance(dummy, Mapping) else []


def _takes_image_pair(
    model: nn.Module, config: Any, main: str, accepted: list[str] | None
) -> bool:
    """A text-and-image model scored on pairs (CLIP, SigLIP): its forward needs
    pixel values next to the token ids."""
    if main != "input_ids" or getattr(config, "vision_config", None) is None:
        return False
    if any(getattr(config, key, None) is not None for key in _IMAGE_TOKEN_KEYS):
        return False
    return accepted is None or "pixel_values" in accepted


__all__ = [
    "GivenInputs",
    "InputSpec",
    "InputsError",
    "check_positions",
    "default_spec",
    "default_text_length",
    "follow_given_ids",
    "forward_flags",
    "forward_input_specs",
    "forward_names",
    "is_transformers_model",
    "make_inputs",
    "max_text_length",
    "position_table",
    "takes_any_keyword",
]
