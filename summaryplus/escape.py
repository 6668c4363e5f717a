"""Text from a model, a checkpoint or a file made safe for each kind of output.

Names come from whoever wrote the model or the file: a class name, a
``ModuleDict`` key, a checkpoint's tensor names, an archive's symbolic sizes.
Every renderer passes what it shows through the one function of its output
kind, so no output carries a raw control character, HTML tag or spreadsheet
formula from a name:

- :func:`terminal` (text, logs, rich, every plain tabulate format): control
  characters (C0, DEL, C1) and the invisible Unicode format characters that
  reorder text (bidi overrides) shown as ``\\x1b``/``\\u202e``;
  :func:`terminal_block` keeps the newlines of a whole rendered table.
- :func:`html_text`: the above, then ``& < > " '`` as entities.
- :func:`markdown`: the above for HTML inside Markdown, plus backslash,
  ``|``, backtick and the ``(`` of ``](`` backslash-escaped (no cell break,
  code span or link; shapes such as ``[1, 16]`` read as before).
- :func:`csv_cell`: a string cell starting with ``= + - @``, a tab or a CR
  gets a leading ``'`` (OWASP's CSV-injection advice); numbers, strings
  that are plain numbers (``-3``) and the table's ``--`` stay as they are.
- :func:`cell_escaper`: the one of these a tabulate format needs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# C0 controls, DEL, C1 controls, and the format characters that reorder or
# hide text (bidi embeddings/overrides/isolates, zero-width, BOM).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_CONTROL_KEEP_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_MARKDOWN = re.compile(r"([\\|`]|(?<=\])\()")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number, or the "--" a table shows for no value: nothing a
# spreadsheet can run.
_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d+)?|\.\d+)([eE][+-]?\d+)?|-+")
# tabulate formats whose output is read as HTML or Markdown somewhere.
_HTML_FORMATS = frozenset({"unsafehtml", "mediawiki", "moinmoin", "jira", "textile", "youtrack"})
_MARKDOWN_FORMATS = frozenset({"github", "pipe"})
_SPREADSHEET_FORMATS = frozenset({"tsv"})


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """``text`` with every control and bidi character shown, never sent.

    Example:
        >>> print(terminal("name\\x1b]0;pwned\\x07"))
        name\\x1b]0;pwned\\x07
    """
    return _CONTROL.sub(_visible, text)


def terminal_block(text: str) -> str:
    """A whole rendered text (a table): :func:`terminal`, newlines kept."""
    return _CONTROL_KEEP_NEWLINE.sub(_visible, text)


def html_text(text: str) -> str:
    """``text`` for HTML (element content or a quoted attribute).

    Example:
        >>> html_text("<img src=x onerror=alert(1)>")
        '&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape(terminal(text), quote=True)


def markdown(text: str) -> str:
    """``text`` for a Markdown table cell: no HTML, no cell break, no link.

    Example:
        >>> markdown("<b>x</b>|[y](http://z) [1, 2]")
        '&lt;b&gt;x&lt;/b&gt;\\\\|[y]\\\\(http://z) [1, 2]'
    """
    return _MARKDOWN.sub(r"\\\1", html.escape(terminal(text), quote=False))


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV (or TSV) cell a spreadsheet will open.

    Example:
        >>> csv_cell("=HYPERLINK(1)"), csv_cell("-3"), csv_cell(-3), csv_cell("@x")
        ("'=HYPERLINK(1)", '-3', -3, "'@x")
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return terminal(value)


def cell_escaper(tablefmt: str) -> Callable[[str], str]:
    """The escaping a tabulate format's cells need (``html`` escapes its own)."""
    if tablefmt in _HTML_FORMATS:
        return html_text
    if tablefmt in _MARKDOWN_FORMATS:
        return markdown
    if tablefmt in _SPREADSHEET_FORMATS:
        return lambda text: str(csv_cell(text))
    return terminal


def escape_rows(rows: Iterable[Sequence[Any]], tablefmt: str) -> list[list[Any]]:
    """Every string cell of ``rows`` through ``cell_escaper(tablefmt)``."""
    escape = cell_escaper(tablefmt)
    return [[escape(cell) if isinstance(cell, str) else cell for cell in row] for row in rows]
