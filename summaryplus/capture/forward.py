"""The forward run: ``capture_forward`` runs the model once under the recorder
and the op counter, and puts everything it changed back (``state``), also when
the forward raises or is interrupted. The only place that runs user code.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..enums import Mode
from ..layer_info import LayerInfo
from ..module_tree import ModuleTree
from ..saved_storages import SavedStorages, StorageTracker
from ..values import iter_tensors
from . import interpreter, reach, state
from .compiling import dynamo_skips_undone, eager_hops
from .counter import CompileSafeOpCounter, OpCounter
from .input_copies import copy_inputs
from .live_memory import LiveMemory
from .meta_attention import CpuAttentionOnMeta
from .recorder import Failure, Recorder
from .routing import RoutingOpCounter
from .static import scripted_rows


@dataclass
class CaptureResult:
    rows: list[LayerInfo]
    uncounted_ops: dict[str, int] = field(default_factory=dict)
    loose_macs: int = 0
    loose_activation_bytes: int = 0
    backward_macs: int | None = None
    grad_enabled: bool = False
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Train mode: which rows saved which storages (activation-checkpointing plans).
    saved_storages: SavedStorages | None = None
    # Train mode only (None otherwise): ids of the parameters a backward from
    # the outputs reaches (``reach``), and the bytes the outputs add at
    # backward start (themselves beyond the saved activations; their gradients).
    reached_params: frozenset[int] | None = None
    output_held_bytes: int | None = None
    output_grad_bytes: int | None = None


class ForwardFailed(Exception):
    """The user's forward raised; carries what was recorded up to that point."""

    def __init__(self, result: CaptureResult, failure: Failure | None, error: Exception):
        super().__init__(str(error))
        self.result = result
        self.failure = failure
        self.error = error


@dataclass(frozen=True)
class CaptureOptions:
    """How one forward is captured: its mode, and what the driver's retries
    change (``pipeline.capture``). See ``capture_forward``."""

    mode: Mode
    fake: bool = False  # the inputs are fake tensors (values without data)
    count_backward: bool = False  # also run and count a backward (training_flops)
    assume_routing: bool = False
    private: bool = False  # the model is summaryplus's own copy
    eager_higher_order: bool = False


