"""The demo report in a real headless Chromium (Debian's, via Selenium + chromedriver), network off.

Checks that every Plotly figure draws its SVG, that the figure count is the one the configurations
call for, that the headline cards show the CostReports' numbers, that the per-layer table sorts on a
header click and filters, that the report prints to PDF with every chart drawn on the rendered pages
(poppler), that the console stays clean, and that hostile layer names are shown as text and never run.
One browser session for the demo checks. Screenshots and the PDF go to the test's tmp dir.
"""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from simulator.api import simulate
from simulator.report import load_report_json, write_html
from simulator.report.browser import (
    browser_unavailable_reason,
    console_errors,
    full_page_screenshot,
    open_report,
    pdf_figure_ink,
    pdf_tools_unavailable_reason,
    print_pdf,
    wait_for_figures,
)
from simulator.report.html import format_count, format_seconds
from simulator.report.memory_figures import has_bandwidth_series
from simulator.report.tables import as_configurations
from simulator.trace import trace
from simulator.units import format_bits, format_energy_pj

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _browser_present():
    reason = browser_unavailable_reason() or pdf_tools_unavailable_reason()
    if reason is not None:  # make test / .ci/run install it; a missing browser is a failure, not a skip
        pytest.fail(f"headless Chromium unavailable: {reason}")


def expected_figures(configs) -> int:
    """Figures the report must hold: the overview (share, plus the comparison when there are several
    configurations) and, per configuration, one per kind of data it carries."""
    n = 1 + (len(configs) > 1)
    for c in configs:
        n += bool(c.cost.energy_pj) + bool(c.cost.weight_dense_bits) + bool(c.cost.footprint and (c.cost.footprint.layer_weight_bits or c.cost.footprint.layer_live_activation_bits))
        n += bool(c.sram_curve and c.sram_curve.points) + bool(c.cost.timeline) + (c.cost.memory_timing is not None)
        n += has_bandwidth_series(c)  # h-mem: bandwidth over time
        n += c.roofline is not None and bool(c.cost.layer_cycles) and bool(c.cost.macs_by_layer)
    return n


def _click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _column(driver, table_id: str, column: str, attribute: str = "data-sort") -> list:
    """The visible cells of ``column`` in table ``table_id``, top to bottom (raw sort values by default)."""
    return driver.execute_script(
        "var t = document.getElementById(arguments[0]);"
        "var i = Array.from(t.tHead.rows[0].cells).findIndex(h => h.dataset.column === arguments[1]);"
        "return Array.from(t.tBodies[0].rows).filter(r => r.style.display !== 'none')"
        "  .map(r => arguments[2] ? r.cells[i].getAttribute(arguments[2]) : r.cells[i].textContent);",
        table_id, column, attribute)  # fmt: skip


def check_layer_table_sorts_and_filters(driver, config) -> None:
    """Clicking "energy total" sorts the first configuration's layers ascending, again descending (raw pJ);
    typing a layer name in the search box leaves only the rows that mention it."""
    header = driver.find_element("css selector", '#layers-0 th[data-column="total_pj"]')
    _click(driver, header)
    ascending = [float(v) for v in _column(driver, "layers-0", "total_pj")]
    assert ascending == sorted(ascending) and header.get_attribute("aria-sort") == "ascending"
    _click(driver, header)
    descending = [float(v) for v in _column(driver, "layers-0", "total_pj")]
    assert descending == sorted(ascending, reverse=True) and header.get_attribute("aria-sort") == "descending"
    top = max(config.cost.layers, key=lambda layer: config.cost.energy_by("layer").get((layer,), 0.0))
    assert _column(driver, "layers-0", "layer", None)[0] == (top or "(top level)")
    box = driver.find_element("css selector", 'input.table-filter[data-table="layers-0"]')
    box.send_keys(top)
    assert all(top in name for name in _column(driver, "layers-0", "layer", None))
    box.clear()
    driver.execute_script("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", box)
    assert len(_column(driver, "layers-0", "layer", None)) == len(config.cost.layers)


def check_prints_without_blank_charts(driver, pdf_path, n_figures: int) -> None:
    """Chromium's PDF of the report, rendered page by page (poppler): every "Figure N" title has a drawn
    chart under it (coloured pixels), for every figure of the report."""
    pdf = print_pdf(driver, pdf_path)
    ink = pdf_figure_ink(pdf)
    assert sorted(ink) == list(range(1, n_figures + 1)), f"figure titles found in the PDF: {sorted(ink)}"
    blank = {n: page_count for n, page_count in ink.items() if page_count[1] < 100}
    assert not blank, f"charts blank in the PDF (figure: (page, coloured pixels)): {blank}"


