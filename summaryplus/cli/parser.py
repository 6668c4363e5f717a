"""The command line: options, help text and defaults (argparse)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from .._config_size import DEFAULT_MAX_LAYERS, EXPERT_FACTOR
from .._factories import DEFAULT_SEQ_LEN, USAGE, parse_image_size, parse_keyword_input, parse_size
from .._version import __version__

PROG = "summaryplus"
DEFAULT_DEPTH = 3
# With inputs, the command shows MACs too: exact counts are the point of it.
DEFAULT_COLUMNS = ("output_size", "num_params", "mult_adds")

DESCRIPTION = """\
Summarize a PyTorch model, a checkpoint or a transformers config: parameters,
exact MACs/FLOPs, memory; checkpoints without loading their tensors.

TARGET is one of:
  demo               the built-in example models (what `make demo` runs)
  plan TARGET        will it fit? params, FLOPs per token, inference and training
                     memory, GPU sizes (`summaryplus plan --help`)
  MODULE:CALLABLE    a factory in an importable module (torchvision.models:resnet18);
                     called with no arguments, it must return a torch.nn.Module
                     (an nn.Module instance attribute is used as it is)
  FILE.py:CALLABLE   a factory in a Python file (./models.py:make_model)
  CHECKPOINT         model.safetensors (reads the header only: a 100 GB file costs
                     what a 1 kB one does), model.pt/.pth/.bin/.ckpt (torch.load with
                     weights_only=True, mmap=True; never unsafe unpickling),
                     model.safetensors.index.json (a sharded checkpoint: summed),
                     or a folder holding one of these
  MODEL.pt2          a torch.export archive: the graph's rows, shapes, params and
                     MACs from its JSON only (no weights read, nothing unpickled);
                     --input-size sets its dynamic sizes
  CONFIG.json        a transformers config (or a folder with config.json and no
                     weights): the model is built on the meta device, offline,
                     and run on the inputs its forward needs (token ids, decoder
                     ids, pixels, audio features) at --seq-len tokens (default 128)
  ORG/NAME           a model on the Hugging Face hub: its config.json only (never
                     weights), through huggingface_hub (cache, HF_HUB_OFFLINE and
                     tokens respected); a file or folder of that name wins"""

EPILOG = """\
examples:
  summaryplus demo
  summaryplus plan ./Llama-3-8B/config.json --context 8192 --shards 8
  summaryplus torchvision.models:resnet50 --input-size 1,3,224,224
  summaryplus ./models.py:make_gpt --seq-len 512 --mode train --format github
  summaryplus ./models.py:TwoTower --input-size 1,16 --input-size 1,3,64,64 --dtypes long,float32
  summaryplus ./models.py:make_70b --device meta --seq-len 4096 --depth 1
  summaryplus ./models.py:make_cnn --input-size 8,3,32,32 --col-names flops --plot cnn.png
  summaryplus model.safetensors --depth 2
  summaryplus ./Llama-3-8B/ --format json --output llama.json
  summaryplus model.safetensors.index.json --format csv
  summaryplus pytorch_model.bin --format github
  summaryplus model.pt2 --depth 2
  summaryplus model.pt2 --input-size 4,256 --format json --output model.json
  summaryplus ./config.json --seq-len 4096 --depth 2
  summaryplus ./Llama-3-8B/config.json --model-class AutoModel --format html --output llama.html
  summaryplus openai/whisper-tiny --seq-len 64
  summaryplus openai/clip-vit-base-patch32 --image-size 336 --batch-size 2
  summaryplus ./models.py:make_vit --input pixel_values=1,3,224,224 --input mask=1,197:bool

output formats (--format), each with the same rows, totals and notes:
  text (default; the torchinfo table), json, csv (rows, a blank line, totals),
  html (a whole page), rich, markdown (or md: GitHub tables), or any tabulate
  format: github, grid, simple, pipe, rst, latex (an ASCII tree), tsv, psql, ...

