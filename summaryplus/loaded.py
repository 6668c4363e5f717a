"""``SummaryRecord``: a summary as plain data with every view, what
``load_summary`` and ``to_record()`` return.

The data is ``records.SummaryData`` (a low layer, read by the renderers); this
module sits above the renderers and adds the views (``views.SummaryViews``),
so the data never imports what shows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .formatting import render_text
from .records import SummaryData, refuse_writes
from .render.serialize import PathLike, load_data, summary_data
from .views import SummaryViews

if TYPE_CHECKING:
    from .protocols import SummaryLike


@dataclass(frozen=True)
class SummaryRecord(SummaryData, SummaryViews):
    """A summary as plain data: what ``to_dict`` writes and ``load_summary`` returns.

    Every view of a live summary works on it too (``largest``, ``group_by``,
    ``to_table``, ``to_html``, ``str()``...), with the default columns. See
    ``records.SummaryData`` for the fields.
    """

    def __str__(self) -> str:
        return render_text(self)


refuse_writes(SummaryRecord, "a summary record (loaded, or to_record()) is read-only")


def viewable(data: SummaryData) -> SummaryRecord:
    """``data`` with the views (the same rows and totals, not copied)."""
    if isinstance(data, SummaryRecord):
        return data
    return SummaryRecord(**{field.name: getattr(data, field.name)
                            for field in dataclasses.fields(SummaryData)})


def summary_record(stats: SummaryLike | SummaryData) -> SummaryRecord:
    """Copies the numbers of a summary into a ``SummaryRecord``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.loaded import summary_record
        >>> record = summary_record(summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0))
        >>> record.total_params, record.layers[0].macs
        (10, 8)
    """
    return viewable(summary_data(stats))


def load_summary(source: PathLike | Mapping[str, Any]) -> SummaryRecord:
    """Reads a summary saved by ``to_json`` (a path) or made by ``to_dict`` (a dict).

    Args:
        source: a JSON file path, or the dict itself.

    Returns:
        A ``SummaryRecord`` with the same layers and totals; its ``to_dict()``
        equals the dict that was saved.

    Raises:
        TypeError: ``source`` is neither a path nor a mapping.
        ValueError: the schema is not one this version reads, or fields are missing.

    Example:
        >>> from torch import nn
        >>> from summaryplus import load_summary, summary
        >>> stats = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
        >>> loaded = load_summary(stats.to_dict())
        >>> loaded.total_mult_adds == stats.total_mult_adds, loaded.to_dict() == stats.to_dict()
        (True, True)
    """
    return viewable(load_data(source))


if TYPE_CHECKING:
    # mypy proves that loaded summaries are what the views take.
    def _loaded_summary(record: SummaryRecord) -> SummaryLike:
        return record
