"""The one driver: inputs -> one captured forward (or the forward cache) ->
statistics, with one error path (``summary_error``). ``drive`` is used by
``summary()`` and ``training_flops()`` (``api``), inference memory
(``inference``) and so ``plan``; ``api`` validates the arguments and prints.
An exported program is another source of rows (``exported``), not a step of
this one.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from .capture import interpreter
from .capture.compiling import failed_around_hop
from .capture.forward import CaptureOptions, CaptureResult, ForwardFailed, capture_forward
from .capture.forward_cache import ForwardCache, Unkeyable, fingerprint
from .capture.live_memory import LiveMemory
from .capture.routing import is_data_dependent
from .capture.static import static_rows
from .cells import FormattingOptions
from .enums import Mode
from .errors import SummaryError
from .formulas import registry_version
from .inputs import ForwardInputs, build_inputs
from .model_statistics import ModelStatistics
from .module_tree import ModuleTree

if TYPE_CHECKING:
    from .model_statistics import MeasureInference

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


@dataclass
class Forward:
    """One driven forward: the model that ran (the caller's, or summaryplus's
    own copy of it), its module tree, the inputs built for it and what the
    capture recorded."""

    model: nn.Module
    tree: ModuleTree
    inputs: ForwardInputs
    result: CaptureResult


def drive(
    model: nn.Module,
    input_size: Any,
    input_data: Any,
    *,
    mode: Mode,
    batch_dim: int | None = None,
    dtypes: Sequence[torch.dtype | type] | None = None,
    device: torch.device | str | None = None,
    kwargs: dict[str, Any] | None = None,
    copy_inputs: bool = False,
    count_backward: bool = False,
    probe: LiveMemory | None = None,
    adapt_inputs: Callable[[ForwardInputs], None] | None = None,
    private: bool = False,
    cache: bool = False,
) -> Forward:
    """Inputs -> one captured forward, the path every forward of the library
    takes (``summary``, ``training_flops``, inference memory, ``plan``), with its
    one error path.

    Args:
        model: the module to run (unwrapped already).
        input_size, input_data, batch_dim, dtypes, device, kwargs, copy_inputs:
            the inputs, as ``summary()`` takes them (``inputs.build_inputs``).
        mode: the mode the forward runs in.
        count_backward: also run and count a backward (``training_flops``).
        probe: record the bytes alive op by op (inference memory's prefill peak).
        adapt_inputs: changes the built inputs before the forward (inference
            memory casts them to its probe copy's dtype).
        private: ``model`` is summaryplus's own copy (it is left as the forward
            makes it).
        cache: keep (and reuse) the capture (``cache_forward_pass``).

    Raises:
        SummaryError: the forward failed; its ``partial`` holds the rows that
            finished (``summary_error``).
    """
    original = model
    model, tree = materialisable(model, ModuleTree(model))
    inputs = build_inputs(
        model, input_size, input_data, batch_dim, dtypes, device, kwargs or {}, tree.modules,
        copy=copy_inputs, attributes=tree.attributes,
    )
    if adapt_inputs is not None:
        adapt_inputs(inputs)
    private = private or model is not original
    key = _cache_key(model, tree, inputs, mode) if cache else None
    result = _cached_result(model, key)
    if result is None:
        try:
            result = capture(model, tree, inputs, mode, count_backward, private, probe)
        except ForwardFailed as failed:
            raise summary_error(model, tree, failed, inputs.sizes) from failed.error
        if key is not None:
            cached_forward_pass.put(model, key, result.rows, _without_rows(result))
    return Forward(model, tree, inputs, result)


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
    measure_inference: MeasureInference | None = None,
) -> ModelStatistics:
    """The summary of a module: its registration tree without inputs, else one
    driven forward; ``formatting`` is how the result shows itself,
    ``measure_inference`` what its ``inference_memory()`` calls."""
    model = unwrapped(model)
    if input_size is None and input_data is None:
        tree = ModuleTree(model)
        rows = static_rows(model, tree)
        return ModelStatistics(rows, None, 0, formatting, model=model, tree=tree, executed=False,
                               measure_inference=measure_inference)
    forward = drive(
        model, input_size, input_data, mode=mode, batch_dim=batch_dim, dtypes=dtypes,
        device=device, kwargs=kwargs, copy_inputs=copy_inputs, cache=cache_forward_pass,
    )
    return statistics(forward, formatting, measure_inference)


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
    summary states. When torch's machinery around a higher-order operator
    fails under the counter (``torch.cond``'s autograd rule on branches that
    close over parameters, ``flex_attention``'s compile), it runs again with
    those operators run eagerly (``capture.compiling.eager_hops``)."""
    options = CaptureOptions(mode, fake=inputs.fake, count_backward=count_backward,
                             private=private)
    while True:
        try:
            return capture_forward(model, tree, inputs.args, inputs.kwargs, options, probe)
        except ForwardFailed as failed:
            error = failed.error
            if not options.fake and inputs.device.type == "meta" and "meta" in str(error):
                logger.info("the meta forward needs values (%s): running on fake tensors", error)
                options = dataclasses.replace(options, fake=True)
            elif options.fake and not options.assume_routing and is_data_dependent(error):
                logger.info("the fake forward needs values (%s): assuming a routing", error)
                options = dataclasses.replace(options, assume_routing=True)
            elif not options.eager_higher_order and failed_around_hop(error):
                logger.info("torch's machinery around a higher-order operator failed "
                            "(%s): running them eagerly", error)
                options = dataclasses.replace(options, eager_higher_order=True)
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
    forward: Forward,
    formatting: FormattingOptions | None = None,
    measure_inference: MeasureInference | None = None,
) -> ModelStatistics:
    """The statistics of a driven forward (``formatting``: the result's table
    settings, default torchinfo's; ``measure_inference``: see ``summarize``)."""
    inputs = forward.inputs
    return _statistics(forward.model, forward.tree, forward.result, inputs.sizes,
                       inputs.total_bytes, inputs.without_data, formatting, measure_inference)


