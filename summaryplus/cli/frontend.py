"""``main``: parse, check the options against TARGET, dispatch, fail in one line."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext

from .._factories import FAILURE, USAGE, CommandError, check_device, one_line
from ..enums import ColumnSettings, RowSettings
from ..escape import terminal
from ..render.output import check_format
from .kinds import classify
from .parser import PROG, build_parser
from .plan import build_plan_parser, run_plan
from .quiet import library_output_hidden
from .targets import run_checkpoint, run_config, run_demo, run_exported, run_factory

# The library's package name (``summaryplus``), for the ``--plot`` module check.
_LIBRARY = __name__.rsplit(".", 2)[0]

# Options that describe a forward pass: meaningless for a checkpoint.
_MODEL_OPTIONS = (
    ("input_size", "--input-size"),
    ("input", "--input"),
    ("dtypes", "--dtypes"),
    ("seq_len", "--seq-len"),
    ("batch_size", "--batch-size"),
    ("device", "--device"),
    ("col_names", "--col-names"),
    ("row_settings", "--row-settings"),
    ("mode", "--mode"),
    ("plot", "--plot"),
)
_CONFIG_OPTIONS = (
    ("model_class", "--model-class"),
    ("image_size", "--image-size"),
    ("trust_remote_code", "--trust-remote-code"),
)
# Options of a forward pass that an exported program (never run) has no use for.
_RUN_OPTIONS = (
    ("input", "--input"),
    ("dtypes", "--dtypes"),
    ("seq_len", "--seq-len"),
    ("batch_size", "--batch-size"),
    ("device", "--device"),
    ("mode", "--mode"),
)
_OUTPUT_OPTIONS = (("format", "--format"), ("output", "--output"))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["plan"]:

        return _guarded(build_plan_parser().parse_args(given[1:]), run_plan)
    parser = build_parser()
    args = parser.parse_args(given)
    if args.target is None:
        parser.error(
            "give a TARGET: demo, MODULE:CALLABLE, FILE.py:CALLABLE, a checkpoint, a "
            "config.json or a hub name (ORG/NAME)"
        )
    return _guarded(args, _run)


# Variables the command sets for the libraries it drives (offline hub,
# transformers' value checks off for inputs it built): put back when ``main``
# returns, so a caller's own process (a notebook, a test) is left as it was.
_COMMAND_ENVIRONMENT = (
    "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TRANSFORMERS_DISABLE_TORCH_CHECK",
)


def _guarded(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """Runs ``run(args)``, turning every failure into one line and an exit
    status; the environment variables the command sets are put back after."""
    saved = {name: os.environ.get(name) for name in _COMMAND_ENVIRONMENT}
    try:
        return _run_guarded(args, run)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_guarded(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    try:
        # Library logging and warnings: hidden, unless --debug asks for them.
        with nullcontext() if args.debug else library_output_hidden():
            return run(args)
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

        message = f"{one_line(error)} (run with --debug for the traceback)"
        return _fail(args, error, message, FAILURE)


def _fail(args: argparse.Namespace, error: BaseException, message: str, code: int) -> int:
    if args.debug:
        traceback.print_exception(error)
    # Names in the message come from files and models: shown, never sent raw.
    print(f"{PROG}: error: {terminal(message)}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    target: str = args.target
    if target == "demo":
        _reject(args, "demo", _MODEL_OPTIONS + _CONFIG_OPTIONS + _OUTPUT_OPTIONS)
        return run_demo(args)
    _check_format(args.format)
    kind, path = classify(target)
    if kind == "checkpoint":
        _reject(args, "a checkpoint", _MODEL_OPTIONS + _CONFIG_OPTIONS)
        return run_checkpoint(args, path)
    if kind == "exported":
        _reject(args, "an exported program (.pt2)", _RUN_OPTIONS + _CONFIG_OPTIONS)
        _check_model_options(args)
        return run_exported(args, path)
    _check_model_options(args)
    if kind == "config":
        return run_config(args, path)
    _reject(args, "a factory", _CONFIG_OPTIONS)
    return run_factory(args)


# ------------------------------------------------------------------ validation
def _reject(args: argparse.Namespace, what: str, options: tuple[tuple[str, str], ...]) -> None:
    given = [flag for attribute, flag in options if getattr(args, attribute) is not None]
    if given:
        verb = "does" if len(given) == 1 else "do"
        raise CommandError(f"{', '.join(given)} {verb} not apply to {what}", USAGE)


def _check_format(fmt: str | None) -> None:
    if fmt is None:
        return

    try:
        check_format(fmt, "--format")
    except ValueError as error:
        raise CommandError(str(error).replace("--format=", "--format ", 1), USAGE) from None


def _check_model_options(args: argparse.Namespace) -> None:

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
        if importlib.util.find_spec(f"{_LIBRARY}.plot") is None:
            raise CommandError(
                "--plot needs summaryplus.plot, which this version of summaryplus does not have",
                USAGE,
            )
