"""The fields of a row and of the totals are declared once (``summaryplus.fields``)
and every kind of row and summary is made from that declaration: the live rows'
slots, the records' dataclass fields, the JSON keys, and what mypy checks."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.fields import ROW_FIELDS, TOTALS_FIELDS, RowFields, SummaryFields, defaults
from summaryplus.layer_info import LayerInfo
from summaryplus.model_statistics import ModelStatistics
from summaryplus.records import LayerRecord, SummaryData, TotalsRecord

REPO = Path(__file__).resolve().parents[1]


def test_records_are_made_from_the_declaration() -> None:
    assert [f.name for f in dataclasses.fields(LayerRecord)] == ["index", "parent", *ROW_FIELDS]
    assert [f.name for f in dataclasses.fields(TotalsRecord)] == list(TOTALS_FIELDS)
    # A field declared with a value (added within schema 1) defaults to it in files.
    for name, value in defaults(RowFields).items():
        assert LayerRecord.__dataclass_fields__[name].default == value
    required = {f.name for f in dataclasses.fields(TotalsRecord)
                if f.default is dataclasses.MISSING}
    assert {"total_params", "total_mult_adds", "executed"} <= required
    assert issubclass(LayerRecord, RowFields) and issubclass(LayerInfo, RowFields)
    assert issubclass(ModelStatistics, SummaryFields) and issubclass(SummaryData, SummaryFields)


def test_live_rows_hold_every_field_and_read_it_before_it_is_set() -> None:
    assert set(ROW_FIELDS) <= set(LayerInfo.__slots__)
    row = LayerInfo("fc", nn.Linear(2, 3), 1)
    values = {name: getattr(row, name) for name in ROW_FIELDS}
    assert values["macs"] == values["flops"] == 0 and values["trainable"] == "--"
    assert values["own_op_points"] == () and values["own_backward_macs"] is None
    row.macs = 5  # flops follows macs until the row is built
    assert row.flops == 10


def test_every_total_is_measured_on_a_live_summary_and_read_on_a_loaded_one() -> None:
    stats = summary(nn.Sequential(nn.Linear(4, 2), nn.ReLU()), input_size=(1, 4), verbose=0)
    # Set by the statistics, not read from a declared default.
    assert set(TOTALS_FIELDS) <= set(vars(stats))
    loaded = load_summary(stats.to_dict())
    assert {name: getattr(loaded, name) for name in TOTALS_FIELDS} == {
        name: getattr(stats, name) for name in TOTALS_FIELDS
    }
    assert (stats.total_flops, stats.non_trainable_params, stats.macs_complete) == (16, 0, True)
    assert list(stats.to_dict()["layers"][1]) == ["index", "parent", *ROW_FIELDS]


def test_a_built_row_is_read_only_and_keeps_what_it_computed() -> None:
    stats = summary(nn.Linear(4, 2), input_size=(3, 4), verbose=0)
    row = stats.summary_list[0]
    # 3*4*2 MACs; bytes: input 48 + weight 32 + bias 8 + output 24 = 112.
    assert (row.flops, row.trainable, row.own_op_points) == (48, "True", (("float32", 24, 112, 1),))
    with pytest.raises(AttributeError, match="read-only"):
        row.flops = 0


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="needs mypy")
def test_a_typo_in_a_field_name_fails_mypy(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        "from summaryplus import load_summary, summary\n"
        "import torch.nn as nn\n"
        "stats = summary(nn.Linear(2, 2), input_size=(1, 2), verbose=0)\n"
        "print(stats.totl_params, stats.summary_list[0].num_parms)\n"
        "record = load_summary(stats.to_dict())\n"
        "print(record.totl_params, record.layers[0].num_parms)\n"
        "print(stats.total_params + record.layers[0].num_params)\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(REPO / ".mypy_cache"),
         str(tmp_path / "typo.py")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(": error: ")[1] for line in errors] == [
        '"ModelStatistics" has no attribute "totl_params"  [attr-defined]',
        '"LayerInfo" has no attribute "num_parms"  [attr-defined]',
        '"SummaryRecord" has no attribute "totl_params"  [attr-defined]',
        '"LayerRecord" has no attribute "num_parms"  [attr-defined]',
    ], result.stdout
    assert torch.__version__  # the snippet's imports resolved