exit status:
  0 success; 1 the target could not be read, built or run (a corrupt checkpoint,
  a refused pickle, a failing forward pass); 2 usage error (a bad option, a missing
  file, an unknown extension, a malformed --input-size)"""


class CommandParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _size(text: str) -> tuple[int, ...]:

    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _at_least(text: str, smallest: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = smallest - 1
    if value < smallest:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= {smallest}")
    return value


def _non_negative(text: str) -> int:
    return _at_least(text, 0)


def positive_int(text: str) -> int:
    # One wording for 0, -5 and "abc" alike.
    return _at_least(text, 1)


def _image_size(text: str) -> tuple[int, int]:

    try:
        return parse_image_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _keyword_input(text: str) -> tuple[str, tuple[int, ...], str | None]:

    try:
        return parse_keyword_input(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_version(parser: argparse.ArgumentParser) -> None:
    """``--version``: the package's version, and torch's (what the numbers depend on)."""
    import torch  # loaded by summaryplus already; here for its version only

    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__} (torch {torch.__version__})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="demo, MODULE:CALLABLE, FILE.py:CALLABLE, a checkpoint, a .pt2 archive, a "
        "config.json, a folder or a hub name (ORG/NAME)",
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
        "--input",
        action="append",
        type=_keyword_input,
        metavar="NAME=SHAPE[:DTYPE]",
        help="a keyword input of the forward, e.g. pixel_values=1,3,224,224 or "
        "attention_mask=1,128:bool; repeatable; any model or config (for a config it "
        "replaces or adds to the inputs built for it). Default dtype: int64 for names "
        "ending in ids or mask, float32 otherwise",
    )
    inputs.add_argument(
        "--dtypes",
        metavar="DTYPES",
        help="dtype of each input, comma-separated, e.g. float32 or long,float32 "
        "(default float32; long for --seq-len and configs)",
    )
    inputs.add_argument(
        "--seq-len",
        type=positive_int,
        metavar="N",
        help="one input of N token ids (int64), shape BATCH,N; configs: tokens of every "
        f"text input, encoder and decoder (default {DEFAULT_SEQ_LEN}, or the model's "
        "limit when shorter, as CLIP's 77)",
    )
    inputs.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="B",
        help="batch size for --seq-len and config inputs (default 1)",
    )
    inputs.add_argument(
        "--image-size",
        type=_image_size,
        metavar="N|H,W",
        help="configs only: height and width of pixel_values (default: the config's image_size)",
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
        "AutoModelForCausalLM, ...; default: the config's architectures[0], else its "
        "causal-LM head where it has one, else AutoModel)",
    )
    inputs.add_argument(
        "--trust-remote-code",
        action="store_true",
        default=None,
        help="configs only: import the model code the config names (auto_map) from its "
        "folder and run it; never done without this flag",
    )
    inputs.add_argument(
        "--max-layers",
        type=positive_int,
        default=DEFAULT_MAX_LAYERS,
        metavar="N",
        help=f"configs only: refuse a config of more layers than N (default "
        f"{DEFAULT_MAX_LAYERS:,}; layers x experts: {EXPERT_FACTOR} x N) before building it",
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
        help="text (default), json, csv, html, rich, markdown (md), or a tabulate format "
        "(github, grid, rst, latex, tsv, ...)",
    )
    table.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    shown = table.add_mutually_exclusive_group()
    shown.add_argument(
        "--findings",
        action="store_const",
        const="all",
        dest="findings",
        help="show every finding under the table, each with what to do (default: the "
        "first 5, one line each); json output always holds them all",
    )
    shown.add_argument(
        "--no-findings",
        action="store_const",
        const="none",
        dest="findings",
        help="show no findings under the table",
    )
    table.add_argument(
        "--plot",
        metavar="FILE",
        help="also save a plot to FILE (needs matplotlib): one panel per numeric column of "
        "--col-names (Param #, Mult-Adds, FLOPs, Memory), rows down to --depth",
    )
    add_version(parser)
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show what torch, transformers and huggingface_hub log and warn while the "
        "command runs (hidden otherwise), and the Python traceback of a failure"
    )
    return parser