def test_demo_report_draws_in_chromium(demo_report, tmp_path):
    """Every figure drawn, the right number of them, cards = CostReports, no console errors, a screenshot."""
    _, _, configs = load_report_json(demo_report.parent / "demo.json")
    with open_report(demo_report) as driver:
        status = wait_for_figures(driver, timeout_s=60)
        assert len(status) == expected_figures(configs)
        assert int(driver.find_element("tag name", "body").get_attribute("data-figure-count")) == len(status)
        sections = driver.find_elements("css selector", "section.config")
        assert len(sections) == len(configs)
        for section, config in zip(sections, configs):
            r = config.cost
            cards = {c.get_attribute("data-card"): c for c in section.find_elements("css selector", ".card")}
            value = lambda key: cards[key].find_element("css selector", ".value").text  # noqa: E731
            assert value("energy") == format_energy_pj(r.total_energy_pj)
            assert float(cards["energy"].get_attribute("data-raw")) == pytest.approx(r.total_energy_pj, rel=1e-12)
            assert value("cold_energy") == format_energy_pj(r.cold_energy_pj)
            assert value("latency") == format_seconds(r.latency_s)
            assert value("storage") == f"{format_bits(r.weight_dense_bits)} → {format_bits(r.weight_stored_bits)}"
            assert value("fits") == {True: "yes", False: "no", None: "n/a"}[r.fits_on_chip]
            assert value("macs") == format_count(r.total_macs)
            assert f"{r.total_macs:,} MACs" in cards["macs"].text
            assert config.label in section.find_element("tag name", "h2").text
        # the energy-by-layer buttons switch to the operand view without errors
        button = driver.find_elements("css selector", "#fig-0-energy .updatemenu-button")[1]
        driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", button)
        driver.execute_script("return new Promise(r => setTimeout(r, 300))")
        visible = driver.execute_script("return document.getElementById('fig-0-energy').data.map(t => t.visible)")
        assert visible[0] is False and visible[-1] is True  # components hidden, operands shown
        assert console_errors(driver) == []
        shot = full_page_screenshot(driver, tmp_path / "demo.png", max_height=4000)
    assert shot.stat().st_size > 50_000


def test_layer_table_sorts_and_the_report_prints_without_blank_charts(tmp_path):
    """A two-configuration LeNet-300-100 report built from the API (13 figures): the per-layer table sorts
    and filters in the browser, and Chromium's PDF of it has every chart drawn on its rendered pages.

    The demo report (58 figures, Gantt charts of up to 1,500 bars) took over 120 s to print under the
    shared test machine's load, so the print check runs on this smaller report."""
    reports = [simulate("lenet_300_100", "horowitz45"), simulate("lenet_300_100", "horowitz45-sram512k")]
    out = write_html(reports, tmp_path / "lenet.html")
    configs = as_configurations(reports)
    with open_report(out) as driver:
        status = wait_for_figures(driver, timeout_s=60)
        check_layer_table_sorts_and_filters(driver, configs[0])
        check_prints_without_blank_charts(driver, tmp_path / "lenet.pdf", len(status))
        assert console_errors(driver) == []


def test_hostile_layer_names_are_shown_not_run(tmp_path):
    """Layer and model names carrying markup appear verbatim in the page and run nothing."""
    payload = "<script>window['__pjsim_pwned']=1</script>"
    img = "<img src=x onerror=window['__pjsim_pwned']=2>"
    model = nn.Sequential()
    model.add_module(payload, nn.Linear(4, 3))
    model.add_module(img, nn.Linear(3, 2))
    workload = trace(model.eval(), torch.zeros(1, 4), model_name=payload)
    out = write_html(simulate(workload, "horowitz45"), tmp_path / "hostile.html", title=payload)
    with open_report(out) as driver:
        wait_for_figures(driver, timeout_s=60)
        assert driver.execute_script("return window.__pjsim_pwned === undefined")
        page_text = driver.find_element("tag name", "body").text
        assert payload in page_text and img in page_text
        assert driver.title == payload
        svg_text = driver.execute_script(
            "return Array.from(document.querySelectorAll('#fig-0-energy .xtick text')).map(t => t.textContent)"
        )
        assert payload in svg_text and img in svg_text
        errors = [e for e in console_errors(driver) if not re.search(r"/x - Failed to load", e)]
        assert errors == []
        full_page_screenshot(driver, tmp_path / "hostile.png", max_height=2000)
