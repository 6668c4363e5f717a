"""The pipeline behind ``summary()`` and ``training_flops()``: inputs -> one
captured forward (or the forward cache) -> statistics. ``api`` validates the
arguments and prints; this module drives the stages; the public functions of
``api`` and the inference measurement (``inference.py``) share it.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from . import _checks
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
from .enums import Mode
from .errors import SummaryError
from .formatting import FormattingOptions
from .formulas import registry_version
from .inputs import ForwardInputs, build_inputs
from .model_statistics import ModelStatistics

logger = logging.getLogger("summaryplus")

# The forward passes kept by ``cache_forward_pass=True`` (``clear_cached_forward_pass``).
cached_forward_pass = ForwardCache()


def unwrapped(model: nn.Module) -> nn.Module:
    """DataParallel and DistributedDataParallel only forward to ``.module``: summarize
    that, so names and rows are the model's own (no ``module.`` prefix)."""
    wrappers: tuple[type[nn.Module], ...] = (nn.DataParallel,)
    if "torch.nn.parallel.distributed" in sys.modules:
        wrappers += (nn.parallel.DistributedDataParallel,)
    while isinstance(model, wrappers) and isinstance(model.module, nn.Module):
        model = model.module
    return model


def summarize(
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
    model = unwrapped(model)
    tree = ModuleTree(model)
    if input_size is None and input_data is None:
        rows = static_rows(model, tree)
        return ModelStatistics(rows, None, 0, formatting, model=model, tree=tree, executed=False)
    original = model
    model, tree = materialisable(model, tree)
    inputs = build_inputs(
        model, input_size, input_data, batch_dim, dtypes, device, kwargs, tree.modules,
        copy=copy_inputs, attributes=tree.attributes,
    )
    key = _cache_key(model, tree, inputs, mode) if cache_forward_pass else None
    result = _cached_result(model, key)
    if result is None:
        try:
            result = capture(model, tree, inputs, mode, private=model is not original)
        except ForwardFailed as failed:
            raise summary_error(model, tree, failed, formatting, inputs.sizes) from failed.error
        if key is not None:
            cached_forward_pass.put(model, key, result.rows, _without_rows(result))
    return statistics(
        model, tree, result, formatting, inputs.sizes, inputs.total_bytes, inputs.without_data
    )


def capture(
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


def materialisable(model: nn.Module, tree: ModuleTree) -> tuple[nn.Module, ModuleTree]:
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


def statistics(
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
        reached_params=result.reached_params,
        output_held_bytes=result.output_held_bytes,
        output_grad_bytes=result.output_grad_bytes,
    )


def summary_error(
    model: nn.Module,
    tree: ModuleTree,
    failed: ForwardFailed,
    formatting: FormattingOptions,
    sizes: Any,
) -> SummaryError:
    partial = statistics(model, tree, failed.result, formatting, sizes, 0)
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
    if isinstance(error, RecursionError):
        depth = tree.depth()
        opening = (
            f"Failed to run the forward pass of {type(model).__name__}: it nests modules "
            f"{depth:,} levels deep and raised RecursionError; summaryplus records "
            f"at most about {interpreter.max_depth():,} levels in this thread (the recursion "
            "limit is raised only as far as the C stack holds), and the bare forward "
            "stops at Python's default limit too"
        )
    elif origin == "summaryplus":
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
# summaryplus functions that run an op exactly as the model called it (the op
# counter, the modes' hooks, the attention and routing stand-ins).
_PASS_THROUGH = frozenset(
    {"_count_op", "__torch_dispatch__", "__torch_function__", "_as_on_cpu", "_route"}
)
# Where torch's support for tensors without data lives: an error raised there
# comes from running on fake/meta tensors, not from the model's code.
_FAKE_SUPPORT = ("_subclasses", "_meta_registrations", "_prims", "_refs", "_decomp")


def _origin(error: BaseException) -> str:
    """Who raised ``error``: ``"summaryplus"`` (its own code, not the model's),
    ``"torch-fake"`` (torch's fake/meta tensor support) or ``"model"``."""
    frames = traceback.extract_tb(error.__traceback__)
    # The op counter and the attention routing only pass the model's own call on
    # to torch: an error raised there (a shape mismatch) is the op's, so the model's.
    while (
        frames
        and frames[-1].name in _PASS_THROUGH
        and os.path.abspath(frames[-1].filename).startswith(_PACKAGE_DIR + os.sep)
    ):
        frames.pop()
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
            tree,
            (inputs.args, inputs.kwargs),
            # The registry's version: a formula registered or replaced since
            # the capture makes it stale (its MACs came from the old formulas).
            (mode, str(inputs.device), inputs.fake, registry_version()),
        )
    except Unkeyable as unkeyable:
        logger.info("cache_forward_pass: not caching, an input is a %s", unkeyable)
        return None


def _cached_result(model: nn.Module, key: tuple[Any, ...] | None) -> CaptureResult | None:
    """A copy of the kept capture: rows of its own, never another result's."""
    hit = cached_forward_pass.get(model, key) if key is not None else None
    if hit is None:
        return None
    rows, kept = hit
    assert isinstance(kept, CaptureResult)
    return dataclasses.replace(kept, rows=rows, uncounted_ops=dict(kept.uncounted_ops))


def _without_rows(result: CaptureResult) -> CaptureResult:
    return dataclasses.replace(result, rows=[], uncounted_ops=dict(result.uncounted_ops))
