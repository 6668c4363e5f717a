"""``summaryplus.torchinfo``: the module path torchinfo users import from."""

from .api import clear_cached_forward_pass, summary
from .enums import ColumnSettings, Mode, RowSettings, Units, Verbosity
from .formatting import FormattingOptions
from .layer_info import LayerInfo
from .model_statistics import ModelStatistics

__all__ = [
    "ColumnSettings",
    "FormattingOptions",
    "LayerInfo",
    "Mode",
    "ModelStatistics",
    "RowSettings",
    "Units",
    "Verbosity",
    "clear_cached_forward_pass",
    "summary",
]
