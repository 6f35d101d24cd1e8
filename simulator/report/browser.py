"""Open a report in the system's headless Chromium (Debian ``chromium`` + ``chromium-driver``) via Selenium.

Used by the browser tests and the report benchmark. Never downloads a browser or a driver: it runs
``/usr/bin/chromium`` through ``/usr/bin/chromedriver`` (override with ``PJSIM_CHROMIUM`` and
``PJSIM_CHROMEDRIVER``), with a fresh profile directory and the network switched off, so a report
that needs anything from the network fails to draw. Selenium is a test dependency; import lazily.
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import subprocess
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
    "pdf_figure_ink",
    "pdf_tools_unavailable_reason",
    "print_pdf",
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


def pdf_tools_unavailable_reason() -> str | None:
    """Why PDF pages cannot be rendered here (None when poppler's ``pdftoppm`` and ``pdftotext`` are present)."""
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not found (install Debian's poppler-utils; make browser does)" if missing else None


def print_pdf(driver: Any, path: str | Path, landscape: bool = True) -> Path:
    """Print the page to ``path`` with Chromium's own PDF printer (``Page.printToPDF`` via selenium).

    Chromium fires ``beforeprint`` first, so the report's script redraws its figures at the page width.
    """
    from selenium.webdriver.common.print_page_options import PrintOptions

    options = PrintOptions()
    options.orientation = "landscape" if landscape else "portrait"
    options.background = True
    path = Path(path)
    path.write_bytes(base64.b64decode(driver.print_page(options)))
    return path


_PAGE_RE = re.compile(r"<page width=\"([\d.]+)\" height=\"([\d.]+)\">(.*?)</page>", re.S)
_WORD_RE = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _read_ppm(path: Path) -> Any:
    """A binary PPM (P6, 8 bit) as an ``(height, width, 3)`` uint8 array."""
    import numpy as np

    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError(f"{path}: expected an 8-bit binary PPM, got {fields[0]!r} maxval {fields[3]!r}")
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, dtype=np.uint8, count=width * height * 3, offset=pos + 1).reshape(height, width, 3)


def pdf_figure_ink(pdf: str | Path, figure_height_pt: float = 260.0, dpi: int = 40) -> dict[int, tuple[int, int]]:
    """For each "Figure N" title in the PDF: ``N -> (page, coloured pixels in the chart area below it)``.

    The pages are rendered with poppler's ``pdftoppm``; ``pdftotext -bbox`` gives each title's position.
    A chart that printed blank leaves only white, grey and black there (titles, axes, grid), so its
    count of coloured pixels (channel spread > 40) is near zero; a drawn chart's bars, lines and
    markers give hundreds.
    """
    import numpy as np

    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="pjsim-pdf-") as tmp:
        bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        subprocess.run(["pdftoppm", "-r", str(dpi), str(pdf), str(Path(tmp) / "page")], check=True, capture_output=True)
        images = sorted(Path(tmp).glob("page-*.ppm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        out: dict[int, tuple[int, int]] = {}
        for page_no, (match, image_path) in enumerate(zip(_PAGE_RE.finditer(bbox), images), start=1):
            page_h = float(match.group(2))
            words = [(float(a), float(b), float(c), float(d), html.unescape(w)) for a, b, c, d, w in _WORD_RE.findall(match.group(3))]
            image = _read_ppm(image_path).astype(np.int16)
            scale = image.shape[0] / page_h
            coloured = (image.max(axis=2) - image.min(axis=2)) > 40
            for (_, _, _, y_max, word), nxt in zip(words, words[1:]):
                if word == "Figure" and nxt[4].isdigit():
                    top = int(y_max * scale)
                    bottom = int(min(page_h, y_max + figure_height_pt) * scale)
                    out[int(nxt[4])] = (page_no, int(coloured[top:bottom].sum()))
    return out
