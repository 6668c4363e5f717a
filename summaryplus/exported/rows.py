"""Rows of a summary rebuilt from an exported graph's ``nn_module_stack``.

The model's code is not there, so a stand-in module tree is built from the
names the graph carries: one ``nn.Module`` per module path, of a class named
as the original (``Linear``), holding meta tensors of the exported parameters'
shapes, dtypes and trainable flags, tied weights as one object. The rows are
``LayerInfo`` of those stand-ins, one per module call, in call order, with the
containers between a caller and a module it called (a ``ModuleList``) as the
live capture makes them; ``ModelStatistics`` then counts parameters, sums
subtrees and renders exactly as for a live model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch
from torch import nn

from .._tensors import dtype_name
from ..layer_info import LayerInfo
from .graph import ExportedGraph, GraphNode, TensorValue
from .macs import node_macs, resolve_op
from .symbolic import evaluate, show

# Stand-in classes by the original's qualified name: one class per name, so
# that rows of the same class share it (as the live model's rows do).
_CLASSES: dict[str, type[nn.Module]] = {}


@dataclass
class ExportedRows:
    """The stand-in model and the rows of its calls, with the MACs counted."""

    model: nn.Module
    rows: list[LayerInfo]
    uncounted_ops: Counter[str] = field(default_factory=Counter)
    loose_macs: int = 0
    # Each row's MACs of its own ops as an expression in the dynamic sizes.
    own_formulas: dict[int, Any] = field(default_factory=dict)
    loose_formula: Any = 0
    formulas_exact: bool = True


def build_rows(graph: ExportedGraph, binding: Mapping[sympy.Symbol, int]) -> ExportedRows:
    """Rows of every module call in ``graph``, sizes evaluated at ``binding``."""
    model, modules = _stand_in_model(graph)
    result = ExportedRows(model, [])
    weights = {weight.value for weight in graph.weights}
    builder = _RowBuilder(modules, result.rows)
    producers: dict[str, tuple[int, frozenset[str]]] = {}
    first_input: dict[str, str] = {}
    last_output: dict[str, tuple[int, str]] = {}
    # Every value a call gave back (a tuple's items): its output bytes.
    returned: dict[str, dict[str, None]] = {}
    origin: dict[str, str] = {}  # a value -> the one it is the same tensor as
    row_of_call: dict[str, LayerInfo] = {}
    for index, node in enumerate(graph.nodes):
        keys = frozenset(call.key for call in node.calls)
        row = builder.enter(node)
        if row is not None:
            for call, open_row in zip(node.calls, builder.open_rows(), strict=False):
                row_of_call.setdefault(call.key, open_row)
        for name in node.inputs:
            if name in weights or name not in graph.values:
                continue
            name = origin.get(name, name)
            made_at, made_in = producers.get(name, (-1, frozenset()))
            for key in keys - made_in:  # produced outside this call: its input
                first_input.setdefault(key, name)
            for key in made_in - keys:  # produced inside that call, used outside
                last_output[key] = max(last_output.get(key, (-1, "")), (made_at, name))
                returned.setdefault(key, {})[name] = None
        for name in node.outputs:
            producers[name] = (index, keys)
        if _returns_its_input(node):
            # The same tensor under a new name (``x.to(x.dtype)``): made where
            # its input was (a layer handing back its input did not make it).
            origin[node.outputs[0]] = origin.get(node.inputs[0], node.inputs[0])
        macs = node_macs(node, binding, graph.ranges)
        result.uncounted_ops.update(macs.uncounted)
        result.formulas_exact &= macs.exact
        if row is None:
            result.loose_macs += macs.value
            result.loose_formula += macs.formula
            continue
        row.own_macs += macs.value
        _keep_convolution_attributes(node, row.module)
        result.own_formulas[id(row)] = result.own_formulas.get(id(row), 0) + macs.formula
        if macs.uncounted:
            row.macs_partial = True
    for name in graph.user_outputs:  # values the program returns leave every call
        name = origin.get(name, name)
        made_at, made_in = producers.get(name, (-1, frozenset()))
        for key in made_in:
            last_output[key] = max(last_output.get(key, (-1, "")), (made_at, name))
            returned.setdefault(key, {})[name] = None
    for key, row in row_of_call.items():
        if key in first_input:
            _set_input(row, graph.values[first_input[key]])
        if key in last_output:
            values = [graph.values[name] for name in returned[key]]
            _set_output(row, graph.values[last_output[key][1]], values, binding)
    if result.rows:
        root = result.rows[0]
        if graph.user_inputs:
            _set_input(root, graph.values[graph.user_inputs[0]])
        if graph.user_outputs:
            values = [graph.values[name] for name in dict.fromkeys(graph.user_outputs)]
            _set_output(root, values[0], values, binding)
    return result


# Ops that return their input itself when nothing changes (same shape, dtype).
_MAY_RETURN_INPUT = frozenset((
    "torch.ops.aten.to.dtype", "torch.ops.aten.to.dtype_layout", "torch.ops.aten.to.device",
    "torch.ops.aten.to.other", "torch.ops.aten.alias.default",
    "torch.ops.aten.contiguous.default", "torch.ops.aten.type_as.default",
))


def _returns_its_input(node: GraphNode) -> bool:
    if node.target not in _MAY_RETURN_INPUT or len(node.outputs) != 1 or not node.inputs:
        return False
    first = node.args[0] if node.args else None
    return isinstance(first, TensorValue) and first == node.out


_CONVOLUTIONS = frozenset((
    "conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d",
))


def _keep_convolution_attributes(node: GraphNode, module: nn.Module) -> None:
    """The Kernel Shape and Groups columns read a convolution module's
    ``kernel_size`` and ``groups``: the graph has them as the weight's spatial
    sizes and the op's ``groups`` argument."""
    parts = node.target.split(".")
    if len(parts) != 5 or parts[3] not in _CONVOLUTIONS or "kernel_size" in module.__dict__:
        return
    op = resolve_op(node.target)
    weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
    if op is None or not isinstance(weight, TensorValue):
        return
    # Plain attributes, read from the instance's __dict__ as on a live Conv.
    module.__dict__["kernel_size"] = tuple(int(size) for size in weight.shape[2:])
    names = [argument.name for argument in op._schema.arguments]
    where = names.index("groups") if "groups" in names else len(names)
    groups = node.args[where] if where < len(node.args) else node.kwargs.get("groups", 1)
    plain = isinstance(groups, int) and not isinstance(groups, bool)
    module.__dict__["groups"] = groups if plain else 1


