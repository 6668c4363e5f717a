"""``summary()``: validate once, capture one forward pass, build statistics, print."""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from . import _checks
from ._checks import DEFAULT_COLUMN_NAMES, DEFAULT_ROW_SETTINGS, validate_summary_arguments
from .capture import (
    CaptureResult,
    ForwardFailed,
    ModuleTree,
    capture_forward,
    interpreter,
    static_rows,
)
from .capture.forward_cache import ForwardCache, Unkeyable, fingerprint
from .capture.live_memory import LiveMemory
from .capture.routing import is_data_dependent
from .enums import Mode, Units, Verbosity
from .errors import InputConflictError, SummaryError
from .formatting import FormattingOptions
from .inputs import ForwardInputs, InputData, InputSize, build_inputs
from .model_statistics import ModelStatistics
from .render.units import footer_number

logger = logging.getLogger("summaryplus")

_cached_forward_pass = ForwardCache()


@dataclass(frozen=True)
class TrainingFlops:
    """Compute of one training step's forward and backward, counted from real passes.

    Attributes:
        forward_macs: MACs of the forward (train mode).
        backward_macs: MACs of the backward that autograd really ran: gradients
            for trainable parameters only, none for the inputs or frozen weights.
        uncounted_ops: ops without a formula seen in either pass (name -> calls).
        statistics: the forward's full ``ModelStatistics``.
    """

    forward_macs: int
    backward_macs: int
    uncounted_ops: dict[str, int]
    statistics: ModelStatistics = field(repr=False)

    @property
    def forward_flops(self) -> int:
        return 2 * self.forward_macs

    @property
    def backward_flops(self) -> int:
        return 2 * self.backward_macs

    @property
    def total_flops(self) -> int:
        return self.forward_flops + self.backward_flops

    def __str__(self) -> str:
        scale = footer_number
        lines = [
            f"Forward FLOPs{scale(self.forward_flops, Units.AUTO)}",
            f"Backward FLOPs{scale(self.backward_flops, Units.AUTO)}",
            f"Training step FLOPs{scale(self.total_flops, Units.AUTO)}",
        ]
        if self.uncounted_ops:
            ops = ", ".join(f"{name} x{count}" for name, count in self.uncounted_ops.items())
            lines.append(f"FLOPs are partial: no formula for {ops}")
        return "\n".join(lines)


