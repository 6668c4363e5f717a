"""The ``summaryplus`` command (argparse, thin over the library).

Forms (``summaryplus --help`` has examples):

- ``summaryplus demo``: the built-in examples.
- ``summaryplus MODULE_OR_FILE:CALLABLE``: import a factory, call it, summarize the
  module it returns with ``summary()``.
- ``summaryplus CHECKPOINT``: ``.safetensors`` (header only), torch files
  (``weights_only=True, mmap=True``), sharded ``*.index.json`` or a folder.
- ``summaryplus CONFIG.json``: a transformers model built from its config on the
  meta device and summarized at ``--seq-len``/``--input-size``.

Every failure is one line on stderr and a non-zero exit status: 2 for what was
typed (a bad option, a missing file, an unknown extension), 1 for a target that
could not be read, built or run. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._factories import FAILURE, USAGE, CommandError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .model_statistics import ModelStatistics

PROG = "summaryplus"
DEFAULT_DEPTH = 3
DEFAULT_SEQ_LEN = 128
# With inputs, the command shows MACs too: exact counts are the point of it.
DEFAULT_COLUMNS = ("output_size", "num_params", "mult_adds")
SPECIAL_FORMATS = ("text", "json", "csv", "html")

DESCRIPTION = """\
Summarize a PyTorch model, a checkpoint or a transformers config: parameters,
exact MACs/FLOPs, memory; checkpoints without loading their tensors.

TARGET is one of:
  demo               the built-in example models (what `make demo` runs)
  MODULE:CALLABLE    a factory in an importable module (torchvision.models:resnet18);
                     called with no arguments, it must return a torch.nn.Module
                     (an nn.Module instance attribute is used as it is)
  FILE.py:CALLABLE   a factory in a Python file (./models.py:make_model)
  CHECKPOINT         model.safetensors (reads the header only: a 100 GB file costs
                     what a 1 kB one does), model.pt/.pth/.bin/.ckpt (torch.load with
                     weights_only=True, mmap=True; never unsafe unpickling),
                     model.safetensors.index.json (a sharded checkpoint: summed),
                     or a folder holding one of these
  CONFIG.json        a transformers config (or a folder with config.json and no
                     weights): the model is built on the meta device, offline,
                     and summarized at --seq-len tokens (default 128)"""

EPILOG = """\
examples:
  summaryplus demo
  summaryplus torchvision.models:resnet50 --input-size 1,3,224,224
  summaryplus ./models.py:make_gpt --seq-len 512 --mode train --format github
  summaryplus ./models.py:TwoTower --input-size 1,16 --input-size 1,3,64,64 --dtypes long,float32
  summaryplus ./models.py:make_70b --device meta --seq-len 4096 --depth 1
  summaryplus ./models.py:make_cnn --input-size 8,3,32,32 --col-names flops --plot cnn.png
  summaryplus model.safetensors --depth 2
  summaryplus ./Llama-3-8B/ --format json --output llama.json
  summaryplus model.safetensors.index.json --format csv
  summaryplus pytorch_model.bin --format github
  summaryplus ./config.json --seq-len 4096 --depth 2
  summaryplus ./Llama-3-8B/config.json --model-class AutoModel --format html --output llama.html

output formats (--format):
  text (default; the torchinfo table), json, csv, html, or any tabulate format:
  github, grid, simple, pipe, rst, latex, tsv, psql, ...

