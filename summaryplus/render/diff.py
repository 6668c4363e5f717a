"""The text view of a ``SummaryDiff``: a headline, then added, removed, changed, totals.

tabulate is imported only when something is rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..escape import terminal_block

if TYPE_CHECKING:
    from ..diff import LayerEntry, SummaryDiff


_TOTAL_LABELS = {
    "total_params": "Total params",
    "trainable_params": "Trainable params",
    "non_trainable_params": "Non-trainable params",
    "total_param_bytes": "Params size (bytes)",
    "total_buffers": "Buffer elements",
    "total_buffer_bytes": "Buffers size (bytes)",
    "total_mult_adds": "Mult-adds",
    "total_flops": "FLOPs",
    "total_output_bytes": "Forward/backward pass size (bytes)",
    "activation_bytes": "Saved activations (bytes)",
}


def render_diff(result: SummaryDiff, max_rows: int | None) -> str:
    from tabulate import tabulate

    def table(rows: list[list[str]], headers: list[str], colalign: tuple[str, ...]) -> str:
        text = str(
            tabulate(
                _capped(rows, max_rows),
                headers=headers,
                tablefmt="simple",
                colalign=colalign,
                disable_numparse=True,
            )
        )
        return "\n".join("  " + line for line in text.splitlines())

    lines = [diff_headline(result)]
    if not result.compared_forward:
        lines.append("(no forward pass on both sides: output shapes and MACs not compared)")
    for heading, entries, sign in (
        ("Added", result.added, "+"),
        ("Removed", result.removed, "-"),
    ):
        if not entries:
            continue
        folded = _folded(entries)
        lines += ["", f"{heading}:"]
        rows = [
            [
                f"{sign} {_layer_name(entry.module_path, entry.call)}",
                entry.class_name,
                f"{entry.subtree_params:,}",
                _shape(entry.output_size),
                f"{inside} layer(s)" if inside else "",
            ]
            for entry, inside in folded
        ]
        headers = ["Layer", "Class", "Params", "Output", "Holds"]
        lines.append(table(rows, headers, ("left", "left", "right", "left", "left")))
    if result.changed:
        lines += ["", "Changed:"]
        rows = []
        for change in result.changed:
            name = _layer_name(change.module_path, change.call)
            for position, item in enumerate(change.changes):
                rows.append(
                    [
                        f"~ {name}" if position == 0 else "",
                        change.class_name if position == 0 else "",
                        item.field,
                        _value(item.before),
                        _value(item.after),
                    ]
                )
        headers = ["Layer", "Class", "Field", "Before", "After"]
        lines.append(table(rows, headers, ("left", "left", "left", "right", "right")))
    lines += ["", "Totals:"]
    lines.append(table(total_rows(result), list(TOTAL_HEADERS), ("left", *("right",) * 3)))
    return terminal_block("\n".join(lines))  # names, shown not sent


TOTAL_HEADERS = ("Total", "Before", "After", "Change")


def diff_headline(result: SummaryDiff) -> str:
    """``"Model: 1 layer(s) added, 0 removed, 2 changed"``."""
    before = result.before_model or "(empty)"
    after = result.after_model or "(empty)"
    title = before if before == after else f"{before} -> {after}"
    return (
        f"{title}: {len(result.added)} layer(s) added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed"
    )


def total_rows(result: SummaryDiff) -> list[list[str]]:
    """The totals table's cells: label, before, after, change."""
    return [
        [
            _TOTAL_LABELS.get(item.name, item.name),
            f"{item.before:,}",
            f"{item.after:,}",
            f"{item.delta:+,}" if item.delta else "0",
        ]
        for item in result.totals
    ]


def _folded(entries: tuple[LayerEntry, ...]) -> list[tuple[LayerEntry, int]]:
    """The entries not nested in another entry, each with how many it holds."""
    paths = {entry.module_path for entry in entries}
    top: list[tuple[LayerEntry, int]] = []
    index: dict[str, int] = {}
    for entry in entries:
        owner = _topmost_listed(entry.module_path, paths)
        if owner is None:
            index.setdefault(entry.module_path, len(top))
            top.append((entry, 0))
        elif owner in index:  # always: an owner comes before what it holds
            held, count = top[index[owner]]
            top[index[owner]] = (held, count + 1)
    return top


def _topmost_listed(path: str, paths: set[str]) -> str | None:
    """The shortest proper ancestor path of ``path`` that is in ``paths``."""
    if path == "":
        return None
    parts = path.split(".")
    for cut in range(len(parts)):
        candidate = ".".join(parts[:cut])
        if candidate in paths:
            return candidate
    return None


def _capped(rows: list[list[str]], max_rows: int | None) -> list[list[str]]:
    if max_rows is None or len(rows) <= max_rows:
        return rows
    hidden = len(rows) - max_rows
    filler = [""] * (len(rows[0]) - 1)
    return [*rows[:max_rows], [f"... {hidden} more row(s): see to_dict()", *filler]]


def _layer_name(path: str, call: int) -> str:
    name = path or "(model)"
    return name if call == 0 else f"{name} (call {call + 1})"


def _shape(shape: tuple[int | str, ...]) -> str:
    return "--" if not shape else str(list(shape))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple):
        return _shape(value)
    return str(value)