def training_flops(
    model: nn.Module,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    batch_dim: int | None = None,
    device: torch.device | str | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    **kwargs: Any,
) -> TrainingFlops:
    """Counts forward and backward FLOPs of one training step.

    Runs the forward in train mode, then a real backward from the sum of the
    outputs with ``torch.autograd.grad`` (so no ``.grad`` is written on the
    model), counting every ATen op of both. A separate call rather than a
    ``summary()`` option so that no argument name can collide with the model's
    own forward keywords. Works on meta models and with ``device="meta"``.

    Example:
        >>> import torch.nn as nn
        >>> from summaryplus import training_flops
        >>> step = training_flops(nn.Linear(8, 4), input_size=(2, 8))
        >>> step.forward_macs, step.backward_macs  # 2*8*4; weight gradient only
        (64, 64)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    if input_size is not None and input_data is not None:
        raise InputConflictError("give only one of input_size and input_data, not both")
    if input_size is None and input_data is None:
        raise ValueError("give one of input_size and input_data")
    formatting = FormattingOptions(3, 0, DEFAULT_COLUMN_NAMES, 25, set(DEFAULT_ROW_SETTINGS))
    with interpreter.adjusted():
        model = original = _unwrapped(model)
        model, tree = _materialisable(model, ModuleTree(model))
        copy_inputs = _copy_inputs_option(kwargs)
        inputs = build_inputs(
            model, input_size, input_data, batch_dim, dtypes, device, kwargs, tree.modules,
            copy=copy_inputs,
        )
        try:
            result = _capture(
                model, tree, inputs, Mode.TRAIN, count_backward=True, private=model is not original
            )
        except ForwardFailed as failed:
            raise _summary_error(model, tree, failed, formatting, inputs.sizes) from failed.error
        stats = _statistics(
            model, tree, result, formatting, inputs.sizes, inputs.total_bytes, inputs.without_data
        )
    return TrainingFlops(
        forward_macs=stats.total_mult_adds,
        backward_macs=result.backward_macs or 0,
        uncounted_ops=stats.uncounted_ops,
        statistics=stats,
    )


def clear_cached_forward_pass() -> None:
    """Forgets every forward pass kept by ``cache_forward_pass=True``."""
    _cached_forward_pass.clear()


def summary(
    model: nn.Module,
    input_size: InputSize | None = None,
    input_data: InputData | None = None,
    batch_dim: int | None = None,
    cache_forward_pass: bool | None = None,
    col_names: Iterable[str] | None = None,
    col_width: int = 25,
    depth: int = 3,
    device: torch.device | str | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    mode: str | None = None,
    row_settings: Iterable[str] | None = None,
    verbose: int | None = None,
    **kwargs: Any,
) -> ModelStatistics:
    """Summarizes a PyTorch model: layers, shapes, parameters, MACs, memory.

    The call is torchinfo 1.8.0's; the numbers are exact (see README).

    Args:
        model: the module (or ``torch.export.ExportedProgram``) to summarize. It
            is never moved; its parameters, buffers, train/eval flags, hooks and
            the global RNG are as before afterwards.
        input_size: shape of one input, e.g. ``(1, 3, 224, 224)``, or a list of
            shapes for several positional inputs. Random inputs are built on the
            model's device (floats in [0, 1), integers valid for every embedding).
        input_data: the inputs themselves: a tensor, a list/tuple of positional
            arguments, or a dict of keyword arguments. Non-tensor values pass
            through untouched.
        batch_dim: when given, a batch dimension of size 1 is inserted there into
            every ``input_size`` shape.
        cache_forward_pass: keep the captured forward pass to re-render quickly.
            It is reused only for the same model object in the same state (its
            modules, flags, attributes, and every parameter's and buffer's
            identity, version, shape, dtype, device and ``requires_grad``), the
            same mode and device, and inputs of the same structure, shapes and
            dtypes; the model is held weakly.
        col_names: columns to show, from ``ColumnSettings`` (e.g. ``"input_size"``,
            ``"output_size"``, ``"num_params"``, ``"params_percent"``,
            ``"kernel_size"``, ``"groups"``, ``"mult_adds"``, ``"flops"``,
            ``"memory"``, ``"trainable"``).
        col_width: width of each column.
        depth: deepest level of nested modules to show.
        device: where inputs are built; must agree with the model's parameters.
            ``"meta"`` on a real model runs on fake tensors (nothing computed).
        dtypes: one dtype per ``input_size`` entry (default float32); a legacy
            tensor type such as ``torch.LongTensor`` stands for its dtype.
        mode: ``"eval"`` (default), ``"train"`` (grad enabled: measures the
            activations saved for backward) or ``"same"``.
        row_settings: from ``RowSettings``: ``"depth"``, ``"var_names"``,
            ``"ascii_only"``, ``"hide_recursive_layers"``.
        verbose: 0 quiet, 1 table, 2 table with one row per weight. Default 1,
            or 0 in interactive sessions and notebooks (the result displays itself).
        **kwargs: passed to ``model.forward``, except ``copy_inputs``: with
            ``copy_inputs=True`` the forward runs on copies of ``input_data``
            and the keyword arguments, so that it leaves them untouched. By
            default a real forward gets the caller's objects and does to them
            what any forward does (a cache passed in advances); on fake or meta
            tensors it always gets copies (nothing fake or meta reaches them).

    Returns:
        ModelStatistics: rows and totals; ``print()`` it for the table.

    Raises:
        ValueError, TypeError: an argument is invalid (the message names it).
        InputConflictError: both ``input_size`` and ``input_data`` were given (a
            ``ValueError`` and, as in torchinfo, a ``RuntimeError``).
        SummaryError: the forward pass failed (a ``RuntimeError``).

    Example:
        >>> import torch.nn as nn
        >>> from summaryplus import summary
        >>> stats = summary(nn.Linear(8, 2), input_size=(4, 8), verbose=0)
        >>> stats.total_params, stats.total_mult_adds
        (18, 64)
    """
    request = validate_summary_arguments(
        model, input_size, input_data, col_names, col_width, depth, mode, row_settings, verbose
    )
    columns, rows_settings, model_mode, verbosity = request
    formatting = FormattingOptions(depth, verbosity, columns, col_width, rows_settings)
    copy_inputs = _copy_inputs_option(kwargs)
    with interpreter.adjusted():
        stats = _summarize(
            model,
            formatting,
            input_size,
            input_data,
            batch_dim,
            dtypes,
            device,
            model_mode,
            bool(cache_forward_pass),
            kwargs,
            copy_inputs,
        )

    if verbosity > Verbosity.QUIET and _prints_on_this_rank():
        print(stats)
    return stats


def _copy_inputs_option(kwargs: dict[str, Any]) -> bool:
    """``copy_inputs=True`` (taken out of the forward's keyword arguments: the
    call keeps torchinfo's signature)."""
    value = kwargs.pop("copy_inputs", False)
    if not isinstance(value, bool):
        raise TypeError(f"copy_inputs must be True or False, not {value!r}")
    return value


def _prints_on_this_rank() -> bool:
    """Under torch.distributed every rank gets the statistics; only rank 0 prints.

    ``get_rank()`` reads local state: no collective that could wait on a rank
    that is not summarizing.
    """
    distributed = sys.modules.get("torch.distributed")
    if distributed is None or not distributed.is_available() or not distributed.is_initialized():
        return True
    return int(distributed.get_rank()) == 0


def _unwrapped(model: nn.Module) -> nn.Module:
    """DataParallel and DistributedDataParallel only forward to ``.module``: summarize
    that, so names and rows are the model's own (no ``module.`` prefix)."""
    wrappers: tuple[type[nn.Module], ...] = (nn.DataParallel,)
    if "torch.nn.parallel.distributed" in sys.modules:
        wrappers += (nn.parallel.DistributedDataParallel,)
    while isinstance(model, wrappers) and isinstance(model.module, nn.Module):
        model = model.module
    return model


def _summarize(
    model: nn.Module,
    formatting: FormattingOptions,
    input_size: Any,
    input_data: Any,
    batch_dim: int | None,
    dtypes: Sequence[torch.dtype | type] | None,
    device: torch.device | str | None,
    mode: Mode,
    cache_forward_pass: bool,
    kwargs: dict[str, Any],
    copy_inputs: bool = False,
) -> ModelStatistics:
    if _checks.is_exported_program(model):  # never run: its graph is summarized
        from .exported import summary_of_program
        return summary_of_program(model, formatting, input_size, kwargs)
    model = _unwrapped(model)
    tree = ModuleTree(model)
    if input_size is None and input_data is None:
        rows = static_rows(model, tree)
        return ModelStatistics(rows, None, 0, formatting, model=model, tree=tree, executed=False)
    original = model
    model, tree = _materialisable(model, tree)
    inputs = build_inputs(
        model, input_size, input_data, batch_dim, dtypes, device, kwargs, tree.modules,
        copy=copy_inputs,
    )
    key = _cache_key(model, tree, inputs, mode) if cache_forward_pass else None
    result = _cached_result(model, key)
    if result is None:
        try:
            result = _capture(model, tree, inputs, mode, private=model is not original)
        except ForwardFailed as failed:
            raise _summary_error(model, tree, failed, formatting, inputs.sizes) from failed.error
        if key is not None:
            _cached_forward_pass.put(model, key, result.rows, _without_rows(result))
    return _statistics(
        model, tree, result, formatting, inputs.sizes, inputs.total_bytes, inputs.without_data
    )


def _capture(
    model: nn.Module,
    tree: ModuleTree,
    inputs: ForwardInputs,
    mode: Mode,
    count_backward: bool = False,
    private: bool = False,
    probe: LiveMemory | None = None,
) -> CaptureResult:
    """One forward under the recorder (``private``: ``model`` is summaryplus's
    own copy, left as the forward made it). A meta model runs on plain meta tensors
    (fastest); when its code asks a meta tensor for a value (``.item()`` in mask
    code) it runs again on fake tensors, which answer for values the inputs
    carry and which libraries such as transformers treat as tracing. When even
    fake tensors cannot answer (a loop over the experts a router chose), it runs
    once more with an assumed, balanced routing (``capture.routing``), which the
    summary states."""
    fake, assume_routing = inputs.fake, False
    while True:
        try:
            return capture_forward(
                model,
                tree,
                inputs.args,
                inputs.kwargs,
                mode=mode,
                fake=fake,
                count_backward=count_backward,
                assume_routing=assume_routing,
                private=private,
                probe=probe,
            )
        except ForwardFailed as failed:
            if not fake and inputs.device.type == "meta" and "meta" in str(failed.error):
                logger.info("the meta forward needs values (%s): running on fake tensors",
                            failed.error)
                fake = True
            elif fake and not assume_routing and is_data_dependent(failed.error):
                logger.info("the fake forward needs values (%s): assuming a routing",
                            failed.error)
                assume_routing = True
            else:
                raise


def _materialisable(model: nn.Module, tree: ModuleTree) -> tuple[nn.Module, ModuleTree]:
    """A lazy module (``nn.LazyLinear``...) creates its parameters on its first
    forward, which would change the user's model: summarize a copy instead."""
    lazy = any(issubclass(cls, LazyModuleMixin) for cls in tree.classes) and any(
        isinstance(module, LazyModuleMixin) and module.has_uninitialized_params()
        for module in tree.modules
    )
    if not lazy:
        return model, tree
    logger.info("model has uninitialized lazy parameters: summarizing a copy of it")
    copied = copy.deepcopy(model)
    return copied, ModuleTree(copied)


def _statistics(
    model: nn.Module,
    tree: ModuleTree,
    result: CaptureResult,
    formatting: FormattingOptions,
    sizes: Any,
    input_bytes: int,
    without_data: bool = False,
) -> ModelStatistics:
    return ModelStatistics(
        result.rows,
        sizes,
        input_bytes,
        formatting,
        model=model,
        tree=tree,
        uncounted_ops=result.uncounted_ops,
        loose_macs=result.loose_macs,
        loose_activation_bytes=result.loose_activation_bytes,
        grad_enabled=result.grad_enabled,
        backward_macs=result.backward_macs,
        without_data=without_data,
        assumptions=result.assumptions,
    )


def _summary_error(
    model: nn.Module,
    tree: ModuleTree,
    failed: ForwardFailed,
    formatting: FormattingOptions,
    sizes: Any,
) -> SummaryError:
    partial = _statistics(model, tree, failed.result, formatting, sizes, 0)
    error = failed.error
    if failed.failure is not None:
        row = failed.failure.row
        path = row.module_path
        where = f"module {path!r} ({row.class_name})" if path else f"the model ({row.class_name})"
        received = failed.failure.inputs
    else:
        path, where, received = "", f"the model ({type(model).__name__})", "?"
    ran = sum(1 for row in partial.summary_list if row.executed)
    origin = _origin(error)
    if origin == "summaryplus":
        opening = (
            f"summaryplus failed while {where} was running (its own code, not the "
            f"model's: please report it): {type(error).__name__}: {error}"
        )
    else:
        opening = (
            f"Failed to run the forward pass of {type(model).__name__}: {where} raised "
            f"{type(error).__name__}: {error}"
        )
        if origin == "torch-fake":
            opening += (
                "\n  (raised inside torch's fake/meta tensor support: summaryplus ran this "
                "forward on tensors without data, which this op cannot run on; summarize "
                "on a real device instead)"
            )
    message = (
        f"{opening}\n  it received: {received}\n"
        f"  {ran} module call(s) finished before it; the partial summary is on this "
        "exception's .partial attribute."
    )
    return SummaryError(
        message,
        module_path=path,
        module_class=failed.failure.row.class_name if failed.failure else type(model).__name__,
        input_shapes=received,
        partial=partial,
    )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Where torch's support for tensors without data lives: an error raised there
# comes from running on fake/meta tensors, not from the model's code.
_FAKE_SUPPORT = ("_subclasses", "_meta_registrations", "_prims", "_refs", "_decomp")


def _origin(error: BaseException) -> str:
    """Who raised ``error``: ``"summaryplus"`` (its own code, not the model's),
    ``"torch-fake"`` (torch's fake/meta tensor support) or ``"model"``."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "model"
    innermost = os.path.abspath(frames[-1].filename)
    if innermost.startswith(_PACKAGE_DIR + os.sep):
        return "summaryplus"
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    if any(innermost.startswith(os.path.join(torch_dir, part)) for part in _FAKE_SUPPORT):
        return "torch-fake"
    return "model"


def _cache_key(
    model: nn.Module, tree: ModuleTree, inputs: ForwardInputs, mode: Mode
) -> tuple[Any, ...] | None:
    """What the forward depends on (``forward_cache.fingerprint``); None when
    an input cannot be described (then the summary is not cached)."""
    try:
        return fingerprint(
            tree, (inputs.args, inputs.kwargs), (mode, str(inputs.device), inputs.fake)
        )
    except Unkeyable as unkeyable:
        logger.info("cache_forward_pass: not caching, an input is a %s", unkeyable)
        return None


def _cached_result(model: nn.Module, key: tuple[Any, ...] | None) -> CaptureResult | None:
    """A copy of the kept capture: rows of its own, never another result's."""
    hit = _cached_forward_pass.get(model, key) if key is not None else None
    if hit is None:
        return None
    rows, kept = hit
    assert isinstance(kept, CaptureResult)
    return dataclasses.replace(kept, rows=rows, uncounted_ops=dict(kept.uncounted_ops))


def _without_rows(result: CaptureResult) -> CaptureResult:
    return dataclasses.replace(result, rows=[], uncounted_ops=dict(result.uncounted_ops))
