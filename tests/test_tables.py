"""The one table format of the reports (``salesmkt._base.tables``, public ``format_table``) and
the number formats behind it (``salesmkt._base.formats``), on small hand-made frames."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt._base.formats import format_amount, format_unit
from salesmkt._base.tables import column_label, format_table
from salesmkt.kpis.config import KPIConfigError, load_kpi_config

SNAKE = re.compile(r"^[a-z]+(_[a-z]+)+$")


def _cells(gt) -> tuple[list[str], list[list[str]]]:
    soup = BeautifulSoup(gt.as_raw_html(), "html.parser")
    head = [th.get_text(strip=True) for th in soup.select("thead tr.gt_col_headings th")]
    body = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    return head, body


def test_a_table_reads_in_plain_words_with_units_and_currency():
    table = pd.DataFrame(
        {
            "owner_id": ["u1", "u2"],
            "spend": [1234567.4, np.nan],
            "conversion_rate": [0.03125, 0.5],
            "median_days": [3.25, np.inf],
            "leads": [12000, 7],
            "met": [True, False],
            "first": pd.to_datetime(["2025-01-03", None]),
        }
    )
    head, body = _cells(format_table(table, currency="EUR"))
    assert head == [
        "Sales owner",
        "Spend",
        "Conversion rate",
        "Median (days)",
        "Leads",
        "Commitment",
        "First",
    ]
    assert body == [
        ["u1", "€1,234,567", "3.1 %", "3.2", "12,000", "Met", "3 Jan 2025"],
        ["u2", "–", "50.0 %", "–", "7", "Missed", "–"],
    ]


def test_unknown_columns_get_a_label_and_a_format_from_their_name_and_type():
    table = pd.DataFrame(
        {"n_open_deals": [1500.0], "time_to_sql_days": [2.0], "win_share": [0.25], "flag": [True]}
    )
    head, body = _cells(format_table(table))
    assert head == ["Open deals", "Time to SQL (days)", "Win share", "Flag"]
    assert body == [["1,500", "2.0", "25.0 %", "Yes"]]


def test_a_pivot_keeps_its_row_labels_and_drops_row_numbers():
    long = pd.DataFrame(
        {
            "channel": ["email", "email", "paid_search", "paid_search"],
            "model": ["first_touch", "markov", "first_touch", "markov"],
            "roas": [2.0, 3.5, 1.34, 0.5],
        }
    )
    wide = long.pivot(index="channel", columns="model", values="roas")
    gt = format_table(wide, value_kind="ratio", highlight="row_max")
    head, body = _cells(gt)
    assert head == ["Channel", "First touch", "Markov"]
    assert body == [["Email", "2.0", "3.5"], ["Paid search", "1.3", "0.5"]]  # plain labels
    html = gt.as_raw_html()
    # the largest value of each row (3.5 for email, 1.34 for paid search) is in bold
    bold = [
        td.get_text(strip=True)
        for td in BeautifulSoup(html, "html.parser").find_all("td")
        if "font-weight: bold" in [d.strip() for d in (td.get("style") or "").split(";")]
    ]
    assert bold == ["3.5", "1.3"]
    head, body = _cells(format_table(long.iloc[[2, 0]]))  # a filtered frame: index 2, 0
    assert [row[0] for row in body] == ["Paid search", "Email"] and len(head) == 3


def test_kpi_values_are_formatted_in_their_own_unit():
    table = pd.DataFrame(
        {
            "name": ["Win rate", "CAC", "Lead response time"],
            "unit": ["share", "currency", "hours"],
            "recent_value": [0.4512, 501.2, 3.21],
        }
    )
    head, body = _cells(format_table(table, currency="GBP", labels={"name": "KPI"}))
    assert head == ["KPI", "Unit", "Recent value"]
    assert body == [
        ["Win rate", "%", "45.1 %"],
        ["CAC", "GBP", "£501"],
        ["Lead response time", "hours", "3.2 h"],
    ]


def test_amounts_read_with_their_currency():
    assert format_amount(1234.5, "USD") == "$1,234"
    assert format_amount(-0.004, "EUR") == "€0.00"  # no minus on a value that rounds to zero
    assert format_amount(12.5, "CHF") == "CHF 12.50"
    assert format_unit(80.5, "currency/day", "EUR") == "€80.50 a day"


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="kinds: unknown kind"):
        format_table(pd.DataFrame({"a": [1]}), kinds={"a": "money"})
    with pytest.raises(ValueError, match="highlight"):
        format_table(pd.DataFrame({"a": [1]}), highlight="max")
    with pytest.raises(ValueError, match="duplicated column"):
        format_table(pd.DataFrame([[1, 2]], columns=["a", "a"]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    names=st.lists(
        st.from_regex(r"[a-z]{1,6}(_[a-z]{1,6}){1,3}", fullmatch=True),
        min_size=1,
        max_size=4,
        unique=True,
    ),  # fmt: skip
    values=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()), min_size=1, max_size=5
    ),  # fmt: skip
)
def test_no_snake_case_header_and_no_raw_missing_value_ever_shows(names, values):
    table = pd.DataFrame({n: pd.Series(values, dtype=float) for n in names})
    head, body = _cells(format_table(table))
    assert len(head) == len(names)
    assert not [h for h in head if SNAKE.match(h)]
    raw = re.compile(r"(?<![\w.])(nan|inf|None|NaN)(?![\w])")
    assert not [c for row in body for c in row if raw.search(c)]
    assert all(column_label(n)[:1].isupper() for n in names)


def test_the_currency_comes_from_kpis_yml(tmp_path):
    assert load_kpi_config(None)["currency"] == "USD"  # the shipped template (the sample's)
    (tmp_path / "kpis.yml").write_text("currency: eur\n")
    assert load_kpi_config(tmp_path)["currency"] == "EUR"
    (tmp_path / "kpis.yml").write_text("currency: euros\n")
    with pytest.raises(KPIConfigError, match="currency: must be a three-letter ISO code"):
        load_kpi_config(tmp_path)


def test_the_public_name_is_the_reports_one():
    assert salesmkt.format_table is salesmkt.reports.format_table
    head, _ = _cells(salesmkt.format_table(pd.DataFrame({"excess_lost": [1]})))
    assert head == ["Lost beyond the average"]


def test_category_values_read_as_plain_labels_and_identifiers_stay():
    table = pd.DataFrame(
        {
            "channel": ["paid_search", "email", "(missing)"],
            "stage": ["mql", "closed_won", "opportunity"],
            "column": ["customer_at", "lead_id", "mql_at"],  # the data contract's names
            "name": ["Brand Search", "spring_webinar", "O03"],
        }
    )
    _, body = _cells(format_table(table))
    assert body == [
        ["Paid search", "MQL", "customer_at", "Brand Search"],
        ["Email", "Closed won", "lead_id", "Spring webinar"],
        ["(missing)", "Opportunity", "mql_at", "O03"],
    ]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.from_regex(r"[a-z]{1,8}(_[a-z0-9]{1,6}){0,3}", fullmatch=True))
def test_no_code_like_value_survives_plain_label(code):
    from salesmkt._base.formats import plain_label

    label = plain_label(code)
    assert "_" not in label and label[:1] == label[:1].upper()
    # the words are kept, in order
    assert label.replace("-", " ").lower().split() == code.split("_")
