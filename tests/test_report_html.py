"""Page titles and chart alt text of the rendered reports, on tiny notebooks (no guided one runs).

The alt text is computed in the report kernel from the figure (``salesmkt._base.alt_text``),
kept in the output's metadata and written into ``<img alt>`` by the report template; the page
title names the report, the data and the period.
"""

from __future__ import annotations

import base64
import datetime as dt
from types import SimpleNamespace

import matplotlib.pyplot as plt
import nbformat
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.formatters import DisplayFormatter

import salesmkt
from salesmkt._base.alt_text import figure_alt_text, register_alt_text
from salesmkt.reports.pipeline import (
    REMOVE_CELL_TAG,
    _data_name,
    _Periods,
    period_words,
    render_html,
    report_title,
    run_reports,
)

NBCONVERT_DEFAULT_ALT = "No description has been provided for this image"
MONTHS = "January February March April May June July August September October November December"


def _png(fig) -> str:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=20)
    return base64.b64encode(buf.getvalue()).decode()


def _page(nb, title=None) -> BeautifulSoup:
    return BeautifulSoup(render_html(nb, title), "html.parser")


def _chart_notebook(metadata: dict | None) -> nbformat.NotebookNode:
    """A notebook with one heading and one chart output made by hand."""
    fig, ax = plt.subplots()
    out = nbformat.v4.new_output(
        "display_data", data={"image/png": _png(fig), "text/plain": "<Figure>"}
    )
    if metadata is not None:
        out.metadata = metadata
    code = nbformat.v4.new_code_cell("salesmkt.plot_channel_mix(mix)", outputs=[out])
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Channel mix: where do leads come from?"), code]
    )


# --- the alt text of a figure -------------------------------------------------------------------


def test_alt_text_is_the_title():
    fig, ax = plt.subplots()
    ax.set_title("Leads by month", loc="left")
    assert figure_alt_text(fig) == "Leads by month."


def test_alt_text_adds_the_takeaway_marked_on_the_chart():
    fig, ax = plt.subplots()
    ax.set_title("Cost per lead by channel")
    ax.text(0.5, 0.9, "Paid search costs twice the average", gid="takeaway")
    ax.text(0.1, 0.1, "a label that is not the takeaway")
    assert figure_alt_text(fig) == (
        "Cost per lead by channel. Paid search costs twice the average."
    )


def test_suptitle_is_the_takeaway_beside_axes_titles_else_the_title():
    fig, ax = plt.subplots()
    ax.set_title("Win rate")
    fig.suptitle("Win rate fell in May")
    assert figure_alt_text(fig) == "Win rate. Win rate fell in May."
    fig2, _ = plt.subplots()
    fig2.suptitle("Win rate by quarter")
    assert figure_alt_text(fig2) == "Win rate by quarter."


def test_alt_text_of_panels_lists_every_title_once_in_order():
    fig, axes = plt.subplots(1, 3)
    for ax, title in zip(axes, ["Leads", "Sessions", "Leads"], strict=True):
        ax.set_title(title)
    assert figure_alt_text(fig) == "Leads; Sessions."


def test_alt_text_is_one_line():
    fig, ax = plt.subplots()
    ax.set_title("Revenue\nby  product ($)")
    assert figure_alt_text(fig) == "Revenue by product ($)."


def test_chart_without_title_is_described_by_labels_then_by_its_text_never_empty():
    fig, ax = plt.subplots()
    ax.set_xlabel("month")
    ax.set_ylabel("leads")
    assert figure_alt_text(fig) == "leads by month."
    fig2, ax2 = plt.subplots()
    ax2.text(0.5, 0.5, "No missing values")
    assert figure_alt_text(fig2) == "No missing values."
    fig3, _ = plt.subplots()
    assert figure_alt_text(fig3) == "Chart without a title."