exit status:
  0 success; 1 the target could not be read, built or run (a corrupt checkpoint,
  a refused pickle, a failing forward pass); 2 usage error (a bad option, a missing
  file, an unknown extension, a malformed --input-size)"""

# Options that describe a forward pass: meaningless for a checkpoint.
_MODEL_OPTIONS = (
    ("input_size", "--input-size"),
    ("dtypes", "--dtypes"),
    ("seq_len", "--seq-len"),
    ("batch_size", "--batch-size"),
    ("device", "--device"),
    ("col_names", "--col-names"),
    ("row_settings", "--row-settings"),
    ("mode", "--mode"),
    ("plot", "--plot"),
)
_CONFIG_OPTIONS = (("model_class", "--model-class"),)
_OUTPUT_OPTIONS = (("format", "--format"), ("output", "--output"))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _size(text: str) -> tuple[int, ...]:
    from ._factories import parse_size

    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 0")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer > 0")
    return value


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="demo, MODULE:CALLABLE, FILE.py:CALLABLE, a checkpoint, a config.json or a folder",
    )
    inputs = parser.add_argument_group("inputs (models and configs)")
    inputs.add_argument(
        "--input-size",
        action="append",
        type=_size,
        metavar="SIZE",
        help="shape of one input, e.g. 1,3,224,224; repeat the option for several inputs",
    )
    inputs.add_argument(
        "--dtypes",
        metavar="DTYPES",
        help="dtype of each input, comma-separated, e.g. float32 or long,float32 "
        "(default float32; long for --seq-len and configs)",
    )
    inputs.add_argument(
        "--seq-len",
        type=_positive,
        metavar="N",
        help="one input of N token ids (int64), shape BATCH,N "
        f"(configs: default {DEFAULT_SEQ_LEN})",
    )
    inputs.add_argument(
        "--batch-size",
        type=_positive,
        metavar="B",
        help="batch size for --seq-len and config inputs (default 1)",
    )
    inputs.add_argument(
        "--device",
        metavar="DEVICE",
        help="cpu, cuda[:N] or meta (build and run without memory: shapes, params and "
        "MACs of any size); configs default to meta",
    )
    inputs.add_argument(
        "--mode",
        choices=("train", "eval", "same"),
        help="mode of the forward pass (default eval; train measures saved activations)",
    )
    inputs.add_argument(
        "--model-class",
        metavar="NAME",
        help="configs only: the transformers class to build (AutoModel, "
        "AutoModelForCausalLM, ...; default: the config's architectures[0], else AutoModel)",
    )
    table = parser.add_argument_group("output")
    table.add_argument(
        "--depth",
        type=_non_negative,
        metavar="N",
        help=f"deepest level shown (default {DEFAULT_DEPTH}); for checkpoints, the number of "
        "dotted name parts to group by",
    )
    table.add_argument(
        "--col-names",
        type=_names,
        metavar="COLS",
        help="comma-separated columns: input_size, output_size, num_params, params_percent, "
        "kernel_size, groups, mult_adds, flops, memory, trainable "
        f"(default {','.join(DEFAULT_COLUMNS)} with inputs, num_params without)",
    )
    table.add_argument(
        "--row-settings",
        type=_names,
        metavar="ROWS",
        help="comma-separated: depth, var_names, ascii_only, hide_recursive_layers (default depth)",
    )
    table.add_argument(
        "--format",
        default=None,
        metavar="FMT",
        help="text (default), json, csv, html, or a tabulate format (github, grid, rst, tsv, ...)",
    )
    table.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    table.add_argument(
        "--plot", metavar="FILE", help="also save a plot of the summary to FILE (needs matplotlib)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of a failure"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.target is None:
        parser.error(
            "give a TARGET: demo, MODULE:CALLABLE, FILE.py:CALLABLE, a checkpoint or a config.json"
        )
    try:
        return _run(args)
    except CommandError as error:
        return _fail(args, error, str(error), error.code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `summaryplus ... | head`: the reader left; stay quiet like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as error:
        from ._factories import one_line

        message = f"{one_line(error)} (run with --debug for the traceback)"
        return _fail(args, error, message, FAILURE)


def _fail(args: argparse.Namespace, error: BaseException, message: str, code: int) -> int:
    if args.debug:
        traceback.print_exception(error)
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    target: str = args.target
    if target == "demo":
        _reject(args, "demo", _MODEL_OPTIONS + _CONFIG_OPTIONS + _OUTPUT_OPTIONS)
        return _demo(args)
    _check_format(args.format)
    kind, path = _classify(target)
    if kind == "checkpoint":
        _reject(args, "a checkpoint", _MODEL_OPTIONS + _CONFIG_OPTIONS)
        return _checkpoint(args, path)
    _check_model_options(args)
    if kind == "config":
        return _config(args, path)
    _reject(args, "a factory", _CONFIG_OPTIONS)
    return _factory(args)


# ------------------------------------------------------------------ validation
def _reject(args: argparse.Namespace, what: str, options: tuple[tuple[str, str], ...]) -> None:
    given = [flag for attribute, flag in options if getattr(args, attribute) is not None]
    if given:
        verb = "does" if len(given) == 1 else "do"
        raise CommandError(f"{', '.join(given)} {verb} not apply to {what}", USAGE)


def _check_format(fmt: str | None) -> None:
    if fmt is None or fmt in SPECIAL_FORMATS:
        return
    from tabulate import tabulate_formats

    if fmt not in tabulate_formats:
        accepted = ", ".join(dict.fromkeys((*SPECIAL_FORMATS, *tabulate_formats)))
        raise CommandError(f"--format {fmt!r} is not valid; accepted: {accepted}", USAGE)


def _check_model_options(args: argparse.Namespace) -> None:
    from ._factories import check_device
    from .enums import ColumnSettings, RowSettings

    if args.input_size is not None and args.seq_len is not None:
        raise CommandError("give --input-size or --seq-len, not both", USAGE)
    if args.batch_size is not None and args.input_size is not None:
        raise CommandError(
            "--batch-size goes with --seq-len; put it in --input-size instead", USAGE
        )
    for values, flag, enum in (
        (args.col_names, "--col-names", ColumnSettings),
        (args.row_settings, "--row-settings", RowSettings),
    ):
        for value in values or ():
            try:
                enum.parse(value, flag)
            except ValueError as error:
                raise CommandError(str(error).replace(f"{flag}=", f"{flag} "), USAGE) from None
    if args.device is not None:
        check_device(args.device)
    if args.plot is not None:
        import importlib.util

        # Fail before the (possibly long) summary, not after it.
        if importlib.util.find_spec(f"{__package__}.plot") is None:
            raise CommandError(
                "--plot needs summaryplus.plot, which this version of summaryplus does not have",
                USAGE,
            )


def _classify(target: str) -> tuple[str, Path]:
    """What TARGET names: ("factory" | "checkpoint" | "config", path)."""
    from .checkpoints import SAFETENSORS_SUFFIXES, TORCH_SUFFIXES, find_index, weight_files

    path = Path(target)
    weights = SAFETENSORS_SUFFIXES + TORCH_SUFFIXES
    if path.is_dir():
        if find_index(path) is not None or weight_files(path):
            return "checkpoint", path
        if (path / "config.json").is_file():
            return "config", path / "config.json"
        raise CommandError(
            f"{target}: this folder has no checkpoint (*.safetensors, *.bin, *.pt, "
            "*.index.json) and no config.json",
            USAGE,
        )
    name = path.name.lower()
    if path.is_file():
        if name.endswith(weights) or name.endswith(".index.json"):
            return "checkpoint", path
        if name.endswith(".json"):
            return ("checkpoint" if _has_weight_map(path) else "config"), path
        if name.endswith(".py"):
            raise CommandError(f"{target}: name the factory to call: {target}:CALLABLE", USAGE)
        raise CommandError(
            f"{target}: unknown extension {path.suffix or '(none)'!r}; expected "
            f"{', '.join(weights)}, .json, or MODULE:CALLABLE",
            USAGE,
        )
    if ":" in target:
        return "factory", path
    if path.suffix or os.sep in target or "/" in target:
        raise CommandError(f"no such file or folder: {target}", USAGE)
    raise CommandError(
        f"{target!r} is not a file or folder, and not a factory (MODULE:CALLABLE needs a ':')",
        USAGE,
    )


def _has_weight_map(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError):
        return False
    return isinstance(data, dict) and "weight_map" in data


# ------------------------------------------------------------------ forms
def _demo(args: argparse.Namespace) -> int:
    import torch

    from .api import summary
    from .examples import SmallCNN, TinyGPT

    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    print("SmallCNN at (8, 3, 32, 32), eval mode:")
    summary(SmallCNN(), input_size=(8, 3, 32, 32), verbose=1, depth=depth,
            col_names=("output_size", "num_params", "mult_adds"))
    print("\nTinyGPT at (2, 64) token ids, train mode (activations measured):")
    summary(TinyGPT(), input_size=(2, 64), dtypes=[torch.long], mode="train", verbose=1,
            depth=depth, col_names=("output_size", "num_params", "mult_adds", "memory"))
    return 0


def _checkpoint(args: argparse.Namespace, path: Path) -> int:
    from .checkpoints import CheckpointError, summarize_checkpoint
    from .render.checkpoint import render_checkpoint

    try:
        summary = summarize_checkpoint(path)
    except CheckpointError as error:
        raise CommandError(str(error), FAILURE) from error
    except FileNotFoundError as error:
        raise CommandError(str(error), USAGE) from error
    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    _emit(args, render_checkpoint(summary, depth, args.format or "text"))
    return 0


def _factory(args: argparse.Namespace) -> int:
    import torch

    from ._factories import build_from_factory, parse_dtypes

    if args.batch_size is not None and args.seq_len is None:
        raise CommandError("--batch-size goes with --seq-len", USAGE)
    model = build_from_factory(args.target, args.device)
    sizes: list[tuple[int, ...]] | None = args.input_size
    dtypes = parse_dtypes(args.dtypes) if args.dtypes is not None else None
    if args.seq_len is not None:
        sizes = [(args.batch_size or 1, args.seq_len)]
        dtypes = dtypes or [torch.long]
    if dtypes is not None and sizes is None:
        raise CommandError("--dtypes needs --input-size or --seq-len", USAGE)
    stats = _summarize(model, args, sizes, dtypes, encoder_decoder=False)
    return _output_model(args, stats)


def _config(args: argparse.Namespace, path: Path) -> int:
    from ._factories import build_from_config, parse_dtypes

    built = build_from_config(
        path,
        args.model_class,
        args.device,
        seq_len=args.seq_len or DEFAULT_SEQ_LEN,
        batch=args.batch_size or 1,
    )
    sizes = args.input_size or built.input_size
    # Default: token ids for text models, float pixels for vision ones, for every input.
    dtypes = parse_dtypes(args.dtypes) if args.dtypes else built.dtypes[:1] * len(sizes)
    stats = _summarize(built.model, args, sizes, dtypes, encoder_decoder=built.encoder_decoder)
    return _output_model(args, stats)


def _summarize(
    model: nn.Module,
    args: argparse.Namespace,
    sizes: list[tuple[int, ...]] | None,
    dtypes: list[torch.dtype] | None,
    *,
    encoder_decoder: bool,
) -> ModelStatistics:
    import torch

    from ._factories import is_meta_model
    from .api import summary
    from .errors import SummaryError

    columns = args.col_names or (DEFAULT_COLUMNS if sizes else None)
    # A model that already lives on meta runs as it is (summary() uses fake
    # tensors for it); device="meta" on a real model asks for the same pass.
    device = None if is_meta_model(model) else args.device
    kwargs: dict[str, Any] = {}
    if encoder_decoder and sizes:
        where = next(iter(model.parameters())).device
        kwargs["decoder_input_ids"] = torch.zeros(sizes[0], dtype=torch.long, device=where)
    try:
        return summary(
            model,
            input_size=sizes,
            dtypes=dtypes,
            depth=DEFAULT_DEPTH if args.depth is None else args.depth,
            col_names=columns,
            row_settings=args.row_settings,
            mode=args.mode,
            device=device,
            verbose=0,
            **kwargs,
        )
    except SummaryError as error:
        raise CommandError(str(error), FAILURE) from error
    except (ValueError, TypeError) as error:
        raise CommandError(str(error), USAGE) from error


def _output_model(args: argparse.Namespace, stats: ModelStatistics) -> int:
    _emit(args, _render_model(stats, args.format or "text"))
    if args.plot is not None:
        _plot(stats, args.plot)
    return 0


def _render_model(stats: ModelStatistics, fmt: str) -> str:
    if fmt == "text":
        return str(stats)
    method_name = {"json": "to_json", "csv": "to_csv", "html": "_repr_html_"}.get(fmt, "to_table")
    method = getattr(stats, method_name, None)
    if method is None:
        raise CommandError(
            f"--format {fmt} needs ModelStatistics.{method_name}(), which this version of "
            "summaryplus does not have yet",
            USAGE,
        )
    rendered = method(tablefmt=fmt) if method_name == "to_table" else method()
    return rendered if isinstance(rendered, str) else json.dumps(rendered, indent=2)


def _plot(stats: ModelStatistics, path: str) -> None:
    try:
        from .plot import plot_summary  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as error:
        if error.name in ("summaryplus.plot", f"{__package__}.plot"):
            raise CommandError(
                "--plot needs summaryplus.plot, which this version of summaryplus does not have",
                USAGE,
            ) from error
        raise CommandError(
            f"--plot needs {error.name}: pip install 'summaryplus[plot]'", USAGE
        ) from error
    try:
        plot_summary(stats, path=path)
    except ImportError as error:
        raise CommandError(
            f"--plot needs matplotlib: pip install 'summaryplus[plot]' ({error})", USAGE
        ) from error


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    try:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandError(f"cannot write {args.output}: {reason}", FAILURE) from error


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
