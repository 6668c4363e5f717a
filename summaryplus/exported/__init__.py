"""Summaries of ``torch.export`` programs: in memory, or ``.pt2`` archives read safely.

``summarize_exported(program_or_path)`` returns an ``ExportedStatistics`` (a
``ModelStatistics``): rows rebuilt from each node's ``nn_module_stack``, output
shapes from the graph's tensor metadata, parameters and buffers from the graph
signature (tied tensors once), MACs from the same formula registry as a live
forward. ``summary(exported_program)`` calls it. An archive is read from its
JSON entries only (``archive.py``): no tensor data, no unpickling.

Modules: ``archive`` (the zip), ``program`` (a program in memory, as the same
JSON), ``graph`` (the JSON as plain data), ``symbolic`` (dynamic sizes),
``macs`` (a node's MACs), ``rows`` (rows and the stand-in module tree),
``statistics`` (the result).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy

from .._checks import is_exported_program
from ..errors import ExportedArchiveError
from .archive import PT2_SUFFIXES, read_archive
from .graph import ExportedGraph, read_graph
from .program import serialized_program, tie_keys
from .rows import build_rows
from .statistics import ExportedStatistics
from .symbolic import evaluate, is_symbolic, show

if TYPE_CHECKING:
    from torch.export import ExportedProgram

    from ..cells import FormattingOptions

__all__ = [
    "PT2_SUFFIXES",
    "ExportedArchiveError",
    "ExportedStatistics",
    "is_exported_program",
    "read_exported_graph",
    "summarize_exported",
    "summary_of_program",
]

Sizes = Sequence[Sequence[int]]


def read_exported_graph(source: ExportedProgram | str | os.PathLike[str]) -> ExportedGraph:
    """The graph of an ``ExportedProgram`` or of a ``.pt2`` archive (JSON only)."""
    if is_exported_program(source):
        program: Any = source
        return read_graph(serialized_program(program), tie_keys(program))
    assert isinstance(source, (str, os.PathLike))
    contents = read_archive(source)
    ties = {
        name: str(entry.get("path_name", name))
        for name, entry in {**contents.weights, **contents.constants}.items()
    }
    return read_graph(contents.program, ties)


def summarize_exported(
    source: ExportedProgram | str | os.PathLike[str],
    formatting: FormattingOptions | None = None,
    input_size: Sizes | None = None,
) -> ExportedStatistics:
    """Summarizes an exported program without running it or loading its weights.

    Args:
        source: an ``ExportedProgram``, or the path of a ``.pt2`` archive
            (``torch.export.save``), read from its JSON entries only.
        formatting: the table's options (default: ``summary()``'s defaults).
        input_size: the shape of each user input, to evaluate dynamic sizes at
            (default: the sizes of the example inputs the program was exported
            with). Static sizes must match the program's.

    Returns:
        ExportedStatistics: rows, totals, and MACs as a formula in the dynamic
        sizes (``mult_adds_formula``).

    Raises:
        ExportedArchiveError: an archive that cannot be read (one line).
        ValueError: ``input_size`` does not fit the program's inputs.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> program = torch.export.export(nn.Linear(8, 4), (torch.randn(2, 8),))
        >>> stats = summarize_exported(program)
        >>> stats.total_params, stats.total_mult_adds  # 8*4+4; 2*8*4
        (36, 64)
    """
    graph = read_exported_graph(source)
    binding = _binding(graph, input_size)
    built = build_rows(graph, binding)
    inputs = [graph.values[name] for name in graph.user_inputs]
    sizes = [[_shown(size) for size in value.shape] for value in inputs]
    input_bytes = sum(_numel(value.shape, binding) * value.dtype.itemsize for value in inputs)
    formulas = _subtree_formulas(built)
    total = formulas[0] if formulas else built.loose_formula
    stats = ExportedStatistics(
        built.rows,
        sizes[0] if len(sizes) == 1 else sizes,
        input_bytes,
        formatting,
        model=built.model,
        uncounted_ops=dict(built.uncounted_ops),
        loose_macs=built.loose_macs,
        sizes={str(symbol): value for symbol, value in sorted(binding.items(), key=str)},
        sizes_given=input_size is not None,
        size_sources=_size_sources(graph),
        mult_adds_formula=str(sympy.expand(total)),
        layer_mult_adds_formulas=[str(sympy.expand(formula)) for formula in formulas],
        formula_exact=built.formulas_exact,
    )
    return stats


def summary_of_program(
    program: Any, formatting: FormattingOptions, input_size: Any, kwargs: dict[str, Any]
) -> ExportedStatistics:
    """``summary(exported_program, ...)``: the program is summarized, not run.

    Raises:
        TypeError: forward keyword arguments were given (nothing runs).
    """
    if kwargs:
        raise TypeError(f"an ExportedProgram takes no forward arguments, got {sorted(kwargs)}")
    return summarize_exported(program, formatting, input_size)


def _shown(size: Any) -> Any:


    return show(size)


def _numel(shape: tuple[Any, ...], binding: dict[sympy.Symbol, int]) -> int:
    numel = 1
    for size in shape:
        numel *= evaluate(size, binding)
    return numel


def _subtree_formulas(built: Any) -> list[Any]:
    """Each row's MACs formula over its subtree (children follow their parent)."""
    rows = built.rows
    totals = {id(row): built.own_formulas.get(id(row), 0) for row in rows}
    for row in reversed(rows):
        if row.parent_info is not None:
            totals[id(row.parent_info)] += totals[id(row)]
    if rows:
        totals[id(rows[0])] += built.loose_formula
    return [totals[id(row)] for row in rows]


