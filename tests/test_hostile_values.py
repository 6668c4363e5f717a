"""Hostile values: saved summaries checked field by field on load, and names
that would inject into a terminal, a spreadsheet, Markdown or HTML shown as text
by every renderer (``summaryplus/render/escape.py``).

Security model: docs/security.md.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from summaryplus import compare, diff, load_summary, summary
from summaryplus.escape import csv_cell, html_text, markdown, terminal

# ------------------------------------------------------------------ saved summaries


@pytest.fixture(scope="module")
def saved() -> dict[str, Any]:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    data: dict[str, Any] = json.loads(summary(model, input_size=(1, 4), verbose=0).to_json())
    return data


def with_value(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(data))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("table", "col_width"), 10**9, "table.col_width"),
        (("table", "col_width"), 0, "table.col_width"),
        (("table", "col_width"), "25", "table.col_width"),
        (("table", "depth"), "x", "table.depth"),
        (("table", "depth"), -1, "table.depth"),
        (("table", "depth"), 2.5, "table.depth"),
        (("table", "col_names"), "output_size", "table.col_names"),
        (("layers", 0, "depth"), "x", "layers[0].depth"),
        (("layers", 1, "depth"), 10**9, "layers[1].depth"),
        (("layers", 1, "num_params"), -5, "layers[1].num_params"),
        (("layers", 1, "num_params"), "12", "layers[1].num_params"),
        (("layers", 1, "num_params"), True, "layers[1].num_params"),
        (("layers", 1, "class_name"), 7, "layers[1].class_name"),
        (("layers", 1, "executed"), "yes", "layers[1].executed"),
        (("layers", 1, "output_size"), {"a": 1}, "layers[1].output_size"),
        (("layers", 1, "parent"), 1, "layers[1].parent"),  # itself: a cycle
        (("layers", 1, "parent"), 3, "layers[1].parent"),  # a later row
        (("layers", 2, "index"), 7, "layers[2].index"),
        (("layers", 1, "groups"), "1", "layers[1].groups"),
        (("totals", "total_params"), 1.5, "totals.total_params"),
        (("totals", "uncounted_ops"), {"aten::x": "many"}, "totals.uncounted_ops"),
        (("totals", "macs_complete"), 1, "totals.macs_complete"),
        (("model",), ["x"], "model"),
        (("layers",), {"0": {}}, "layers"),
    ],
)
def test_load_summary_checks_every_field(
    saved: dict[str, Any], path: tuple[Any, ...], value: Any, named: str
) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_summary(with_value(saved, path, value))


def test_a_saved_summary_within_its_limits_loads(saved: dict[str, Any]) -> None:
    loaded = load_summary(with_value(saved, ("table", "col_width"), 1000))
    assert loaded.formatting.col_width == 1000
    assert load_summary(saved).to_dict() == saved


def test_a_nested_saved_summary_file_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"[" * 1_000_000 + b"]" * 1_000_000)
    with pytest.raises(ValueError, match="saved summary nests JSON deeper"):
        load_summary(path)


# ------------------------------------------------------------------ output injection
HOSTILE = "\x1b]0;pwned\x07<img src=x onerror=alert(1)>|[a](http://x)"


def hostile_model() -> nn.Module:
    """Names a model's author controls: a class name and a ModuleDict key."""
    cls = type(HOSTILE, (nn.Module,), {"forward": lambda self, x: self.inner(x)})
    outer = cls()
    outer.inner = nn.ModuleDict({"=HYPERLINK(\"http://x\")": nn.Linear(4, 2)})
    outer.forward = lambda x: outer.inner["=HYPERLINK(\"http://x\")"](x)  # type: ignore[method-assign]
    return outer


@pytest.fixture(scope="module")
def stats() -> Any:
    return summary(hostile_model(), input_size=(1, 4), verbose=0,
                   row_settings=("depth", "var_names"))


def assert_plain(text: str) -> None:
    """No raw control character (plain text: a tag in it is only text; tabs are
    a TSV's own separators, a name's tab is escaped)."""
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text), (
        repr(text)
    )


def assert_markup(text: str) -> None:
    """HTML or Markdown: no control character and no tag from a name."""
    assert_plain(text)
    assert "<img" not in text and "<script>alert" not in text


