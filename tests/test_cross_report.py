"""The rendered sample reports tell one story: a number shown in two reports is the same number.

Each check reads the figures a manager sees, from the rendered HTML of the reports (the
``sample_reports`` fixture renders all five once), and compares them across reports: the KPI
scorecard of the KPI setup (03) and of the check-in (05) for the same period, the check-in's
headline counts against its own scorecard table, the personas' names and sizes of the workshop
(02) against the campaign review (04) and the check-in, and the lead and customer counts of the
data check (01), the funnel (03), the workshop and the campaign review.

Tables are found by what their columns say (case, underscores and units aside), not by their
position, so that a new section or a relabelled column does not break the checks.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

SUMMARY = re.compile(
    r"(\d+) of (\d+) KPIs on track, (\d+) at risk, (\d+) off track\.\**"
    r"(?: Off track: (.+?)\.(?= [A-Z*\d]|$))?"
)


def _named(listing: str | None) -> list[str]:
    """The KPI names of an "Off track: ..." listing: names alone ("CAC, Win rate") or each with
    its gap ("CAC $501 against $450 (11 % worse ...), up 35 % ...; Win rate 30.0 % against ...")."""
    if not listing:
        return []
    parts = listing.split("; ") if "; " in listing else listing.split(", ")
    return [re.split(r" (?=[-$€£]?\d)| against ", p, maxsplit=1)[0] for p in parts]


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("\xa0", " ").split()).lower()


class Table:
    """One HTML table: normalised column headers, the cell texts, and its title if any."""

    def __init__(self, element):
        self.title = ""
        title = element.find(class_="gt_title")
        if title is not None:
            self.title = title.get_text(" ", strip=True)
        head = element.find("thead")
        rows = element.find_all("tr")
        header_row = head.find_all("tr")[-1] if head is not None else rows[0]
        self.columns = [
            _norm(c.get_text(" ", strip=True)) for c in header_row.find_all(["th", "td"])
        ]
        body = element.find("tbody")
        body_rows = body.find_all("tr") if body is not None else rows[1:]
        self.rows = [
            [" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["th", "td"])]
            for tr in body_rows
        ]
        self.rows = [r for r in self.rows if len(r) == len(self.columns)]

    def col(self, *words: str) -> int:
        """Index of the first column whose header contains all ``words``."""
        for i, c in enumerate(self.columns):
            if all(w in c for w in words):
                return i
        raise KeyError(f"no column with {words} in {self.columns}")

    def has(self, *words: str) -> bool:
        try:
            self.col(*words)
        except KeyError:
            return False
        return True

    def records(self, **spec: tuple[str, ...]) -> list[dict]:
        idx = {k: self.col(*v) for k, v in spec.items()}
        return [{k: r[i] for k, i in idx.items()} for r in self.rows]


def _page(reports, stem: str) -> BeautifulSoup:
    _, rendered = reports
    path = next(r.html_path for r in rendered if r.html_path.stem.startswith(stem))
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _tables(page: BeautifulSoup) -> list[Table]:
    return [Table(t) for t in page.find_all("table")]


def _find(page: BeautifulSoup, test, what: str) -> Table:
    found = [t for t in _tables(page) if test(t)]
    assert found, f"no table of {what} in the report"
    return found[0]


def _int(text: str) -> int:
    return int(re.sub(r"[^\d-]", "", text))


def _scorecard(page: BeautifulSoup) -> Table:
    return _find(page, lambda t: t.title.startswith("KPI scorecard"), "the KPI scorecard")


# --- the KPI setup (03) and the check-in (05) score the same KPIs the same way ---------------


def test_kpi_setup_and_check_in_show_the_same_scorecard(sample_reports):
    setup, checkin = (
        _scorecard(_page(sample_reports, "03")),
        _scorecard(_page(sample_reports, "05")),
    )
    assert setup.title == checkin.title  # the same period
    spec = {
        "kpi": ("kpi",),
        "value": ("value",),
        "target": ("target",),
        "previous": ("previous",),
        "status": ("status",),
    }
    assert setup.records(**spec) == checkin.records(**spec)
    rows = {r["kpi"]: r for r in checkin.records(**spec)}
    # every shared KPI has an agreed target in the sample's kpis.yml: none is left unjudged
    assert not [k for k, r in rows.items() if "no target" in r["status"]]
    # marketing's MQL commitment of the SLA is on the scorecard, judged
    mql = [r for k, r in rows.items() if "MQL" in k and "SLA" in k]
    assert len(mql) == 1 and mql[0]["status"] in ("on track", "at risk", "off track")


def test_check_in_headline_counts_its_scorecard(sample_reports):
    page = _page(sample_reports, "05")
    table = _scorecard(page).records(kpi=("kpi",), status=("status",))
    statuses = [r["status"] for r in table]
    text = " ".join(page.get_text(" ").split())
    found = list(SUMMARY.finditer(text))
    assert found, "the check-in states no count of KPIs on track"
    for m in found:
        on, judged, risk, off = map(int, m.group(1, 2, 3, 4))
        assert on == statuses.count("on track")
        assert risk == statuses.count("at risk")
        assert off == statuses.count("off track")
        assert judged == on + risk + off
        assert _named(m.group(5)) == [r["kpi"] for r in table if r["status"] == "off track"]


# --- personas: the workshop's names and sizes are the other reports' -------------------------


def _workshop_personas(reports) -> dict[str, int]:
    """Persona name -> leads, from the workshop's persona summary table."""
    page = _page(reports, "02")
    table = _find(
        page,
        lambda t: t.has("name") and t.has("leads") and t.has("conversion"),
        "the personas' outcomes",
    )
    # the workshop numbers its personas (P1 .. Pk) before their names; the name is the persona
    return {
        _unnumbered(r["name"]): _int(r["leads"])
        for r in table.records(name=("name",), leads=("leads",))
    }


