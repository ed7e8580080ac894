"""The rendered reports in a real browser: headless Chromium (Debian's package) via Playwright.

Opens ``index.html`` and every report, follows the index's links, and checks that there are no
console errors, no requests leave the machine (reports must read offline), every page has a
title of its own (not nbconvert's "Notebook"), every image loaded and has alt text (not
nbconvert's placeholder), every table is visible, no code and no stderr output is shown.
Full-page screenshots are kept under ``test-artifacts/screenshots/`` for a person to look at.

The sample's report set is rendered once per run (the ``sample_reports`` fixture, shared with
``test_report.py`` on one xdist worker).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import salesmkt

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
FIX = Path(__file__).parent / "fixtures" / "exports"
#: What nbconvert writes when an image has no alt text, and its default page title.
DEFAULT_ALT = "No description has been provided for this image"
DEFAULT_TITLES = {"", "Notebook"}

IMAGES_JS = """() => Array.from(document.images).map((i) => ({
    src: i.getAttribute('src').slice(0, 40),
    alt: i.getAttribute('alt'),
    ok: i.complete && i.naturalWidth > 0,
    width: i.getBoundingClientRect().width,
}))"""
TABLES_JS = """() => Array.from(document.querySelectorAll('table')).map((t) => {
    const r = t.getBoundingClientRect(), s = getComputedStyle(t);
    return {w: r.width, h: r.height, rows: t.rows.length,
            visible: s.display !== 'none' && s.visibility !== 'hidden' && t.offsetParent !== null};
})"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium "
            "(apt-get install -y chromium; .ci/run does it in CI)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


class Page:
    """A page with its console errors and the network requests it tried (all refused)."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route(re.compile(r"^(https?|wss?)://"), self._refuse)
        self.page.goto(url, wait_until="load")

    def _refuse(self, route):
        self.external.append(route.request.url)
        route.abort()

    def problems(self, name: str) -> list[str]:
        title = self.page.title().strip()
        out = [f"{name}: page title is {title!r}"] if title in DEFAULT_TITLES else []
        out += [f"{name}: console error {e!r}" for e in self.errors]
        out += [f"{name}: fetches {u} (reports must read offline)" for u in self.external]
        return out


def check_report(browser, path: Path) -> list[str]:
    """Everything wrong with one rendered report, as readable lines; saves a screenshot."""
    name = path.stem
    view = Page(browser, path.as_uri())
    page = view.page
    problems = []
    if page.locator("h1").count() == 0:
        problems.append(f"{name}: no title (# heading)")
    for img in page.evaluate(IMAGES_JS):
        if not img["ok"] or img["width"] <= 0:
            problems.append(f"{name}: image {img['src']}... did not display")
        alt = (img["alt"] or "").strip()
        if not alt or alt == DEFAULT_ALT:
            problems.append(f"{name}: image {img['src']}... has no alt text ({img['alt']!r})")
    for i, t in enumerate(page.evaluate(TABLES_JS)):
        if not (t["visible"] and t["w"] > 0 and t["h"] > 0):
            problems.append(f"{name}: table {i} ({t['rows']} rows) is not visible")
    if page.locator(".jp-CodeCell .jp-InputArea").count():
        problems.append(f"{name}: shows code cells")
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    if stderr.count():
        problems.append(f"{name}: shows stderr output: {stderr.first.inner_text()[:200]!r}")
    if page.locator(
        ".jp-RenderedText .ansi-red-fg, .jp-OutputArea-output pre:has-text('Traceback')"
    ).count():
        problems.append(f"{name}: shows a traceback")
    problems += view.problems(name)  # before closing: it reads the page's title
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.close()
    return problems


def check_index(browser, out: Path, reports, titles: dict | None = None) -> list[str]:
    """Everything wrong with the index and its links; ``titles`` gets each page's tab title."""
    view = Page(browser, (out / "index.html").as_uri())
    page = view.page
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    problems = []
    expected = [r.html_path.name for r in reports]
    if hrefs != expected:
        problems.append(f"index links {hrefs}, expected {expected}")
    for href in hrefs:  # follow every link the way a reader does
        page.click(f"a[href='{href}']")
        page.wait_for_load_state("load")
        if not page.url.endswith("/" + href) or page.locator("h1").count() == 0:
            problems.append(f"index link {href} did not open its report")
        if titles is not None:
            titles[href] = page.title()
        page.go_back(wait_until="load")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)
    problems += view.problems("index")
    if titles is not None:
        titles["index.html"] = page.title()
    page.close()
    return problems


@pytest.mark.xdist_group("reports")
def test_sample_reports_display_in_chromium(browser, sample_reports):
    out, reports = sample_reports
    assert reports, "no report was rendered"
    titles: dict[str, str] = {}
    problems = check_index(browser, out, reports, titles)
    for report in reports:
        problems += check_report(browser, report.html_path)
    assert not problems, "\n".join(problems)
    # the sample company runs from 2025-01-01 to 2026-06-30, with its earlier customers' orders
    # from January 2024 on (salesmkt.sample): reports on all of its data name those months, the
    # check-in its latest full month
    everything = "sample company, January 2024 to June 2026"
    assert titles == {
        "index.html": f"Sales & marketing reports: {everything}",
        "01_data_check.html": f"Data check: {everything}",
        "02_persona_workshop.html": f"Persona workshop: {everything}",
        "03_funnel_kpis.html": f"Funnel and KPI setup: {everything}",
        "04_campaigns.html": f"Campaign evaluation: {everything}",
        "05_checkin.html": "Sales–marketing check-in: sample company, June 2026",
    }


def test_vendor_export_report_displays_in_chromium(browser, tmp_path):
    """The documented one-command path: HubSpot + GA4 exports in one folder, --source hubspot."""
    data = tmp_path / "exports"
    data.mkdir()
    for f in [*(FIX / "hubspot").iterdir(), FIX / "ga4" / "events_20240301.json"]:
        shutil.copy(f, data)
    out = tmp_path / "reports"
    reports = salesmkt.run_reports(
        data, out, only=["01"], source="hubspot", tz="America/New_York", progress=False
    )
    html = reports[0].html_path
    text = html.read_text(encoding="utf-8")
    assert "sessions" in text and "touchpoints" in text  # CRM and web tables both reported
    problems = check_report(browser, html.rename(html.with_name("hubspot_" + html.name)))
    assert not problems, "\n".join(problems)
