"""The data flows one way: inputs -> capture -> records -> statistics -> render.

Read from the source (every ``import``, those under ``TYPE_CHECKING`` too), so a
view that reaches back into the result class, or a capture module that reaches
forward into a renderer, fails here rather than in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "summaryplus"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``summaryplus`` module ``path`` imports, as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            # ``from . import name`` may name a module.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "summaryplus"}


def _files(*patterns: str) -> list[Path]:
    return sorted({path for pattern in patterns for path in PACKAGE.glob(pattern)})


# The views: whatever reads a summary and shows or queries it.
VIEWS = _files("render/**/*.py", "queries.py", "memory.py", "formatting.py", "views.py",
               "findings/*.py", "recompute.py")
# What runs the model and records rows: upstream of the statistics and the views.
CAPTURE = _files("capture/*.py", "formulas/*.py", "inputs.py", "layer_info.py")


def test_the_rules_see_the_modules() -> None:
    # A rule over an empty list would pass for nothing.
    assert len(VIEWS) >= 20 and len(CAPTURE) >= 15
    assert "summaryplus.model_statistics" in imported_modules(PACKAGE / "api.py")


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_views_never_import_the_result_class(path: Path) -> None:
    # Views take any summary (records.SummaryLike): live or loaded from JSON.
    forbidden = {"summaryplus.model_statistics", "summaryplus.api", "summaryplus.cli"}
    assert not imported_modules(path) & forbidden


@pytest.mark.parametrize("path", CAPTURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_capture_never_imports_later_stages(path: Path) -> None:
    later = ("summaryplus.model_statistics", "summaryplus.render", "summaryplus.views",
             "summaryplus.queries", "summaryplus.api", "summaryplus.accounting")
    reached = {name for name in imported_modules(path) if name.startswith(later)}
    # layer_info's torchinfo row methods format one cell through formatting
    # (lazily): the only backward edge, kept for torchinfo's API.
    assert not reached, reached


def test_no_file_over_500_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long