def _unnumbered(name: str) -> str:
    return re.sub(r"^P\d+ ", "", name)


def test_workshop_personas_carry_their_names(sample_reports):
    personas = _workshop_personas(sample_reports)
    assert len(personas) == 5
    assert not [n for n in personas if re.fullmatch(r"persona \w+", n)]
    page = _page(sample_reports, "02")
    listed = _find(
        page, lambda t: t.has("name") and t.has("since the last fit"), "the workshop's personas"
    )
    rows = listed.records(name=("name",), status=("since the last fit",))
    assert sorted(r["name"] for r in rows) == sorted(personas)
    # every saved persona was found again in the report's fit
    assert {r["status"] for r in rows} == {"the same persona as before"}


def test_campaign_review_counts_the_workshops_personas(sample_reports):
    personas = _workshop_personas(sample_reports)
    page = _page(sample_reports, "04")
    rates = _find(page, lambda t: t.has("breakdown") and t.has("group"), "conversion by group")
    rows = rates.records(breakdown=("breakdown",), group=("group",), leads=("leads",))
    by_persona = {r["group"]: _int(r["leads"]) for r in rows if _norm(r["breakdown"]) == "persona"}
    assert by_persona == personas


def test_check_in_names_the_workshops_personas(sample_reports):
    personas = _workshop_personas(sample_reports)
    page = _page(sample_reports, "05")
    table = _find(
        page,
        lambda t: t.has("persona") and t.has("lost beyond the average"),
        "the drop-offs by persona",
    )
    shown = {r["persona"] for r in table.records(persona=("persona",))}
    assert shown and shown <= set(personas)


# --- leads and customers: the data check, the funnel, the workshop, the campaign review --------