def test_registered_formatter_adds_alt_metadata_and_leaves_the_png_to_the_backend():
    """The mechanism the report kernel uses, on IPython's own display formatter."""
    formatter = DisplayFormatter()
    formatter.formatters["image/png"].for_type_by_name(
        "matplotlib.figure", "Figure", lambda fig: "PNG-FROM-THE-BACKEND"
    )
    register_alt_text(SimpleNamespace(display_formatter=formatter))
    fig, ax = plt.subplots()
    ax.set_title("Channel mix")
    data, metadata = formatter.format(fig)
    assert data["image/png"] == "PNG-FROM-THE-BACKEND"
    assert metadata["image/png"] == {"alt": "Channel mix."}


# --- the rendered page ------------------------------------------------------------------------


def test_image_shows_the_alt_text_of_its_output_escaped():
    alt = 'Cost per lead & CAC by "channel" <2026>.'
    page = _page(_chart_notebook({"image/png": {"alt": alt}}))
    (img,) = page.find_all("img")
    assert img["alt"] == alt
    assert img["src"].startswith("data:image/png;base64,")


def test_image_without_alt_metadata_gets_nbconverts_default():
    """What the browser test guards against: the pipeline's kernel always sets the metadata."""
    (img,) = _page(_chart_notebook(None)).find_all("img")
    assert img["alt"] == NBCONVERT_DEFAULT_ALT


def test_page_title_is_the_title_given_else_the_notebooks_else_its_heading():
    nb = _chart_notebook(None)
    assert _page(nb, "Channel mix: sample company, March 2026").title.string == (
        "Channel mix: sample company, March 2026"
    )
    assert _page(nb).title.string == "Channel mix: where do leads come from?"
    nb.metadata["title"] = "Our own title"
    assert _page(nb).title.string == "Our own title"
    assert _page(nb, "Asked for").title.string == "Asked for"
    assert nb.metadata["title"] == "Our own title"  # the caller's notebook is left as it was


def test_cells_tagged_remove_cell_leave_no_trace_in_the_page():
    """The notebooks' nbval checks run in every report but show nothing, not even a blank cell."""

    def stream(text):
        return nbformat.v4.new_output("stream", name="stdout", text=text)

    check = nbformat.v4.new_code_cell(
        "assert funnel_is_sorted",
        metadata={"tags": ["nbval-check", REMOVE_CELL_TAG]},
        outputs=[stream("check output\n")],
    )
    other_tag = nbformat.v4.new_code_cell(
        "summary", metadata={"tags": ["nbval-check"]}, outputs=[stream("tagged, kept\n")]
    )
    shown = nbformat.v4.new_code_cell("summary", outputs=[stream("shown output\n")])
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Funnel"), shown, check, other_tag]
    )
    page = _page(nb)
    text = page.get_text()
    assert "shown output" in text and "tagged, kept" in text
    assert "check output" not in text and "funnel_is_sorted" not in str(page)
    # three cells on the page (heading, shown, other tag): none for the removed one
    assert len(page.select("div.jp-Cell")) == 3
    assert len(nb.cells) == 4 and nb.cells[2] is check  # the caller's notebook is left as it was


def test_report_title_takes_the_heading_up_to_its_colon():
    assert report_title(
        "Funnel and KPI setup: one funnel, shared KPIs, targets and the SLA",
        "sample company",
        "March 2026",
    ) == ("Funnel and KPI setup: sample company, March 2026")
    assert report_title("Sales–marketing check-in", "crm database") == (
        "Sales–marketing check-in: crm database"
    )


# --- periods and data names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2026-03-01", "2026-04-01", "March 2026"),
        ("2025-12-01", "2026-03-01", "December 2025 to February 2026"),
        ("2026-01-01", "2026-04-01", "January to March 2026"),
        ("2025-01-01", "2026-01-01", "2025"),
        ("2024-01-01", "2026-01-01", "2024 to 2025"),
        ("2026-03-05", "2026-03-06", "5 March 2026"),
        ("2026-03-31", "2026-04-02", "31 March to 1 April 2026"),
        ("2025-12-15", "2026-01-15", "15 December 2025 to 14 January 2026"),
    ],
)
def test_period_label_reads_end_as_exclusive(start, end, label):
    assert period_words(start, end) == label


