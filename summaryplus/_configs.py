"""A transformers ``config.json`` -> the model it describes, and the inputs of its forward.

The file is read by transformers' own loader (``AutoConfig.from_pretrained`` on
the local file), so everything a later version writes into a config reads back as
that version reads it: ``{"__float__": "Infinity"}`` (Mamba2 and Falcon-H1's
``time_step_limit``), nested sub-configs, ``dtype``/``torch_dtype``, renamed keys.
Code a config names in ``auto_map`` is never imported unless the caller passes
``trust_remote_code=True`` (``--trust-remote-code`` on the command line).

Everything that can go wrong raises :class:`CommandError` with one line the user
can act on and the exit status to use (2 for what was typed, 1 for what happened).
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config_size import DEFAULT_MAX_LAYERS, oversized
from ._factories import DEFAULT_SEQ_LEN, USAGE, CommandError, one_line
from ._untrusted import load_json_file
from .hf_inputs import (
    InputsError,
    default_text_length,
    forward_flags,
    forward_input_specs,
    make_inputs,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .hf_inputs import GivenInputs, InputSpec

# The heads tried, in order, for a config that names no architectures: the
# causal-LM head where the model type has one (what `plan` measures per token),
# else the base model.
_DEFAULT_HEADS = (
    ("MODEL_FOR_CAUSAL_LM_MAPPING", "causal-LM head"),
    ("MODEL_MAPPING", "base model"),
)


@dataclass
class ConfigModel:
    """A transformers model built from a config, and how to call it.

    ``inputs`` are the keyword arguments of its forward (``model(**inputs)``),
    built from the model itself (:mod:`summaryplus.hf_inputs`): token ids,
    decoder ids, pixel values, audio features, on the model's device (meta
    tensors for a meta model), and flags such as ``interpolate_pos_encoding``
    at another image size. ``input_specs`` are the tensors' shapes and dtypes.
    ``input_size``/``dtypes`` describe the main input alone (kept for callers
    that pass one positional input); ``encoder_decoder`` is the config's flag.
    """

    model: nn.Module
    model_type: str
    class_name: str
    input_size: list[tuple[int, ...]]
    dtypes: list[torch.dtype]
    encoder_decoder: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    input_specs: dict[str, InputSpec] = field(default_factory=dict)
    # Tokens per sequence the inputs were made for.
    seq_len: int = 0
    # ``config_class_hint`` of the class built: said if its forward fails.
    class_hint: str = ""
    # Why this class was built when the config names none (said under the output).
    chosen: str = ""


def build_from_config(
    path: Path,
    model_class: str | None,
    device: str | None,
    seq_len: int | None,
    batch: int,
    *,
    image_size: tuple[int, int] | None = None,
    default_seq_len: int = DEFAULT_SEQ_LEN,
    given: GivenInputs | None = None,
    main_shape: tuple[int, ...] | None = None,
    trust_remote_code: bool = False,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> ConfigModel:
    """Builds the model a ``config.json`` describes, on the meta device by default,
    with the keyword inputs its forward needs at ``seq_len``/``batch``/``image_size``
    (``seq_len`` None: ``default_seq_len`` tokens, or fewer when the model's
    position table is shorter, as CLIP's 77).

    ``given`` (name -> (shape, dtype or None): ``--input``) and ``main_shape``
    (the main input's shape: ``--input-size``) are the user's inputs: they take
    their names' places before any other input is derived, so an input the model
    does not describe can be given, and masks follow given token ids.

    Only local files are read: the Hugging Face hub is switched off before
    transformers is imported, and code a config names (``auto_map``) is imported
    only with ``trust_remote_code``. Configs over ``max_layers`` layers
    (``_config_size``) are refused before building.

    Raises:
        CommandError: not a config, an unknown ``model_type`` (the message names
            the closest known ones), a class that cannot be built, or inputs that
            cannot be worked out (see :func:`summaryplus.hf_inputs.forward_input_specs`).
    """
    # Set before transformers (and huggingface_hub) is imported: they read it once.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    data = load_json_file(path, CommandError)
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise CommandError(
            f"{path}: not a transformers config (no \"model_type\"); for a sharded "
            "checkpoint give its *.index.json"
        )
    if (too_large := oversized(data, max_layers)) is not None:
        message = f"{path}: {too_large}: building it would take minutes; pass --max-layers N"
        raise CommandError(message, USAGE)
    try:
        import transformers
    except ImportError:
        raise CommandError(
            "summarizing a config needs transformers: pip install 'summaryplus[hf]'"
        ) from None
    import torch


    model_type = data["model_type"]
    config = read_config(transformers, data, path, trust_remote_code)
    if hasattr(config, "use_cache"):
        # No key/value cache: a summary is one plain forward pass.
        config.use_cache = False
    cls, name, chosen = _model_class(transformers, data, config, model_class, trust_remote_code)
    with torch.device(device or "meta"):
        try:
            if trust_remote_code and name.startswith("Auto"):
                model = cls.from_config(config, trust_remote_code=True)
            elif hasattr(cls, "from_config"):
                model = cls.from_config(config)
            else:
                model = cls._from_config(config)
        except Exception as error:
            raise CommandError(
                f"building {name} from {path} failed: {one_line(error)}"
                + config_class_hint(cls, name, config, data)
            ) from error
    if not isinstance(model, torch.nn.Module):  # pragma: no cover - transformers contract
        raise CommandError(f"{name} did not build a torch.nn.Module")
    if seq_len is None:
        seq_len = default_text_length(model, default_seq_len)
    wanted = dict(given or {})
    if main_shape is not None:
        wanted.setdefault(str(getattr(model, "main_input_name", "input_ids")), (main_shape, None))
    try:
        specs = forward_input_specs(
            model, seq_len=seq_len, batch=batch, image_size=image_size, given=wanted
        )
    except InputsError as error:
        raise CommandError(f"{path}: {error}", USAGE) from None
    main = next(iter(specs.values()))
    return ConfigModel(
        model=model,
        model_type=model_type,
        class_name=name,
        input_size=[main.shape],
        dtypes=[main.dtype],
        encoder_decoder=bool(getattr(config, "is_encoder_decoder", False)),
        inputs={**make_inputs(model, specs), **forward_flags(model, image_size)},
        input_specs=specs,
        seq_len=seq_len,
        class_hint=config_class_hint(cls, name, config, data),
        chosen=chosen,
    )


def skip_value_checks() -> None:
    """For the command's process: transformers' checks of input values
    (``torch_compilable_check``: SigLIP2's ``spatial_shapes > 0``) cannot run on
    meta tensors, and the inputs the command builds are valid by construction.
    transformers reads the variable at each check."""
    os.environ["TRANSFORMERS_DISABLE_TORCH_CHECK"] = "1"


def read_config(
    transformers: Any, data: Mapping[str, Any], path: Path, trust_remote_code: bool = False
) -> Any:
    """``path`` read as transformers reads it (``AutoConfig.from_pretrained``), from
    the local file only; ``data`` is its raw JSON (checked before: model_type).

    Raises:
        CommandError: a model type transformers lacks (its code, ``auto_map``, is
            run only with ``trust_remote_code``), or a config it cannot read.
    """
    model_type = data["model_type"]
    known = list(getattr(transformers, "CONFIG_MAPPING", {}).keys())
    remote = "auto_map" in data
    if known and model_type not in known and not (remote and trust_remote_code):
        if remote:
            raise CommandError(
                f"{path}: model_type {model_type!r} needs custom code (auto_map), which "
                "summaryplus runs only with --trust-remote-code"
            )
        close = difflib.get_close_matches(model_type, known, n=5, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise CommandError(
            f"{path}: model_type {model_type!r} is not one transformers "
            f"{transformers.__version__} knows{hint}"
        )
    # Remote code is found next to the config: transformers takes its folder.
    source = str(path.parent if trust_remote_code and remote else path)
    if source != str(path) and path.name != "config.json":
        raise CommandError(f"{path}: --trust-remote-code needs a file named config.json", USAGE)
    try:
        return transformers.AutoConfig.from_pretrained(
            source, trust_remote_code=trust_remote_code, local_files_only=True
        )
    except Exception as error:  # any failure of a third-party reader: one line
        raise CommandError(
            f"{path}: model_type {model_type!r}: transformers {transformers.__version__} cannot "
            f"read this config ({one_line(error)})"
        ) from None


def _model_class(
    transformers: Any,
    data: Mapping[str, Any],
    config: Any,
    requested: str | None,
    trust_remote_code: bool,
) -> tuple[Any, str, str]:
    """(class, its name, why it was chosen: "" when the config or the user named it)."""
    if requested is not None:
        cls = getattr(transformers, requested, None)
        if not inspect.isclass(cls) or not (
            hasattr(cls, "from_config") or hasattr(cls, "_from_config")
        ):
            raise CommandError(
                f"--model-class {requested!r} is not a transformers model class "
                "(e.g. AutoModel, AutoModelForCausalLM, LlamaForCausalLM)",
                USAGE,
            )
        return cls, requested, ""
    architectures = data.get("architectures") or []
    names = [str(name) for name in architectures] if isinstance(architectures, list) else []
    auto_map = data.get("auto_map")
    for name in names:
        cls = getattr(transformers, name, None)
        if inspect.isclass(cls) and hasattr(cls, "_from_config"):
            return cls, name, ""
        if trust_remote_code and isinstance(auto_map, Mapping):
            # The Auto class whose entry in auto_map is this architecture.
            for auto, reference in auto_map.items():
                if str(reference).rsplit(".", 1)[-1] == name and hasattr(transformers, auto):
                    return getattr(transformers, auto), auto, ""
    if names:
        # Never a silent fallback to the base model (no head: other numbers).
        why = f"no class of transformers {transformers.__version__}"
        if auto_map:
            why = (
                f"{why} nor of the config's auto_map"
                if trust_remote_code
                else "custom code (auto_map), which summaryplus runs only with "
                "--trust-remote-code"
            )
        raise CommandError(
            f"architectures {names} name {why}: pass --model-class (e.g. AutoModelForCausalLM "
            "or AutoModel) to summarize the config as a transformers class",
            USAGE,
        )
    for mapping_name, what in _DEFAULT_HEADS:
        mapping = getattr(transformers, mapping_name, None)
        try:
            cls = mapping[type(config)] if mapping is not None else None
        except (KeyError, ValueError):
            continue
        if inspect.isclass(cls):
            return cls, cls.__name__, (
                f"built {cls.__name__}: the config names no architectures, so its "
                f"{what} (--model-class picks another)"
            )
    return transformers.AutoModel, "AutoModel", ""


def config_class_hint(cls: Any, name: str, config: Any, data: Mapping[str, Any]) -> str:
    """Why a class may not run on this config: it is made for another kind
    (said after a failure only: some classes take a composite config's part).
    Empty when the kinds match, or for the Auto classes."""
    expected = getattr(cls, "config_class", None)  # None on the Auto classes
    if not inspect.isclass(expected) or isinstance(config, expected):
        return ""
    architectures = data.get("architectures")
    own = (
        f"its own classes (such as {architectures[0]})"
        if isinstance(architectures, list) and architectures
        else "one of its own classes"
    )
    return (
        f" ({name} is made for a {expected.__name__}, this is a {data['model_type']} "
        f"config: pass {own} or AutoModel)"
    )


__all__ = [
    "ConfigModel",
    "build_from_config",
    "config_class_hint",
    "read_config",
    "skip_value_checks",
]
