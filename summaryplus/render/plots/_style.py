"""How the charts look: the palette, the quantities drawn and the bar record."""

from __future__ import annotations

import os
from dataclasses import dataclass

#: File extensions ``path=`` accepts; the extension picks the format.
FORMATS: tuple[str, ...] = (".png", ".svg", ".pdf")

PathLike = str | os.PathLike[str]

# Okabe-Ito: a qualitative palette that stays distinct for colour-blind readers
# and in grey-scale print.
_BLUE, _ORANGE, _GREEN, _PINK = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
_SKY, _VERMILLION, _YELLOW, _GREY = "#56B4E9", "#D55E00", "#F0E442", "#999999"
_PALETTE = (_BLUE, _ORANGE, _GREEN, _PINK, _SKY, _VERMILLION, _YELLOW, _GREY)
_INK = "#333333"

_LOG_SPAN = 100.0  # values spanning more than this factor get a log axis
_DPI = 150


@dataclass(frozen=True)
class _Series:
    """How one quantity is drawn: its name, unit and stacked segments."""

    axis_label: str  # "Parameters"
    noun: str  # "params", used in sentences
    is_bytes: bool  # unit is bytes (kB/MB/GB) rather than a count (k/M/G)
    segments: tuple[str, ...]  # legend names of the stacked parts
    colors: tuple[str, ...]


_SERIES = {
    "params": _Series("Parameters", "params", False, ("trainable", "frozen"), (_BLUE, _SKY)),
    "trainable_params": _Series(
        "Trainable parameters", "trainable params", False, ("trainable",), (_BLUE,)
    ),
    "macs": _Series("MACs", "MACs", False, ("MACs",), (_ORANGE,)),
    "flops": _Series("FLOPs", "FLOPs", False, ("FLOPs",), (_ORANGE,)),
    "memory": _Series(
        "Memory (bytes)",
        "bytes",
        True,
        ("parameters", "activations saved for backward"),
        (_BLUE, _GREEN),
    ),
    "training_memory": _Series(
        "Training-step peak (bytes)", "training memory", True, ("estimated peak",), (_GREEN,)
    ),
}


@dataclass(frozen=True)
class _Bar:
    """One bar: its label and the sizes of its stacked segments."""

    label: str
    segments: tuple[int, ...]
    other: bool = False

    @property
    def value(self) -> int:
        return sum(self.segments)