def test_lead_and_customer_counts_agree(sample_reports):
    overview = _find(
        _page(sample_reports, "01"),
        lambda t: t.columns[:1] == ["table"] and t.has("rows"),
        "the tables and their rows",
    )
    rows = {r["table"]: _int(r["rows"]) for r in overview.records(table=("table",), rows=("rows",))}
    n_leads = rows["leads"]

    setup = _page(sample_reports, "03")
    funnel = _find(setup, lambda t: t.has("stage") and t.has("entered"), "the funnel")
    entered = {  # stages as the table shows them ("Lead", "MQL"), compared in lower case
        _norm(r["stage"]): _int(r["entered"])
        for r in funnel.records(stage=("stage",), entered=("entered",))
    }
    # the funnel counts fewer leads than the data check, and says how many and why
    text = " ".join(setup.get_text(" ").split())
    m = re.search(r"The funnel counts ([\d,]+) of ([\d,]+) leads\s*:\s*([\d,]+) leads? whose", text)
    assert m, "the funnel does not say how many leads it counts"
    placed, total, left_out = (_int(g) for g in m.groups())
    assert (placed, total) == (entered["lead"], n_leads)
    assert placed + left_out == n_leads

    # conversion by channel in 03 and 04: every lead, and the funnel's customers
    by_channel = _find(
        setup, lambda t: t.has("channel") and t.has("customers"), "customers by source"
    )
    counted = by_channel.records(leads=("leads",), customers=("customers",))
    assert sum(_int(r["leads"]) for r in counted) == n_leads
    customers = sum(_int(r["customers"]) for r in counted)
    assert customers == entered["customer"]

    review = _page(sample_reports, "04")
    rates = _find(
        review, lambda t: t.has("breakdown") and t.has("converted"), "conversion by group"
    )
    rows4 = rates.records(breakdown=("breakdown",), leads=("leads",), converted=("converted",))
    for breakdown in ("channel", "persona"):
        part = [r for r in rows4 if _norm(r["breakdown"]) == breakdown]
        assert sum(_int(r["leads"]) for r in part) == n_leads, breakdown
        assert sum(_int(r["converted"]) for r in part) == customers, breakdown

    # the workshop's personas hold every lead and the same customers
    assert sum(_workshop_personas(sample_reports).values()) == n_leads
    workshop = _find(
        _page(sample_reports, "02"),
        lambda t: t.has("name") and t.has("customers"),
        "the personas' outcomes",
    )
    assert sum(_int(r["c"]) for r in workshop.records(c=("customers",))) == customers


# --- the check-in (05) and the pipeline report (06) show the same forecast -------------------

FORECAST_SENTENCE = re.compile(
    r"(Q\d \d{4}) (?:is at risk|is on track|is made):?\** .*?P50 (\S+) against a (\S+) quarter "
    r"target, an? (\d+) % chance"
)


def _forecast_table(page: BeautifulSoup) -> dict[str, dict]:
    table = _find(
        page,
        lambda t: t.has("group") and t.has("p50") and t.has("p10") and t.has("p90"),
        "the forecast by customer type",
    )
    spec = {"group": ("group",), "p10": ("p10",), "p50": ("p50",), "p90": ("p90",)}
    return {r["group"]: r for r in table.records(**spec)}


def test_check_in_and_pipeline_report_show_the_same_forecast(sample_reports):
    checkin, pipeline = _page(sample_reports, "05"), _page(sample_reports, "06")
    sentences = []
    for page in (checkin, pipeline):
        text = " ".join(page.get_text(" ").split())
        found = FORECAST_SENTENCE.search(text)
        assert found, "the report states no forecast against the quarter's target"
        sentences.append(found.groups())
    assert sentences[0] == sentences[1]
    in_05, in_06 = _forecast_table(checkin), _forecast_table(pipeline)
    for group in ("Total", "New customers", "Existing customers"):
        assert in_05[group] == in_06[group], group
    # the sentence's P50 is the table's, in its short form ($1,556,850 -> $1.56M)
    amount = _int(in_06["Total"]["p50"])
    short = f"${amount / 1e6:.2f}M" if amount >= 1e6 else f"${amount / 1e3:.0f}k"
    assert sentences[1][1] == short
