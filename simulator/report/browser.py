"""Open a report in the system's headless Chromium (Debian ``chromium`` + ``chromium-driver``) via Selenium.

Used by the browser tests and the report benchmark. Never downloads a browser or a driver: it runs
``/usr/bin/chromium`` through ``/usr/bin/chromedriver`` (override with ``PJSIM_CHROMIUM`` and
``PJSIM_CHROMEDRIVER``), with a fresh profile directory and the network switched off, so a report
that needs anything from the network fails to draw. Selenium is a test dependency; import lazily.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "browser_unavailable_reason",
    "console_errors",
    "figure_status",
    "full_page_screenshot",
    "open_report",
    "wait_for_figures",
]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

#: JavaScript: per Plotly div, whether it has drawn its SVG (``.main-svg`` inside the div).
_FIGURE_STATUS_JS = """
return Array.from(document.querySelectorAll('div.plotly-graph-div')).map(function (d) {
  return {id: d.id, drawn: d.querySelector('svg.main-svg') !== null && d.classList.contains('js-plotly-plot')};
});
"""


def _paths() -> tuple[str, str]:
    return os.environ.get("PJSIM_CHROMIUM", "/usr/bin/chromium"), os.environ.get("PJSIM_CHROMEDRIVER", "/usr/bin/chromedriver")


def browser_unavailable_reason() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    chromium, driver = _paths()
    if not Path(chromium).is_file():
        return f"{chromium} not found (install Debian's chromium)"
    if not Path(driver).is_file():
        return f"{driver} not found (install Debian's chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    return None


@contextmanager
def open_report(path: str | Path, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Selenium driver showing ``path`` (a local file) with the network disabled; quits on exit.

    The driver's ``pjsim_load_s`` attribute holds the seconds from navigation start until the
    page's ``load`` event (what the benchmark reports as open time, before figure drawing ends).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _paths()
    profile_dir = tempfile.mkdtemp(prefix="pjsim-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        start = time.perf_counter()
        driver.get(Path(path).resolve().as_uri())
        driver.pjsim_load_s = time.perf_counter() - start
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def figure_status(driver: Any) -> list[dict[str, Any]]:
    """``[{id, drawn}]`` for every Plotly div on the page."""
    return list(driver.execute_script(_FIGURE_STATUS_JS))


def wait_for_figures(driver: Any, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Wait until every Plotly div has drawn its SVG; return the final status (raises on timeout)."""
    deadline = time.perf_counter() + timeout_s
    while True:
        status = figure_status(driver)
        if status and all(s["drawn"] for s in status):
            return status
        if time.perf_counter() > deadline:
            missing = [s["id"] for s in status if not s["drawn"]]
            raise TimeoutError(f"figures not drawn after {timeout_s} s: {missing or 'no Plotly divs on the page'}")
        time.sleep(0.05)


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE (errors, failed loads, uncaught exceptions) so far."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def full_page_screenshot(driver: Any, path: str | Path, width: int = 1400, max_height: int = 16000) -> Path:
    """Resize the window to the page's full height (at most ``max_height`` px) and save a PNG to ``path``."""
    height = int(driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)"))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.set_window_size(width, min(max(height, 600), max_height))
    time.sleep(0.3)
    path = Path(path)
    driver.save_screenshot(str(path))
    return path