def _statistics(
    model: nn.Module,
    tree: ModuleTree,
    result: CaptureResult,
    sizes: Any,
    input_bytes: int,
    without_data: bool,
    formatting: FormattingOptions | None,
    measure_inference: MeasureInference | None = None,
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
        notes=result.notes,
        saved_storages=result.saved_storages,
        reached_params=result.reached_params,
        output_held_bytes=result.output_held_bytes,
        output_grad_bytes=result.output_grad_bytes,
        measure_inference=measure_inference,
    )


def summary_error(
    model: nn.Module, tree: ModuleTree, failed: ForwardFailed, sizes: Any
) -> SummaryError:
    """The error of a failed forward: where it failed, what it received, who
    raised it, with the rows that finished as a partial summary."""
    partial = _statistics(model, tree, failed.result, sizes, 0, False, None)
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
    module = getattr(failed.failure.row, "module", None) if failed.failure else model
    binding = _binding_error(error, module)
    if isinstance(error, RecursionError):
        depth = tree.depth()
        opening = (
            f"Failed to run the forward pass of {type(model).__name__}: it nests modules "
            f"{depth:,} levels deep and raised RecursionError; summaryplus records "
            f"at most about {interpreter.max_depth():,} levels in this thread (the recursion "
            "limit is raised only as far as the C stack holds), and the bare forward "
            "stops at Python's default limit too"
        )
    elif binding is not None:
        # The call did not fit the forward's parameters: the caller's inputs.
        opening = (
            f"The inputs given do not fit the forward of {where}: {type(error).__name__}: "
            f"{error}; it takes {binding}"
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
        if isinstance(module, nn.Embedding) and _float_indices(error):
            opening += (
                "\n  (an embedding takes integer token ids: pass dtypes=[torch.long] with "
                "input_size, or integer input_data; on the command line, --seq-len N)"
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
    {"count_op", "__torch_dispatch__", "__torch_function__", "_as_on_cpu", "_route"}
)
# Where torch's support for tensors without data lives: an error raised there
# comes from running on fake/meta tensors, not from the model's code.
# How torch names one of summaryplus's objects in a message (``<summaryplus.capture.
# counter.OpCounter object at 0x...>``).
_OWN_OBJECT = "<summaryplus."
_FAKE_SUPPORT = ("_subclasses", "_meta_registrations", "_prims", "_refs", "_decomp")


# What Python says when a call's arguments do not bind to the function's parameters.
_BINDING = (
    "required positional argument",
    "required keyword-only argument",
    "positional argument but",
    "positional arguments but",
    "got an unexpected keyword argument",
    "got multiple values for argument",
)


def _binding_error(error: BaseException, module: Any) -> str | None:
    """``forward(signature)`` of ``module`` when ``error`` is Python refusing to
    bind the call's arguments to its forward (too few, too many, an unknown
    keyword), raised at the call itself; None otherwise."""
    if not isinstance(error, TypeError) or not any(part in str(error) for part in _BINDING):
        return None
    frames = traceback.extract_tb(error.__traceback__)
    # Raised by the call into forward (the innermost frame is the caller's): an
    # argument error inside the model's own code is the model's.
    if not frames or not os.path.abspath(frames[-1].filename).startswith(_PACKAGE_DIR + os.sep):
        return None
    forward = getattr(module, "forward", None)
    try:
        signature = inspect.signature(forward) if forward is not None else None
    except (TypeError, ValueError):
        signature = None
    return f"forward{signature}" if signature is not None else "other inputs"


def _float_indices(error: BaseException) -> bool:
    """torch's refusal of floating indices in an embedding lookup."""
    text = str(error)
    return "indices" in text and "Long" in text and "float" in text.lower()


def _origin(error: BaseException) -> str:
    """Who raised ``error``: ``"summaryplus"`` (its own code, not the model's),
    ``"torch-fake"`` (torch's fake/meta tensor support) or ``"model"``."""
    if _OWN_OBJECT in str(error):
        # torch refusing one of summaryplus's own objects (its op counter, a
        # mode): the model's code is not at fault, wherever torch raised it.
        return "summaryplus"
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
