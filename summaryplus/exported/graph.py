"""The serialized graph of an exported program, as plain data to summarize.

Reads the JSON schema ``torch.export`` writes (``models/model.json`` in a
``.pt2``; the same schema for a program in memory, see ``program.py``): every
node's op, arguments (tensors as their shapes and dtypes), outputs and
``nn_module_stack``; the graph signature (user inputs and outputs, parameters
and buffers by their names in the model). Dynamic sizes become sympy
expressions (``symbolic.py``). Nothing here reads tensor data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy
import torch

from ..errors import ExportedArchiveError
from .symbolic import Dim, parse_expr, symbol

# ``torch._export.serde.schema.ScalarType``: the numbers are part of the schema.
_DTYPES: dict[int, torch.dtype] = {
    1: torch.uint8, 2: torch.int8, 3: torch.int16, 4: torch.int32, 5: torch.int64,
    6: torch.float16, 7: torch.float32, 8: torch.float64, 9: torch.complex32,
    10: torch.complex64, 11: torch.complex128, 12: torch.bool, 13: torch.bfloat16,
    28: torch.uint16, 29: torch.float8_e4m3fn, 30: torch.float8_e5m2,
    31: torch.float8_e4m3fnuz, 32: torch.float8_e5m2fnuz, 34: torch.uint32, 35: torch.uint64,
}  # fmt: skip
_POSITIONAL = 1  # ``ArgumentKind.POSITIONAL``; 2 is keyword-only
# The stack export gives nodes it adds outside any module (size checks of
# dynamic shapes): not a module call.
_NO_MODULE = "_empty_nn_module_stack"


@dataclass(frozen=True)
class TensorValue:
    """A tensor of the graph: its shape (ints, or sympy expressions for dynamic
    sizes) and dtype."""

    shape: tuple[Dim, ...]
    dtype: torch.dtype


@dataclass(frozen=True)
class ModuleCall:
    """One entry of a node's ``nn_module_stack``: the call (``key``, unique per
    call: ``fc@1`` is ``fc``'s second), the module's path and its class."""

    key: str
    path: str
    class_name: str


@dataclass
class GraphNode:
    """One op of the graph. ``args``/``kwargs`` hold a ``TensorValue`` for each
    tensor, lists of them for tensor lists, sizes and plain values otherwise."""

    name: str
    target: str
    args: list[Any]
    kwargs: dict[str, Any]
    inputs: list[str]
    outputs: list[str]
    out: Any
    calls: tuple[ModuleCall, ...]


@dataclass(frozen=True)
class Weight:
    """A parameter or buffer of the model, as the graph signature lists it."""

    fqn: str
    value: str
    tensor: TensorValue
    trainable: bool
    is_parameter: bool
    tie_key: str


@dataclass
class ExportedGraph:
    """What a summary needs from an exported program, no tensor data."""

    nodes: list[GraphNode]
    values: dict[str, TensorValue]
    user_inputs: list[str]
    user_outputs: list[str]
    weights: list[Weight]
    module_paths: list[str]
    # Each dynamic size's value in the example inputs the program was exported with.
    hints: dict[sympy.Symbol, int] = field(default_factory=dict)
    # Each dynamic size's range the export checked ``(min, max)``; None: unbounded.
    ranges: dict[sympy.Symbol, tuple[int, int | None]] = field(default_factory=dict)


def read_graph(program: dict[str, Any], tie_keys: dict[str, str]) -> ExportedGraph:
    """The graph of a serialized ``ExportedProgram``.

    Args:
        program: the parsed JSON of ``models/<name>.json``.
        tie_keys: each weight's fully qualified name -> a key equal for weights
            sharing one tensor (the archive's ``path_name``).

    Raises:
        ExportedArchiveError: the JSON is not the expected schema.
    """
    try:
        return _Reader(program, tie_keys).graph()
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise ExportedArchiveError(
            f"the exported graph is not in the schema summaryplus reads ({type(error).__name__}: "
            f"{error})"
        ) from error


class _Reader:
    def __init__(self, program: dict[str, Any], tie_keys: dict[str, str]) -> None:
        module = program["graph_module"]
        self.graph_json = module["graph"]
        self.signature = module["signature"]
        self.call_graph = module.get("module_call_graph") or []
        self.tie_keys = tie_keys
        self.ranges = {
            symbol(name): (int(bounds.get("min_val") or 0), _bound(bounds.get("max_val")))
            for name, bounds in (program.get("range_constraints") or {}).items()
        }
        self.hints: dict[sympy.Symbol, int] = {}
        self.values = {
            name: self._tensor(meta) for name, meta in self.graph_json["tensor_values"].items()
        }
        self.requires_grad = {
            name: bool(meta.get("requires_grad"))
            for name, meta in self.graph_json["tensor_values"].items()
        }
        self.sym_ints: dict[str, Dim] = {
            name: self._size(value) for name, value in self.graph_json["sym_int_values"].items()
        }

    def graph(self) -> ExportedGraph:
        nodes = [self._node(node) for node in self.graph_json["nodes"]]
        user_inputs, weights = self._inputs()
        outputs = []
        for spec in self.signature["output_specs"]:
            if "user_output" in spec:
                outputs += self._tensor_names(spec["user_output"]["arg"])
        paths = [entry["fqn"] for entry in self.call_graph if entry.get("fqn")]
        return ExportedGraph(
            nodes, self.values, user_inputs, outputs, weights, paths, self.hints, self.ranges
        )

    # ----------------------------------------------------------- tensors, sizes
    def _tensor(self, meta: dict[str, Any]) -> TensorValue:
        dtype = _DTYPES.get(int(meta["dtype"]))
        if dtype is None:
            raise ExportedArchiveError(f"unknown dtype number {meta['dtype']} in the graph")
        return TensorValue(tuple(self._size(size) for size in meta["sizes"]), dtype)

    def _size(self, size: dict[str, Any]) -> Dim:
        if "as_int" in size:
            return int(size["as_int"])
        expr = size["as_expr"]
        value = parse_expr(expr["expr_str"])
        hint = (expr.get("hint") or {}).get("as_int")
        if isinstance(value, sympy.Symbol) and hint is not None:
            self.hints.setdefault(value, int(hint))
        return value

    # -------------------------------------------------------------------- nodes
    def _node(self, node: dict[str, Any]) -> GraphNode:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        inputs: list[str] = []
        for named in node["inputs"]:
            value = self._argument(named["arg"], inputs)
            if named.get("kind") in (None, _POSITIONAL):
                args.append(value)
            else:
                kwargs[named["name"]] = value
        outputs: list[str] = []
        results = [self._argument(arg, outputs) for arg in node["outputs"]]
        out = results[0] if len(results) == 1 else tuple(results)
        metadata = node.get("metadata") or {}
        calls = tuple(_module_calls(metadata.get("nn_module_stack", "")))
        return GraphNode(
            node.get("name") or (outputs[0] if outputs else ""),
            node["target"], args, kwargs, inputs, outputs, out, calls,
        )

    def _argument(self, argument: dict[str, Any], names: list[str]) -> Any:
        """An argument as a formula takes it; tensor names are added to ``names``."""
        ((kind, value),) = argument.items()
        if kind == "as_tensor":
            names.append(value["name"])
            return self.values[value["name"]]
        if kind == "as_tensors":
            return [self._argument({"as_tensor": item}, names) for item in value]
        if kind in ("as_optional_tensors", "as_sym_ints", "as_sym_bools"):
            return [self._argument(item, names) for item in value]
        if kind == "as_optional_tensor":
            return self._argument(value, names)
        if kind == "as_sym_int":
            if "as_name" in value:
                return self.sym_ints.get(value["as_name"], symbol(value["as_name"]))
            return int(value["as_int"])
        if kind in ("as_none", "as_graph", "as_custom_obj"):
            return None
        return value  # ints, floats, bools, strings and their lists; devices, dtypes...

    def _tensor_names(self, argument: dict[str, Any]) -> list[str]:
        names: list[str] = []
        self._argument(argument, names)
        return names

    # ---------------------------------------------------------------- signature
    def _inputs(self) -> tuple[list[str], list[Weight]]:
        user_inputs: list[str] = []
        weights: list[Weight] = []
        for spec in self.signature["input_specs"]:
            ((kind, entry),) = spec.items()
            if kind == "user_input":
                user_inputs += self._tensor_names(entry["arg"])
            elif kind in ("parameter", "buffer"):
                name = entry["arg"]["name"]
                fqn = entry["parameter_name" if kind == "parameter" else "buffer_name"]
                weights.append(
                    Weight(
                        fqn, name, self.values[name], self.requires_grad.get(name, False),
                        kind == "parameter", self.tie_keys.get(fqn, fqn),
                    )
                )
        return user_inputs, weights


def _bound(value: Any) -> int | None:
    """A range's upper end: None for unbounded (torch writes None, or a huge int)."""
    if value is None or not isinstance(value, int) or value >= 2**62:
        return None
    return value


def _module_calls(text: str) -> list[ModuleCall]:
    """``key,path,class;...`` (the serializer's form of ``nn_module_stack``)."""
    if not text:
        return []
    calls = []
    for item in text.split(";"):
        parts = _split_top_level(item)
        if len(parts) != 3:
            raise ExportedArchiveError(f"cannot read the nn_module_stack entry {item!r}")
        if parts[0].startswith(_NO_MODULE):
            continue
        calls.append(ModuleCall(*parts))
    return calls


def _split_top_level(text: str) -> list[str]:
    """Splits at commas outside brackets (a key may read ``getattr(a, 'b')``)."""
    parts, start, depth = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
