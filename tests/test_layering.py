"""The import graph runs one way: every module has a layer (``tests/layers.py``),
imports go to the same layer or a lower one, and nothing imports in a cycle,
counting imports inside functions (they run on the first call) and the
``__init__`` of each package a module lives in. Read from the source, so a
view that reaches the result class, a row that reaches a renderer or a
statistic that reaches a driver fails here, naming the file and line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layers import LAYER_NAMES, LAYERS, check, edges, layer_of

PACKAGE = Path(__file__).resolve().parent.parent / "summaryplus"


def test_the_graph_is_layered_and_acyclic() -> None:
    problems = check(PACKAGE)
    assert not problems, "\n".join(problems)


def test_the_rules_see_the_imports() -> None:
    # A rule over an empty graph would pass for nothing.
    modules, graph = edges(PACKAGE)
    assert len(modules) >= 150 and len(graph) >= 400
    found = {(edge.source, edge.target) for edge in graph}
    assert ("summaryplus.api", "summaryplus.pipeline") in found
    # ``from . import _tensors`` names the module, not the package.
    assert ("summaryplus.accounting", "summaryplus._tensors") in found
    assert ("summaryplus.accounting", "summaryplus") not in found
    # The one lazy import of the drivers: sympy stays out of ``import summaryplus``.
    lazy = {(edge.source, edge.target) for edge in graph if edge.lazy}
    assert ("summaryplus.api", "summaryplus.exported") in lazy
    assert {layer_of(name) for name in modules} == set(range(len(LAYER_NAMES)))


def _planted(tmp_path: Path, module: str, text: str) -> list[str]:
    copy = tmp_path / "summaryplus"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + text, encoding="utf-8")
    return check(copy)


def test_a_planted_back_edge_fails_with_its_line(tmp_path: Path) -> None:
    # A row that formats itself through the table renderer, inside a method.
    problems = _planted(
        tmp_path, "layer_info.py",
        "\n\ndef _planted() -> None:\n    from .formatting import render_text  # lazy: test\n",
    )
    lines = len((PACKAGE / "layer_info.py").read_text(encoding="utf-8").splitlines())
    assert any(
        problem.startswith(f"summaryplus/layer_info.py:{lines + 4}: summaryplus.layer_info (data) "
                           "imports summaryplus.formatting (render), a higher layer")
        for problem in problems
    ), problems
    assert any(problem.startswith("cycle of") for problem in problems)


def test_a_lazy_import_needs_its_reason(tmp_path: Path) -> None:
    problems = _planted(
        tmp_path, "api.py", "\n\ndef _planted() -> None:\n    from . import errors\n"
    )
    assert len(problems) == 1 and "without a '# lazy: <reason>' comment" in problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No reason after the mark, or the mark in a string, is no reason.
        ("\n\ndef _planted() -> None:\n    from . import errors  # lazy:\n",
         "without a '# lazy: <reason>' comment"),
        ("\n\ndef _planted() -> None:\n    from . import errors; x = '# lazy: no'\n",
         "without a '# lazy: <reason>' comment"),
        # Imports by name are invisible to the graph: refused.
        ("\n\ndef _planted() -> None:\n    importlib.import_module('summaryplus.api')\n",
         "imports by name (import_module)"),
        ("\n\ndef _planted() -> None:\n    __import__('summaryplus.api')\n",
         "imports by name (__import__)"),
    ],
)
def test_lazy_reasons_and_imports_by_name(tmp_path: Path, text: str, expected: str) -> None:
    problems = _planted(tmp_path, "api.py", text)
    assert any(expected in problem for problem in problems), problems


def test_only_typings_flag_hides_an_import(tmp_path: Path) -> None:
    # A variable of the same name runs: its import is an edge (here, a back edge).
    problems = _planted(
        tmp_path, "units.py", "\nTYPE_CHECKING = True\nif TYPE_CHECKING:\n    from . import api\n"
    )
    assert any("summaryplus.units (foundation) imports summaryplus.api" in problem
               for problem in problems), problems


def test_a_new_module_needs_a_layer(tmp_path: Path) -> None:
    copy = tmp_path / "summaryplus"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "stray.py").write_text('"""A module nobody placed."""\n', encoding="utf-8")
    assert check(copy) == ["summaryplus.stray: no layer in tests/layers.py LAYERS"]


@pytest.mark.parametrize(
    "view", ["summaryplus.views", "summaryplus.records", "summaryplus.loaded",
             "summaryplus.queries", "summaryplus.formatting", "summaryplus.render.table",
             "summaryplus.render.report", "summaryplus.memory", "summaryplus.findings"],
)
def test_views_and_records_never_reach_the_drivers_or_the_capture(view: str) -> None:
    # Everything a view or record imports, directly or through others.
    _, graph = edges(PACKAGE)
    successors: dict[str, set[str]] = {}
    for edge in graph:
        successors.setdefault(edge.source, set()).add(edge.target)
    reached, todo = set(), [view]
    while todo:
        for name in successors.get(todo.pop(), ()):
            if name not in reached:
                reached.add(name)
                todo.append(name)
    forbidden = ("summaryplus.api", "summaryplus.pipeline", "summaryplus.inference",
                 "summaryplus.capture", "summaryplus.exported")
    assert not {name for name in reached if name.startswith(forbidden)}
    assert "summaryplus.model_statistics" not in reached


def test_import_summaryplus_loads_only_placed_modules_and_no_heavy_dependency() -> None:
    code = (
        "import sys, summaryplus\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'summaryplus'))\n"
        "print(sorted(m for m in ('sympy', 'tabulate', 'matplotlib', 'transformers', "
        "'huggingface_hub', 'pandas', 'rich', 'summaryplus.cli') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout.splitlines()
    loaded = eval(out[0])  # a list literal printed by the child
    assert all(layer_of(name) is not None for name in loaded)
    assert eval(out[1]) == []


def test_layers_name_real_modules() -> None:
    # A layer entry left behind by a move or a rename would hide a new module.
    modules, _ = edges(PACKAGE)
    stale = [name for name in LAYERS
             if not any(module == name or module.startswith(name + ".") for module in modules)]
    assert not stale


def test_no_file_over_500_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long
