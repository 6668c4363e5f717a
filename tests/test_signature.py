"""The public call is torchinfo 1.8.0's, argument by argument."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import summaryplus
from summaryplus import enums, formatting, layer_info, model_statistics
from summaryplus import torchinfo as compat


def test_summary_signature_matches_torchinfo() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    ours = inspect.signature(summaryplus.summary).parameters
    theirs = inspect.signature(torchinfo.summary).parameters
    assert list(ours) == list(theirs)
    for name, param in theirs.items():
        assert ours[name].kind == param.kind, name
        assert ours[name].default == param.default, name


def test_enum_values_are_a_superset_of_torchinfo() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    for ours, theirs in [
        (enums.ColumnSettings, torchinfo.enums.ColumnSettings),
        (enums.RowSettings, torchinfo.enums.RowSettings),
        (enums.Mode, torchinfo.enums.Mode),
        (enums.Units, torchinfo.enums.Units),
        (enums.Verbosity, torchinfo.enums.Verbosity),
    ]:
        assert {m.name: m.value for m in theirs}.items() <= {
            m.name: m.value for m in ours
        }.items()
    assert enums.Mode("same") is enums.Mode.SAME


def test_units_print_as_their_label() -> None:
    assert f"({enums.Units.MEGABYTES})" == "(M)"
    assert str(enums.ColumnSettings.NUM_PARAMS) == "num_params"


def test_modules_torchinfo_users_import() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    assert compat.summary is summaryplus.summary
    assert formatting.FormattingOptions is summaryplus.FormattingOptions
    assert set(torchinfo.formatting.HEADER_TITLES.values()) <= set(
        formatting.HEADER_TITLES.values()
    )
    assert layer_info.LayerInfo is summaryplus.LayerInfo
    assert model_statistics.ModelStatistics is summaryplus.ModelStatistics
    assert callable(summaryplus.clear_cached_forward_pass)


def test_model_statistics_keeps_torchinfo_names() -> None:
    for helper in ("to_readable", "to_megabytes", "float_to_megabytes", "format_output_num"):
        assert isinstance(
            inspect.getattr_static(model_statistics.ModelStatistics, helper), staticmethod
        )
    assert model_statistics.ModelStatistics.to_readable(2_500_000_000) == (
        enums.Units.GIGABYTES,
        2.5,
    )
    assert model_statistics.ModelStatistics.format_output_num(1234, enums.Units.NONE) == ": 1,234"


def test_public_api_is_explicit() -> None:
    # A literal list, in the order ruff's RUF022 keeps it: CONSTANTS, then Classes,
    # then everything else, each group in plain string order; no name twice.
    source = Path(summaryplus.__file__).read_text(encoding="utf-8")
    literal = next(
        node.value for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", None) for target in node.targets] == ["__all__"]
    )
    assert isinstance(literal, ast.List)
    assert [ast.literal_eval(item) for item in literal.elts] == summaryplus.__all__

    def group(name: str) -> tuple[int, str]:
        if name.isupper():
            return 0, name
        return (1 if name[0].isupper() else 2), name

    assert summaryplus.__all__ == sorted(summaryplus.__all__, key=group)
    assert len(set(summaryplus.__all__)) == len(summaryplus.__all__)
    for name in summaryplus.__all__:
        assert hasattr(summaryplus, name), name
    assert summaryplus.__version__