def capture_forward(
    model: nn.Module,
    tree: ModuleTree,
    args: list[Any],
    kwargs: dict[str, Any],
    options: CaptureOptions,
    probe: LiveMemory | None = None,
) -> CaptureResult:
    """Runs ``model(*args, **kwargs)`` once under the recorder and puts the
    model back as it was (``options.private``: a copy the caller never sees,
    left as the forward made it).

    ``assume_routing`` (fake tensors only): routers' top-k/argmax give real,
    balanced indices so expert loops can run without data (``routing``).

    ``probe`` (``live_memory.LiveMemory``) sees every op above the counter and
    is handed the forward's return value (inference memory: the peak of live
    bytes and the returned cache).

    ``eager_higher_order``: higher-order operators (``torch.cond``,
    ``flex_attention``...) run without torch's autograd rules and compiles
    around them (``higher_order.eager_hops``), which fail under any dispatch
    mode on subgraphs that close over real parameters.

    Raises:
        ValueError: a train-mode forward asked for inside ``torch.inference_mode()``.
        ForwardFailed: the forward raised an ``Exception``; ``KeyboardInterrupt``
            and other ``BaseException``s propagate unchanged after cleanup.
    """
    mode, fake, count_backward = options.mode, options.fake, options.count_backward
    assume_routing, private = options.assume_routing, options.private
    eager_higher_order = options.eager_higher_order
    grad_enabled = mode is Mode.TRAIN or (mode is Mode.SAME and model.training)
    if grad_enabled and torch.is_inference_mode_enabled():
        raise ValueError(
            f"mode={mode.value!r} runs the forward with autograd recording the tensors "
            "saved for backward, which torch.inference_mode() forbids: call summary() "
            "outside inference_mode, or pass mode='eval'"
        )
    recorder = Recorder(model, tree)
    result = CaptureResult(rows=recorder.rows)
    with ExitStack() as stack:
        stack.enter_context(interpreter.adjusted(tree.depth()))
        # Put back (flags, tensors, module dicts) after everything below is undone.
        snapshot = stack.enter_context(state.preserved(tree, restore=not private))
        if mode is not Mode.SAME:
            state.set_training(tree, mode is Mode.TRAIN, snapshot)
        # Parameters and buffers, needed only for the CUDA RNG (a CUDA tensor
        # means CUDA is initialised), fake tensors and activation accounting.
        needs_owned = fake or grad_enabled or torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
        owned = _owned_tensors(tree) if needs_owned else []
        # Saved by the first overlapping summary, restored by the last.
        stack.enter_context(interpreter.rng_preserved(_cuda_devices(owned, args, kwargs)))
        result.grad_enabled = grad_enabled
        stack.enter_context(torch.set_grad_enabled(grad_enabled))
        excluded = list(owned)
        if fake:
            snapshot.fake_views = True
            args, kwargs, fake_owned = _enter_fake_mode(stack, args, kwargs, owned)
            # Autograd saves the tensors it was given (the real parameters) and
            # the fake mode's conversions of them: neither is an activation.
            excluded += fake_owned
            stack.enter_context(interpreter.distributions_unvalidated())
        elif any(t.device.type == "meta" for t in iter_tensors((args, kwargs))):
            # Attention takes the kernel the CPU would, not meta's math path
            # (which saves [B, H, T, T] probabilities a fused kernel never holds).
            stack.enter_context(CpuAttentionOnMeta())
            # Validating a distribution's arguments reads values meta tensors lack.
            stack.enter_context(interpreter.distributions_unvalidated())
        if grad_enabled:
            saved = recorder.saved
            saved.exclude(excluded + list(iter_tensors((args, kwargs))))
            # Which rows saved which storages (activation-checkpointing plans).
            saved.storages = StorageTracker(excluded=set(saved.keys))
            saved.watch_checkpoints()
            stack.enter_context(torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack))
        stack.enter_context(dynamo_skips_undone())
        compiled = any(cls.__name__ == "OptimizedModule" for cls in tree.classes)
        stack.callback(recorder.attach(hooks_only=compiled))
        stack.callback(_reshard, tree)
        stack.callback(recorder.release)
        if assume_routing:  # fake tensors whose routers must give values (routing.py)

            counter = RoutingOpCounter(recorder, snapshot)
            stack.enter_context(counter)
            stack.enter_context(counter.function_mode())
        else:
            counting = CompileSafeOpCounter if compiled else OpCounter
            stack.enter_context(counting(recorder, snapshot))
        if probe is not None:
            stack.enter_context(probe)
        if eager_higher_order:
            stack.enter_context(eager_hops())
        try:
            output = model(*args, **kwargs)
            if not recorder.rows:
                # A scripted model runs no Python hooks: its registration tree,
                # with the call's shapes on the root; every op counts there.
                result.rows = scripted_rows(model, tree, (args, kwargs), output)
            if grad_enabled:
                _measure_reach(recorder, result, output)
            if count_backward:
                result.backward_macs = _count_backward(recorder, output, owned)
            if probe is not None:
                probe.keep(output)
            del output
        except Exception as error:
            _collect(recorder, result)
            raise ForwardFailed(result, recorder.failure, error) from error
    _collect(recorder, result)
    return result


def _collect(recorder: Recorder, result: CaptureResult) -> None:
    result.uncounted_ops = dict(recorder.uncounted_ops)
    result.loose_macs = recorder.loose_macs
    result.loose_activation_bytes = recorder.saved.loose_bytes
    if result.rows:
        # Bytes moved outside every hooked module (a scripted root): the root's own.
        root = result.rows[0]
        root.own_bytes_moved += recorder.loose_bytes[0]
        root.own_fused_bytes_moved += recorder.loose_bytes[1]
        points = root._op_points
        if points is None:
            points = root._op_points = {}
        for key, calls in recorder.loose_points.items():
            points[key] = points.get(key, 0) + calls
        recorder.loose_bytes = [0, 0]
        recorder.loose_points = {}
    result.assumptions = tuple(sorted(recorder.assumptions))
    result.notes = tuple(sorted(recorder.notes))
    if recorder.saved.storages is not None:
        result.saved_storages = recorder.saved.storages.finished(result.rows)


