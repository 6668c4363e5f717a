"""How long does a 10,000-row HTML report take to become interactive?

Builds a model with GPT-2's layout at 10,000 rows (model, transformer, h, 833
blocks of 12 rows, head; the same model as tests/test_report_browser.py), writes
its report, and loads it 5 times in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium, as the browser tests do). Prints the
milliseconds from navigation start until the script has run and the folded
tree is laid out, and the seconds a sort of all rows by Mult-Adds takes.

Target: interactive in under 2 s (best of 5).

Run: ``python benchmarks/bench_report.py`` (about half a minute).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser launcher and model the tests use

from browser import chromium  # noqa: E402
from test_report_browser import Deep  # noqa: E402

from summaryplus import summary  # noqa: E402

ROUNDS = 5


def main() -> int:
    stats = summary(Deep(), input_size=(1, 4), verbose=0)
    rows = len(stats.summary_list)
    with tempfile.TemporaryDirectory() as folder, chromium() as driver:
        path = Path(folder) / "deep.html"
        path.write_text(stats.to_html(standalone=True), encoding="utf-8")
        size = path.stat().st_size
        timings = []
        for _ in range(ROUNDS):
            driver.get(path.as_uri())
            timings.append(float(driver.execute_script(
                "document.querySelector('.sp-r[data-ready]').getBoundingClientRect();"
                "return performance.now();"
            )))
        started = time.perf_counter()
        driver.find_elements("css selector", "thead th")[3].click()  # Mult-Adds
        driver.execute_script("document.body.getBoundingClientRect()")
        sort_seconds = time.perf_counter() - started
    best = min(timings)
    print(f"rows: {rows:,}; report: {size / 1e6:.2f} MB")
    print("interactive after (ms): " + ", ".join(f"{t:,.0f}" for t in timings))
    print(f"sort by Mult-Adds: {sort_seconds:.2f} s")
    verdict = "PASS" if best < 2000 else "FAIL"
    print(f"{verdict}: best of {ROUNDS} {best:,.0f} ms (target < 2,000 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
