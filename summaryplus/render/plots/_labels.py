"""Text on the charts: tick labels elided in the middle, values with units and shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...units import unit_of

if TYPE_CHECKING:
    from ...records import SummaryLike

_LABEL_CHARS = 36  # longest tick label before the middle is elided


def _shorten_unique(names: list[str], width: int) -> list[str]:
    """Each name shortened to ``width`` characters; names that would collide get more."""
    short = [_middle_ellipsis(name, width) for name in names]
    for _ in range(64):
        seen: dict[str, int] = {}
        for label in short:
            seen[label] = seen.get(label, 0) + 1
        clashes = [index for index, label in enumerate(short) if seen[label] > 1]
        if not clashes:
            break
        width += 4
        for index in clashes:
            short[index] = _middle_ellipsis(names[index], width)
    return short


def _middle_ellipsis(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters, the middle replaced by ``…``.

    Dotted paths keep their first component and as many trailing components as
    fit (``encoder…attention.output``): the start says where, the end says
    what. Names without a fitting split lose characters from the middle.
    """
    width = max(width, 5)
    if len(name) <= width:
        return name
    parts = name.split(".")
    if len(parts) > 2:
        head = parts[0]
        tail: list[str] = []
        for part in reversed(parts[1:]):
            candidate = head + "…" + ".".join([part, *tail])
            if len(candidate) > width:
                break
            tail.insert(0, part)
        if tail:
            return head + "…" + ".".join(tail)
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def _unit(value: float, is_bytes: bool) -> tuple[str, float]:
    """The unit name and size to show ``value`` with: ``("M", 1e6)``, ``("MB", 1e6)``."""
    return unit_of(value, is_bytes)


def _readable(value: float, is_bytes: bool, *, tick: bool = False) -> str:
    """``1.18M``, ``256k``, ``42``; ``4.70 MB``, ``512 B``: three significant digits.

    Values keep their trailing zeros (``11.0 GB``); ``tick`` labels drop them
    (``1M``, ``10 MB``).
    """
    name, size = _unit(value, is_bytes)
    scaled = value / size
    if size == 1.0 or scaled >= 999.5:  # integers, or past the largest unit
        text = f"{scaled:,.0f}"
    elif tick:
        text = f"{scaled:.3g}"
    else:  # "7.40", not "7.4"; "256", not the "256." of the # flag
        text = f"{scaled:#.3g}".rstrip(".")
    return f"{text} {name}" if is_bytes else f"{text}{name}"


def _value_label(value: int, total: int, is_bytes: bool) -> str:
    share = value / total if total else 0.0
    if share >= 0.095:
        percent = f"{share:.0%}"
    elif share >= 0.001:
        percent = f"{share:.1%}"
    else:
        percent = "<0.1%"
    return f"{_readable(value, is_bytes)} ({percent})"


def _model_name(stats: SummaryLike) -> str:
    return stats.summary_list[0].class_name if stats.summary_list else "Model"
