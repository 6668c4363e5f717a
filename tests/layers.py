"""The import graph of ``summaryplus`` as it runs, read from the source with
``ast`` (nothing imported), and the layers it must respect.

An edge is every ``import`` of a summaryplus module, at module level or inside
a function (it runs on the first call); imports under ``if TYPE_CHECKING:``
never run and are left out. Importing ``a.b.c`` also runs ``a/__init__`` and
``a/b/__init__``: those edges are added, as the interpreter makes them.

``check(package)`` returns one message per broken rule, naming the file and
line of the edge:

* every module has a layer (``LAYERS``, most specific name first);
* an import goes to the same layer or a lower one;
* the graph has no cycle (a strongly connected component), within a layer too;
* an import inside a function names a summaryplus module only with a
  ``# lazy: <reason>`` comment on its line (it keeps a heavy optional
  dependency out of ``import summaryplus``); anything else is hoisted;
* no module imports one of the package by name (``importlib``,
  ``__import__``, ``exec``): the graph would not see it.

``if TYPE_CHECKING:`` counts as never running only for typing's own flag
(imported from ``typing``, or ``typing.TYPE_CHECKING``).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# Lowest first. A module takes the layer of the longest name here that is it or
# one of its packages. docs/ARCHITECTURE.md shows the same table.
LAYER_NAMES = (
    "foundation",   # 0: errors, settings, units, escaping, tensor helpers, tables of facts
    "helpers",      # 1: argument checks, walking values and modules, table cells, file readers
    "data",         # 2: the rows (live and frozen) and the plain records
    "inputs",       # 3: the arguments of one forward
    "capture",      # 4: what runs the model or reads a program; formulas
    "statistics",   # 5: numbers from rows: accounting, memory, bounds, findings, and their text
    "render",       # 6: tables, reports, exports, plots of a summary
    "summaries",    # 7: the result objects with their views
    "drivers",      # 8: summary(), training_flops, inference memory, plan, compare, diff
    "entry",        # 9: the package root, torchinfo's paths, integrations, the CLI
)

LAYERS: dict[str, int] = {
    # 0 foundation
    "summaryplus.errors": 0, "summaryplus.enums": 0, "summaryplus._logging": 0,
    "summaryplus._plain": 0, "summaryplus._version": 0, "summaryplus._untrusted": 0,
    "summaryplus._config_size": 0, "summaryplus._factories": 0, "summaryplus.gpus": 0,
    "summaryplus.examples": 0, "summaryplus._tensors": 0,
    "summaryplus.units": 0, "summaryplus.escape": 0, "summaryplus.shapes": 0,
    "summaryplus.formulas.registry": 0,
    # 1 helpers
    "summaryplus._checks": 1, "summaryplus.values": 1, "summaryplus.module_tree": 1,
    "summaryplus.cells": 1, "summaryplus.queries": 1, "summaryplus.hf_shapes": 1,
    "summaryplus.checkpoints": 1, "summaryplus.exported.symbolic": 1,
    "summaryplus.exported.graph": 1, "summaryplus.exported.archive": 1,
    "summaryplus.exported.program": 1, "summaryplus.formulas": 1, "summaryplus.saved_storages": 1,
    "summaryplus.render.output": 1, "summaryplus.render.saved_fields": 1,
    "summaryplus.render.report_repeats": 1,
    # 2 data
    "summaryplus.layer_info": 2, "summaryplus.records": 2, "summaryplus.fields": 2,
    "summaryplus.protocols": 2,
    # 3 inputs
    "summaryplus.inputs": 3, "summaryplus.hf_inputs": 3, "summaryplus.capture.input_copies": 3,
    # 4 capture
    "summaryplus.capture": 4, "summaryplus.exported.decomposed": 4,
    "summaryplus.exported.macs": 4, "summaryplus.exported.rows": 4,
    "summaryplus.returned_state": 4,
    # 5 statistics (with the text of a single statistic's result)
    "summaryplus.accounting": 5, "summaryplus.gradients": 5, "summaryplus.moe": 5,
    "summaryplus.memory": 5, "summaryplus.footer": 5, "summaryplus.roofline": 5,
    "summaryplus.speed": 5, "summaryplus.recompute": 5, "summaryplus.findings": 5,
    "summaryplus.params": 5, "summaryplus.monitor": 5,
    "summaryplus.render.roofline": 5, "summaryplus.render.speed": 5,
    "summaryplus.render.recompute": 5, "summaryplus.render.findings": 5,
    "summaryplus.render.plan": 5,
    "summaryplus.render.plots.roofline": 5, "summaryplus.render.plots._axes": 5,
    "summaryplus.render.plots._labels": 5, "summaryplus.render.plots._style": 5,
    # 6 render
    "summaryplus.render": 6, "summaryplus.formatting": 6,
    # 7 summaries
    "summaryplus.views": 7, "summaryplus.model_statistics": 7, "summaryplus.loaded": 7,
    "summaryplus.exported.statistics": 7,
    # 8 drivers
    "summaryplus.pipeline": 8, "summaryplus.api": 8, "summaryplus.inference": 8,
    "summaryplus.plan": 8, "summaryplus.latency": 8, "summaryplus.compare": 8,
    "summaryplus.diff": 8, "summaryplus._sources": 8, "summaryplus.exported": 8,
    "summaryplus._configs": 8, "summaryplus._hub": 8,
    # 9 entry
    "summaryplus": 9, "summaryplus.torchinfo": 9, "summaryplus.plot": 9,
    "summaryplus.integrations": 9, "summaryplus.cli": 9, "summaryplus.__main__": 9,
}  # fmt: skip

LAZY_MARK = "# lazy:"


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module
    path: Path
    line: int
    lazy: bool  # inside a function
    reason: bool  # the line carries ``# lazy: <reason>``

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def layer_of(module: str) -> int | None:
    """The layer of ``module``: its own entry or its nearest package's (the
    package root's entry is for the root's ``__init__`` only)."""
    name = module
    while name:
        if name in LAYERS and (name == module or name != "summaryplus"):
            return LAYERS[name]
        name = name.rpartition(".")[0]
    return None


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy_reasons(text: str) -> set[int]:
    """The lines holding a ``# lazy: <reason>`` comment with a reason (a comment
    token: not the same text inside a string)."""
    found = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and _LAZY_REASON.match(token.string):
            found.add(token.start[0])
    return found


_LAZY_REASON = re.compile(r"#\s*lazy:\s*\S")
# Ways to import a module by name at run time, which no import statement shows.
_DYNAMIC_IMPORTS = ("import_module", "__import__", "run_module", "exec", "eval")


class _Imports(ast.NodeVisitor):
    def __init__(self, root: Path, path: Path, text: str, modules: set[str]) -> None:
        self.root, self.path, self.modules = root, path, modules
        self.reasons = _lazy_reasons(text)
        self.module = module_name(root, path)
        self.package = self.module if path.name == "__init__.py" else self.module.rpartition(".")[0]
        self.depth = 0
        self.edges: list[Edge] = []
        self.problems: list[str] = []
        # ``TYPE_CHECKING`` means typing's flag only when imported from typing.
        tree = ast.parse(text, str(path))
        self.typing_flag = any(
            isinstance(node, ast.ImportFrom) and node.module == "typing"
            and any(alias.name == "TYPE_CHECKING" and alias.asname is None
                    for alias in node.names)
            for node in ast.walk(tree)
        )
        self.tree = tree

    def visit_Call(self, node: ast.Call) -> None:
        # A summaryplus module imported by name (importlib, __import__, exec...):
        # invisible to this graph, so not allowed in the package.
        name = node.func.attr if isinstance(node.func, ast.Attribute) else (
            node.func.id if isinstance(node.func, ast.Name) else "")
        if name in _DYNAMIC_IMPORTS and any(
            isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            and ("summaryplus" in arg.value or arg.value.startswith("."))
            for arg in node.args
        ):
            where = f"{self.path.relative_to(self.root)}:{node.lineno}"
            self.problems.append(f"{where}: {self.module} imports by name ({name}): "
                                 "use an import statement")
        self.generic_visit(node)

    def _is_type_checking(self, test: ast.expr) -> bool:
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            return self.typing_flag
        return (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
                and isinstance(test.value, ast.Name) and test.value.id == "typing")

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if self._is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _add(self, target: str, node: ast.stmt) -> None:
        while target and target not in self.modules:
            target = target.rpartition(".")[0]
        if not target or target == self.module:
            return
        self.edges.append(Edge(self.module, target, self.path, node.lineno, self.depth > 0,
                               node.lineno in self.reasons))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "summaryplus":
                self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            full = ".".join([*base, *([node.module] if node.module else [])])
        else:
            full = node.module or ""
        if full.split(".")[0] != "summaryplus":
            return
        # ``from . import name`` names a module, or a name the package defines
        # (then the package's __init__ is what runs).
        named = [f"{full}.{alias.name}" for alias in node.names]
        for target in named:
            if target in self.modules:
                self._add(target, node)
        if any(target not in self.modules for target in named):
            self._add(full, node)


def edges(package: Path) -> tuple[set[str], list[Edge]]:
    """See ``scan``: the modules and the edges."""
    modules, found, _ = scan(package)
    return modules, found


def scan(package: Path) -> tuple[set[str], list[Edge], list[str]]:
    """Every module of ``package``, every import edge between them (the
    parents' ``__init__`` of each target included), and the imports by name
    (``importlib.import_module("summaryplus...")``...), which are refused."""
    root = package.parent
    paths = sorted(package.rglob("*.py"))
    modules = {module_name(root, path) for path in paths}
    direct: list[Edge] = []
    problems: list[str] = []
    for path in paths:
        visitor = _Imports(root, path, path.read_text(encoding="utf-8"), modules)
        visitor.visit(visitor.tree)
        direct.extend(visitor.edges)
        problems.extend(visitor.problems)
    # A package whose __init__ imports nothing of ours can neither reach up nor
    # close a cycle: running it is left out.
    importing = {edge.source for edge in direct}
    found: list[Edge] = []
    for edge in direct:
        found.append(edge)
        parent = edge.target.rpartition(".")[0]
        while parent and not edge.source.startswith(parent + "."):
            if parent in importing and parent != edge.source:
                found.append(dataclasses.replace(edge, target=parent))
            parent = parent.rpartition(".")[0]
    return modules, found, problems


def cycles(modules: set[str], graph: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for edge in graph:
        successors[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, iter(successors[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def check(package: Path) -> list[str]:
    """One message per broken rule (empty: the graph is layered and acyclic)."""
    root = package.parent
    modules, graph, problems = scan(package)
    problems += [f"{name}: no layer in tests/layers.py LAYERS"
                 for name in sorted(modules) if layer_of(name) is None]
    for edge in graph:
        source, target = layer_of(edge.source), layer_of(edge.target)
        if source is not None and target is not None and target > source:
            problems.append(
                f"{edge.where(root)}: {edge.source} ({LAYER_NAMES[source]}) imports "
                f"{edge.target} ({LAYER_NAMES[target]}), a higher layer")
        if edge.lazy and not edge.reason:
            problems.append(
                f"{edge.where(root)}: {edge.source} imports {edge.target} inside a function "
                f"without a '{LAZY_MARK} <reason>' comment (hoist it to the module's top)")
    for component in cycles(modules, graph):
        members = set(component)
        inside = sorted({f"{edge.where(root)} {edge.source} -> {edge.target}"
                         for edge in graph if edge.source in members and edge.target in members})
        problems.append(f"cycle of {len(component)} modules: " + "; ".join(inside))
    return problems
