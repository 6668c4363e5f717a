"""Headless Chromium for the report tests and the README screenshots.

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them),
driven by selenium. The network is closed to the browser: background
networking, updates and sync are off, and each browser gets a fresh profile.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
)


def find_browser() -> tuple[str, str] | str:
    """(browser, driver) paths, or why they cannot be used."""
    browser = next((path for path in BROWSERS if shutil.which(path)), None)
    driver = next((path for path in DRIVERS if shutil.which(path)), shutil.which("chromedriver"))
    if browser is None or driver is None:
        return "no chromium/chromedriver found: apt-get install chromium chromium-driver"
    return browser, driver


@contextmanager
def chromium(width: int = 1400, height: int = 900, scale: float = 1.0) -> Iterator[Any]:
    """A headless Chromium WebDriver with a fresh profile, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if isinstance(found, str):
        raise RuntimeError(found)
    browser, driver_path = found
    with tempfile.TemporaryDirectory(prefix="summaryplus-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.add_argument(f"--force-device-scale-factor={scale}")
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()
