"""Regenerates the pictures in the README: ``python docs/make_images.py``.

Writes ``docs/images/gpt2_params.png``, ``docs/images/cnn_macs.png`` and
``docs/images/gpt2_memory.png``. GPT-2 small (124M parameters) is built from
its config on the meta device, so no weights are downloaded or allocated; its
token embedding is frozen (a common fine-tuning setup) to show the
trainable/frozen split, and the output head tied to it counts once. Needs the
``plot`` and ``hf`` extras (matplotlib, transformers).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's summaryplus, installed or not

from summaryplus import summary  # noqa: E402
from summaryplus.examples import SmallCNN  # noqa: E402
from summaryplus.plot import plot_memory, plot_summary  # noqa: E402

IMAGES = ROOT / "docs" / "images"
# 8 inches at 120 dpi: about 1000 pixels wide, sharp on GitHub and small on disk.
DPI = 120


def main() -> None:
    import transformers

    IMAGES.mkdir(parents=True, exist_ok=True)

    with torch.device("meta"):
        gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    gpt2.transformer.wte.weight.requires_grad_(False)
    tokens = torch.zeros(8, 512, dtype=torch.long, device="meta")
    gpt2_stats = summary(gpt2, input_data=tokens, mode="train", verbose=0)
    # A linear axis shows the shares as they are: the embedding is 5x a block.
    figure = plot_summary(gpt2_stats, by="params", depth=3, log_scale=False)
    save(figure, "gpt2_params.png")
    save(plot_memory(gpt2_stats, optimizer="adam"), "gpt2_memory.png")

    cnn_stats = summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0)
    # MACs span 10k..38M: the automatic log axis keeps the classifier visible.
    save(plot_summary(cnn_stats, by="macs", depth=3, sort=False), "cnn_macs.png")


def save(figure: Figure, name: str) -> None:
    path = IMAGES / name
    # No "Software" entry: the bytes do not change with the matplotlib version.
    figure.savefig(path, dpi=DPI, facecolor="white", metadata={"Software": None})
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1000:.0f} kB)")


if __name__ == "__main__":
    main()
