"""A summary (a model's or an exported program's) in any format, totals and
notes included: what ``summaryplus --format`` writes. It is first an
``output.Output`` (the one output model, as checkpoints, comparisons and plans
are: ``render.checkpoint``, ``render.comparison``, ``render.plan``); the
formats with their own layout are ``text`` (torchinfo's table), ``html`` (the
interactive report) and ``json`` (schema ``summaryplus.summary/1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .output import check_format, csv_tables, render_output
from .report import summary_report
from .serialize import to_csv
from .table import summary_output

if TYPE_CHECKING:
    from ..records import SummaryLike

__all__ = ["render_summary"]


def render_summary(stats: SummaryLike, fmt: str = "text") -> str:
    """The summary in any format, totals included: ``text`` (the torchinfo
    table), ``json`` (``to_json``), ``csv`` (``to_csv``'s rows, a blank line,
    then the totals as ``Total,Value`` rows), ``html`` (the interactive report,
    a whole page), ``rich``, ``markdown``/``md`` or any tabulate format (the
    layer table, then the totals table). What ``summaryplus --format`` writes.

    Raises:
        ValueError: ``fmt`` is unknown (the message suggests the closest name).

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> text = render_summary(summary(nn.Linear(4, 2), verbose=0), "md")
        >>> "| Total params" in text
        True
    """
    fmt = check_format(fmt)
    if fmt == "text":
        return str(stats)
    if fmt == "html":  # a whole page: the interactive report, opened from a file
        return summary_report(stats, standalone=True)
    output = summary_output(stats, fmt)
    if fmt == "csv":
        return to_csv(stats).rstrip("\n") + "\n\n" + csv_tables(output.tables[1:])
    return render_output(output, fmt)