def _binding(graph: ExportedGraph, input_size: Sizes | None) -> dict[sympy.Symbol, int]:
    """Each dynamic size's value: from ``input_size`` where given, else the
    example inputs' (the hints the archive records)."""
    binding = dict(graph.hints)
    if input_size is None:
        return binding
    if all(isinstance(size, int) for size in input_size):
        input_size = [input_size]  # type: ignore[list-item]  # one input's shape
    inputs = [graph.values[name] for name in graph.user_inputs]
    if len(input_size) != len(inputs):
        raise ValueError(
            f"input_size gives {len(input_size)} shape(s); the program takes "
            f"{len(inputs)} tensor input(s)"
        )
    sources = _size_sources(graph)

    def named(dim: sympy.Symbol) -> str:  # s77 (x[0])
        return f"{dim} ({sources[str(dim)]})" if str(dim) in sources else str(dim)

    given: dict[sympy.Symbol, int] = {}
    for number, (shape, value) in enumerate(zip(input_size, inputs, strict=True)):
        expected = [_shown(size) for size in value.shape]
        if len(shape) != len(value.shape):
            raise ValueError(f"input_size[{number}] {list(shape)} does not fit {expected}")
        for size, dim in zip(shape, value.shape, strict=True):
            if isinstance(dim, sympy.Symbol):
                if given.setdefault(dim, int(size)) != int(size):
                    raise ValueError(
                        f"input_size gives {named(dim)} two values: {given[dim]} and {size}"
                    )
            elif not is_symbolic(dim) and int(size) != int(dim):
                raise ValueError(
                    f"input_size[{number}] {list(shape)} does not fit {expected}: the program "
                    "was exported with those static sizes"
                )
    for dim, size in given.items():
        low, high = graph.ranges.get(dim, (0, None))
        if size < low or (high is not None and size > high):
            allowed = f"{low}..{high}" if high is not None else f"{low} or more"
            raise ValueError(
                f"input_size sets {named(dim)} to {size}, outside the range the program was "
                f"exported for ({allowed}: its Dim's min and max)"
            )
    binding.update(given)
    # Sizes derived from others (``2*s0``): the shape given must be theirs.
    for number, (shape, value) in enumerate(zip(input_size, inputs, strict=True)):
        for size, dim in zip(shape, value.shape, strict=True):
            derived = is_symbolic(dim) and not isinstance(dim, sympy.Symbol)
            if derived and evaluate(dim, binding) != int(size):
                raise ValueError(
                    f"input_size[{number}] {list(shape)} does not fit "
                    f"{[_shown(size) for size in value.shape]}: {dim} is "
                    f"{evaluate(dim, binding)} at these sizes"
                )
    return binding


def _size_sources(graph: ExportedGraph) -> dict[str, str]:
    """Where each dynamic size first appears in the inputs: ``{"s0": "tokens[1]"}``
    (the archive keeps no name the user gave a dimension)."""
    sources: dict[str, str] = {}
    for name in graph.user_inputs:
        for dim, size in enumerate(graph.values[name].shape):
            if isinstance(size, sympy.Symbol):
                sources.setdefault(str(size), f"{name}[{dim}]")
    return sources