def _measure_reach(recorder: Recorder, result: CaptureResult, output: Any) -> None:
    """The parameters that get gradients and the outputs' bytes (``reach``)."""
    memory = reach.output_memory(output, recorder.saved.keys)
    result.output_held_bytes = memory.held_bytes
    result.output_grad_bytes = memory.grad_bytes
    reached, opaque = reach.reached_parameters(output)
    if opaque:
        # NB: reentrant checkpointing hides its parameters until the backward
        # recomputes them: every parameter of a module that ran counts.
        for row in recorder.rows:
            if row.executed:
                reached.update(id(param) for param in row.module._parameters.values())
    result.reached_params = frozenset(reached)


def _count_backward(
    recorder: Recorder, output: Any, owned: list[torch.Tensor]
) -> int | None:
    """Runs a real backward from ``sum(outputs)`` and returns its MACs; None
    when no floating-point output requires grad (a real ``loss.backward()``
    would raise: there is no backward to count).

    Uses ``torch.autograd.grad`` so no ``.grad`` is written on the model. A
    graph with reentrant checkpointing refuses ``grad``: there a plain
    ``backward`` runs (recomputing each checkpointed segment, which counts as
    backward work, as it is) and every ``.grad`` it wrote is put back.
    """
    # (a complex output's loss is its real part: a real loss, as training takes)
    losses = [(t.real if t.is_complex() else t).float().sum() for t in reach.loss_terms(output)]
    found = reach.graph_leaves(losses)
    targets = found.leaves
    if not losses or not (targets or found.opaque):
        return None
    recorder.in_backward = True
    try:
        loss = torch.stack(losses).sum()
        if found.opaque:
            _backward_keeping_grads(loss, [*owned, *targets])
        else:
            torch.autograd.grad(loss, targets, allow_unused=True)
    finally:
        recorder.in_backward = False
    return recorder.backward_macs


def _backward_keeping_grads(loss: torch.Tensor, leaves: list[torch.Tensor]) -> None:
    """``loss.backward()`` with every leaf's ``.grad`` as it was afterwards
    (cleared first, so an existing gradient is never accumulated into)."""
    kept: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
    for leaf in leaves:
        if id(leaf) not in kept and leaf.requires_grad and leaf.is_leaf:
            kept[id(leaf)] = (leaf, leaf.grad)
            leaf.grad = None
    try:
        torch.autograd.backward(loss)
    finally:
        for leaf, grad in kept.values():
            leaf.grad = grad


def _owned_tensors(tree: ModuleTree) -> list[torch.Tensor]:
    """Every parameter and buffer, each once (walking ``tree`` directly: the
    recursive ``model.parameters()`` is quadratic in the nesting depth)."""
    seen: set[int] = set()
    owned = []
    for module in tree.modules:
        for tensor in (*module._parameters.values(), *module._buffers.values()):
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                owned.append(tensor)
    return owned


def _reshard(tree: ModuleTree) -> None:
    """FSDP2 leaves the root's parameters gathered after a forward with grad
    enabled (it expects the backward next): shard them again, as before."""
    sharded = {
        cls
        for cls in tree.classes
        if callable(getattr(cls, "reshard", None))
        and any(base.__module__.startswith("torch.distributed.fsdp") for base in cls.__mro__)
    }
    if sharded:
        for module in tree.modules:
            if type(module) in sharded:
                module.reshard()  # type: ignore[operator]


def _enter_fake_mode(
    stack: ExitStack,
    args: list[Any],
    kwargs: dict[str, Any],
    owned: list[torch.Tensor],
) -> tuple[list[Any], dict[str, Any], list[torch.Tensor]]:
    """Runs the forward on fake tensors: shapes and ops, no data, no compute."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    if any(tensor.is_nested for tensor in iter_tensors((args, kwargs))):
        raise ValueError(
            "input_data holds a nested tensor, which torch's fake tensors (used for "
            "device='meta') cannot represent: summarize on the tensor's own device"
        )
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake_owned: list[torch.Tensor] = [fake_mode.from_tensor(t) for t in owned]
    # The forward's own copies of every input object (a cache it appends to
    # or writes in place), holding fake tensors: nothing fake reaches the
    # caller's objects and no real input is written.
    fake_args, fake_kwargs = copy_inputs((args, kwargs), fake_mode.from_tensor)
    stack.enter_context(fake_mode)
    return fake_args, fake_kwargs, fake_owned


def _cuda_devices(owned: list[torch.Tensor], args: Any, kwargs: Any) -> list[int]:
    devices = {
        t.device.index or 0
        for t in [*owned, *iter_tensors((args, kwargs))]
        if t.device.type == "cuda"
    }
    return sorted(devices)
