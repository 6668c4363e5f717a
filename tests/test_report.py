"""The interactive HTML report, read as HTML (the browser tests drive it:
tests/test_report_browser.py)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from report_helpers import expected_rows, headers, parse_report
from torch import nn

from summaryplus import compare, diff, load_summary, summary
from summaryplus.cli import main
from summaryplus.enums import ColumnSettings
from summaryplus.examples import SmallCNN
from summaryplus.render.html import to_html as plain_html
from summaryplus.render.report import summary_report
from summaryplus.render.report_views import diff_report
from summaryplus.render.table import table_data

REPORT_COLUMNS = [
    ColumnSettings.OUTPUT_SIZE,
    ColumnSettings.NUM_PARAMS,
    ColumnSettings.MULT_ADDS,
    ColumnSettings.MEMORY,
]


@pytest.fixture(scope="module")
def cnn() -> object:
    return summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0)


def test_report_holds_every_row_with_the_text_tables_numbers(cnn: object) -> None:
    page = parse_report(cnn.to_html())  # type: ignore[attr-defined]
    # The summary's columns, plus Memory so params, MACs and memory all have bars.
    assert page.headers == [headers(cnn, REPORT_COLUMNS)]
    shown = [cells for _, cells, _ in page.rows]
    assert shown == expected_rows(cnn, REPORT_COLUMNS)
    assert len(shown) == len(cnn.summary_list) == 19  # type: ignore[attr-defined]
    # Rows the text table prints whole (leaves and rows at its depth) read the same.
    text = table_data(cnn, columns=[c.value for c in REPORT_COLUMNS])  # type: ignore[arg-type]
    by_name = {cells[0]: cells[1:] for cells in shown}
    compared = 0
    for cells, layer in zip(text.rows, text.layers, strict=True):
        if layer.is_leaf_layer or layer.depth == 3:
            assert by_name[cells[0].lstrip("├─│└ ")] == cells[1:]
            compared += 1
    assert compared == 14  # 12 in the three blocks, the pooling and the head
    assert by_name["SmallCNN"] == ["[1, 10]", "94,762", "10,323,200", "379.05 kB"]
    assert by_name["Conv2d: 3-9"][1:3] == ["73,728", "4,718,592"]  # 3*3*64*128; *8*8


def test_report_columns_and_errors(cnn: object) -> None:
    page = parse_report(cnn.to_html(columns=["num_params", "flops"]))  # type: ignore[attr-defined]
    assert page.headers == [["Layer (type:depth-idx)", "Param #", "FLOPs"]]
    assert page.rows[0][1] == ["SmallCNN", "94,762", "20,646,400"]
    with pytest.raises(ValueError, match="columns"):
        cnn.to_html(columns=["params"])  # type: ignore[attr-defined]
    # Without a forward: no MACs or memory columns are added.
    bare = parse_report(summary(SmallCNN(), verbose=0).to_html())
    assert bare.headers == [["Layer (type:depth-idx)", "Param #"]]


def test_to_html_is_backwards_compatible(cnn: object, tmp_path: Path) -> None:
    page = cnn.to_html()  # type: ignore[attr-defined]
    assert page.startswith('<div class="summaryplus">') and page.endswith("</div>")
    assert '<table class="summaryplus-layers">' in page
    assert '<table class="summaryplus-totals">' in page
    assert "<!DOCTYPE" not in page and "http" not in page  # no network, ever
    assert cnn.to_html(interactive=False) == plain_html(cnn)  # type: ignore[attr-defined]
    written = cnn.to_html(tmp_path / "cnn.html")  # type: ignore[attr-defined]
    assert (tmp_path / "cnn.html").read_text(encoding="utf-8") == written
    assert written.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in written
    assert page in written and cnn.to_html(standalone=True) == written  # type: ignore[attr-defined]


def test_live_and_loaded_summaries_render_the_same(cnn: object) -> None:
    record = load_summary(json.loads(cnn.to_json()))  # type: ignore[attr-defined]
    assert record.to_html() == cnn.to_html()  # type: ignore[attr-defined]
    assert record._repr_html_() == cnn._repr_html_()  # type: ignore[attr-defined]


def test_badges_mark_frozen_shared_recursive_partial_and_uninitialized() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.block = nn.Linear(4, 4)
            self.head = nn.Linear(4, 10, bias=False)
            self.head.weight = self.embed.weight
            self.frozen = nn.Linear(4, 4)
            self.frozen.requires_grad_(False)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.block(self.block(self.embed(ids)))  # block runs twice: recursive
            return self.head(self.frozen(x))

    stats = summary(Tied(), input_data=torch.zeros(1, 3, dtype=torch.long), verbose=0)
    badges = {cells[0]: found for _, cells, found in parse_report(stats.to_html()).rows}
    assert badges["Linear: 1-2"] == []
    assert badges["Linear: 1-3"] == ["recursive"]
    assert badges["Linear: 1-4"] == ["frozen"]
    assert badges["Linear: 1-5"] == ["shared"]  # its weight is the embedding's
    assert badges["Tied"] == ["partly frozen"]
    # Partial MACs are a flag of the record (ops without a formula ran).
    record = stats.to_record()
    layers = tuple(
        dataclasses.replace(layer, macs_partial=layer.index in (0, 1)) for layer in record.layers
    )
    partial = dataclasses.replace(record, layers=layers)
    badges = {cells[0]: found for _, cells, found in parse_report(partial.to_html()).rows}
    assert badges["Embedding: 1-1"] == ["partial MACs"]
    lazy = summary(nn.Sequential(nn.LazyLinear(4), nn.Linear(4, 2)), verbose=0)
    badges = {cells[0]: found for _, cells, found in parse_report(lazy.to_html()).rows}
    assert badges["LazyLinear: 1-1"] == ["uninitialized"]


def test_bars_are_each_rows_share_of_the_model(cnn: object) -> None:
    page = cnn.to_html()  # type: ignore[attr-defined]
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    # The model holds all params, MACs and memory.
    assert first_row.count('style="--w:100.0%"') == 3
    conv = next(line for line in page.splitlines() if "Conv2d: 3-9" in line)
    # params 73,728 / 94,762; MACs 4,718,592 / 10,323,200
    assert re.findall(r"--w:([\d.]+)%", conv)[:2] == ["77.8", "45.7"]


def test_data_is_embedded_once_and_cannot_end_the_script() -> None:
    odd = type("Odd</script><script>alert(1)</script>", (nn.Linear,), {})
    stats = summary(nn.Sequential(odd(2, 2)), input_size=(1, 2), verbose=0)
    page = stats.to_html()
    assert "<script>alert" not in page and page.count("</script>") == 2
    raw = re.search(r'<script type="application/json" class="sp-data">(.*?)</script>', page)
    assert raw is not None
    data = json.loads(raw.group(1))
    assert [row[3] for row in data["rows"]] == ["Sequential", odd.__name__]
    assert data["depth"] == 3 and data["numeric"] == [False, True, True, True, True]


def test_folded_rows_start_hidden_and_show_without_javascript() -> None:
    model = nn.Sequential(nn.Sequential(nn.Sequential(nn.Sequential(nn.Linear(2, 2)))))
    stats = summary(model, input_size=(1, 2), verbose=0)
    full = parse_report(stats.to_html())
    # depth 3: rows 0-2 are open, 3 shows folded, 4 is below the fold
    assert [sorted(classes) for classes, _, _ in full.rows] == [["op"], ["op"], ["op"], [], ["f"]]
    assert "<noscript><style>.sp-r tr.f{display:table-row}</style></noscript>" in stats.to_html()
    compact = stats._repr_html_()
    assert "<noscript>" not in compact and 'class="sp-r sp-compact"' in compact


def test_notebook_form_of_a_1000_row_model_is_small() -> None:
    model = nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(333)])
    stats = summary(model, input_size=(1, 4), verbose=0)
    assert len(stats.summary_list) == 1000
    page = stats._repr_html_()
    size = len(page.encode("utf-8"))
    assert size < 300_000, size
    assert len(parse_report(page).rows) == 1000


def test_comparison_report_marks_what_differs_from_the_baseline() -> None:
    table = compare(
        {"small": nn.Sequential(nn.Linear(4, 2)), "big": nn.Sequential(nn.Linear(4, 8), nn.ReLU())},
        input_size=(1, 4),
    )
    page = table.to_html()
    assert '<table class="summaryplus-compare">' in page and "Ratios are against" in page
    parsed = parse_report(page)
    assert len(parsed.headers) == 2  # one panel per model
    marks = [(cells[0], found) for _, cells, found in parsed.rows]
    assert marks == [
        ("Sequential", []),
        ("Linear: 1-1", []),
        ("Sequential", ["changed"]),  # output shape, params, MACs of the model
        ("Linear: 1-1", ["changed"]),
        ("ReLU: 1-2", ["added"]),
    ]
    assert "<strong>big</strong>" in page
    assert table._repr_html_().count('class="sp-r sp-compact"') == 2
    assert "sp-r" not in table.to_html(interactive=False)


def test_diff_report_puts_both_sides_side_by_side() -> None:
    before = nn.Sequential(OrderedDict(a=nn.Linear(8, 4), b=nn.ReLU(), c=nn.Linear(4, 2)))
    after = nn.Sequential(OrderedDict(a=nn.Linear(8, 4), c=nn.Linear(4, 3), d=nn.Tanh()))
    result = diff(before, after, input_size=(1, 8))
    page = result.to_html()
    assert "Sequential: 1 layer(s) added, 1 removed, 2 changed" in page
    assert '<table class="summaryplus-diff-totals">' in page
    parsed = parse_report(page)
    assert len(parsed.headers) == 2
    marks = [(cells[0], found) for _, cells, found in parsed.rows]
    assert marks == [
        ("Sequential", ["changed"]),  # its output shape
        ("Linear: 1-1", []),
        ("ReLU: 1-2", ["removed"]),
        ("Linear: 1-3", ["changed"]),  # 4 -> 3 outputs
        ("Sequential", ["changed"]),
        ("Linear: 1-1", []),
        ("Linear: 1-2", ["changed"]),
        ("Tanh: 1-3", ["added"]),
    ]
    assert result._repr_html_() == diff_report(result, compact=True)
    bare = dataclasses.replace(result, before=None)
    with pytest.raises(ValueError, match="no summaries"):
        bare.to_html()


def test_cli_writes_the_report(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code = main(
        ["summaryplus.examples:SmallCNN", "--input-size", "1,3,32,32",
         "--format", "html", "--output", str(target)]
    )
    assert code == 0
    page = target.read_text(encoding="utf-8")
    stats = summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0)
    assert page == stats.to_html(standalone=True) + "\n"
    assert summary_report(stats, standalone=True) + "\n" == page


def test_rows_show_their_paths_and_runs_fold(tmp_path: object) -> None:
    import json as json_module
    import re

    from torch import nn

    from summaryplus import summary
    from summaryplus.render.report_repeats import repeated_runs

    blocks = [nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(12)]
    model = nn.Sequential(nn.Linear(4, 8), nn.Sequential(*blocks), nn.Linear(8, 2))
    stats = summary(model, input_size=(1, 4), depth=2, verbose=0)
    page = stats.to_html()
    parsed = parse_report(page)
    assert parsed.paths[:4] == ["", "0", "1", "1.0"]  # the root shows none
    assert '<td title="1.0">' in page
    data = json_module.loads(re.search(r'class="sp-data">(.*?)</script>', page).group(1))
    rows = stats.summary_list
    firsts = [i for i, row in enumerate(rows) if row.depth == 2 and row.class_name == "Sequential"]
    # one run: the first block, then the other 11
    assert data["repeats"] == [[firsts[0], firsts[1:]]]
    assert "Sequential \u00d7 12" in page
    # the other blocks start folded (class "f"); their Linear rows too
    classes = [row_classes for row_classes, _, _ in parsed.rows]
    assert all("f" in classes[i] for i in firsts[1:])
    assert "f" not in classes[firsts[0]]
    parents = [-1] + [rows.index(row.parent_info) for row in rows[1:]]
    # a different block breaks the run: 1 + 10 identical, then one that differs
    assert repeated_runs(rows, parents) == {firsts[0]: firsts[1:]}
    odd = [nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(3)]
    odd.insert(1, nn.Sequential(nn.Linear(8, 8), nn.Tanh()))
    mixed = summary(nn.Sequential(*odd), input_size=(1, 8), verbose=0).summary_list
    mixed_parents = [-1] + [mixed.index(row.parent_info) for row in mixed[1:]]
    assert repeated_runs(mixed, mixed_parents) == {}  # runs of 1 and 2 stay as they are
