"""What a report's rows should show, and the rows a report's HTML holds."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from summaryplus.enums import ColumnSettings
from summaryplus.formatting import row_values


def expected_rows(stats: Any, columns: list[ColumnSettings]) -> list[list[str]]:
    """Each row's name and cells as the report must show them: the text
    table's cell functions, each row showing its whole subtree."""
    options = stats.formatting
    return [
        [
            row.get_layer_name(options.show_var_name, options.show_depth),
            *(
                row_values(options, row, True, stats.total_params, columns)[column].strip()
                for column in columns
            ),
        ]
        for row in stats.summary_list
    ]


def headers(stats: Any, columns: list[ColumnSettings]) -> list[str]:
    options = stats.formatting
    return [options.layer_title(), *(options.column_title(column) for column in columns)]


class ReportRows(HTMLParser):
    """Rows of every ``summaryplus-layers`` table: (classes, cells, badges)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[set[str], list[str], list[str]]] = []
        self.headers: list[list[str]] = []
        self._in_layers = self._in_badge = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._in_layers = found.get("class") == "summaryplus-layers"
            if self._in_layers:
                self.headers.append([])
        elif not self._in_layers:
            return
        elif tag == "tr" and self.headers[-1]:
            self.rows.append((set((found.get("class") or "").split()), [], []))
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "b":
            self._in_badge = True
            self.rows[-1][2].append("")

    def handle_endtag(self, tag: str) -> None:
        if not self._in_layers:
            return
        if tag == "table":
            self._in_layers = False
        elif tag == "b":
            self._in_badge = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).replace("\u00a0", " ").strip()
            (self.rows[-1][1] if tag == "td" else self.headers[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_badge:
            self.rows[-1][2][-1] += data
        elif self._cell is not None:
            self._cell.append(data)


def parse_report(page: str) -> ReportRows:
    parser = ReportRows()
    parser.feed(page)
    return parser
