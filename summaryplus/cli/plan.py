"""``summaryplus plan TARGET``: will it fit? (``summaryplus.plan``, from the command line)."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._config_size import DEFAULT_MAX_LAYERS
from .._configs import build_from_config, skip_value_checks
from .._factories import FAILURE, USAGE, CommandError, build_from_factory
from ..errors import SummaryError
from ..gpus import get_gpu, load_gpu_spec, parse_gpu_spec
from ..hf_inputs import InputsError, check_positions, default_text_length
from ..plan import PLAN_STAGES, plan
from ..render.output import check_format
from ..render.plan import render_plan
from .kinds import classify
from .parser import PROG, CommandParser, add_version, positive_int
from .progress import Progress, wants_progress
from .targets import emit

if TYPE_CHECKING:
    from torch import nn

    from ..gpus import GPU
    from ..plan import Plan

DEFAULT_CONTEXT = 4096

DESCRIPTION = """\
Will it fit, and how fast? For a transformers config (a file, a folder or a hub name
ORG/NAME: config.json only) or a model factory: params (total,
trainable, active for a mixture of experts), FLOPs per token (forward, and
training with a real backward), inference memory at --context x --batch in
bfloat16, int8 and int4 (weights, the KV cache measured from the cache the model
returns, the prefill's activations), training memory (Adam, bf16 mixed
precision, --shards GPUs with FSDP), and the GPUs of the hardware table each
fits on (their usable memory); per GPU, the prefill time lower bound and the decode
tokens/s upper bound for bf16/int8/int4 (and fp8) weights, and the largest
context (batch 1) and batch (at --context) within --utilization of its memory.
The model is built and run on the meta device: a 70B config costs
seconds and allocates no weights."""

EPILOG = """\
examples:
  summaryplus plan ./Llama-3-8B/config.json --context 8192
  summaryplus plan ./Llama-3-70B/ --context 4096 --batch 4 --shards 8 --format json
  summaryplus plan meta-llama/Llama-3.1-8B --context 8192
  summaryplus plan ./models.py:make_gpt --context 1024
  summaryplus plan ./Llama-3-8B/ --context 4096 --batch 8 --shards 8 --checkpoint 80GiB"""


def build_plan_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
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
        "--context", type=positive_int, metavar="N",
        help=f"tokens per sequence (default {DEFAULT_CONTEXT}, or the model config's own "
        "limit when lower: max_position_embeddings, 448 for Whisper's decoder)",
    )
    parser.add_argument(
        "--batch", type=positive_int, default=1, metavar="B", help="sequences (default 1)"
    )
    parser.add_argument(
        "--shards", type=positive_int, default=1, metavar="N",
        help="GPUs to split training (FSDP) and inference (tensor parallel) over (default 1)",
    )
    parser.add_argument(
        "--checkpoint", nargs="?", const="80GiB", metavar="BUDGET",
        help="also plan activation checkpointing: which modules to wrap so the training "
        "step fits BUDGET per GPU (default 80GiB; bytes, or e.g. 40GB, 80GiB), at the "
        "least recompute, with the snippet that applies it",
    )
    parser.add_argument(
        "--gpu", action="append", metavar="NAME",
        help="a GPU of the hardware table to plan for (repeatable; default: l4, a100-40gb, "
        "l40s, h100-sxm, h200, b200, mi300x); `summaryplus.gpus.gpu_names()` lists them",
    )
    parser.add_argument(
        "--gpu-spec", action="append", metavar="SPEC",
        help="your own GPU: name=...,bandwidth=...,bf16=...[,fp8=...,memory=...] (bytes/s, "
        "FLOP/s, bytes; k/M/G/T suffixes) or a JSON file with those keys (repeatable)",
    )
    parser.add_argument(
        "--utilization", type=float, default=0.9, metavar="U",
        help="share of each GPU's usable memory to plan the largest context and batch "
        "for (default 0.9)",
    )
    parser.add_argument(
        "--model-class", metavar="NAME",
        help="configs only: the transformers class to build (default: architectures[0], "
        "else the causal-LM head)",
    )
    parser.add_argument(
        "--trust-remote-code", action="store_true",
        help="configs only: import and run the model code the config names (auto_map)",
    )
    parser.add_argument(
        "--max-layers", type=positive_int, default=DEFAULT_MAX_LAYERS, metavar="N",
        help=f"configs only: refuse more layers than N before building (default "
        f"{DEFAULT_MAX_LAYERS:,})",
    )
    parser.add_argument(
        "--format", default="text", metavar="FMT",
        help="text (default), json, csv, html, rich, markdown (md), or a tabulate format "
        "(github, grid, rst, latex, ...)",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    add_version(parser)
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of a failure"
    )
    return parser


def run_plan(args: argparse.Namespace) -> int:

    try:
        fmt = check_format(args.format, "--format")
    except ValueError as error:
        raise CommandError(str(error).replace("--format=", "--format ", 1), USAGE) from None
    # A bar on a terminal for runs over a second: building the model, then plan's stages.
    with Progress(1 + len(PLAN_STAGES), wants_progress(fmt)) as progress:
        progress.stage("building the model")
        model, inputs, context, chosen = load_plan_target(args)
        found = _planned(args, model, inputs, context, progress.stage)
    if chosen:  # the class built for a config that names none: said in every format
        found = dataclasses.replace(found, assumptions=(chosen, *found.assumptions))
    try:
        gpus = _chosen_gpus(args)
        if gpus:
            found = dataclasses.replace(found, gpus=gpus)
        speed = found.speed(utilization=args.utilization)
    except (ValueError, OSError) as error:
        raise CommandError(str(error), USAGE) from error
    emit(args, render_plan(found, fmt, speed))
    return 0


def _planned(
    args: argparse.Namespace,
    model: nn.Module,
    inputs: dict[str, Any] | None,
    context: int,
    stage: Callable[[str], None],
) -> Plan:

    try:
        return plan(
            model, input_data=inputs, context=context, batch=args.batch, shards=args.shards,
            progress=stage, checkpoint=args.checkpoint,
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


def _chosen_gpus(args: argparse.Namespace) -> tuple[GPU, ...]:
    """The GPUs of --gpu and --gpu-spec, in that order (none: the plan's own)."""

    chosen = [get_gpu(name) for name in args.gpu or ()]
    for spec in args.gpu_spec or ():
        chosen.append(load_gpu_spec(spec) if "=" not in spec else parse_gpu_spec(spec))
    return tuple(chosen)


def load_plan_target(
    args: argparse.Namespace,
) -> tuple[nn.Module, dict[str, Any] | None, int, str]:
    """The model, the keyword inputs of one step of --batch x --context tokens
    and that context, from the loaders the summary command uses
    (``build_from_config``, which reads hub names too and builds each model
    type's inputs; factories), passed through as they are: (model, inputs;
    None: token ids of shape (batch, context), context, why this class was built
    when the config names none). Without --context:
    ``DEFAULT_CONTEXT``, or the model config's own limit when lower
    (``hf_inputs.default_text_length``)."""

    kind, path = classify(args.target)
    if kind in ("checkpoint", "exported"):
        what = (
            "a checkpoint holds weights only; give the config.json next to it"
            if kind == "checkpoint"
            else "an exported program's graph is fixed to its export; summarize it with "
            "`summaryplus TARGET`"
        )
        raise CommandError(f"{args.target}: plan needs a config.json or a factory ({what})", USAGE)
    if kind == "factory":
        for flag, value in (("--model-class", args.model_class),
                            ("--trust-remote-code", args.trust_remote_code or None)):
            if value is not None:
                raise CommandError(f"{flag} does not apply to a factory", USAGE)
        model = build_from_factory(args.target, None)
        context = args.context or default_text_length(model, DEFAULT_CONTEXT)
        try:  # a transformers model made by a factory: its position table too
            check_positions(model, "input_ids", context)
        except InputsError as error:
            raise CommandError(f"{args.target}: {error}", USAGE) from None
        return model, None, context, ""
    skip_value_checks()
    try:
        built = build_from_config(
            path, args.model_class, None, seq_len=args.context, batch=args.batch,
            default_seq_len=DEFAULT_CONTEXT, trust_remote_code=args.trust_remote_code,
            max_layers=args.max_layers,
        )
    except CommandError as error:
        if "--input " not in str(error):
            raise
        # Advice for the summary command, which plan does not take: say where it goes.
        raise CommandError(
            f"{error} (plan takes no --input: summarize it with `summaryplus TARGET` "
            "and those flags)",
            error.code,
        ) from error
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
    return built.model, dict(built.inputs), built.seq_len, built.chosen
