"""The one output model every format is written from: a title, tables, notes.

A summary, a checkpoint, an exported program, a comparison and a plan are each
turned into an ``Output`` (``render.outputs``); ``render_output`` writes an
``Output`` in any format, so every format carries the same rows, the same
totals and the same notes. Format names are checked here once
(``check_format``): ``markdown``/``md`` are GitHub tables, an unknown name is a
``ValueError`` that suggests the closest one.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..escape import cell_escaper, csv_cell, escape_rows, html_text, terminal

__all__ = [
    "ALIASES",
    "SPECIAL_FORMATS",
    "Output",
    "Table",
    "ascii_tree",
    "asset",
    "check_format",
    "csv_tables",
    "format_names",
    "render_output",
    "report_page",
    "tree_prefix",
]

# Formats summaryplus writes itself; every other name is a tabulate format.
SPECIAL_FORMATS = ("text", "json", "csv", "html", "rich")
# Names people type for a format tabulate spells otherwise.
ALIASES = {"markdown": "github", "md": "github"}


@dataclass(frozen=True)
class Table:
    """One table of an ``Output``: its cells are final text.

    Attributes:
        headers: column titles.
        rows: one tuple of cell texts per row (as many as ``headers``).
        colalign: ``"left"``/``"right"`` per column; None: left, numbers right.
        title: a line shown above the table (empty: none).
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    colalign: tuple[str, ...] | None = None
    title: str = ""


@dataclass(frozen=True)
class Output:
    """What any format shows of one result: a title line, tables, notes.

    Attributes:
        title: what this is (``"GPT2Model summary"``, ``"Checkpoint: ..."``).
        tables: the tables in order (the rows, then the totals).
        notes: lines under the tables (assumptions, what a mark means).
        data: the result as plain JSON data (the ``json`` format writes it);
            None writes the tables themselves.
    """

    title: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    data: dict[str, Any] | None = field(default=None, compare=False)


def format_names() -> tuple[str, ...]:
    """Every accepted format name: ours, the aliases, then tabulate's."""
    from tabulate import tabulate_formats  # optional at import: tables only

    return tuple(dict.fromkeys((*SPECIAL_FORMATS, *ALIASES, *tabulate_formats)))


def check_format(fmt: object, argument: str = "format") -> str:
    """The canonical name of ``fmt`` (``"md"`` -> ``"github"``).

    Raises:
        ValueError: ``fmt`` is not a format name; the message suggests the
            closest names and lists every accepted one.

    Example:
        >>> check_format("markdown"), check_format("latex")
        ('github', 'latex')
    """
    names = format_names()
    if isinstance(fmt, str) and fmt in names:
        return ALIASES.get(fmt, fmt)
    text = fmt if isinstance(fmt, str) else ""
    close = difflib.get_close_matches(text.lower(), names, n=3, cutoff=0.5)
    hint = f" (did you mean {' or '.join(repr(name) for name in close)}?)" if close else ""
    accepted = ", ".join(names)
    raise ValueError(f"{argument}={fmt!r} is not valid{hint}; accepted values: {accepted}")


def box_drawing(fmt: str) -> bool:
    """Whether ``fmt`` can show the tree's box characters (LaTeX cannot)."""
    return not fmt.startswith("latex")


def ascii_tree(depth: int) -> str:
    """The tree prefix in ASCII (``+ ``, ``|    + ``), as ``row_settings=("ascii_only",)``.

    Example:
        >>> [ascii_tree(depth) for depth in range(3)]
        ['', '+ ', '|    + ']
    """
    if depth <= 0:
        return ""
    return "|    " * (depth - 1) + "+ "


def tree_prefix(fmt: str) -> Callable[[int], str] | None:
    """The tree prefix for ``fmt``: None keeps the summary's own (box characters),
    ``ascii_tree`` for formats that cannot show them."""
    return None if box_drawing(fmt) else ascii_tree


def render_output(output: Output, fmt: str, page: bool = True) -> str:
    """``output`` in ``fmt``: ``text``, ``json``, ``csv``, ``html`` (a whole page),
    ``rich``, ``markdown``/``md`` or any tabulate format. ``page=False`` makes
    ``html`` tabulate's bare ``<table>`` elements instead of a page.

    Raises:
        ValueError: ``fmt`` is unknown (``check_format``).

    Example:
        >>> table = Table(("Total", "Value"), (("Total params", "10"),))
        >>> print(render_output(Output("Linear summary", (table,), ("a note",)), "github"))
        Linear summary
        <BLANKLINE>
        | Total        |   Value |
        |--------------|---------|
        | Total params |      10 |
        <BLANKLINE>
        a note
    """
    fmt = check_format(fmt)
    if fmt == "json":
        data = output.data if output.data is not None else _plain(output)
        return json.dumps(data, indent=2)
    if fmt == "csv":
        return csv_tables(output.tables, output.notes)
    if fmt == "html" and page:
        return html_page(output)
    if fmt == "rich":
        return rich_text(output)
    tablefmt = "simple" if fmt == "text" else fmt
    escape = cell_escaper(tablefmt)  # names from models and files, never sent raw
    parts = [escape(output.title)] if output.title else []
    for table in output.tables:
        body = _tabulate(table, tablefmt)
        parts.append(f"{escape(table.title)}\n{body}" if table.title else body)
    if output.notes:
        parts.append("\n".join(escape(note) for note in output.notes))
    return "\n\n".join(parts)


