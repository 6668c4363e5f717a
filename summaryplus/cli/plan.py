"""``summaryplus plan TARGET``: will it fit? (``summaryplus.plan``, from the command line)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from .._factories import FAILURE, USAGE, CommandError
from .parser import PROG, _Parser, _positive

if TYPE_CHECKING:
    from torch import nn

DEFAULT_CONTEXT = 4096

DESCRIPTION = """\
Will it fit? For a transformers config (a file, a folder or a hub name
ORG/NAME: config.json only) or a model factory: params (total,
trainable, active for a mixture of experts), FLOPs per token (forward, and
training with a real backward), inference memory at --context x --batch in
bfloat16, int8 and int4 (weights, the KV cache measured from the cache the model
returns, the prefill's activations), training memory (Adam, bf16 mixed
precision, --shards GPUs with FSDP), and the GPU sizes (24, 40, 48, 80, 141 GB)
each fits on. The model is built and run on the meta device: a 70B config costs
seconds and allocates no weights."""

EPILOG = """\
examples:
  summaryplus plan ./Llama-3-8B/config.json --context 8192
  summaryplus plan ./Llama-3-70B/ --context 4096 --batch 4 --shards 8 --format json
  summaryplus plan meta-llama/Llama-3.1-8B --context 8192
  summaryplus plan ./models.py:make_gpt --context 1024
  summaryplus plan ./Llama-3-8B/ --context 4096 --batch 8 --shards 8 --checkpoint 80GiB"""


def build_plan_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{PROG} plan",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="a config.json, a folder holding one, a hub name ORG/NAME, or MODULE:CALLABLE",
    )
    parser.add_argument(
        "--context", type=_positive, metavar="N",
        help=f"tokens per sequence (default {DEFAULT_CONTEXT}, or the model config's own "
        "limit when lower: max_position_embeddings, 448 for Whisper's decoder)",
    )
    parser.add_argument(
        "--batch", type=_positive, default=1, metavar="B", help="sequences (default 1)"
    )
    parser.add_argument(
        "--shards", type=_positive, default=1, metavar="N",
        help="GPUs to split training (FSDP) and inference (tensor parallel) over (default 1)",
    )
    parser.add_argument(
        "--checkpoint", nargs="?", const="80GiB", metavar="BUDGET",
        help="also plan activation checkpointing: which modules to wrap so the training "
        "step fits BUDGET per GPU (default 80GiB; bytes, or e.g. 40GB, 80GiB), at the "
        "least recompute, with the snippet that applies it",
    )
    parser.add_argument(
        "--model-class", metavar="NAME",
        help="configs only: the transformers class to build (default: architectures[0])",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of a failure"
    )
    return parser


def run_plan(args: argparse.Namespace) -> int:
    from ..errors import SummaryError
    from ..plan import plan
    from .targets import _emit

    model, inputs, context = load_plan_target(args)
    try:
        found = plan(
            model, input_data=inputs, context=context, batch=args.batch, shards=args.shards,
            checkpoint=args.checkpoint,
        )
    except SummaryError as error:
        line = str(error).splitlines()[0].rstrip(".")
        if inputs is None:  # a factory's model, given token ids
            line += (
                f"; plan runs a factory's model on token ids of shape [{args.batch}, "
                f"{context}] (int64): for a model that takes other inputs, see its "
                "memory with `summaryplus TARGET --input-size ...`"
            )
        raise CommandError(line, FAILURE) from error
    except (ValueError, TypeError) as error:
        raise CommandError(str(error), USAGE) from error
    text = json.dumps(found.to_dict(), indent=2) if args.format == "json" else str(found)
    _emit(args, text)
    return 0


def load_plan_target(
    args: argparse.Namespace,
) -> tuple[nn.Module, dict[str, Any] | None, int]:
    """The model, the keyword inputs of one step of --batch x --context tokens
    and that context, from the loaders the summary command uses
    (``build_from_config``, which reads hub names too and builds each model
    type's inputs; factories), passed through as they are: (model, inputs;
    None: token ids of shape (batch, context), context). Without --context:
    ``DEFAULT_CONTEXT``, or the model config's own limit when lower
    (``hf_inputs.default_text_length``)."""
    from .._factories import build_from_config, build_from_factory
    from ..hf_inputs import default_text_length
    from .frontend import _classify

    kind, path = _classify(args.target)
    if kind in ("checkpoint", "exported"):
        what = (
            "a checkpoint holds weights only; give the config.json next to it"
            if kind == "checkpoint"
            else "an exported program's graph is fixed to its export; summarize it with "
            "`summaryplus TARGET`"
        )
        raise CommandError(f"{args.target}: plan needs a config.json or a factory ({what})", USAGE)
    if kind == "factory":
        if args.model_class is not None:
            raise CommandError("--model-class does not apply to a factory", USAGE)
        model = build_from_factory(args.target, None)
        context = args.context or default_text_length(model, DEFAULT_CONTEXT)
        return model, None, context
    built = build_from_config(
        path, args.model_class, None, seq_len=args.context, batch=args.batch,
        default_seq_len=DEFAULT_CONTEXT,
    )
    if not any(spec.fill == "ids" for spec in built.input_specs.values()):
        # FLOPs and memory per token of a model that takes none mean nothing.
        raise CommandError(
            f"{args.target}: plan is for models that take tokens; {built.class_name} takes "
            f"{', '.join(built.input_specs)}: summarize it with `summaryplus TARGET` "
            "(--batch-size, --image-size)",
            USAGE,
        )
    # build_from_config switches the cache off for a summary; a plan measures it
    # (our own model: nothing the user holds changes).
    config: Any = getattr(built.model, "config", None)
    if config is not None and hasattr(config, "use_cache"):
        config.use_cache = True
    return built.model, dict(built.inputs), built.seq_len
