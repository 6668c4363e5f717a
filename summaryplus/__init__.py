"""summaryplus: PyTorch model summaries with numbers that are right.

>>> from summaryplus import summary
"""

from .api import TrainingFlops, clear_cached_forward_pass, summary, training_flops
from .enums import ColumnSettings, Mode, RowSettings, Units, Verbosity
from .errors import SummaryError
from .formatting import HEADER_TITLES, FormattingOptions
from .layer_info import LayerInfo
from .model_statistics import ModelStatistics

__version__ = "0.1.0"

__all__ = [
    "HEADER_TITLES",
    "ColumnSettings",
    "FormattingOptions",
    "LayerInfo",
    "Mode",
    "ModelStatistics",
    "RowSettings",
    "SummaryError",
    "TrainingFlops",
    "Units",
    "Verbosity",
    "__version__",
    "clear_cached_forward_pass",
    "summary",
    "training_flops",
]
