"""The common GPU memory sizes a plan checks against: names and bytes, in one place.

Sizes are the nominal memory in GiB (2**30 bytes), as the cards are sold; the
driver and the CUDA context keep a few hundred MB of it, so a plan that fits
within ~1% of a size is tight.
"""

from __future__ import annotations

from dataclasses import dataclass

_GIB = 2**30


@dataclass(frozen=True)
class GPU:
    """A GPU memory size: ``name`` (e.g. ``"80 GB"``), cards that have it, bytes."""

    name: str
    cards: str
    bytes: int


GPUS = (
    GPU("24 GB", "RTX 4090, L4, A10G", 24 * _GIB),
    GPU("40 GB", "A100 40GB", 40 * _GIB),
    GPU("48 GB", "L40S, RTX 6000 Ada, A6000", 48 * _GIB),
    GPU("80 GB", "A100 80GB, H100", 80 * _GIB),
    GPU("141 GB", "H200", 141 * _GIB),
)
