"""Records one forward pass: a row per module call, the ops each call ran, and
the tensors autograd saved for backward.

Three instruments feed one ``Recorder``:
- each module's ``forward``, wrapped on the instance (or per-module forward
  pre/post hooks where the module has hooks of its own; never global hooks,
  which would also see other threads' models), pushes and pops the running row;
- ``counter.OpCounter``, a ``TorchDispatchMode``, sees every ATen op and adds its MACs to
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
from torch.utils.hooks import RemovableHandle

from .. import formulas
from ..formulas.grouped import grouped_mm_macs
from ..layer_info import LayerInfo
from ..module_tree import ModuleTree
from ..values import all_shapes, describe, dtypes_of, first_shape, iter_tensors, total_bytes
from .fallbacks import group_sizes, has_composite_kernel
from .saved import SavedTensors
from .traffic import OpTraffic, add_point, op_bytes
from .wrapping import Wrapped, called_as_module

# Classes whose forward looks for forward hooks and, finding none, takes a fused
# fast path that skips the submodules whose rows a summary shows: they are
# hooked, which also keeps torchinfo's rows.
_LOOKS_FOR_HOOKS = (nn.TransformerEncoderLayer,)

_DENSE = torch.strided  # (sparse tensors take the general path: their shapes say so)

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
        # Container rows per (caller row, container), for a container met again.
        self._containers: dict[tuple[int, int], list[LayerInfo]] = {}
        self.uncounted_ops: Counter[str] = Counter()
        # What the capture had to assume to run (said under the table).
        self.assumptions: set[str] = set()
        # How to read the numbers of this pass (said under the table).
        self.notes: set[str] = set()
        self.failure: Failure | None = None
        # Ops and saved tensors that ran outside every hooked module.
        self.loose_macs = 0
        # Bytes moved by ops outside every hooked module: eager, fused, and the
        # (dtype, MACs, bytes) -> calls of their matmul-family ops.
        self.loose_bytes = [0, 0]
        self.loose_points: dict[tuple[str, int, int], int] = {}
        self.backward_macs = 0
        self.in_backward = False
        # The tensors saved for backward (``saved``); the (args, kwargs) of each
        # running row, beside ``stack``.
        self.saved = SavedTensors(self)
        self._calls: list[Any] = []

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
            row = self.stack[-1]
            row.input_size = first_shape(inputs)
            row.input_dtypes = dtypes_of(inputs)
            shapes = all_shapes(inputs)
            row.input_shapes = shapes if len(shapes) > 1 else None

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
        calls = self._calls
        self.saved.entered(
            stack[-1] if stack else None, calls[-1] if calls else None, (args, kwargs)
        )
        if self.saved.storages is not None and not self.in_backward:
            self.saved.storages.entered(row, iter_tensors((args, kwargs)))
        stack.append(row)
        self._calls.append((args, kwargs))
        return row

    def _record_inputs(self, row: LayerInfo, args: Any, kwargs: Any) -> None:
        tensor = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(tensor, torch.Tensor) and not tensor.is_nested and tensor.layout is _DENSE:
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
            shapes = all_shapes(inputs)
            if len(shapes) > 1:
                row.input_shapes = shapes

    def leave(self, row: LayerInfo, output: Any) -> None:
        self.stack.pop()
        self._calls.pop()
        row.executed = True
        if isinstance(output, torch.Tensor) and not output.is_nested and output.layout is _DENSE:
            # The shape list made now (the table reads it for every row: a lazy
            # default costs more); output_dtypes made when read, as for inputs.
            row.output_size = list(output.shape)
            row._output_dtype = output.dtype
            row.output_bytes = output.numel() * output.element_size()
        else:
            row.output_size = first_shape(output)
            row.output_dtypes = dtypes_of(output)
            row.output_bytes = total_bytes(output)
            shapes = all_shapes(output)
            if len(shapes) > 1:
                row.output_shapes = shapes

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
        row = self._add_row(name, module, parent, is_container=True)
        earlier = self._containers.setdefault((id(parent), id(module)), [])
        for shown in earlier:
            # Met again under the same caller (one ModuleList registered twice):
            # every appearance is (recursive) with the last one's index, as in
            # torchinfo.
            shown.is_recursive = True
            shown._index_from = row
        earlier.append(row)
        return row

    # -------------------------------------------------------------------- ops
    def record_op(self, func: Any, formula: Any, args: Any, kwargs: Any, out: Any) -> int:
        """Adds an op's MACs to the running row (``formula`` from ``classify``;
        ops known to do no MACs never get here) and returns them."""
        if formula is _UNCOUNTED:
            self.record_uncounted(op_name(func))
            return 0
        try:
            macs = formulas.count_macs(formula, args, kwargs, out)
        except Exception as error:
            raise RuntimeError(
                f"summaryplus could not count the MACs of {op_name(func)} called on "
                f"{describe(args)}: {type(error).__name__}: {error}"
            ) from error
        factor = formulas.complex_factor(args, out)
        if factor != 1:  # counted in real multiply-accumulates
            macs *= factor
            self.notes.add(formulas.COMPLEX_NOTE)
        fraction = formulas.sparse_fraction(func, args)
        if fraction is not None:  # a sparse factor: its stored elements only
            macs = macs * fraction[0] // fraction[1]
            if fraction[0] == fraction[1]:
                self.assumptions.add(formulas.SPARSE_WITHOUT_DATA)
        row = self.add_macs(macs)
        if row is not None and formula is grouped_mm_macs and row.expert_tokens is None:
            row.expert_tokens = group_sizes(func, args, kwargs)
        return macs

    def add_macs(self, macs: int) -> LayerInfo | None:
        """Adds MACs to the backward, the running row (returned) or the loose total."""
        if self.in_backward:
            self.backward_macs += macs
        elif self.stack:
            row = self.stack[-1]
            row.own_macs += macs
            return row
        else:
            self.loose_macs += macs
        return None

    def record_uncounted(self, name: str) -> None:
        """An op ran that has no formula: listed, and the running row is partial."""
        self.uncounted_ops[name] += 1
        if self.stack and not self.in_backward:
            self.stack[-1].macs_partial = True

    def record_bytes(self, traffic: OpTraffic, args: Any, kwargs: Any, out: Any, macs: int) -> None:
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
            points = None
            if macs:
                points = row._op_points
                if points is None:
                    points = row._op_points = {}
        else:
            self.loose_bytes[0] += moved
            if traffic.fused:
                self.loose_bytes[1] += moved
            points = self.loose_points if macs else None
        if points is not None:
            add_point(points, args, macs, moved)

    @staticmethod
    def classify(func: Any) -> Any:
        """An op's MACs formula, or _ZERO_MACS, _DECOMPOSE or _UNCOUNTED."""
        formula = formulas.formula_for(func)
        if formula is not None:
            return formula
        if formulas.is_zero_mac(func):
            return _ZERO_MACS
        return _DECOMPOSE if has_composite_kernel(func) else _UNCOUNTED

    def release(self) -> None:
        """Drops the references that kept saved storages alive."""
        self.saved.release()
        self._entry_inputs.clear()
        self._calls.clear()


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
