"""``summary()``: validate once, capture one forward pass, build statistics, print."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ._checks import is_exported_program, validate_summary_arguments
from .capture import interpreter
from .cells import FormattingOptions
from .enums import Mode, Units, Verbosity
from .errors import InputConflictError
from .inference import summary_inference_memory
from .inputs import InputData, InputSize, parse_device
from .model_statistics import ModelStatistics
from .pipeline import cached_forward_pass, drive, statistics, summarize, unwrapped
from .units import footer_number


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

    Raises:
        ValueError: no output requires grad (a frozen model, detached or
            integer outputs): there is no backward to count.

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
    original = unwrapped(model)
    with interpreter.adjusted():
        forward = drive(
            original, input_size, input_data, mode=Mode.TRAIN, batch_dim=batch_dim,
            dtypes=dtypes, device=device, kwargs=kwargs, copy_inputs=_copy_inputs_option(kwargs),
            count_backward=True,
        )
        stats = statistics(forward, measure_inference=summary_inference_memory)
    result = forward.result
    if result.backward_macs is None:
        raise ValueError(
            f"training_flops() found no output of {type(original).__name__} that requires "
            "grad (every parameter it used is frozen, or its outputs are detached or not "
            "floating point), so there is no backward pass: loss.backward() would raise "
            "here. Unfreeze parameters (requires_grad_()) or pass inputs that require grad"
        )
    return TrainingFlops(
        forward_macs=stats.total_mult_adds,
        backward_macs=result.backward_macs,
        uncounted_ops=stats.uncounted_ops,
        statistics=stats,
    )


def clear_cached_forward_pass() -> None:
    """Forgets every forward pass kept by ``cache_forward_pass=True``."""
    cached_forward_pass.clear()


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
    parse_device(device)  # checked also when no forward runs (no inputs)
    formatting = FormattingOptions(depth, verbosity, columns, col_width, rows_settings)
    copy_inputs = _copy_inputs_option(kwargs)
    stats: ModelStatistics
    if is_exported_program(model):  # another source of rows: its graph, never run
        from .exported import summary_of_program  # lazy: sympy loads for an exported program only

        stats = summary_of_program(model, formatting, input_size, kwargs)
    else:
        with interpreter.adjusted():
            stats = summarize(
                model, formatting, input_size, input_data, batch_dim, dtypes, device,
                model_mode, bool(cache_forward_pass), kwargs, copy_inputs,
                measure_inference=summary_inference_memory,
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
