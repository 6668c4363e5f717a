"""Shapes as the table's shape columns show them."""

from __future__ import annotations

from collections.abc import Sequence


def shapes_text(shapes: Sequence[Sequence[int | str]], width: int) -> str:
    """Several shapes in torchinfo's nested-list style, ``[[1, 10, 24, 24], [1,
    20, 8, 8]]``, as many as fit in ``width`` - 1 characters, then ``...``
    (the first always shown; alone, as torchinfo shows it, where even
    ``[first, ...]`` does not fit)."""
    # A list prints as itself (a sparse tensor's shape adds its layout and
    # non-zeros); records keep tuples, printed as lists.
    parts = [str(shape) if isinstance(shape, list) else str(list(shape)) for shape in shapes]
    whole = "[" + ", ".join(parts) + "]"
    if len(whole) < width:
        return whole
    if len("[" + parts[0] + ", ...]") >= width:
        return parts[0]  # a narrow column: the first shape, as torchinfo shows it
    shown = 1
    while shown < len(parts) and len("[" + ", ".join(parts[: shown + 1]) + ", ...]") < width:
        shown += 1
    return "[" + ", ".join(parts[:shown]) + ", ...]"
