"""summaryplus: PyTorch model summaries with numbers that are right.

>>> from summaryplus import summary
"""

from .api import clear_cached_forward_pass, summary
from .enums import ColumnSettings, Mode, RowSettings, Units, Verbosity
from .errors import SummaryError
from .formatting import HEADER_TITLES, FormattingOptions
from .layer_info import LayerInfo
from .model_statistics import ModelStatistics

__version__ = "0.1.0"

__all__ = [
    "ColumnSettings",
    "FormattingOptions",
    "HEADER_TITLES",
    "LayerInfo",
    "Mode",
    "ModelStatistics",
    "RowSettings",
    "SummaryError",
    "Units",
    "Verbosity",
    "__version__",
    "clear_cached_forward_pass",
    "summary",
]
