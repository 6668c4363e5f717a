"""Where the command's models come from: a factory named on the command line (a
transformers config: ``_configs``). Also the parsing of ``--input-size`` and ``--dtypes``.

Everything that can go wrong raises :class:`CommandError` with one line the user
can act on and the exit status to use (2 for what was typed, 1 for what happened).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

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
    "KeywordInput",
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