def _set_input(row: LayerInfo, value: TensorValue) -> None:
    row.input_size = [show(size) for size in value.shape]
    row.input_dtypes = [dtype_name(value.dtype)]


def _set_output(
    row: LayerInfo,
    value: TensorValue,
    returned: list[TensorValue],
    binding: Mapping[sympy.Symbol, int],
) -> None:
    """The row's output: the shape of ``value``, the bytes of every tensor returned."""
    row.output_size = [show(size) for size in value.shape]
    row.output_dtypes = [dtype_name(value.dtype)]
    if len(returned) > 1:  # every shape, as a live row of several outputs shows
        row.output_shapes = [[show(size) for size in tensor.shape] for tensor in returned]
    total = 0
    for tensor in returned:
        numel = 1
        for size in tensor.shape:
            numel *= evaluate(size, binding)
        total += numel * tensor.dtype.itemsize
    row.output_bytes = total


class _RowBuilder:
    """Opens and closes rows as the nodes' module stacks change (graph order is
    call order), adding the containers between a caller and its callee."""

    def __init__(self, modules: dict[str, nn.Module], rows: list[LayerInfo]) -> None:
        self.modules = modules
        self.rows = rows
        self.open: list[tuple[str, LayerInfo]] = []
        self.by_key: dict[str, LayerInfo] = {}
        self.seen: set[int] = set()

    def open_rows(self) -> list[LayerInfo]:
        return [row for _, row in self.open]

    def enter(self, node: GraphNode) -> LayerInfo | None:
        """The innermost row running ``node`` (opening the calls it starts)."""
        calls = node.calls
        if not calls:
            return None
        shared = 0
        while (
            shared < len(self.open)
            and shared < len(calls)
            and self.open[shared][0] == calls[shared].key
        ):
            shared += 1
        del self.open[shared:]
        for call in calls[shared:]:
            row = self.by_key.get(call.key)
            if row is None:
                parent = self.open[-1][1] if self.open else None
                row = self._call_row(call.path, parent)
                self.by_key[call.key] = row
            self.open.append((call.key, row))
        return self.open[-1][1]

    def _call_row(self, path: str, parent: LayerInfo | None) -> LayerInfo:
        module = self.modules[path]
        if parent is None:
            row = self._add(type(module).__name__, module, None)
        else:
            anchor = parent
            base = parent.module_path
            if path.startswith(f"{base}.") or (not base and path):
                between = path[len(base) + 1 if base else 0:].split(".")[:-1]
                prefix = base
                for name in between:
                    prefix = f"{prefix}.{name}" if prefix else name
                    anchor = self._container(self.modules[prefix], name, anchor)
                row = self._add(path.rsplit(".", 1)[-1], module, anchor)
            else:  # called from outside its registered parent (a shared module)
                row = self._add(path.rsplit(".", 1)[-1], module, parent, module_path=path)
        row.executed = True
        return row

    def _container(self, module: nn.Module, name: str, parent: LayerInfo) -> LayerInfo:
        if parent.children and parent.children[-1].module is module:
            return parent.children[-1]
        return self._add(name, module, parent, is_container=True)

    def _add(
        self,
        name: str,
        module: nn.Module,
        parent: LayerInfo | None,
        *,
        is_container: bool = False,
        module_path: str = "",
    ) -> LayerInfo:
        depth = 0 if parent is None else parent.depth + 1
        row = LayerInfo(
            name, module, depth, parent, is_container=is_container, module_path=module_path
        )
        if parent is not None:
            parent.children.append(row)
        row.is_recursive = row.layer_id in self.seen
        self.seen.add(row.layer_id)
        self.rows.append(row)
        return row


