"""One way to scale numbers for people: counts in k/M/G/T, bytes in kB/MB/GB/TB
(decimal, as model cards and GPU specs write them)."""

from __future__ import annotations

COUNT_UNITS = (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3))
BYTE_UNITS = (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3))


def unit_of(value: float, is_bytes: bool = False, smallest: float = 1e3) -> tuple[str, float]:
    """The largest unit (of at least ``smallest``) that ``value`` reaches:
    ``("M", 1e6)``, ``("MB", 1e6)``; ``("", 1.0)`` or ``("B", 1.0)`` below it.

    A value that would print as 1000 of a unit takes the next one (999,999 is
    1.00M, not 1000.00k).

    Example:
        >>> unit_of(2_500_000), unit_of(2_500_000, is_bytes=True), unit_of(999)
        (('M', 1000000.0), ('MB', 1000000.0), ('', 1.0))
    """
    for name, size in BYTE_UNITS if is_bytes else COUNT_UNITS:
        if size >= smallest and abs(value) >= size * 0.9995:
            return name, size
    return ("B" if is_bytes else ""), 1.0


def readable_bytes(num_bytes: float) -> str:
    """``"1.23 MB"``, ``"512 B"``: two decimals in the largest unit reached.

    Example:
        >>> readable_bytes(1_234_567), readable_bytes(512)
        ('1.23 MB', '512 B')
    """
    name, size = unit_of(num_bytes, is_bytes=True)
    if size == 1.0:
        return f"{num_bytes:,.0f} B"
    return f"{num_bytes / size:,.2f} {name}"