def csv_tables(tables: Sequence[Table], notes: Sequence[str] = ()) -> str:
    """Tables as CSV, one after another with a blank line between them (each
    titled by a one-cell row when it has a title); notes last, one per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for position, table in enumerate(tables):
        if position:
            writer.writerow([])
        if table.title:
            writer.writerow([csv_cell(table.title)])
        writer.writerow([csv_cell(header) for header in table.headers])
        writer.writerows([csv_cell(cell) for cell in row] for row in table.rows)
    if notes:
        writer.writerow([])
        writer.writerows([csv_cell(note)] for note in notes)
    return buffer.getvalue().rstrip("\n")


def report_page(fragment: str, title: str) -> str:
    """A fragment as a complete HTML document (UTF-8, light and dark)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{html_text(title)}</title>\n</head>\n"
        f'<body class="sp-page">\n{fragment}\n</body>\n</html>\n'
    )


def html_page(output: Output) -> str:
    """A whole HTML page: the title, each table (tabulate's ``html``, escaped), the notes."""
    parts = [f"<h1>{html_text(output.title)}</h1>"] if output.title else []
    for table in output.tables:
        if table.title:
            parts.append(f"<h2>{html_text(table.title)}</h2>")
        kind = "summaryplus-layers" if table is output.tables[0] else "summaryplus-totals"
        parts.append(_tabulate(table, "html").replace("<table>", f'<table class="{kind}">', 1))
    parts += [f"<p>{html_text(note)}</p>" for note in output.notes]
    # The report's style (light and dark), so every page looks like the report.
    body = (
        f'<div class="summaryplus sp-r">\n<style>{asset("report.css")}</style>\n'
        + "\n".join(parts)
        + "\n</div>"
    )
    return report_page(body, output.title or "summaryplus")


@cache
def asset(name: str) -> str:
    """A file of ``render/assets`` (the report's style and script), as text."""
    return resources.files("summaryplus.render").joinpath("assets", name).read_text("utf-8")


def rich_text(output: Output, width: int = 120) -> str:
    """The output drawn by rich (``pip install rich``), as plain text."""
    try:
        from rich import box
        from rich.console import Console
        from rich.table import Table as RichTable
        from rich.text import Text
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("the rich format needs rich: pip install rich") from error

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    if output.title:
        console.print(Text(terminal(output.title)))
    for table in output.tables:
        drawn = RichTable(
            title=terminal(table.title) or None, box=box.SIMPLE_HEAD, title_justify="left"
        )
        for header, align in zip(table.headers, _aligns(table), strict=True):
            drawn.add_column(header, justify="right" if align == "right" else "left")
        for row in table.rows:
            drawn.add_row(*(Text(terminal(cell)) for cell in row))  # text, never markup
        console.print(drawn)
    for note in output.notes:
        console.print(Text(terminal(note)))
    # rich pads every line to the table's width: trailing spaces are noise in a file.
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()).rstrip("\n")


def _aligns(table: Table) -> tuple[str, ...]:
    if table.colalign is not None:
        return table.colalign
    return tuple("left" if i == 0 else "right" for i in range(len(table.headers)))


def _tabulate(table: Table, tablefmt: str) -> str:
    from tabulate import tabulate  # optional at import: tables only

    return str(
        tabulate(
            # Cells escaped for the format (tabulate's own "html" escapes its cells).
            escape_rows(table.rows, tablefmt),
            headers=list(table.headers),
            tablefmt=tablefmt,
            colalign=_aligns(table),
            # Cells are already formatted text: tabulate must not re-parse "1,024".
            disable_numparse=True,
            # Passed per call, never by setting tabulate.PRESERVE_WHITESPACE.
            preserve_whitespace=True,
        )
    )


def _plain(output: Output) -> dict[str, Any]:
    return {
        "title": output.title,
        "tables": [
            {"title": t.title, "headers": list(t.headers), "rows": [list(r) for r in t.rows]}
            for t in output.tables
        ],
        "notes": list(output.notes),
    }
