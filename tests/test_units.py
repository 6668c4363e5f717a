"""Units that adapt: one scaler, a unit per value, never ``0.00`` for a non-zero figure.

torchinfo's own footer lines keep their fixed (M)/(MB) units in the text table
(golden files and the line-by-line torchinfo comparison pin them); every other
figure (other formats, report cards, comparisons, checkpoints, plans, our own
footer lines) takes the unit its value needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from summaryplus import compare, summary
from summaryplus.checkpoints import summarize_checkpoint
from summaryplus.render.checkpoint import render_checkpoint
from summaryplus.render.report import summary_report
from summaryplus.render.table import footer_items
from summaryplus.units import readable_bytes, readable_count

_ZERO = re.compile(r"(?<![\d.,])0\.00(?!\d)")


def test_readable_count_and_bytes() -> None:
    assert readable_count(48) == "48"
    assert readable_count(999_999) == "1.00M"  # would print 1000.00k
    assert readable_count(2_660_000) == "2.66M"
    assert readable_count(3.2e12) == "3.20T"
    assert readable_count(0.5) == "0.50"
    assert readable_bytes(232) == "232 B"
    assert readable_bytes(1) == "1 B"
    assert readable_bytes(1_120_000) == "1.12 MB"
    assert readable_bytes(16e9) == "16.00 GB"


def _tiny() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_text_keeps_torchinfo_lines_and_adapts_our_own() -> None:
    stats = summary(_tiny(), input_size=(1, 4), mode="train", verbose=0)
    text = str(stats)
    # torchinfo's lines, fixed: 58 params x 4 bytes = 232 B = 0.00 MB at two decimals
    assert "Params size (MB): 0.00" in text
    assert "Total mult-adds (M): 0.00" in text
    # ours adapts: no "(MB)" and a unit for its value
    line = next(line for line in text.splitlines() if line.startswith("Training step"))
    assert re.fullmatch(r"Training step estimate, Adam: [\d.,]+ (B|kB)", line), line


def test_other_formats_never_show_zero_for_a_non_zero_total() -> None:
    stats = summary(_tiny(), input_size=(1, 4), verbose=0)
    items = dict(footer_items(stats))
    # 4 * 8 + 8 * 2 = 48 MACs; (32 + 8 + 16 + 2) * 4 = 232 bytes; 1 * 4 * 4 = 16 input bytes
    assert items["Total mult-adds"] == "48"
    assert items["Params size"] == "232 B"
    assert items["Input size"] == "16 B"
    for fmt in ("github", "csv", "rich", "latex"):
        assert not _ZERO.search(stats.render(fmt)), fmt
    assert "Total mult-adds" in stats.to_table("github", totals=True)


def test_report_cards_adapt() -> None:
    stats = summary(_tiny(), input_size=(1, 4), verbose=0)
    page = summary_report(stats)
    cards = page[page.index('<dl class="sp-cards">'):page.index("</dl>")]
    assert "0.00" not in cards
    # 2 x 48 = 96 FLOPs
    assert "<dt>FLOPs</dt><dd>96</dd>" in cards
    assert "<dt>Total mult-adds</dt><dd>48</dd>" in cards


def test_compare_small_figures_are_not_zero() -> None:
    table = compare({"small": nn.Linear(4, 2), "wide": nn.Linear(4, 8)},
                    input_size=(1, 4), mode="train")
    for fmt in ("text", "github", "csv", "html"):
        assert not _ZERO.search(table.render(fmt)), fmt
    text = str(table)
    # (4 * 2 + 2) * 4 = 40 B and (4 * 8 + 8) * 4 = 160 B of parameters; 8 and 32 MACs
    assert re.search(r"small\s+10\s+10\s+8\s+16\s+40 B", text), text
    assert re.search(r"wide\s+40\s+40\s+32\s+64\s+160 B", text), text


def test_checkpoint_params_size_adapts(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_tiny().state_dict(), path)
    text = render_checkpoint(summarize_checkpoint(path), 1, "text")
    assert "Params size:" in text and "232 B" in text
    assert "0.00" not in text


@pytest.mark.parametrize("value", [1, 999, 1000, 123_456, 10**9 - 1, 10**12])
def test_readable_bytes_is_never_zero_for_non_zero(value: int) -> None:
    assert not readable_bytes(value).startswith("0")
    assert not readable_count(value).startswith("0")
