"""Where the command's models come from: a factory named on the command line, or a
transformers config. Also the parsing of ``--input-size`` and ``--dtypes``.

Everything that can go wrong raises :class:`CommandError` with one line the user
can act on and the exit status to use (2 for what was typed, 1 for what happened).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config_size import DEFAULT_MAX_LAYERS, oversized
from ._untrusted import load_json_file

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .hf_inputs import InputSpec

USAGE = 2
FAILURE = 1
#: Tokens per sequence when none is asked for (capped at the model's own limit).
DEFAULT_SEQ_LEN = 128


class CommandError(Exception):
    """A failure the command reports as one line on stderr, exiting with ``code``."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------ parsing
_SIZE_SEPARATORS = re.compile(r"[,\s]+")


def parse_size(text: str) -> tuple[int, ...]:
    """``"1,3,224,224"`` (also ``1x3x224x224`` or ``[1, 3, 224, 224]``) -> a shape.

    Raises:
        ValueError: not a list of positive integers.
    """
    body = text.strip().strip("[]()").strip()
    if re.fullmatch(r"\d+(x\d+)+", body):
        body = body.replace("x", ",")
    parts = [p for p in _SIZE_SEPARATORS.split(body) if p]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            f"{text!r} is not a shape; expected positive integers separated by commas, "
            "e.g. 1,3,224,224"
        )
    return tuple(int(p) for p in parts)


def parse_dtypes(text: str, flag: str = "--dtypes") -> list[torch.dtype]:
    """``"float32,long"`` -> ``[torch.float32, torch.int64]`` (``flag``: the option
    the error names)."""
    import torch

    dtypes = []
    for raw in text.split(","):
        name = raw.strip().removeprefix("torch.")
        dtype = getattr(torch, name, None) if name else None
        if not isinstance(dtype, torch.dtype):
            raise CommandError(
                f"{flag}: {raw.strip()!r} is not a torch dtype (e.g. float32, float16, "
                "bfloat16, long, int32, bool)",
                USAGE,
            )
        dtypes.append(dtype)
    return dtypes


def parse_image_size(text: str) -> tuple[int, int]:
    """``"224"`` -> ``(224, 224)``; ``"384,512"`` (or ``384x512``) -> ``(384, 512)``.

    Raises:
        ValueError: not one or two positive integers.
    """
    size = parse_size(text)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) == 2:
        return size[0], size[1]
    raise ValueError(f"{text!r} is not an image size; expected N or HEIGHT,WIDTH, e.g. 224")


#: One ``--input NAME=SHAPE[:DTYPE]``: the keyword, its shape and its dtype name.
KeywordInput = tuple[str, tuple[int, ...], str | None]


def parse_keyword_input(text: str) -> KeywordInput:
    """``"attention_mask=1,128:bool"`` -> ``("attention_mask", (1, 128), "bool")``.

    The dtype is checked later by :func:`parse_dtypes` (it needs torch).

    Raises:
        ValueError: no ``=``, a name that is not a Python identifier, or a bad shape.
    """
    name, equals, rest = text.partition("=")
    name = name.strip()
    if not equals or not name.isidentifier():
        raise ValueError(
            f"{text!r} is not NAME=SHAPE[:DTYPE], e.g. pixel_values=1,3,224,224 or "
            "attention_mask=1,128:long"
        )
    shape_text, _, dtype = rest.partition(":")
    return name, parse_size(shape_text), dtype.strip() or None


# ------------------------------------------------------------------ factories
def looks_like_factory(target: str) -> bool:
    """``pkg.module:make`` or ``path/to/file.py:make``."""
    return ":" in target


def load_factory(spec: str) -> Any:
    """The object ``MODULE_OR_FILE:ATTRIBUTE`` names (attributes may be dotted)."""
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise CommandError(
            f"{spec!r}: expected MODULE:CALLABLE or FILE.py:CALLABLE, "
            "e.g. torchvision.models:resnet18",
            USAGE,
        )
    module = _import_file(where) if _is_path(where) else _import_module(where)
    value: Any = module
    for part in attribute.split("."):
        if not part.isidentifier() or not hasattr(value, part):
            defined = _factory_names(module)
            hint = f" (it defines: {', '.join(defined)})" if defined else ""
            raise CommandError(f"{where} has no attribute {attribute!r}{hint}", USAGE)
        value = getattr(value, part)
    return value


