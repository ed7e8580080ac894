"""The rendered reports in a real browser: headless Chromium (Debian's package) via Playwright.

Opens ``index.html`` and every report, follows the index's links, and checks that there are no
console errors, no requests leave the machine (reports must read offline), every page has a
title of its own (not nbconvert's "Notebook"), every image loaded and has alt text (not
nbconvert's placeholder), every table is visible, no code and no stderr output is shown, and no
raw value reaches a reader (:func:`raw_values`: ``nan``, ``None``, ``True``, Python reprs,
snake_case column headers, bare row numbers).
Full-page screenshots are kept under ``test-artifacts/screenshots/`` for a person to look at.

The sample's report set is rendered once per run (the ``sample_reports`` fixture, shared with
``test_report.py`` on one xdist worker).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import salesmkt

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


#: Values no reader should see: missing and undefined numbers as Python or pandas print them.
RAW_WORD = re.compile(r"(?<![\w.-])(nan|NaN|NaT|-?inf|-?Infinity)(?![\w-])")
#: Python's words as values: in a table cell, or assigned in prose (``save_config = True``).
RAW_CELL = re.compile(r"(?<![\w.-])(None|True|False|nan|NaN|NaT|-?inf|<NA>)(?![\w-])")
RAW_ASSIGNED = re.compile(r"\w\s*=\s*(None|True|False)\b")
#: Python's representations of objects.
REPR = re.compile(
    r"<[\w.]+ object at 0x|\b(Timestamp|Timedelta|Period|np\.float64|np\.int64|datetime\.\w+)\("
    r"|\bdtype: \w+|\bName: \w+, dtype"
)
SNAKE = re.compile(r"^[a-z]+(_[a-z]+)+$")
#: A code-like value inside a table cell (``paid_search``, ``closed_won``, ``web_visits_90d``).
SNAKE_TOKEN = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
#: Columns whose cells are identifiers a user types, shown as they are: the data contract's
#: column names in the data check ("Column").
IDENTIFIER_HEADERS = {"Column"}
ROW_NUMBER = re.compile(r"^\d+$")
INVISIBLE = ["script", "style", "head", "template", "noscript", "title"]


def raw_values(html: str, name: str = "page") -> list[str]:
    """Raw values a reader would see on a page, as readable lines (empty: none).

    Flags ``nan``, ``NaT``, ``inf`` anywhere in the visible text; ``None``, ``True``,
    ``False`` in table cells or assigned in prose (``save_config = True``); Python reprs
    (``<... object at 0x``, ``Timestamp(``); snake_case column headers and snake_case values in
    table cells (``paid_search``; not in ``<code>`` nor under an identifier column of
    :data:`IDENTIFIER_HEADERS`); and row numbers that
    are only an index (a body ``th`` holding a bare number, or an unlabelled first column
    counting 0, 1, 2, ...). Scripts, styles and elements hidden with ``hidden`` or
    ``display: none`` are not read.
    """
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(INVISIBLE):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        css = (tag.get("style") or "").replace(" ", "").lower()
        if tag.has_attr("hidden") or "display:none" in css or "visibility:hidden" in css:
            tag.decompose()
    out: list[str] = []

    def add(problem: str, text: str) -> None:
        line = f"{name}: {problem}: {' '.join(text.split())[:120]!r}"
        if line not in out:
            out.append(line)

    for table in soup.find_all("table"):
        for th in table.find_all("th"):
            text = th.get_text(" ", strip=True)
            if SNAKE.match(text):
                add("snake_case column header", text)
            if th.find_parent("tbody") is not None and ROW_NUMBER.match(text):
                add("row number shown as a row header", text)
        for cell in table.find_all(["td", "th"]):
            text = cell.get_text(" ", strip=True)
            if RAW_CELL.search(text):
                add("raw value in a table cell", text)
        head_rows = table.select("thead tr")
        headers = (
            [th.get_text(" ", strip=True) for th in head_rows[-1].find_all(["th", "td"])]
            if head_rows
            else []
        )
        for tr in table.find_all("tr"):
            if tr.find_parent("thead") is not None:
                continue
            for i, cell in enumerate(tr.find_all(["td", "th"], recursive=False)):
                if i < len(headers) and headers[i] in IDENTIFIER_HEADERS:
                    continue
                for code in cell.find_all("code"):
                    code.decompose()
                text = cell.get_text(" ", strip=True)
                if SNAKE_TOKEN.search(text):
                    add("snake_case value in a table cell", text)
        rows = [r for r in table.find_all("tr") if r.find_parent("thead") is None]
        firsts = [r.find(["td", "th"]) for r in rows]
        head = table.find("thead")
        corner = head.find(["th", "td"]) if head else None
        if (
            len(firsts) > 1
            and corner is not None
            and not corner.get_text(strip=True)
            and all(c is not None for c in firsts)
            and [c.get_text(strip=True) for c in firsts] == [str(i) for i in range(len(firsts))]
        ):
            add("row numbers in an unlabelled first column", "0, 1, 2, ...")
    text = soup.get_text(" ")
    for pattern, problem in ((RAW_WORD, "raw value"), (RAW_ASSIGNED, "code parameter"),
                             (REPR, "Python representation")):  # fmt: skip
        for m in pattern.finditer(text):
            add(problem, text[max(0, m.start() - 40) : m.end() + 40])
    return out


def test_raw_values_are_found_on_a_hand_made_page():
    clean = """<html><head><title>nan None</title><style>.x{content:'True'}</style></head>
    <body><h1>Report</h1><p>None of the campaigns lost money; a rate of 12.5 % (n = 40).</p>
    <p>Information about infrastructure and the Nantes office.</p>
    <script>var a = None; var nan = NaN;</script>
    <div hidden><p>nan</p></div>
    <table><thead><tr><th>Channel</th><th>Conversion rate</th><th>Commitment</th></tr></thead>
    <tbody><tr><td>Paid search</td><td>3.1 %</td><td>Met</td></tr>
    <tr><td>Email</td><td>–</td><td>Missed</td></tr></tbody></table>
    <table><thead><tr><th>Table</th><th>Column</th><th>Note</th></tr></thead>
    <tbody><tr><td>leads</td><td>customer_at</td><td>set <code>lead_id</code> first</td></tr>
    </tbody></table></body></html>"""
    assert raw_values(clean) == []
    dirty = """<html><body><h1>Report</h1>
    <p>ROAS nan and a payback of inf months.</p>
    <p>Set save_config = True to keep the file.</p>
    <p>Saved at Timestamp('2026-01-01 00:00:00') by &lt;salesmkt.Model object at 0x7f3a&gt;.</p>
    <table><thead><tr><th></th><th>owner_id</th><th>met</th></tr></thead>
    <tbody><tr><th>0</th><td>u1</td><td>True</td></tr>
    <tr><th>1</th><td>u2</td><td>None</td></tr></tbody></table>
    <table><thead><tr><th>Channel</th><th>Stage</th></tr></thead>
    <tbody><tr><td>paid_search</td><td>Closed won</td></tr>
    <tr><td>Email</td><td>from closed_won</td></tr></tbody></table>
    <table><thead><tr><th></th><th>Owner</th></tr></thead>
    <tbody><tr><td>0</td><td>u1</td></tr><tr><td>1</td><td>u2</td></tr></tbody></table>
    </body></html>"""
    found = raw_values(dirty, "r")
    kinds = {line.split(": ")[1] for line in found}
    assert kinds == {
        "raw value",
        "code parameter",
        "Python representation",
        "snake_case column header",
        "row number shown as a row header",
        "raw value in a table cell",
        "row numbers in an unlabelled first column",
        "snake_case value in a table cell",
    }, found
    assert "r: snake_case column header: 'owner_id'" in found
    assert "r: raw value in a table cell: 'True'" in found
    assert "r: raw value in a table cell: 'None'" in found
    assert "r: snake_case value in a table cell: 'paid_search'" in found
    assert "r: snake_case value in a table cell: 'from closed_won'" in found
    assert not any("'met'" in line for line in found)  # one word: not snake_case


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


def check_report(browser, path: Path, name: str | None = None) -> list[str]:
    """Everything wrong with one rendered report, as readable lines; saves a full-page
    screenshot as ``test-artifacts/screenshots/<name>.png`` (``name``: the file's stem)."""
    name = name or path.stem
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
    problems += raw_values(page.content(), name)
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


@pytest.mark.slow
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
        "06_pipeline_forecast.html": "Pipeline and forecast: sample company, June 2026",
    }


@pytest.mark.slow
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
