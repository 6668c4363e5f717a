"""Records one forward pass: a row per module call, the ops each call ran, and
the tensors autograd saved for backward.

Three instruments feed one ``Recorder``:
- per-module forward pre/post hooks (never global hooks, which would also see
  other threads' models) push and pop the running row;
- ``OpCounter``, a ``TorchDispatchMode``, sees every ATen op and adds its MACs to
  the innermost running row;
- saved-tensor hooks add the bytes autograd keeps for backward to that row,
  each storage once.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.hooks import RemovableHandle

from .. import formulas
from .._tensors import dtype_name, storage_key, storage_nbytes
from ..layer_info import LayerInfo
from .tree import ModuleTree
from .values import describe, dtypes_of, first_shape, total_bytes

_UNKNOWN = object()


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
        self.thread_id = threading.get_ident()
        self.rows: list[LayerInfo] = []
        self.stack: list[LayerInfo] = []
        self._entry_errors: list[BaseException | None] = []
        self._entry_inputs: list[Any] = []
        self._seen_modules: set[int] = set()
        # The latest row at each depth (index = depth), for container rows.
        self._last_at_depth: list[LayerInfo] = []
        self.uncounted_ops: Counter[str] = Counter()
        # Each op's formula (or None), looked up once per pass.
        self._formulas: dict[Any, Any] = {}
        self.failure: Failure | None = None
        # Ops and saved tensors that ran outside every hooked module.
        self.loose_macs = 0
        self.loose_activation_bytes = 0
        self.backward_macs = 0
        self.in_backward = False
        # Saved-tensor accounting: storages already counted (or excluded because
        # they are parameters, buffers or inputs), kept alive so their ids stay
        # unique while the pass runs.
        self._saved_keys: set[int] = set()
        self._keep_alive: list[Any] = []

    # ------------------------------------------------------------------ hooks
    def attach(self) -> list[RemovableHandle]:
        """Registers the hooks on every module; the caller removes them all."""
        handles: list[RemovableHandle] = []
        for module in self.tree.modules:
            if isinstance(module, torch.jit.ScriptModule):
                continue  # scripted code runs no Python hooks
            handles.append(module.register_forward_pre_hook(self._pre_hook, with_kwargs=True))
            handles.append(
                module.register_forward_hook(self._post_hook, with_kwargs=True, always_call=True)
            )
        return handles

    def _pre_hook(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        if threading.get_ident() != self.thread_id:
            return
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            if module is not self.model:
                return
            row = self._add_row(type(module).__name__, module, None)
        else:
            edges = self.tree.parents.get(id(module))
            if edges and edges[0][0] is parent.module:  # the common case: a direct child
                row = self._add_row(edges[0][1], module, parent)
            else:
                chain = self.tree.chain(parent.module, module)
                if chain is None:
                    chain = [(module, self.tree.name_of(module))]
                anchor = parent
                for container, name in chain[:-1]:
                    anchor = self._container_row(container, name, anchor)
                row = self._add_row(chain[-1][1], module, anchor)
        inputs = (args, kwargs) if kwargs else args
        if len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor):
            row.input_size = list(args[0].shape)  # the common case, without a walk
            row.input_dtypes = [dtype_name(args[0].dtype)]
        else:
            row.input_size = first_shape(inputs)
            row.input_dtypes = dtypes_of(inputs)
        self.stack.append(row)
        self._entry_errors.append(sys.exc_info()[1])
        self._entry_inputs.append(inputs)

    def _post_hook(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if threading.get_ident() != self.thread_id:
            return
        if not self.stack or self.stack[-1].module is not module:
            return
        row = self.stack.pop()
        entry_error = self._entry_errors.pop()
        inputs = self._entry_inputs.pop()
        error = sys.exc_info()[1]
        if error is not None and error is not entry_error:
            # always_call: the forward raised. The first row to see a given error
            # is the innermost one that failed.
            if self.failure is None or self.failure.error is not error:
                self.failure = Failure(row, describe(inputs), error)
            return
        row.executed = True
        if isinstance(output, torch.Tensor):
            row.output_size = list(output.shape)
            row.output_dtypes = [dtype_name(output.dtype)]
            row.output_bytes = output.numel() * output.element_size()
        else:
            row.output_size = first_shape(output)
            row.output_dtypes = dtypes_of(output)
            row.output_bytes = total_bytes(output)

    def _add_row(self, var_name: str, module: nn.Module, parent: LayerInfo | None) -> LayerInfo:
        depth = 0 if parent is None else parent.depth + 1
        path = "" if parent is None else join_path(parent.module_path, var_name)
        row = LayerInfo(var_name, module, depth, parent, module_path=path)
        self._append(row)
        return row

    def _container_row(self, module: nn.Module, name: str, parent: LayerInfo) -> LayerInfo:
        depth = parent.depth + 1
        if depth < len(self._last_at_depth):
            current = self._last_at_depth[depth]
            if current.module is module and current.parent_info is parent:
                return current
        row = LayerInfo(
            name,
            module,
            depth,
            parent,
            module_path=join_path(parent.module_path, name),
            is_container=True,
        )
        self._append(row)
        return row

    def _append(self, row: LayerInfo) -> None:
        row.is_recursive = row.layer_id in self._seen_modules
        self._seen_modules.add(row.layer_id)
        if row.parent_info is not None:
            row.parent_info.children.append(row)
        del self._last_at_depth[row.depth :]
        self._last_at_depth.extend([row] * (row.depth + 1 - len(self._last_at_depth)))
        self.rows.append(row)

    # -------------------------------------------------------------------- ops
    def record_op(self, func: Any, args: Any, kwargs: Any, out: Any) -> None:
        formula = self._formulas.get(func, _UNKNOWN)
        if formula is _UNKNOWN:
            formula = self._formulas[func] = formulas.formula_for(func)
        if formula is None:
            if not formulas.is_zero_mac(func):
                self.uncounted_ops[str(func.overloadpacket.__name__)] += 1
            return
        macs = formulas.count_macs(formula, args, kwargs, out)
        if self.in_backward:
            self.backward_macs += macs
        elif self.stack:
            self.stack[-1].own_macs += macs
        else:
            self.loose_macs += macs

    # ---------------------------------------------------------- saved tensors
    def exclude_from_activations(self, tensors: list[torch.Tensor]) -> None:
        """Parameters, buffers and inputs are accounted elsewhere, never as activations."""
        for tensor in tensors:
            self._saved_keys.add(storage_key(tensor))
            self._keep_alive.append(tensor)

    def pack_saved(self, tensor: torch.Tensor) -> torch.Tensor:
        key = storage_key(tensor)
        if key not in self._saved_keys:
            self._saved_keys.add(key)
            self._keep_alive.append(tensor.untyped_storage())
            size = storage_nbytes(tensor)
            if self.stack:
                self.stack[-1].own_activation_bytes += size
            else:
                self.loose_activation_bytes += size
        # Hand autograd an alias without grad_fn: returning the tensor itself makes
        # a saved output reference its own graph node, a cycle that leaks the
        # whole graph after the summary.
        return tensor.detach()

    @staticmethod
    def unpack_saved(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def release(self) -> None:
        """Drops the references that kept saved storages alive."""
        self._keep_alive.clear()
        self._saved_keys.clear()
        self._entry_inputs.clear()


def _count_op(
    self: OpCounter,
    func: Any,
    types: Any,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    kwargs = kwargs or {}
    out = func(*args, **kwargs)
    self.recorder.record_op(func, args, kwargs, out)
    return out


class OpCounter(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Sends every ATen op that runs to ``Recorder.record_op``."""

    __torch_dispatch__ = _count_op

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.recorder = recorder

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


def join_path(prefix: str, name: str) -> str:
    """``encoder.layer`` + ``0`` -> ``encoder.layer.0`` (the root's path is empty)."""
    return f"{prefix}.{name}" if prefix else name
