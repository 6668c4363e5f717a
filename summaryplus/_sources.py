"""What ``compare()`` and ``diff()`` accept for one model, and how it becomes a summary."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeAlias

from torch import nn

from .api import summary
from .loaded import SummaryRecord, load_summary
from .model_statistics import ModelStatistics

if TYPE_CHECKING:
    from .inputs import InputData, InputSize

#: A summary already taken: live, or reloaded from JSON.
Summary: TypeAlias = ModelStatistics | SummaryRecord
#: What ``compare`` and ``diff`` accept for one model.
SummarySource: TypeAlias = nn.Module | ModelStatistics | SummaryRecord | str | os.PathLike[str]

ACCEPTED = "an nn.Module, a ModelStatistics, a SummaryRecord or a path to a JSON summary"


def summarize_source(
    value: object,
    argument: str,
    input_size: InputSize | None,
    input_data: InputData | None,
    summary_kwargs: dict[str, Any],
) -> Summary:
    """The summary of one model argument: run, reused, or loaded from JSON."""
    if isinstance(value, (ModelStatistics, SummaryRecord)):
        return value
    if isinstance(value, nn.Module):

        kwargs = {"verbose": 0, **summary_kwargs}
        return summary(value, input_size=input_size, input_data=input_data, **kwargs)
    if isinstance(value, (str, os.PathLike)):
        return load_summary(value)
    raise TypeError(f"{argument} must be {ACCEPTED}, got {type(value).__name__}")