def test_text_outputs_show_control_characters(stats: Any, caplog: pytest.LogCaptureFixture) -> None:
    text = str(stats)
    assert_plain(text)
    assert "\\x1b]0;pwned\\x07" in text
    for tablefmt in ("simple", "grid", "plain", "rst", "tsv", "latex"):
        assert_plain(stats.to_table(tablefmt))
    for tablefmt in ("github", "pipe", "html", "unsafehtml", "mediawiki"):
        assert_markup(stats.to_table(tablefmt))
    with caplog.at_level(logging.INFO, logger="summaryplus.test"):
        stats.log(logging.getLogger("summaryplus.test"))
    assert_plain("\n".join(record.getMessage() for record in caplog.records))
    other = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
    assert_plain(str(compare({HOSTILE: stats, "plain": other})))
    assert_markup(compare({HOSTILE: stats, "plain": other})._repr_html_())
    assert_plain(str(diff(other, stats)))
    assert_markup(diff(other, stats)._repr_html_())


def test_markdown_and_html_outputs_escape_names(stats: Any) -> None:
    for text in (stats._repr_markdown_(), stats.to_table("github"), stats.to_html(),
                 stats._repr_html_(), stats.to_html(standalone=True)):
        assert_markup(text)
    # A name cannot break a Markdown table's cells or make a link.
    row = next(line for line in stats._repr_markdown_().splitlines() if "pwned" in line)
    assert "\\|" in row and "](http" not in row


def test_rich_output_shows_control_characters(stats: Any) -> None:
    pytest.importorskip("rich")
    from rich.console import Console

    console = Console(file=io.StringIO(), width=300, color_system=None)
    console.print(stats)
    output = console.file.getvalue()
    assert_plain(output)
    assert output.count("[a](http://x)") >= 2  # the title too: text, never rich markup


def test_csv_cells_cannot_be_formulas(stats: Any) -> None:
    rows = list(csv.DictReader(io.StringIO(stats.to_csv())))
    paths = [row["module_path"] for row in rows]
    assert "'inner.=HYPERLINK(\"http://x\")" in paths or any(p.startswith("inner") for p in paths)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()
        assert_plain(",".join(row.values()))
    var_names = [row["var_name"] for row in rows]
    assert "'=HYPERLINK(\"http://x\")" in var_names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\\x09x"),
        ("\rx", "'\\x0dx"),
        ("-3", "-3"),  # a number stays a number
        ("-1.5e3", "-1.5e3"),
        ("--", "--"),
        (-3, -3),
        (2.5, 2.5),
        ("Linear", "Linear"),
    ],
)
def test_csv_cell(value: Any, expected: Any) -> None:
    assert csv_cell(value) == expected


def test_one_escape_per_output_kind() -> None:
    assert terminal("a\x1b[31mb\u202ec\n") == "a\\x1b[31mb\\u202ec\\x0a"
    assert html_text("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    assert markdown("a|b`c<d>[e](f)") == "a\\|b\\`c&lt;d&gt;[e]\\(f)"


def test_checkpoint_names_are_escaped(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from summaryplus.checkpoints import summarize_checkpoint
    from summaryplus.render.checkpoint import render_checkpoint

    name = "=cmd|x.\x1b[2J<script>alert(1)</script>"
    save_file({name: torch.zeros(2)}, str(tmp_path / "m.safetensors"))
    ckpt = summarize_checkpoint(tmp_path / "m.safetensors")
    for fmt in ("text", "simple", "tsv"):
        assert_plain(render_checkpoint(ckpt, 3, fmt))
    for fmt in ("github", "html"):
        assert_markup(render_checkpoint(ckpt, 3, fmt))
    rows = [row for row in csv.reader(io.StringIO(render_checkpoint(ckpt, 3, "csv"))) if row]
    assert any(row[0].startswith("'=cmd") for row in rows)
    for row in rows:
        assert not row[0].startswith(("=", "+", "@")), row


def test_cli_errors_show_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from summaryplus.cli import main

    folder = tmp_path / "ckpt\x1b]0;x\x07"
    folder.mkdir()
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"w": "../\x1b[2Jx.safetensors"}})
    )
    assert main([str(folder)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b" in err
