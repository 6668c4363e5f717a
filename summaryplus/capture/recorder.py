"""Records one forward pass: a row per module call, the ops each call ran, and
the tensors autograd saved for backward.

Three instruments feed one ``Recorder``:
- each module's ``forward``, wrapped on the instance (or per-module forward
  pre/post hooks where the module has hooks of its own; never global hooks,
  which would also see other threads' models), pushes and pops the running row;
- ``OpCounter``, a ``TorchDispatchMode``, sees every ATen op and adds its MACs to
  the innermost running row;
- saved-tensor hooks add the bytes autograd keeps for backward to that row,
  each storage once.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from threading import get_ident
from typing import Any

import torch
from torch import nn
from torch._ops import OpOverload
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.hooks import RemovableHandle

from .. import formulas
from .._tensors import dtype_name, storage_key, storage_nbytes
from ..formulas.grouped import grouped_mm_macs
from ..layer_info import LayerInfo
from .checkpoint_regions import CheckpointRegions
from .fallbacks import group_sizes, has_composite_kernel, runner
from .state import Snapshot, written_arguments
from .traffic import OpTraffic, compute_dtype, op_bytes, op_traffic
from .tree import ModuleTree
from .values import describe, dtypes_of, first_shape, total_bytes
from .wrapping import Wrapped, called_as_module

# Classes whose forward looks for forward hooks and, finding none, takes a fused
# fast path that skips the submodules whose rows a summary shows: they are
# hooked, which also keeps torchinfo's rows.
_LOOKS_FOR_HOOKS = (nn.TransformerEncoderLayer,)

# What Recorder.classify says of an op that has no formula.
_ZERO_MACS = object()
_UNCOUNTED = object()
_DECOMPOSE = object()  # a composite op arriving whole (inference mode): run its parts


class Failure:
    """Where a forward pass failed: the innermost row that was running."""

    def __init__(self, row: LayerInfo, inputs: str, error: BaseException) -> None:
        self.row = row
        self.inputs = inputs
        self.error = error


class Recorder:
    """Builds the list of ``LayerInfo`` rows while the model runs."""

    def __init__(self, model: nn.Module, tree: ModuleTree) -> None:
        self.model = model
        self.tree = tree
        self._parents = tree.parents
        self.thread_id = get_ident()
        self.rows: list[LayerInfo] = []
        self.stack: list[LayerInfo] = []
        self._entry_errors: list[BaseException | None] = []
        self._entry_inputs: list[Any] = []
        self._seen_modules: set[int] = set()
        # Each distinct input shape once, shared by the rows (immutable).
        self._shapes: dict[torch.Size, torch.Size] = {}
        # Calls of a module registered under several parents, per running row.
        self._shared_calls: dict[tuple[int, int], int] = {}
        self.uncounted_ops: Counter[str] = Counter()
        # What the capture had to assume to run (said under the table).
        self.assumptions: set[str] = set()
        self.failure: Failure | None = None
        # Ops and saved tensors that ran outside every hooked module.
        self.loose_macs = 0
        self.loose_activation_bytes = 0
        # Bytes moved by ops outside every hooked module: eager, fused, and the
        # (dtype, MACs, bytes) -> calls of their matmul-family ops.
        self.loose_bytes = [0, 0]
        self.loose_points: dict[tuple[str, int, int], int] = {}
        self.backward_macs = 0
        self.in_backward = False
        # Saved-tensor accounting: storages already counted (or excluded because
        # they are parameters, buffers or inputs), kept alive so their ids stay
        # unique while the pass runs.
        self._saved_keys: set[int] = set()
        self._keep_alive: list[Any] = []
        # The (args, kwargs) of each running row, beside ``stack``; and what
        # non-reentrant checkpoints keep (``watch_checkpoints``).
        self._calls: list[Any] = []
        self._regions: CheckpointRegions | None = None

    # --------------------------------------------------------- instrumenting
    def attach(self, hooks_only: bool = False) -> Callable[[], None]:
        """Instruments every module and returns the function that undoes it all.

        A module's ``forward`` is wrapped on the instance (``wrapping``); modules
        with forward hooks of their own get forward pre/post hooks instead: the
        pre hook before theirs and the post hook after, so the ops their hooks
        run (``spectral_norm``'s power iteration) belong to the row, as
        FlopCounterMode and ModTracker count them, and a second pre hook after
        theirs records the inputs their pre hooks hand the forward, as torchinfo
        shows them. ``hooks_only`` (compiled models: dynamo
        must not trace the wrapper) hooks every module.
        """
        wrapped = Wrapped(self)
        plain: list[nn.Module] = []
        hooked: list[nn.Module] = []
        # (Class checks once per class: this loop sees every module.)
        classes = self.tree.classes
        scripted = {cls for cls in classes if issubclass(cls, torch.jit.ScriptModule)}
        looking = {cls for cls in classes if issubclass(cls, _LOOKS_FOR_HOOKS)}
        for module, attributes in zip(self.tree.modules, self.tree.attributes, strict=True):
            if scripted and type(module) in scripted:
                continue  # scripted code runs no Python hooks
            if (
                hooks_only
                or attributes["_forward_pre_hooks"]
                or attributes["_forward_hooks"]
                or (looking and type(module) in looking)
            ):
                hooked.append(module)
            else:
                plain.append(module)
        handles: list[RemovableHandle] = []
        try:
            for module in [*hooked, *wrapped.wrap(plain)]:
                # always_call: the post hook also runs when the forward raises,
                # so the stack of running rows stays right when a caller catches
                # the error.
                pre, post = self._pre_hook, self._post_hook
                handles.append(
                    module.register_forward_pre_hook(pre, with_kwargs=True, prepend=True)
                )
                if module._forward_pre_hooks and len(module._forward_pre_hooks) > 1:
                    handles.append(
                        module.register_forward_pre_hook(self._inputs_hook, with_kwargs=True)
                    )
                handles.append(
                    module.register_forward_hook(post, with_kwargs=True, always_call=True)
                )
        except BaseException:
            _detach(wrapped, handles)
            raise
        return lambda: _detach(wrapped, handles)

    def _pre_hook(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        if get_ident() != self.thread_id:
            return
        if self.enter(module, args, kwargs) is not None:
            self._entry_errors.append(sys.exc_info()[1])
            self._entry_inputs.append((args, kwargs) if kwargs else args)

    def _inputs_hook(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        """After the module's own pre hooks: the inputs its forward receives."""
        if get_ident() == self.thread_id and self.stack and self.stack[-1].module is module:
            # (The lists set directly: they win over the tensor seen at entry.)
            inputs = (args, kwargs) if kwargs else args
            self.stack[-1].input_size = first_shape(inputs)
            self.stack[-1].input_dtypes = dtypes_of(inputs)

    def _post_hook(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if get_ident() != self.thread_id:
            return
        if not self.stack or self.stack[-1].module is not module:
            return
        entry_error = self._entry_errors.pop()
        inputs = self._entry_inputs.pop()
        error = sys.exc_info()[1]
        if error is not None and error is not entry_error:
            self.fail(self.stack[-1], inputs, error)  # always_call: the forward raised
        else:
            self.leave(self.stack[-1], output)

    # ------------------------------------------------------------------- rows
    def enter(self, module: nn.Module, args: Any, kwargs: Any) -> LayerInfo | None:
        """Starts the row of a module call; None for a call outside the model's."""
        stack = self.stack
        if stack:
            parent = stack[-1]
            edges = self._parents.get(id(module))
            if edges and edges[0][0] is parent.module:  # the common case: a direct child
                row = self._add_row(edges[0][1], module, parent)
            elif module is parent.module and not called_as_module(2):
                # Its own forward calling itself directly (``self.forward(...)``;
                # a caller two frames up: the wrapper's or the hook's): still
                # its row. ``self(...)`` is a recursive call with a row.
                return None
            elif edges is None and module is not self.model:
                return None  # another model's module (wrapped by a summary of it)
            else:
                row = self._add_nested_row(module, parent)
        elif module is self.model:
            row = self._add_row(type(module).__name__, module, None)
        else:
            return None
        self._record_inputs(row, args, kwargs)
        if self._regions is not None and not self.in_backward:
            calls = self._calls
            self._regions.entered(
                stack[-1] if stack else None, calls[-1] if calls else None, (args, kwargs)
            )
        stack.append(row)
        self._calls.append((args, kwargs))
        return row

    def _record_inputs(self, row: LayerInfo, args: Any, kwargs: Any) -> None:
        tensor = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(tensor, torch.Tensor) and not tensor.is_nested:
            # The common case, without a walk: the row makes its input_size and
            # input_dtypes lists from these when they are read.
            shape = tensor.shape
            try:  # noqa: SIM105 (a context manager per row costs more)
                # One torch.Size object per distinct shape: fewer objects kept.
                shape = self._shapes.setdefault(shape, shape)
            except TypeError:  # symbolic sizes do not hash
                pass
            row._input_shape = shape
            row._input_dtype = tensor.dtype
        else:
            inputs = (args, kwargs) if kwargs else args
            row.input_size = first_shape(inputs)
            row.input_dtypes = dtypes_of(inputs)

    def leave(self, row: LayerInfo, output: Any) -> None:
        self.stack.pop()
        self._calls.pop()
        row.executed = True
        if isinstance(output, torch.Tensor) and not output.is_nested:
            # The shape list made now (the table reads it for every row: a lazy
            # default costs more); output_dtypes made when read, as for inputs.
            row.output_size = list(output.shape)
            row._output_dtype = output.dtype
            row.output_bytes = output.numel() * output.element_size()
        else:
            row.output_size = first_shape(output)
            row.output_dtypes = dtypes_of(output)
            row.output_bytes = total_bytes(output)

    def fail(self, row: LayerInfo, inputs: Any, error: BaseException) -> None:
        self.stack.pop()
        self._calls.pop()
        # The first row to see a given error is the innermost one that failed.
        if self.failure is None or self.failure.error is not error:
            self.failure = Failure(row, describe(inputs), error)

    def _add_nested_row(self, module: nn.Module, parent: LayerInfo) -> LayerInfo:
        """A module called from an ancestor other than its registered parent: the
        containers between them get rows of their own."""
        edges = self._parents.get(id(module), ())
        edge = 0
        if len(edges) > 1:
            # A module registered under several parents (the same block in two
            # ModuleLists): its k-th call from one running module goes through
            # its k-th registration, so each appearance sits in its own container.
            key = (id(parent), id(module))
            calls = self._shared_calls.get(key, 0)
            self._shared_calls[key] = calls + 1
            edge = calls % len(edges)
        chain = self.tree.chain(parent.module, module, edge)
        if chain is None:
            chain = [(module, self.tree.name_of(module))]
        anchor = parent
        for container, name in chain[:-1]:
            anchor = self._container_row(container, name, anchor)
        return self._add_row(chain[-1][1], module, anchor)

    def _add_row(
        self, var_name: str, module: nn.Module, parent: LayerInfo | None, is_container: bool = False
    ) -> LayerInfo:
        if parent is None:
            row = LayerInfo(var_name, module, 0, None)
        else:
            # module_path: left to LayerInfo, which derives it from the parent's.
            # (Keywords only when needed: a call with keywords builds a dict.)
            depth = parent.depth + 1
            if is_container:
                row = LayerInfo(var_name, module, depth, parent, is_container=True)
            else:
                row = LayerInfo(var_name, module, depth, parent)
            parent.children.append(row)
        seen = self._seen_modules
        row.is_recursive = row.layer_id in seen
        seen.add(row.layer_id)
        self.rows.append(row)
        return row

    def _container_row(self, module: nn.Module, name: str, parent: LayerInfo) -> LayerInfo:
        """The row of a container between a running module and the one it called;
        consecutive calls through the same container share one. (Rows made since
        ``parent`` started are all below it, so its latest child is the latest
        row at that depth.)"""
        if parent.children and parent.children[-1].module is module:
            return parent.children[-1]
        return self._add_row(name, module, parent, is_container=True)

    # -------------------------------------------------------------------- ops
    def record_op(self, func: Any, formula: Any, args: Any, kwargs: Any, out: Any) -> int:
        """Adds an op's MACs to the running row (``formula`` from ``classify``;
        ops known to do no MACs never get here) and returns them."""
        if formula is _UNCOUNTED:
            self.uncounted_ops[op_name(func)] += 1
            if self.stack and not self.in_backward:
                self.stack[-1].macs_partial = True
            return 0
        try:
            macs = formulas.count_macs(formula, args, kwargs, out)
        except Exception as error:
            raise RuntimeError(
                f"summaryplus could not count the MACs of {op_name(func)} called on "
                f"{describe(args)}: {type(error).__name__}: {error}"
            ) from error
        if self.in_backward:
            self.backward_macs += macs
        elif self.stack:
            row = self.stack[-1]
            row.own_macs += macs
            if formula is grouped_mm_macs and row.expert_tokens is None:
                row.expert_tokens = group_sizes(func, args, kwargs)
        else:
            self.loose_macs += macs
        return macs

    def record_bytes(
        self, traffic: OpTraffic, args: Any, kwargs: Any, out: Any, macs: int
    ) -> None:
        """Adds the bytes an op moved (``traffic.op_bytes``) to the running row:
        eager always, fused for the matmul/attention/embedding family, and a
        matmul-family op as one (dtype, MACs, bytes) point for the roofline."""
        if self.in_backward:
            return
        moved = op_bytes(traffic, args, kwargs, out)
        if self.stack:
            row = self.stack[-1]
            row.own_bytes_moved += moved
            if traffic.fused:
                row.own_fused_bytes_moved += moved
            points = row._op_points if macs else None
        else:
            self.loose_bytes[0] += moved
            if traffic.fused:
                self.loose_bytes[1] += moved
            points = self.loose_points if macs else None
        if points is not None:
            dtype = compute_dtype(args)
            key = (dtype_name(dtype) if dtype is not None else "float32", macs, moved)
            points[key] = points.get(key, 0) + 1

    @staticmethod
    def classify(func: Any) -> Any:
        """An op's MACs formula, or _ZERO_MACS, _DECOMPOSE or _UNCOUNTED."""
        formula = formulas.formula_for(func)
        if formula is not None:
            return formula
        if formulas.is_zero_mac(func):
            return _ZERO_MACS
        return _DECOMPOSE if has_composite_kernel(func) else _UNCOUNTED

    # ---------------------------------------------------------- saved tensors
    def exclude_from_activations(self, tensors: list[torch.Tensor]) -> None:
        """Parameters, buffers and inputs are accounted elsewhere, never as activations."""
        for tensor in tensors:
            self._saved_keys.add(storage_key(tensor))
            self._keep_alive.append(tensor)

    @property
    def saved_keys(self) -> set[int]:
        """Storage keys counted as activations or excluded (params, buffers, inputs)."""
        return self._saved_keys

    def watch_checkpoints(self) -> None:
        """Counts what non-reentrant checkpoints keep beyond what the hooks see
        (``checkpoint_regions``); for a forward with the saved-tensor hooks on."""
        self._regions = CheckpointRegions(self._add_saved)

    def pack_saved(self, tensor: torch.Tensor) -> torch.Tensor:
        # (A backward's recomputation of a checkpointed segment saves again:
        # its tensors live during the backward only, not at its start.)
        if not self.in_backward:
            self._add_saved(tensor, self.stack[-1] if self.stack else None)
        # Hand autograd an alias without grad_fn: returning the tensor itself makes
        # a saved output reference its own graph node, a cycle that leaks the
        # whole graph after the summary.
        return tensor.detach()

    def _add_saved(self, tensor: torch.Tensor, row: LayerInfo | None) -> None:
        """Adds the storage of a tensor kept for backward to ``row`` (None:
        outside every row), each storage once."""
        key = storage_key(tensor)
        if key not in self._saved_keys:
            self._saved_keys.add(key)
            self._keep_alive.append(tensor.untyped_storage())
            size = storage_nbytes(tensor)
            if row is not None:
                row.own_activation_bytes += size
            else:
                self.loose_activation_bytes += size

    @staticmethod
    def unpack_saved(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def release(self) -> None:
        """Drops the references that kept saved storages alive."""
        self._keep_alive.clear()
        self._saved_keys.clear()
        self._entry_inputs.clear()
        self._calls.clear()
        if self._regions is not None:
            self._regions.clear()


def _count_op(
    self: OpCounter,
    func: Any,
    types: Any,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    # Keyed by id: an OpOverload hashes in Python. (Ops live as long as torch.)
    known = self.formulas.get(id(func))
    if known is None:
        # An OpOverload's __call__ is a Python frame around its C++ ``_op``:
        # call that directly (half the dispatch overhead of a cheap op).
        run = runner(func, func._op if type(func) is OpOverload else func)
        written = written_arguments(func)
        formula = Recorder.classify(func)
        traffic = op_traffic(func, formula not in (_ZERO_MACS, _UNCOUNTED, _DECOMPOSE))
        known = self.formulas[id(func)] = (formula, run, func, written, traffic)
    formula, run, _, written, traffic = known
    if formula is _DECOMPOSE:
        if id(func) in self.decomposing:
            # Its kernel came back to the op itself (numel on a nested tensor
            # once did, until the recursion limit): run it whole, uncounted.
            formula = _UNCOUNTED
        else:
            self.decomposing.add(id(func))
            try:
                with self:  # the parts come back through this mode and are counted
                    out = func.decompose(*args, **(kwargs or {}))
            finally:
                self.decomposing.discard(id(func))
            if out is not NotImplemented:
                return out
            formula = _UNCOUNTED
    if written is not None:  # in-place and out= ops: copy-on-write of the model's state
        self.snapshot.before_write(written, args, kwargs)
    out = run(*args, **kwargs) if kwargs else run(*args)
    macs = 0
    if formula is not _ZERO_MACS:  # most ops: views, elementwise, norms...
        macs = self.recorder.record_op(func, formula, args, kwargs or {}, out)
    if traffic is not None:  # views and metadata ops move nothing
        self.recorder.record_bytes(traffic, args, kwargs or {}, out, macs)
    return out


class OpCounter(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Sends every ATen op that runs to ``Recorder.record_op``."""

    __torch_dispatch__ = _count_op

    def __init__(self, recorder: Recorder, snapshot: Snapshot) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.recorder = recorder
        self.snapshot = snapshot
        # id(op) -> its formula (or _ZERO_MACS / _UNCOUNTED), the callable that
        # runs it, the op (kept alive while its id is a key) and the arguments
        # it writes (None for most) and how its bytes count, once per pass.
        self.formulas: dict[int, tuple[Any, Any, Any, Any, OpTraffic | None]] = {}
        # ids of the composite ops being decomposed now (a kernel that calls
        # its own op again is run whole instead of decomposed without end).
        self.decomposing: set[int] = set()

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ in a dynamo-disable shim that
        # costs ~15 us per op; no compiled code runs inside this mode's frames
        # unless the model itself is compiled (CompileSafeOpCounter then).
        return False


class CompileSafeOpCounter(OpCounter):  # type: ignore[no-untyped-call]
    """``OpCounter`` for models holding ``torch.compile``d modules: dynamo must
    not trace into the mode's frames. (torch adds its shim to a subclass that
    defines ``__torch_dispatch__`` itself, hence the assignment.)"""

    __torch_dispatch__ = _count_op

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return True


def _detach(wrapped: Wrapped, handles: list[RemovableHandle]) -> None:
    for handle in handles:
        handle.remove()
    wrapped.release()


def op_name(func: Any) -> str:
    """``mm`` for an aten op, ``quantized::conv2d`` for one of another namespace."""
    name = str(func.overloadpacket.__name__)
    namespace = getattr(func, "namespace", "aten")
    return name if namespace == "aten" else f"{namespace}::{name}"


def join_path(prefix: str, name: str) -> str:
    """``encoder.layer`` + ``0`` -> ``encoder.layer.0`` (the root's path is empty)."""
    return f"{prefix}.{name}" if prefix else name
