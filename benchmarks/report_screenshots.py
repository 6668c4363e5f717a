"""Screenshots of the interactive HTML report for the README: GPT-2 (124M,
built on the meta device from ``transformers.GPT2Config()``, no weights) and
``summaryplus.examples.SmallCNN``, taken in headless Chromium.

Run from the repository root (needs chromium, chromium-driver and selenium):
    python benchmarks/report_screenshots.py
It writes docs/images/report_gpt2.png and docs/images/report_cnn.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser launcher the tests use

from browser import chromium  # noqa: E402

from summaryplus import summary  # noqa: E402
from summaryplus.examples import SmallCNN  # noqa: E402


def gpt2_page() -> str:
    import transformers

    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    model.transformer.wte.requires_grad_(False)  # show a frozen embedding
    stats = summary(model, input_size=(1, 1024), dtypes=[torch.long], verbose=0)
    return stats.to_html(standalone=True)


def cnn_page() -> str:
    return summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0).to_html(standalone=True)


def main() -> None:
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, chromium(1100, 760) as driver:
        shots = (("gpt2", gpt2_page(), "GPT2Block: 3-1"), ("cnn", cnn_page(), ""))
        for name, page, unfold in shots:
            path = Path(folder) / f"{name}.html"
            path.write_text(page, encoding="utf-8")
            driver.get(path.as_uri())
            if unfold:  # open the first block, then sort by MACs: what a user does first
                cell = driver.find_element(
                    "xpath", f"//td[contains(normalize-space(.), '{unfold}')]"
                )
                cell.find_element("css selector", "i.tg").click()  # not its "x 12" badge
                driver.find_elements("css selector", "thead th")[3].click()
            out = images / f"report_{name}.png"
            driver.save_screenshot(str(out))
            print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