# ------------------------------------------------------------- stand-in model
def _stand_in_model(graph: ExportedGraph) -> tuple[nn.Module, dict[str, nn.Module]]:
    """One module per path (root ``""``), classes named from ``nn_module_stack``."""
    classes: dict[str, str] = {}
    for node in graph.nodes:
        for call in node.calls:
            classes.setdefault(call.path, call.class_name)
    paths = ["", *graph.module_paths, *classes]
    for weight in graph.weights:
        paths.append(weight.fqn.rpartition(".")[0])
    ordered: dict[str, None] = {}
    for path in paths:  # every ancestor first, in the order met
        parts = path.split(".") if path else []
        for end in range(len(parts) + 1):
            ordered.setdefault(".".join(parts[:end]), None)
    children: dict[str, list[str]] = {}
    for path in ordered:
        if path:
            children.setdefault(path.rpartition(".")[0], []).append(path.rpartition(".")[2])
    modules: dict[str, nn.Module] = {}
    for path in ordered:
        name = classes.get(path) or _container_class(children.get(path, []))
        module = _stand_in_class(name)()
        modules[path] = module
        if path:
            parent, _, own = path.rpartition(".")
            modules[parent]._modules[own] = module
    _add_weights(graph, modules)
    return modules[""], modules


def _container_class(children: list[str]) -> str:
    """A module that never ran itself but whose children did is a container:
    torch's containers without a forward are ``ModuleList`` (children named
    0, 1, ...) and ``ModuleDict``; a module with no child that never ran has no
    row, so its class is never shown."""
    if not children:
        return "torch.nn.Module"
    if all(child.isdigit() for child in children):
        return "torch.nn.modules.container.ModuleList"
    return "torch.nn.modules.container.ModuleDict"


def _stand_in_class(qualified: str) -> type[nn.Module]:
    cls = _CLASSES.get(qualified)
    if cls is None:
        module, _, name = qualified.rpartition(".")
        cls = type(name or qualified, (nn.Module,), {"__module__": module or __name__})
        _CLASSES[qualified] = cls
    return cls


def _add_weights(graph: ExportedGraph, modules: dict[str, nn.Module]) -> None:
    """Meta tensors in the exported shapes and dtypes, tied weights as one object."""
    made: dict[str, torch.Tensor] = {}
    for weight in graph.weights:
        tensor = made.get(weight.tie_key)
        if tensor is None:
            shape = [int(size) for size in weight.tensor.shape]
            empty = torch.empty(shape, dtype=weight.tensor.dtype, device="meta")
            trainable = weight.trainable and (empty.is_floating_point() or empty.is_complex())
            tensor = nn.Parameter(empty, requires_grad=trainable) if weight.is_parameter else empty
            made[weight.tie_key] = tensor
        owner, _, name = weight.fqn.rpartition(".")
        holder = modules[owner]
        if weight.is_parameter and isinstance(tensor, nn.Parameter):
            holder._parameters[name] = tensor
        else:
            holder._buffers[name] = tensor
