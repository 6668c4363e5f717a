"""What each kind of TARGET runs: demo, factory, checkpoint, config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._checks import validate_summary_arguments
from .._configs import build_from_config, skip_value_checks
from .._factories import (
    FAILURE,
    USAGE,
    CommandError,
    build_from_factory,
    is_meta_model,
    parse_dtypes,
)
from .._tensors import dtype_name
from ..api import summary
from ..checkpoints import CheckpointError, summarize_checkpoint
from ..errors import ExportedArchiveError, SummaryError
from ..examples import SmallCNN, TinyGPT
from ..formatting import FormattingOptions
from ..hf_inputs import (
    InputSpec,
    default_spec,
    forward_names,
    is_transformers_model,
    make_inputs,
    takes_any_keyword,
)
from ..plot import (
    plot_summary,
    plotted_quantities,
)
from ..render.findings import SHORT, findings_text
from ..render.formats import render_checkpoint, render_summary
from .parser import DEFAULT_COLUMNS, DEFAULT_DEPTH

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..errors import SummaryError
    from ..hf_inputs import InputSpec
    from ..model_statistics import ModelStatistics
    from ..records import SummaryLike

# The library's package name (``summaryplus``), as ``--plot`` errors name it.
_LIBRARY = __name__.rsplit(".", 2)[0]


# What a factory's model summarized without inputs is told (only Param # is known).
NO_INPUT_HINT = (
    f"{_LIBRARY}: no input given, so only parameters are shown; for MACs, output "
    "shapes and memory give the shape of an input: --input-size 1,3,224,224 (repeat it "
    "for several inputs, --dtypes for their dtypes), --seq-len 128 for token ids, or "
    "--input NAME=SHAPE for a keyword input"
)


def run_demo(args: argparse.Namespace) -> int:
    import torch


    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    print("SmallCNN at (8, 3, 32, 32), eval mode:")
    summary(SmallCNN(), input_size=(8, 3, 32, 32), verbose=1, depth=depth,
            col_names=("output_size", "num_params", "mult_adds"))
    print("\nTinyGPT at (2, 64) token ids, train mode (activations measured):")
    summary(TinyGPT(), input_size=(2, 64), dtypes=[torch.long], mode="train", verbose=1,
            depth=depth, col_names=("output_size", "num_params", "mult_adds", "memory"))
    return 0


def run_checkpoint(args: argparse.Namespace, path: Path) -> int:

    try:
        summary = summarize_checkpoint(path)
    except CheckpointError as error:
        raise CommandError(str(error), FAILURE) from error
    except FileNotFoundError as error:
        raise CommandError(str(error), USAGE) from error
    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    emit(args, render_checkpoint(summary, depth, args.format or "text"))
    return 0


def run_exported(args: argparse.Namespace, path: Path) -> int:
    """A ``.pt2`` archive, read from its JSON graph only (``summaryplus.exported``)."""
    from ..exported import summarize_exported  # lazy: sympy loads for an exported program only

    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    try:
        columns, rows, _, _ = validate_summary_arguments(
            None, None, None, args.col_names or DEFAULT_COLUMNS, 25, depth, None,
            args.row_settings, 0, exported=True,
        )
        stats = summarize_exported(
            path, FormattingOptions(depth, 0, columns, 25, rows), args.input_size
        )
    except ExportedArchiveError as error:
        raise CommandError(str(error), FAILURE) from error
    except ValueError as error:
        raise CommandError(f"{path}: {error}", USAGE) from error
    # (The dynamic sizes and the MACs formula are in the footer of every format.)
    text = _render_model(stats, args.format or "text")
    emit(args, text)
    if args.plot is not None:
        _plot(stats, args)
    return 0


def run_factory(args: argparse.Namespace) -> int:
    import torch


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
    keywords = _keyword_inputs(args, model, {}, {})
    stats = _summarize(model, args, sizes, dtypes, keywords)
    code = _output_model(args, stats)
    if sizes is None and not keywords:
        # Said after the table, on stderr: JSON or CSV on stdout stays clean.
        print(NO_INPUT_HINT, file=sys.stderr)
    return code


def run_config(args: argparse.Namespace, path: Path) -> int:

    sizes: list[tuple[int, ...]] | None = args.input_size
    # The inputs built for the model (decoder ids, pixels) follow the batch of
    # --input-size, else --batch-size, else the first --input.
    batch = sizes[0][0] if sizes else args.batch_size or (args.input[0][1][0] if args.input else 1)
    # The user's inputs take their places before any other input is derived.
    given = {
        name: (shape, parse_dtypes(dtype, f"--input {name}")[0] if dtype else None)
        for name, shape, dtype in args.input or ()
    }
    skip_value_checks()
    built = build_from_config(
        path, args.model_class, args.device, seq_len=args.seq_len, batch=batch,
        image_size=args.image_size, given=given, main_shape=sizes[0] if sizes else None,
        trust_remote_code=bool(args.trust_remote_code), max_layers=args.max_layers,
    )
    specs, tensors = dict(built.input_specs), dict(built.inputs)
    if args.image_size is not None and "pixel_values" not in specs:
        # Said, not ignored: the numbers would be those of the config's inputs.
        takes = "pixel_values" in (forward_names(built.model) or ())
        raise CommandError(
            f"--image-size sets the size of pixel_values, which {built.class_name} "
            + (
                f"is not given by default (its inputs: {', '.join(specs)}); give them with "
                "--input pixel_values=BATCH,CHANNELS,HEIGHT,WIDTH"
                if takes
                else f"does not take (its inputs: {', '.join(specs)})"
            ),
            USAGE,
        )
    main = next(iter(specs))
    if sizes is not None and len(sizes) > 1:
        raise CommandError(
            f"a config takes one --input-size: its main input, {main}; give the "
            "others with --input NAME=SHAPE",
            USAGE,
        )
    dtypes = None
    if sizes is not None or args.dtypes is not None:
        # Positional inputs take the main input's place (--dtypes alone: its dtype).
        if main in given:
            raise CommandError(
                f"--input {main}: the main input, given by --input-size or --dtypes "
                f"already; give its shape once",
                USAGE,
            )
        del specs[main], tensors[main]
        sizes = sizes or built.input_size
        dtypes = parse_dtypes(args.dtypes) if args.dtypes else built.dtypes[:1] * len(sizes)
    keywords = _keyword_inputs(args, built.model, specs, tensors)
    try:
        stats = _summarize(built.model, args, sizes, dtypes, keywords)
    except CommandError as error:
        if error.code != FAILURE or not built.class_hint:
            raise
        # A class made for another config that built but could not run.
        raise CommandError(f"{error}{built.class_hint}", FAILURE) from error
    notes = [built.chosen] if built.chosen else []
    notes.append("Inputs: " + inputs_line(keywords, sizes, dtypes, main))
    return _output_model(args, stats, notes)


def inputs_line(
    keywords: dict[str, Any],
    sizes: list[tuple[int, ...]] | None,
    dtypes: list[torch.dtype] | None,
    main: str,
) -> str:
    """The forward's inputs as ``name [2, 128] int64, ...`` (the main input first
    when it went in positionally, as ``--input-size``)."""

    parts = []
    for index, size in enumerate(sizes or ()):
        dtype = dtypes[index] if dtypes and index < len(dtypes) else None
        parts.append(f"{main} {list(size)} {dtype_name(dtype) if dtype else 'float32'}")
    for name, value in keywords.items():
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is not None and dtype is not None:
            parts.append(f"{name} {list(shape)} {dtype_name(dtype)}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def _keyword_inputs(
    args: argparse.Namespace,
    model: nn.Module,
    specs: dict[str, InputSpec],
    tensors: dict[str, Any],
) -> dict[str, Any]:
    """The forward's keyword inputs: those built for the model (``tensors``, made
    from ``specs``), replaced or extended by every ``--input NAME=SHAPE[:DTYPE]``.

    A name the forward does not declare is refused (it would be dropped
    unseen into a ``**kwargs``, or fail the call), unless the forward has a
    ``**kwargs`` of its own that is not a transformers model's (which takes
    attention options, never tensors), from a config or a factory alike.

    Raises:
        CommandError: a name given twice or not taken, a bad dtype.
    """

    accepted = forward_names(model)
    open_ended = takes_any_keyword(model) and not is_transformers_model(model)
    given: dict[str, InputSpec] = {}
    for name, shape, dtype_text in args.input or ():
        if name in given:
            raise CommandError(f"--input {name} is given twice", USAGE)
        if accepted is not None and name not in accepted and not open_ended:
            raise CommandError(
                f"--input {name}: {type(model).__name__}.forward takes no input named "
                f"{name!r} (it takes {', '.join(accepted) or 'none by name'})",
                USAGE,
            )
        dtype = None
        if dtype_text is not None:
            parsed = parse_dtypes(dtype_text, f"--input {name}")
            if len(parsed) != 1:
                raise CommandError(f"--input {name}: give one dtype, not {dtype_text!r}", USAGE)
            dtype = parsed[0]
        built = specs.get(name)
        if built is not None and dtype is None:
            given[name] = InputSpec(shape, built.dtype, built.fill)
        else:
            given[name] = default_spec(name, shape, dtype)
    return {**tensors, **make_inputs(model, given)}


def _summarize(
    model: nn.Module,
    args: argparse.Namespace,
    sizes: list[tuple[int, ...]] | None,
    dtypes: list[torch.dtype] | None,
    keywords: dict[str, Any],
) -> ModelStatistics:

    columns = args.col_names or (DEFAULT_COLUMNS if sizes or keywords else None)
    # A model that already lives on meta runs as it is (summary() uses fake
    # tensors for it); device="meta" on a real model asks for the same pass.
    device = None if is_meta_model(model) else args.device
    # Keyword inputs alone go in as input_data (a dict is the forward's kwargs).
    inputs: dict[str, Any] = (
        {"input_size": sizes, "dtypes": dtypes, **keywords} if sizes else
        {"input_data": keywords or None}
    )
    try:
        return summary(
            model,
            depth=DEFAULT_DEPTH if args.depth is None else args.depth,
            col_names=columns,
            row_settings=args.row_settings,
            mode=args.mode,
            device=device,
            verbose=0,
            **inputs,
        )
    except SummaryError as error:
        raise CommandError(summary_error_line(error), FAILURE) from error
    except (ValueError, TypeError) as error:
        raise CommandError(str(error), USAGE) from error


def summary_error_line(error: SummaryError) -> str:
    """A failing forward in one line: what raised, and the shapes it received.
    (The library's message spans lines and points at ``.partial``, which a shell
    user cannot reach.)"""
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    line = f"{first.rstrip('.')}; it received {error.input_shapes}"
    if "fake/meta tensor support" in str(error):
        line += " (torch cannot run this op on tensors without data: try --device cpu)"
    return line


def _output_model(
    args: argparse.Namespace, stats: ModelStatistics, notes: list[str] | None = None
) -> int:
    """Prints the summary; ``notes`` (the class built, the inputs) go under a text
    table, never into a machine-read format."""
    text = _render_model(stats, args.format or "text")
    if (args.format or "text") == "text" and args.findings != "none":
        text = _with_findings(text, stats, args.findings)
    if notes and (args.format or "text") == "text":
        text = "\n".join([text, *notes])
    emit(args, text)
    if args.plot is not None:
        _plot(stats, args)
    return 0


def _with_findings(text: str, stats: ModelStatistics, shown: str | None) -> str:
    """The findings under the table: the first few, or all with ``--findings``."""

    found = findings_text(stats.findings(), limit=None if shown == "all" else SHORT)
    return f"{text}\n{found}" if found else text


def _render_model(stats: SummaryLike, fmt: str) -> str:

    return render_summary(stats, fmt)


# Bars per panel at most in a --plot: the smallest rest merge into one "other" bar,
# so names stay readable at any --depth.
PLOT_TOP_K = 25


def _plot(stats: ModelStatistics, args: argparse.Namespace) -> None:
    """``--plot FILE``: one panel per numeric column of the table (``--col-names``,
    else the columns shown), rows at ``--depth``; says on stderr where it wrote."""
    path: str = args.plot
    columns = [column.value for column in stats.formatting.col_names]
    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    try:
        plot_summary(stats, path=path, depth=depth, columns=columns, top_k=PLOT_TOP_K)
    except ImportError as error:
        raise CommandError(
            f"--plot needs matplotlib: pip install 'summaryplus[plot]' ({error})", USAGE
        ) from error
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}", FAILURE) from error
    drawn = ", ".join(plotted_quantities(columns))
    print(f"{_LIBRARY}: wrote the plot to {path} ({drawn} per module at depth {depth})",
          file=sys.stderr)


def emit(args: argparse.Namespace, text: str) -> None:
    if args.output is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    try:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandError(f"cannot write {args.output}: {reason}", FAILURE) from error
