"""summaryplus: PyTorch model summaries with numbers that are right.

>>> from summaryplus import summary
"""

from .api import TrainingFlops, clear_cached_forward_pass, summary, training_flops
from .compare import Comparison, compare
from .diff import SummaryDiff, diff
from .enums import ColumnSettings, Mode, RowSettings, Units, Verbosity
from .errors import InputConflictError, SummaryError
from .formatting import HEADER_TITLES, FormattingOptions
from .inference import InferenceMemory, inference_memory
from .latency import Latency, measure_latency
from .layer_info import LayerInfo
from .memory import TrainingMemory
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
from .queries import LayerGroup, LayerScore
from .render.plots import (  # matplotlib loads on first call
    plot_comparison,
    plot_memory,
    plot_summary,
)
from .render.serialize import SummaryRecord, load_summary
from .roofline import Bound, Roofline, roofline

__version__ = "0.1.0"

__all__ = [
    "HEADER_TITLES",
    "Bound",
    "BufferRow",
    "Change",
    "ColumnSettings",
    "Comparison",
    "FormattingOptions",
    "InferenceMemory",
    "InputConflictError",
    "Latency",
    "LayerGroup",
    "LayerInfo",
    "LayerScore",
    "Mode",
    "ModelStatistics",
    "ParamGroup",
    "ParameterMonitor",
    "ParameterRow",
    "Roofline",
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
    "diff",
    "group_params",
    "inference_memory",
    "load_summary",
    "measure_latency",
    "parameter_table",
    "plot_comparison",
    "plot_memory",
    "plot_summary",
    "roofline",
    "summary",
    "training_flops",
]
