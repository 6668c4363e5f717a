"""Renderers for ``CheckpointSummary``: text, tabulate formats, HTML, JSON, CSV.

The summary is data (``summaryplus.checkpoints``); everything about how it looks is here.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..checkpoints import CheckpointSummary, GroupTotals
from ..escape import csv_cell, escape_rows, terminal_block
from ..units import readable_bytes
from .output import Output, Table, check_format, csv_tables, render_output

GROUP_HEADERS = ("Name", "Tensors", "Param #", "Shape", "Dtype", "Size")
COLUMN_ALIGN = ("left", "right", "right", "left", "left", "right")


def render_checkpoint(summary: CheckpointSummary, depth: int, fmt: str = "text") -> str:
    """``summary`` as ``fmt``: ``"text"``, ``"json"``, ``"csv"``, ``"html"`` (a
    whole page), ``"rich"``, ``"markdown"``/``"md"`` or any tabulate table format
    (``"github"``, ``"grid"``, ``"rst"``, ``"tsv"``, ...): each with the groups
    and the totals.

    Raises:
        ValueError: ``fmt`` is unknown (the message suggests the closest name).
    """
    fmt = check_format(fmt)
    if fmt == "text":
        return to_text(summary, depth)
    output = checkpoint_output(summary, depth, fmt)
    if fmt == "csv":  # the groups as exact integers, then the totals
        return to_csv(summary, depth) + "\n\n" + csv_tables(output.tables[1:], (output.title,))
    return render_output(output, fmt)


def checkpoint_output(summary: CheckpointSummary, depth: int, fmt: str = "github") -> Output:
    """The checkpoint as the output model: the heading, one row per name prefix
    (indented by depth where ``fmt`` keeps leading spaces; the prefix is the
    full name, so nothing is lost where it does not), then the totals; its
    ``data`` is ``to_dict``."""
    rows = tuple(map(tuple, group_rows(summary, depth, indent=False)))
    groups = Table(GROUP_HEADERS, rows, COLUMN_ALIGN)
    totals = Table(
        ("Total", "Value"),
        tuple((label.strip(), value) for label, value in checkpoint_totals(summary)),
        ("left", "left"),
    )
    return Output(checkpoint_heading(summary), (groups, totals), data=to_dict(summary, depth))


# ------------------------------------------------------------------ helpers
def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"


def _params_cell(group: GroupTotals) -> str:
    if group.tied and group.tied == group.tensors:
        return "(tied)"
    return f"{group.params:,}"


def group_rows(summary: CheckpointSummary, depth: int, indent: bool) -> list[list[str]]:
    rows = []
    for group in summary.groups(depth):
        name = group.prefix or "(all)"
        if indent:
            name = "  " * max(group.depth - 1, 0) + name
        rows.append(
            [
                name,
                f"{group.tensors:,}",
                _params_cell(group),
                _shape(group.shape),
                ", ".join(group.dtypes),
                "--" if group.tied == group.tensors else readable_bytes(group.nbytes),
            ]
        )
    return rows


def checkpoint_heading(summary: CheckpointSummary) -> str:
    files = len(summary.files)
    noun = "file" if files == 1 else "files"
    return (
        f"Checkpoint: {summary.path} ({summary.format}, {files} {noun}, "
        f"{readable_bytes(summary.file_bytes)} on disk)"
    )


def checkpoint_totals(summary: CheckpointSummary) -> list[tuple[str, str]]:
    """The footer as (label, value) pairs, shared by every table format."""
    lines = [
        ("Total params", f"{summary.total_params:,}"),
        ("Tensors", f"{len(summary.tensors):,}"),
        ("Params size", readable_bytes(summary.total_bytes)),
    ]
    for dtype in summary.by_dtype():
        lines.append(
            (
                f"  {dtype.dtype}",
                f"{dtype.params:,} params in {_plural(dtype.tensors, 'tensor')} "
                f"({readable_bytes(dtype.nbytes)})",
            )
        )
    tied = summary.tied_groups
    if tied:
        lines.append(
            (
                "Tied/duplicate tensors",
                f"{_plural(len(tied), 'group')}, counted once "
                f"({summary.stored_params:,} params if every entry counted)",
            )
        )
        for group in tied:
            lines.append(("  same data", " = ".join(group)))
    else:
        lines.append(("Tied/duplicate tensors", "none"))
    if summary.declared_bytes is not None and summary.declared_bytes != summary.total_bytes:
        lines.append(
            (
                "Index total_size",
                f"{summary.declared_bytes:,} bytes (the tensors hold {summary.total_bytes:,})",
            )
        )
    if len(summary.files) > 1:
        files = summary.files
        shown = ", ".join(files) if len(files) <= 3 else f"{files[0]}, ..., {files[-1]}"
        lines.append(("Files", shown))
    if summary.non_tensors:
        lines.append(("Non-tensor entries", ", ".join(summary.non_tensors)))
    for key, value in summary.metadata:
        lines.append((f"Metadata {key}", value))
    return lines


def _tabulate(rows: Any, headers: Any, fmt: str, **options: Any) -> str:
    from tabulate import tabulate

    # Tensor names and metadata come from the file: escaped for the format.
    cells = escape_rows(rows, fmt)
    return str(tabulate(cells, headers=headers, tablefmt=fmt, disable_numparse=True, **options))


# ------------------------------------------------------------------ formats
def to_text(summary: CheckpointSummary, depth: int) -> str:
    table = _tabulate(
        group_rows(summary, depth, indent=True),
        GROUP_HEADERS,
        "simple",
        colalign=("left", "right", "right", "left", "left", "right"),
        preserve_whitespace=True,
    )
    width = max(len(line) for line in table.splitlines()) if table else 40
    rule = "=" * width
    totals = checkpoint_totals(summary)
    label_width = max(len(label) for label, _ in totals)
    footer = [f"{label + ':':<{label_width + 1}} {value}" for label, value in totals]
    heading = checkpoint_heading(summary)
    return terminal_block("\n".join([heading, rule, table, rule, *footer, rule]))


def to_dict(summary: CheckpointSummary, depth: int) -> dict[str, Any]:
    """Everything in the summary as JSON-ready data; byte counts are exact integers."""
    first_of = {name: group[0] for group in summary.tied_groups for name in group[1:]}
    return {
        "path": summary.path,
        "format": summary.format,
        "files": list(summary.files),
        "file_bytes": summary.file_bytes,
        "total_params": summary.total_params,
        "total_bytes": summary.total_bytes,
        "stored_params": summary.stored_params,
        "tensor_count": len(summary.tensors),
        "declared_bytes": summary.declared_bytes,
        "dtypes": [
            {"dtype": d.dtype, "tensors": d.tensors, "params": d.params, "bytes": d.nbytes}
            for d in summary.by_dtype()
        ],
        "tied": [list(group) for group in summary.tied_groups],
        "depth": depth,
        "groups": [
            {
                "prefix": g.prefix,
                "depth": g.depth,
                "tensors": g.tensors,
                "params": g.params,
                "bytes": g.nbytes,
                "dtypes": list(g.dtypes),
                "tied": g.tied,
                "shape": None if g.shape is None else list(g.shape),
            }
            for g in summary.groups(depth)
        ],
        "tensors": [
            {
                "name": t.name,
                "shape": list(t.shape),
                "dtype": t.dtype,
                "numel": t.numel,
                "bytes": t.nbytes,
                "file": t.file,
                "tied_to": first_of.get(t.name),
            }
            for t in summary.tensors
        ],
        "metadata": dict(summary.metadata),
        "non_tensors": list(summary.non_tensors),
    }


def to_json(summary: CheckpointSummary, depth: int) -> str:
    return json.dumps(to_dict(summary, depth), indent=2)


def to_csv(summary: CheckpointSummary, depth: int) -> str:
    """One row per prefix group (exact integers), for spreadsheets and pandas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["prefix", "depth", "tensors", "params", "bytes", "dtypes", "tied", "shape"])
    for g in summary.groups(depth):
        cells = [g.prefix, g.depth, g.tensors, g.params, g.nbytes, " ".join(g.dtypes), g.tied,
                 _shape(g.shape)]
        writer.writerow([csv_cell(cell) for cell in cells])
    return buffer.getvalue().rstrip("\n")
