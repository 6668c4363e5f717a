"""summaryplus: PyTorch model summaries with numbers that are right.

>>> from summaryplus import summary
"""

from ._version import __version__
from .api import TrainingFlops, clear_cached_forward_pass, summary, training_flops
from .compare import Comparison, compare
from .diff import SummaryDiff, diff
from .enums import ColumnSettings, Mode, RowSettings, Units, Verbosity
from .errors import InputConflictError, SummaryError
from .formatting import HEADER_TITLES, FormattingOptions
from .formulas.custom import custom_formulas, register_formula, unregister_formula
from .inference import inference_memory
from .layer_info import LayerInfo
from .loaded import SummaryRecord, load_summary
from .memory import InferenceMemory, TrainingMemory
from .model_statistics import ModelStatistics
from .monitor import Change, ParameterMonitor
from .params import (
    BufferRow,
    ParameterRow,
    ParamGroup,
    buffer_table,
    count_parameters,
    group_params,
    parameter_table,
)
from .plot import plot_comparison, plot_memory, plot_summary  # matplotlib loads on first call
from .queries import LayerGroup, LayerScore

__all__ = [
    "HEADER_TITLES",
    "BufferRow",
    "Change",
    "ColumnSettings",
    "Comparison",
    "FormattingOptions",
    "InferenceMemory",
    "InputConflictError",
    "LayerGroup",
    "LayerInfo",
    "LayerScore",
    "Mode",
    "ModelStatistics",
    "ParamGroup",
    "ParameterMonitor",
    "ParameterRow",
    "RowSettings",
    "SummaryDiff",
    "SummaryError",
    "SummaryRecord",
    "TrainingFlops",
    "TrainingMemory",
    "Units",
    "Verbosity",
    "__version__",
    "buffer_table",
    "clear_cached_forward_pass",
    "compare",
    "count_parameters",
    "custom_formulas",
    "diff",
    "group_params",
    "inference_memory",
    "load_summary",
    "parameter_table",
    "plot_comparison",
    "plot_memory",
    "plot_summary",
    "register_formula",
    "summary",
    "training_flops",
    "unregister_formula",
]