def test_period_label_refuses_an_empty_period():
    with pytest.raises(ValueError, match="end .2026-03-01. must be after start"):
        period_words("2026-03-01", "2026-03-01")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 1)))
def test_one_calendar_month_is_named_by_month_and_year(day):
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    assert period_words(start, end) == f"{MONTHS.split()[start.month - 1]} {start.year}"


def test_data_names(tmp_path):
    assert _data_name(salesmkt.sample_dir(), database=False) == "sample company"
    assert _data_name(tmp_path, database=False) == tmp_path.name
    (tmp_path / "crm.xlsx").write_bytes(b"")
    assert _data_name(tmp_path / "crm.xlsx", database=False) == "crm"
    name = _data_name("postgresql://ann:s3cret@db.example.com:5432/crm", database=True)
    assert name == "crm database"  # never the password


def test_each_notebook_shows_its_own_period(sample):
    """All of the sample's data, its latest full month, or the period given.

    The sample company runs from 2025-01-01 to 2026-06-30, with the orders of its earlier
    customers from January 2024 on (salesmkt.sample.revenue).
    """

    def nb(kind):
        return nbformat.v4.new_notebook(metadata={"salesmkt": {"period": kind}} if kind else {})

    default = _Periods(sample, None, None, None)
    declared = {"period_start", "period_end"}
    assert default.label(nb("data"), declared) == "January 2024 to June 2026"
    assert default.label(nb("all"), declared) == "January 2024 to June 2026"
    assert default.label(nb("latest"), declared) == "June 2026"
    assert default.label(nb(None), declared) is None
    assert default.overall() == "January 2024 to June 2026"
    march = _Periods(sample, "2026-03-01", "2026-04-01", None)
    assert march.label(nb("data"), declared) == "January 2024 to June 2026"  # period unused
    assert march.label(nb("all"), declared) == "March 2026"
    assert march.label(nb("latest"), declared) == "March 2026"
    assert march.label(nb(None), declared) == "March 2026"
    assert march.label(nb(None), set()) is None  # a notebook without a period parameter
    assert march.overall() == "March 2026"


# --- one tiny notebook through the whole pipeline ---------------------------------------------


def test_pipeline_titles_the_page_and_describes_the_chart(tmp_path):
    """A team's own notebook: the kernel describes its chart, the page and the index are titled.

    The notebook holds only a heading, parameters and plotting calls (no logic), like the
    guided ones.
    """
    params = nbformat.v4.new_code_cell("data_dir = None\nperiod_start = None\nperiod_end = None")
    params.metadata["tags"] = ["parameters"]
    chart = nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\n"
        "ax.set_title('Leads by month')\n"
        "fig.suptitle('Leads doubled since January', gid='takeaway');"
    )
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Lead trend: are we growing?"), params, chart],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    path = tmp_path / "90_trend.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "out"
    (report,) = run_reports(
        salesmkt.sample_dir(),
        out,
        notebooks=[path],
        start="2026-03-01",
        end="2026-04-01",
        progress=False,
    )
    page = BeautifulSoup(report.html_path.read_text(encoding="utf-8"), "html.parser")
    assert page.title.string == "Lead trend: sample company, March 2026"
    (img,) = page.find_all("img")
    assert img["alt"] == "Leads by month. Leads doubled since January."
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert index.title.string == "Sales & marketing reports: sample company, March 2026"
    assert "March 2026" in index.find("span", class_="meta").get_text()


def test_data_without_dates_shows_no_period():
    import pandas as pd

    empty = SimpleNamespace(summary=lambda: pd.DataFrame({"first": [pd.NaT], "last": [pd.NaT]}))
    nb = nbformat.v4.new_notebook(metadata={"salesmkt": {"period": "data"}})
    assert _Periods(empty, None, None, None).label(nb, set()) is None
    assert _Periods(empty, None, None, None).overall() is None
    given = _Periods(empty, "2026-03-01", "2026-04-01", None)
    assert given.overall() == "March 2026"
