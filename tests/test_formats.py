"""Every format carries the same rows, totals and notes, for every kind of result.

The matrix: each format the command accepts x {model, checkpoint, exported
program, comparison, plan}; each cell checks that the totals are there.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from tabulate import tabulate_formats
from torch import nn

from summaryplus import ColumnSettings, RowSettings, compare, summary
from summaryplus.checkpoints import summarize_checkpoint
from summaryplus.cli import main
from summaryplus.exported import summarize_exported
from summaryplus.formatting import FormattingOptions
from summaryplus.plan import plan
from summaryplus.render.checkpoint import render_checkpoint
from summaryplus.render.comparison import render_comparison_as
from summaryplus.render.formats import render_summary
from summaryplus.render.output import ALIASES, SPECIAL_FORMATS, check_format
from summaryplus.render.plan import render_plan

pytest.importorskip("rich")

FORMATS = tuple(dict.fromkeys((*SPECIAL_FORMATS, *ALIASES, *tabulate_formats)))


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("formats")
    model = _model()
    stats = summary(model, input_size=(1, 4), verbose=0)
    checkpoint = folder / "model.pt"
    torch.save(model.state_dict(), checkpoint)
    archive = folder / "model.pt2"
    torch.export.save(torch.export.export(model.eval(), (torch.randn(1, 4),)), archive)
    columns = (ColumnSettings.OUTPUT_SIZE, ColumnSettings.NUM_PARAMS, ColumnSettings.MULT_ADDS)
    options = FormattingOptions(3, 0, columns, 25, {RowSettings.DEPTH})
    exported = summarize_exported(archive, options)
    embed = nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100))
    return {
        "model": stats,
        "checkpoint": summarize_checkpoint(checkpoint),
        "exported": exported,
        "comparison": compare({"small": nn.Linear(4, 2), "wide": nn.Linear(4, 8)}),
        "plan": plan(embed, context=8),
    }


def _render(kind: str, result: Any, fmt: str) -> str:
    if kind in ("model", "exported"):
        return render_summary(result, fmt)
    if kind == "checkpoint":
        return render_checkpoint(result, 2, fmt)
    if kind == "comparison":
        return render_comparison_as(result, fmt)
    return render_plan(result, fmt)


# What each kind's totals are: a (label, value) pair every format must show.
# model: 4 * 8 + 8 + 8 * 2 + 2 = 58 params; comparison: 4 * 2 + 2 = 10 and
# 4 * 8 + 8 = 40; plan: 100 * 16 + 16 * 100 + 100 = 3,300.
TOTALS = {
    "model": [("Total params", "58")],
    "checkpoint": [("Total params", "58")],
    "exported": [("Total params", "58")],
    "comparison": [("small", "10"), ("wide", "40"), ("Ratios are against", "")],
    "plan": [("Params", "3,300"), ("Total (estimated peak)", ""), ("Assumed", "")],
}


@pytest.mark.parametrize("kind", list(TOTALS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_carries_the_totals(results: dict[str, Any], kind: str, fmt: str) -> None:
    text = _render(kind, results[kind], fmt)
    if fmt == "json":
        data = json.loads(text)
        flat = json.dumps(data)
        number = TOTALS[kind][0][1].replace(",", "")
        assert number in flat, (kind, data)
        return
    for label, value in TOTALS[kind]:
        assert label in text, (kind, fmt, label)
        if value:
            # the value on the same line as its label (a row of the totals)
            line = next(line for line in text.splitlines() if label in line)
            assert value in line, (kind, fmt, line)


@pytest.mark.parametrize("fmt", ["latex", "latex_raw", "latex_booktabs", "latex_longtable"])
def test_latex_draws_the_tree_in_ascii(results: dict[str, Any], fmt: str) -> None:
    text = render_summary(results["model"], fmt)
    assert "├" not in text and "└" not in text and "│" not in text
    assert "+ Linear: 1-1" in text
    nested = summary(nn.Sequential(nn.Sequential(nn.Linear(2, 2))), input_size=(1, 2), verbose=0)
    assert "|    + Linear: 2-1" in render_summary(nested, fmt)


def test_markdown_aliases_are_github_with_totals(results: dict[str, Any]) -> None:
    github = render_summary(results["model"], "github")
    assert render_summary(results["model"], "markdown") == github
    assert render_summary(results["model"], "md") == github
    assert "| Total params" in github
    assert results["model"].to_table("md") == results["model"].to_table("github")


def test_an_unknown_format_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'markdown'"):
        check_format("markdwn")
    with pytest.raises(ValueError, match=r"did you mean 'github'"):
        check_format("githb")
    with pytest.raises(ValueError, match="accepted values: text, json"):
        check_format("nothing-like-it")
    with pytest.raises(ValueError, match="format=3"):
        check_format(3)


def test_the_command_suggests_the_closest_format(tmp_path: Path, capsys: Any) -> None:
    checkpoint = tmp_path / "model.pt"
    torch.save(_model().state_dict(), checkpoint)
    assert main([str(checkpoint), "--format", "markdwn"]) == 2
    assert "did you mean 'markdown'" in capsys.readouterr().err
    assert main([str(checkpoint), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| Total params" in out and "| 0.weight" in out


def test_csv_has_the_rows_then_the_totals(results: dict[str, Any]) -> None:
    text = render_summary(results["model"], "csv")
    rows, _, totals = text.partition("\n\n")
    layers = list(csv.DictReader(io.StringIO(rows)))
    assert [row["class_name"] for row in layers] == ["Sequential", "Linear", "ReLU", "Linear"]
    assert ["Total params", "58"] in list(csv.reader(io.StringIO(totals)))


def test_html_of_a_checkpoint_is_a_styled_page(results: dict[str, Any]) -> None:
    page = render_checkpoint(results["checkpoint"], 2, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "Total params" in page and "0.weight" in page


def test_rich_has_no_trailing_spaces(results: dict[str, Any]) -> None:
    text = render_summary(results["model"], "rich")
    assert "Total params" in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_json_trainable_is_a_boolean_and_old_strings_load(results: dict[str, Any]) -> None:
    from summaryplus import load_summary

    data = results["model"].to_dict()
    # Sequential holds no parameter of its own but its subtree's: all trainable.
    assert [layer["trainable"] for layer in data["layers"]] == [True, True, None, True]
    old = json.loads(json.dumps(data))
    for layer, text in zip(old["layers"], ["True", "True", "--", "True"], strict=True):
        layer["trainable"] = text  # what files written before booleans hold
    assert load_summary(old).to_dict() == data
    old["layers"][1]["trainable"] = "yes"
    with pytest.raises(ValueError, match=r"layers\[1\]: trainable='yes'"):
        load_summary(old)


def test_partial_and_frozen_rows_in_json() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[0].requires_grad_(False)
    data = summary(model, input_size=(1, 2), verbose=0).to_dict()
    assert [layer["trainable"] for layer in data["layers"]] == ["partial", False, True]


def test_version(capsys: Any) -> None:
    from summaryplus import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    expected = f"summaryplus {__version__} (torch {torch.__version__})"
    assert capsys.readouterr().out.strip() == expected
    with pytest.raises(SystemExit):
        main(["plan", "--version"])
    assert __version__ in capsys.readouterr().out


def test_a_model_without_inputs_says_how_to_get_macs(tmp_path: Path, capsys: Any) -> None:
    factory = tmp_path / "factories.py"
    factory.write_text("from torch import nn\n\ndef make():\n    return nn.Linear(4, 2)\n")
    assert main([f"{factory}:make", "--format", "json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays the JSON alone
    assert "no input given" in captured.err
    assert "--input-size" in captured.err and "--seq-len" in captured.err
    # with an input, no hint
    assert main([f"{factory}:make", "--input-size", "1,4"]) == 0
    captured = capsys.readouterr()
    assert "no input given" not in captured.err and "Mult-Adds" in captured.out
