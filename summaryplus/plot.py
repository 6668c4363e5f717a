"""Pictures of a summary; the charts live in ``summaryplus.render.plots``.

This module keeps the import path ``summaryplus.plot`` working. matplotlib is
imported inside the drawing functions only: importing this module never loads it.
"""

from __future__ import annotations

from .render.plots import (
    BY,
    COLUMN_QUANTITIES,
    COMPARISON_METRICS,
    FORMATS,
    plot_comparison,
    plot_memory,
    plot_summary,
    plotted_quantities,
)
from .render.plots._labels import _middle_ellipsis  # noqa: F401 (imported by tests)

__all__ = [
    "BY",
    "COLUMN_QUANTITIES",
    "COMPARISON_METRICS",
    "FORMATS",
    "plot_comparison",
    "plot_memory",
    "plot_summary",
    "plotted_quantities",
]
