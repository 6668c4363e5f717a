"""One way to scale numbers for people: counts in k/M/G/T, bytes in kB/MB/GB/TB
(decimal, as model cards and GPU specs write them)."""

from __future__ import annotations

from .enums import Units

# The fixed scales a user may ask for (``macs_units``/``params_units``).
_UNIT_SIZES = {
    Units.TERABYTES: 1e12,
    Units.GIGABYTES: 1e9,
    Units.MEGABYTES: 1e6,
    Units.KILOBYTES: 1e3,
    Units.NONE: 1.0,
}

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


def readable_count(num: float) -> str:
    """``"1.23M"``, ``"512"``: a count with two decimals in the largest unit reached
    (exact below a thousand).

    Example:
        >>> readable_count(1_234_567), readable_count(512), readable_count(2.5e12)
        ('1.23M', '512', '2.50T')
    """
    name, size = unit_of(num)
    if size == 1.0:
        return f"{num:,.0f}" if float(num).is_integer() else f"{num:,.2f}"
    return f"{num / size:,.2f}{name}"


def scaled_count(num: int, units: Units = Units.AUTO) -> tuple[Units, float]:
    """``num`` in ``units``; ``Units.AUTO`` picks millions at least (torchinfo's
    footer rule), then billions or trillions, on the same scale as ``unit_of``.

    Example:
        >>> scaled_count(2_500_000_000)
        (<Units.GIGABYTES: 'G'>, 2.5)
    """
    units = Units(units)
    if units is Units.AUTO:
        name, size = unit_of(num, smallest=1e6)
        return (Units(name), num / size) if name else (Units.MEGABYTES, num / 1e6)
    return units, num / _UNIT_SIZES[units]


def footer_number(num: int, units: Units) -> str:
    """``" (M): 1.23"`` / ``": 1,234"``: the tail of a torchinfo footer line.

    Example:
        >>> footer_number(2_500_000, Units.AUTO), footer_number(1234, Units.NONE)
        (' (M): 2.50', ': 1,234')
    """
    units_used, converted = scaled_count(num, units)
    label = "" if units_used is Units.NONE else f" ({units_used.value})"
    if float(converted).is_integer():
        return f"{label}: {int(converted):,d}"
    return f"{label}: {converted:,.2f}"


def megabytes(num_bytes: int) -> float:
    """``num_bytes`` in decimal megabytes (the footer's size lines)."""
    return num_bytes / 1e6


def intensity_text(value: float) -> str:
    """FLOPs per byte with three significant figures (``"--"`` for none).

    Example:
        >>> intensity_text(0.6667), intensity_text(204.8), intensity_text(0)
        ('0.667', '205', '--')
    """
    if value <= 0:
        return "--"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
