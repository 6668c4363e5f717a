"""The figures docs/fit.md shows as ``summaryplus plan``'s output are what the
tool prints now: each one is looked up in the plan's own text."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch

from summaryplus.plan import plan
from summaryplus.render.plan import plan_text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
FIT = ROOT / "docs" / "fit.md"
# The configs the page describes: Llama-3-8B and -70B shapes (GQA, 8 KV heads
# of 128 dims; 32 and 80 layers).
CONFIGS = {
    "8B": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
           "num_attention_heads": 32},
    "70B": {"hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80,
            "num_attention_heads": 64},
}


def _plan_text(size: str, context: int) -> str:
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        num_key_value_heads=8, vocab_size=128256, max_position_embeddings=8192,
        rope_theta=500000.0, **CONFIGS[size],
    )
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    return plan_text(plan(model, context=context))


def _column(index: int) -> dict[str, str]:
    """The worked-example table's cells of one model column, by row label."""
    cells = {}
    for line in FIT.read_text(encoding="utf-8").splitlines():
        parts = [part.strip() for part in line.strip().strip("|").split("|")]
        if len(parts) == 3 and not set(parts[0]) <= set("-"):
            cells[parts[0].strip("*")] = parts[index]
    return cells


def _figures(cell: str) -> list[str]:
    """``16.06 / 9.08 / 5.70 GB`` -> ``16.06 GB``, ``9.08 GB``, ``5.70 GB``;
    ``19.30G / 57.91G`` -> ``19.30G``, ``57.91G``."""
    unit = cell.split()[-1] if cell.split()[-1] in ("GB", "MB") else ""
    numbers = re.findall(r"[\d,]+\.\d+G?|[\d,]{5,}", cell)
    return [f"{number} {unit}".strip() if unit and not number.endswith("G") else number
            for number in numbers]


_ROWS = ("params", "forward / training FLOPs per token", "KV cache (bf16)",
         "prefill activations (bf16)", "weights bf16 / int8 / int4", "inference total")


def _check_column(size: str, index: int, text: str) -> None:
    column = _column(index)
    for label in _ROWS:
        key = next(name for name in column if name.startswith(label))
        for figure in _figures(column[key]):
            assert figure in text, f"docs/fit.md shows {figure} ({key}, {size}); plan:\n{text}"


@pytest.fixture(scope="module")
def plan_8b() -> str:
    return _plan_text("8B", 8192)


def test_fit_page_8b_figures_are_what_plan_prints(plan_8b: str) -> None:
    _check_column("8B", 1, plan_8b)


def test_readme_8b_figures_are_what_plan_prints(plan_8b: str) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    shown = re.search(
        r"8,192 tokens: ([\d.]+ GB) in bf16 \(KV cache ([\d.]+ GB).*?([\d.]+ GB) in int4", readme
    )
    assert shown is not None
    for figure in shown.groups():
        assert figure in plan_8b, f"README.md shows {figure}; plan:\n{plan_8b}"


def test_fit_page_8b_training_activations_are_what_plan_prints() -> None:
    text = _plan_text("8B", 4096)
    shown = re.search(r"exactly as on the CPU: ([\d.]+) GB in bf16", FIT.read_text("utf-8"))
    assert shown is not None
    activations = re.search(r"Activations \(saved for backward\)\s+([\d,.]+ [kMGT]?B)", text)
    assert activations is not None
    assert activations.group(1) == f"{shown.group(1)} GB"


@pytest.mark.slow
def test_fit_page_70b_figures_are_what_plan_prints() -> None:
    _check_column("70B", 2, _plan_text("70B", 4096))
