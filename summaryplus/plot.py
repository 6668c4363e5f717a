"""Pictures of a summary; the charts live in ``summaryplus.render.plots``.

This module keeps the import path ``summaryplus.plot`` working. matplotlib is
imported inside the drawing functions only: importing this module never loads it.
"""

from __future__ import annotations

from .render.plots._style import FORMATS
from .render.plots.comparison import COMPARISON_METRICS, plot_comparison
from .render.plots.layers import BY, COLUMN_QUANTITIES, plot_summary, plotted_quantities
from .render.plots.training_memory import plot_memory

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
