"""Every Python example in README.md and docs/*.md runs as written.

An example that needs an optional package (transformers, pandas, matplotlib...)
skips, naming it, when that package is not installed.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks(page: Path) -> list[str]:
    return FENCE.findall(page.read_text(encoding="utf-8"))


EXAMPLES = [
    pytest.param(page, index, code, id=f"{page.relative_to(ROOT)}[{index}]")
    for page in PAGES
    for index, code in enumerate(_blocks(page))
]
# Packages an example may need that a plain `pip install summaryplus` lacks.
OPTIONAL = {
    "transformers", "torchinfo", "matplotlib", "pandas", "rich", "nbclient",
    "nbformat", "safetensors", "lightning", "psutil", "accelerate",
}


# A python block followed by a plain or ``text`` block: that block is what the
# example prints (a block opening with ``$ `` is a shell session, not its output).
PRINTED = re.compile(r"^```python\n(.*?)^```\n\s*^```(?:text)?\n(?!\$ )(.*?)^```",
                     re.DOTALL | re.MULTILINE)


def _printed_blocks(page: Path) -> dict[str, str]:
    return {code: shown for code, shown in PRINTED.findall(page.read_text(encoding="utf-8"))}


@pytest.mark.parametrize(("page", "index", "code"), EXAMPLES)
def test_example_runs(
    page: Path, index: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    caplog.set_level(logging.INFO)  # what an example's logging.basicConfig(level=INFO) shows
    compiled = compile(code, f"{page.relative_to(ROOT)}[python block {index}]", "exec")
    try:
        exec(compiled, {"__name__": "__readme__"})
    except ImportError as error:
        # summaryplus re-raises a missing extra with install advice; the cause names it.
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, ModuleNotFoundError):
            cause = cause.__cause__
        missing = (getattr(cause, "name", None) or "").partition(".")[0]
        if missing not in OPTIONAL:
            raise
        pytest.skip(f"needs the optional package {missing!r}")
    printed = capsys.readouterr().out
    shown = _printed_blocks(page).get(code)
    if shown is not None:
        # Log lines as an example's logging.basicConfig(format="%(name)s
        # %(message)s") shows them (pytest holds the root logger's handlers).
        logged = "".join(f"{r.name} {r.getMessage()}\n" for r in caplog.records)
        _assert_shown(shown, logged + printed)
    _assert_commented_values(code, printed)


# ``print(x)  # 7.18, from ...`` or ``print(n)  # 1,600 + 32 + 100 = 1732``: the
# number the comment gives as what the line prints (the last one after "=").
PRINT_COMMENT = re.compile(r"^[ \t]*print\(.*\)[ \t]*#[ \t]*(.*)$", re.MULTILINE)
NUMBER = re.compile(r"^-?[\d,]+(?:\.\d+)?$")


def _assert_commented_values(code: str, printed: str) -> None:
    """Each number a ``print(...)`` line's comment shows is a value the example printed."""
    words = {word.strip("()[]'\"").replace(",", "") for word in printed.split()}
    for comment in PRINT_COMMENT.findall(code):
        value = comment.rpartition("=")[2].split()[0].rstrip(",;") if comment.split() else ""
        if NUMBER.match(value):
            assert value.replace(",", "") in words, (
                f"the page's comment shows {value}, but the example printed:\n{printed}"
            )


def _assert_shown(shown: str, printed: str) -> None:
    """Every line the page shows as the example's output is printed, in order
    (trailing spaces aside; the example may print more, e.g. a value its
    comment gives)."""
    lines = [line.rstrip() for line in printed.splitlines()]
    position = 0
    for expected in (line.rstrip() for line in shown.splitlines()):
        try:
            position = lines.index(expected, position) + 1
        except ValueError:
            pytest.fail(
                f"the page shows {expected!r}, which the example no longer prints; "
                "it printed:\n" + printed
            )


def test_readme_has_examples_and_quick_start() -> None:
    assert len(_blocks(README)) >= 2
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert len(text.splitlines()) <= 250


def test_the_examples_that_left_the_readme_still_run_from_docs() -> None:
    # README.md had 17 examples before its sections moved to docs/*.md.
    total = sum(len(_blocks(page)) for page in PAGES)
    assert total >= 17, total


def test_relative_links_resolve() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


# What each extra of setup.cfg brings, as an example spells its use.
_EXTRA_USES = {
    "hf": re.compile(r"\b(import transformers|from transformers|integrations\.hf)\b"),
    "plot": re.compile(r"\b(matplotlib|summaryplus\.plot|plot_summary|plot_memory)\b"),
    "pandas": re.compile(r"\b(import pandas|to_dataframe\()"),
    "rich": re.compile(r"\b(import rich|from rich)\b"),
    "lightning": re.compile(r"\b(import lightning|from lightning|integrations\.lightning)\b"),
    "safetensors": re.compile(r"\b(import safetensors|from safetensors)\b"),
}


def test_each_example_needs_one_extra_at_most() -> None:
    """A plain install plus any one extra runs every example that needs it: no
    example needs two extras (the callbacks' example was one block for both)."""
    mixed = []
    for page in PAGES:
        for index, code in enumerate(_blocks(page)):
            needs = sorted(extra for extra, use in _EXTRA_USES.items() if use.search(code))
            if len(needs) > 1:
                mixed.append(f"{page.relative_to(ROOT)}[{index}]: {', '.join(needs)}")
    assert not mixed, mixed
