"""Every Python example in README.md and docs/*.md runs as written.

An example that needs an optional package (transformers, pandas, matplotlib...)
skips, naming it, when that package is not installed.
"""

from __future__ import annotations

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


@pytest.mark.parametrize(("page", "index", "code"), EXAMPLES)
def test_example_runs(
    page: Path, index: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
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
