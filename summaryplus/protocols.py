"""The two types every view is written against: ``LayerLike`` (a row) and
``SummaryLike`` (a summary), the declared fields that the live
``LayerInfo``/``ModelStatistics`` and the loaded ``LayerRecord``/``SummaryData``
inherit (``fields.py``: one declaration, so mypy checks every read)."""

from __future__ import annotations

from typing import TypeAlias

from .fields import RowFields, SummaryFields

#: A row: live (``LayerInfo``) or loaded (``LayerRecord``).
LayerLike: TypeAlias = RowFields
#: A summary: live (``ModelStatistics``) or loaded (``SummaryData``).
SummaryLike: TypeAlias = SummaryFields


def is_summary(value: object) -> bool:
    """Whether ``value`` is a summary, live (``ModelStatistics``) or loaded
    (``SummaryRecord``)."""
    return isinstance(value, SummaryFields)