def _is_path(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


def _import_file(where: str) -> Any:
    path = Path(where)
    if not path.is_file():
        raise CommandError(f"no such file: {where}", USAGE)
    if path.suffix != ".py":
        raise CommandError(f"{where}: a factory file must be a .py file", USAGE)
    name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else (
        f"_summaryplus_target_{abs(hash(str(path.resolve())))}"
    )
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have one
        raise CommandError(f"{where}: cannot be imported", USAGE)
    module = importlib.util.module_from_spec(spec)
    # As ``python FILE.py`` would: its folder is importable, and it is in sys.modules
    # (dataclasses and pickling look modules up there).
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        raise CommandError(f"importing {where} failed: {_one_line(error)}") from error
    return module


def _import_module(where: str) -> Any:
    # ``python -m summaryplus`` can import from the working folder; make the
    # ``summaryplus`` console script behave the same.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing and (where == missing or where.startswith(missing + ".")):
            raise CommandError(
                f"no module named {missing!r} (run from the folder that holds it, or give "
                "a file: path/to/file.py:CALLABLE)",
                USAGE,
            ) from error
        raise CommandError(f"importing {where} failed: {_one_line(error)}") from error
    except Exception as error:
        raise CommandError(f"importing {where} failed: {_one_line(error)}") from error


def _factory_names(module: Any) -> list[str]:
    """Functions and classes a module defines itself, to suggest when a name is wrong."""
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if getattr(value, "__module__", None) == module.__name__:
            names.append(name)
    return names[:10]


def build_from_factory(spec: str, device: str | None) -> nn.Module:
    """Imports ``spec``, calls it with no arguments and checks it made a module.

    With ``device``, the factory runs under ``torch.device(device)`` so its
    tensors are created there (``"meta"``: no memory at all), and the result is
    moved there if it was built elsewhere (except to ``"meta"``, which
    ``summary()`` handles by running on fake tensors).
    """
    import torch
    from torch import nn

    target = load_factory(spec)
    if isinstance(target, nn.Module):
        model: Any = target
    elif callable(target):
        with _device_context(device):
            try:
                model = target()
            except Exception as error:
                raise CommandError(f"calling {spec}() failed: {_one_line(error)}") from error
    else:
        raise CommandError(
            f"{spec} is a {type(target).__name__}, not a callable that returns a torch.nn.Module",
            USAGE,
        )
    if not isinstance(model, nn.Module):
        raise CommandError(
            f"{spec}() returned {type(model).__name__}, not a torch.nn.Module", USAGE
        )
    if device is not None and torch.device(device).type != "meta":
        held = next(iter(model.parameters()), None)
        if held is not None and held.device != torch.device(device):
            model.to(device)
    return model


def check_device(device: str) -> None:
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise CommandError(
            f"--device {device!r} is not a torch device (e.g. cpu, meta, cuda, cuda:1)", USAGE
        ) from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise CommandError(f"--device {device}: CUDA is not available on this machine", USAGE)
        if parsed.index is not None and parsed.index >= count:
            raise CommandError(
                f"--device {device}: this machine has {count} CUDA device(s)", USAGE
            )


def _device_context(device: str | None) -> AbstractContextManager[Any]:
    import torch

    return torch.device(device) if device is not None else nullcontext()


# ------------------------------------------------------------------ transformers
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


def build_from_config(
    path: Path,
    model_class: str | None,
    device: str | None,
    seq_len: int | None,
    batch: int,
    *,
    image_size: tuple[int, int] | None = None,
    default_seq_len: int = DEFAULT_SEQ_LEN,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> ConfigModel:
    """Builds the model a ``config.json`` describes, on the meta device by default,
    with the keyword inputs its forward needs at ``seq_len``/``batch``/``image_size``
    (``seq_len`` None: ``default_seq_len`` tokens, or fewer when the model's
    position table is shorter, as CLIP's 77).

    Only local files are read: the Hugging Face hub is switched off before
    transformers is imported, and configs that need custom code are refused, as
    are configs over ``max_layers`` layers (``_config_size``), before building.

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

    from .hf_inputs import (
        InputsError,
        default_text_length,
        forward_flags,
        forward_input_specs,
        make_inputs,
    )

    model_type = data["model_type"]
    config = _config(transformers, data, path)
    if hasattr(config, "use_cache"):
        # No key/value cache: a summary is one plain forward pass.
        config.use_cache = False
    cls, name = _model_class(transformers, data, model_class)
    with torch.device(device or "meta"):
        try:
            if hasattr(cls, "from_config"):
                model = cls.from_config(config)
            else:
                model = cls._from_config(config)
        except Exception as error:
            raise CommandError(
                f"building {name} from {path} failed: {_one_line(error)}"
                + config_class_hint(cls, name, config, data)
            ) from error
    if not isinstance(model, torch.nn.Module):  # pragma: no cover - transformers contract
        raise CommandError(f"{name} did not build a torch.nn.Module")
    if seq_len is None:
        seq_len = default_text_length(model, default_seq_len)
    try:
        specs = forward_input_specs(model, seq_len=seq_len, batch=batch, image_size=image_size)
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
    )


def _config(transformers: Any, data: dict[str, Any], path: Path) -> Any:
    model_type = data["model_type"]
    known = list(getattr(transformers, "CONFIG_MAPPING", {}).keys())
    if known and model_type not in known:
        if "auto_map" in data:
            raise CommandError(
                f"{path}: model_type {model_type!r} needs custom code (auto_map), "
                "which summaryplus never runs"
            )
        close = difflib.get_close_matches(model_type, known, n=5, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise CommandError(
            f"{path}: model_type {model_type!r} is not one transformers "
            f"{transformers.__version__} knows{hint}"
        )
    try:
        return transformers.AutoConfig.for_model(**data)
    except (ValueError, KeyError, TypeError) as error:
        raise CommandError(
            f"{path}: model_type {model_type!r}: cannot build its config ({_one_line(error)})"
        ) from None


def _model_class(transformers: Any, data: dict[str, Any], requested: str | None) -> tuple[Any, str]:
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
        return cls, requested
    architectures = data.get("architectures") or []
    names = [str(name) for name in architectures] if isinstance(architectures, list) else []
    for name in names:
        cls = getattr(transformers, name, None)
        if inspect.isclass(cls) and hasattr(cls, "_from_config"):
            return cls, name
    if names:
        # Never a silent fallback to the base model (no head: other numbers).
        why = "custom code (auto_map), which summaryplus never runs" if "auto_map" in data else (
            f"no class of transformers {transformers.__version__}"
        )
        raise CommandError(
            f"architectures {names} name {why}: pass --model-class (e.g. AutoModelForCausalLM "
            "or AutoModel) to summarize the config as a transformers class",
            USAGE,
        )
    return transformers.AutoModel, "AutoModel"


def config_class_hint(cls: Any, name: str, config: Any, data: dict[str, Any]) -> str:
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


# ------------------------------------------------------------------ helpers
def is_meta_model(model: nn.Module) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return bool(tensors) and all(t.is_meta for t in tensors)


def one_line(error: BaseException) -> str:
    return _one_line(error)


def _one_line(error: BaseException) -> str:
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


__all__ = [
    "DEFAULT_SEQ_LEN",
    "FAILURE",
    "USAGE",
    "CommandError",
    "ConfigModel",
    "KeywordInput",
    "build_from_config",
    "build_from_factory",
    "check_device",
    "is_meta_model",
    "load_factory",
    "looks_like_factory",
    "one_line",
    "parse_dtypes",
    "parse_image_size",
    "parse_keyword_input",
    "parse_size",
]
