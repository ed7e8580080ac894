"""One vocabulary for periods: the codes, words and keywords every public function shares.

The small company below has leads on both sides of the March/April boundary (worked by hand:
three leads created in March, two in April, one in February), so every function that buckets
rows by month must find the same three March leads.
"""

from __future__ import annotations

import warnings

import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data import periods
from salesmkt.data.dataset import Dataset

NOTEBOOKS = sorted(
    p for p in (__import__("pathlib").Path(__file__).parents[1] / "notebooks").glob("0*.ipynb")
)


def _utc(values):
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")


#: created_at by hand: L5 is the last second of February, L1 the first of March, L3 the last
#: second of March, L4 the first of April.
CREATED = {
    "L1": "2025-03-01T00:00:00Z",
    "L2": "2025-03-15T12:00:00Z",
    "L3": "2025-03-31T23:59:59Z",
    "L4": "2025-04-01T00:00:00Z",
    "L5": "2025-02-28T23:59:59Z",
    "L6": "2025-04-15T08:00:00Z",
}
MARCH = ["L1", "L2", "L3"]


def company() -> Dataset:
    ids = list(CREATED)
    created = _utc(list(CREATED.values()))
    leads = pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="string"),
            "created_at": created,
            "channel": pd.array(["email", "paid_search"] * 3, dtype="string"),
            "campaign_id": pd.array(["C1", "C2"] * 3, dtype="string"),
            "account_id": pd.array([f"A{i}" for i in range(1, 7)], dtype="string"),
            "owner_id": pd.array(["O1", "O2"] * 3, dtype="string"),
            "mql_at": created + pd.Timedelta(hours=1),
            "sql_at": _utc([created[0] + pd.Timedelta(days=1), None, None, None, None, None]),
            "opportunity_at": _utc([None] * 6),
            "customer_at": _utc([None] * 6),
            "first_response_at": created + pd.Timedelta(hours=2),
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": pd.array(["D1", "D2"], dtype="string"),
            "lead_id": pd.array(["L1", "L4"], dtype="string"),
            "account_id": pd.array(["A1", "A4"], dtype="string"),
            "owner_id": pd.array(["O1", "O2"], dtype="string"),
            "created_at": _utc(["2025-03-02T00:00:00Z", "2025-04-02T00:00:00Z"]),
            "closed_at": _utc(["2025-03-20T00:00:00Z", "2025-04-10T00:00:00Z"]),
            "amount": [100.0, 50.0],
            "status": pd.array(["won", "lost"], dtype="string"),
            "deal_type": pd.array(["new_business", "new_business"], dtype="string"),
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": pd.array(["O1", "O2", "O3"], dtype="string"),
            "customer_id": pd.array(["A1", "A1", "A2"], dtype="string"),
            "ordered_at": _utc(
                ["2025-03-20T00:00:00Z", "2025-06-30T23:59:59Z", "2025-07-01T00:00:00Z"]
            ),
            "revenue": [100.0, 100.0, 80.0],
        }
    )
    spend = pd.DataFrame(
        {
            "date": _utc(["2025-03-01T00:00:00Z", "2025-03-31T00:00:00Z", "2025-04-01T00:00:00Z"]),
            "campaign_id": pd.array(["C1", "C2", "C1"], dtype="string"),
            "amount": [10.0, 20.0, 40.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": pd.array(["C1", "C2"], dtype="string"),
            "channel": pd.array(["email", "paid_search"], dtype="string"),
        }
    )
    return Dataset(leads=leads, deals=deals, orders=orders, spend=spend, campaigns=campaigns)


def events() -> pd.DataFrame:
    """A ``visit`` when each lead was created, a ``signup`` an hour later."""
    leads = company().leads
    visit = pd.DataFrame({"person_id": leads["lead_id"], "ts": leads["created_at"]})
    signup = visit.assign(ts=visit["ts"] + pd.Timedelta(hours=1))
    out = pd.concat([visit.assign(event="visit"), signup.assign(event="signup")])
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return company()


# ------------------------------------------------------------------ every function, one vocabulary
#: Every public function with a frequency, called on the small company with ``freq``.
CALLS = {
    "kpi_table": lambda ds, f: salesmkt.kpi_table(
        ds, kpis=["stage_conversion", "win_rate"], freq=f, as_of="2025-08-01"
    ),
    "sla_report": lambda ds, f: salesmkt.sla_report(ds, freq=f, as_of="2025-08-01"),
    "report_period": lambda ds, f: pd.Series(salesmkt.report_period(ds, freq=f)),
    "cohort_retention": lambda ds, f: salesmkt.cohort_retention(
        ds.orders, freq=f, as_of="2026-01-01"
    ),
    "lifecycle_funnel": lambda ds, f: salesmkt.lifecycle_funnel(ds.leads, freq=f),
    "funnel_trends": lambda ds, f: salesmkt.funnel_trends(
        events(), ["visit", "signup"], window="1D", freq=f
    ),
    "spend_metrics": lambda ds, f: salesmkt.spend_metrics(ds, by="channel", freq=f),
    "period_label": lambda ds, f: periods.period_label(ds.leads["created_at"], f),
    "first_order_cohort": lambda ds, f: salesmkt.first_order_cohort(ds.orders, freq=f),
    "order_customer_type": lambda ds, f: salesmkt.order_customer_type(ds.orders, freq=f),
    "active_customers": lambda ds, f: salesmkt.active_customers(ds.orders, freq=f),
    "customer_retention": lambda ds, f: salesmkt.customer_retention(ds.orders, freq=f),
    "revenue_retention": lambda ds, f: salesmkt.revenue_retention(ds.orders, freq=f),
}


def spellings(code: str) -> list[str]:
    word = periods.WORDS[code]
    adjective = "daily" if word == "day" else f"{word}ly"
    return [code.lower(), word, word.upper(), adjective.capitalize()]


def _same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        pd.testing.assert_series_equal(a, b)


def test_every_function_with_a_frequency_is_covered():
    assert set(periods.SUPPORTED) - {"kpis.yml"} <= set(CALLS)
    import inspect

    for name in salesmkt.__all__:
        obj = getattr(salesmkt, name)
        if callable(obj) and not isinstance(obj, type):
            try:
                params = inspect.signature(obj).parameters
            except (TypeError, ValueError):
                continue
            if "freq" in params:
                assert name in CALLS, f"{name} takes freq: add it to CALLS and SUPPORTED"


@pytest.mark.parametrize(
    ("name", "code"),
    [(n, c) for n in CALLS for c in periods.SUPPORTED.get(n, periods.CODES)],
)
def test_codes_and_words_give_the_same_result(ds, name, code):
    expected = CALLS[name](ds, code)
    for spelling in spellings(code):
        _same(CALLS[name](ds, spelling), expected)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (n, c)
        for n in CALLS
        for c in periods.CODES
        if c not in periods.SUPPORTED.get(n, periods.CODES)
    ]
    + [(n, "fortnight") for n in CALLS]
    + [(n, "MS") for n in CALLS],
)
def test_unsupported_frequency_names_function_keyword_value_and_choices(ds, name, code):
    allowed = periods.SUPPORTED.get(name, periods.CODES)
    with pytest.raises(ValueError) as err:
        CALLS[name](ds, code)
    message = str(err.value)
    assert message.startswith(f"{name}: freq={code!r}")
    for c in allowed:
        assert f"{c!r} ({periods.WORDS[c]})" in message


def test_the_accepted_set_is_the_same_everywhere():
    assert periods.CODES == ("D", "W", "M", "Q", "Y")
    for name, codes in periods.SUPPORTED.items():
        assert set(codes) <= set(periods.CODES), name
    assert {periods.check_freq(w, allowed=periods.CODES) for w in periods.ALIASES} == set(
        periods.CODES
    )


def test_kpis_yml_accepts_the_words(tmp_path):
    config = salesmkt.kpi_config_template()
    (tmp_path / "kpis.yml").write_text("freq: quarter\n")
    assert salesmkt.load_kpi_config(tmp_path)["freq"] == "Q"
    (tmp_path / "kpis.yml").write_text("freq: D\n")
    with pytest.raises(salesmkt.KPIConfigError, match="freq: must be M, Q or W"):
        salesmkt.load_kpi_config(tmp_path)
    assert config["freq"] == "M"


# ------------------------------------------------------------------ the same period, the same rows
def test_march_leads_agree_across_functions(ds):
    """Leads created in March 2025 (worked by hand: L1, L2, L3) in every monthly view."""
    n = len(MARCH)
    labels = periods.period_label(ds.leads["created_at"], "M")
    assert sorted(ds.leads["lead_id"][labels == "2025-03"]) == MARCH

    t = salesmkt.kpi_table(ds, kpis=["stage_conversion"], freq="M", as_of="2025-08-01")
    march = t[(t["period"] == "2025-03") & (t["item"] == "lead_to_mql")]
    assert march["denominator"].tolist() == [n]

    f = salesmkt.lifecycle_funnel(ds.leads, freq="month")
    cohort = f[(f["cohort"] == pd.Timestamp("2025-03-01", tz="UTC")) & (f["stage"] == "lead")]
    assert cohort["entered"].tolist() == [n]
    assert f.loc[f["stage"] == "lead", "entered"].tolist() == [1, 3, 2]  # Feb, Mar, Apr

    vol = salesmkt.monthly_volume(ds)
    leads = vol[vol["table"] == "leads"].set_index("month")["rows"]
    assert leads.to_dict() == {
        pd.Timestamp("2025-02-01"): 1,
        pd.Timestamp("2025-03-01"): n,
        pd.Timestamp("2025-04-01"): 2,
    }

    m = salesmkt.spend_metrics(ds, by="channel", freq="M")
    assert m.groupby("period")["leads"].sum().to_dict() == {
        "2025-02": 1,
        "2025-03": n,
        "2025-04": 2,
    }
    assert m.groupby("period")["spend"].sum().to_dict() == {
        "2025-02": 0.0,
        "2025-03": 30.0,
        "2025-04": 40.0,
    }

    tr = salesmkt.funnel_trends(events(), ["visit", "signup"], window="1D", freq="M")
    first = tr[tr["step"] == 1].set_index("period")["persons"]
    assert first[pd.Timestamp("2025-03-01", tz="UTC")] == n

    conv = salesmkt.customer_conversions(ds.leads, ds.deals, start="2025-03-01", end="2025-04-01")
    assert conv["person_id"].tolist() == ["L1"]  # D1 closed 2025-03-20


def test_report_period_is_half_open(ds):
    p = salesmkt.report_period(ds, "2025-03-10", freq="month")
    assert (p["start"], p["end"], p["label"]) == (
        pd.Timestamp("2025-03-01", tz="UTC"),
        pd.Timestamp("2025-04-01", tz="UTC"),
        "2025-03",
    )
    inside = periods.within(ds.leads["created_at"], p["start"], p["end"])
    assert sorted(ds.leads.loc[inside.to_numpy(), "lead_id"]) == MARCH


# ------------------------------------------------------------------ old keywords
OLD = [
    (
        "spend_metrics",
        lambda ds, **kw: salesmkt.spend_metrics(ds, by="channel", **kw),
    ),
    ("referral_summary", lambda ds, **kw: salesmkt.referral_summary(ds, **kw)),
    (
        "customer_conversions",
        lambda ds, **kw: salesmkt.customer_conversions(ds.leads, ds.deals, **kw),
    ),
    (
        "build_journeys",
        lambda ds, **kw: salesmkt.build_journeys(
            events().rename(columns={"event": "channel"}),
            salesmkt.customer_conversions(ds.leads, ds.deals).assign(
                person_id=lambda c: c["person_id"]
            ),
            **kw,
        ),
    ),
]


@pytest.mark.parametrize(("name", "call"), OLD, ids=[n for n, _ in OLD])
def test_period_start_and_period_end_warn_and_agree(ds, name, call):
    new = call(ds, start="2025-03-01", end="2025-04-01")
    with pytest.warns(DeprecationWarning) as record:
        old = call(ds, period_start="2025-03-01", period_end="2025-04-01")
    messages = [str(r.message) for r in record]
    assert f"{name}: the keyword 'period_start' is deprecated; use 'start'" in messages
    assert f"{name}: the keyword 'period_end' is deprecated; use 'end'" in messages
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(TypeError, match="give 'start' only"), pytest.warns(DeprecationWarning):
        call(ds, start="2025-03-01", period_start="2025-03-01")
    with pytest.raises(TypeError, match="unexpected keyword argument 'period_begin'"):
        call(ds, period_begin="2025-03-01")


def test_lifecycle_cohort_keyword_warns_and_agrees(ds):
    new = salesmkt.lifecycle_funnel(ds.leads, freq="M")
    with pytest.warns(
        DeprecationWarning, match="lifecycle_funnel: the keyword 'cohort' is deprecated; use 'freq'"
    ):
        old = salesmkt.lifecycle_funnel(ds.leads, cohort="M")
    pd.testing.assert_frame_equal(old, new)


def test_new_keywords_do_not_warn(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        salesmkt.spend_metrics(ds, start="2025-03-01", end="2025-04-01", freq="month")
        salesmkt.lifecycle_funnel(ds.leads, freq="quarter")


def test_run_reports_reserves_old_and_new_period_parameters(tmp_path):
    for key in ("start", "end", "period_start", "period_end"):
        with pytest.raises(ValueError, match="set by run_reports' own arguments"):
            salesmkt.run_reports(tmp_path, tmp_path, parameters={key: "2025-01-01"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_use_the_new_keywords(path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for old in ("period_start", "period_end", "cohort="):
        assert old not in code, f"{path.name} still uses {old}"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    assert "start = None" in params[0].source and "end = None" in params[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


# ------------------------------------------------------------------ boundaries by hand
@pytest.mark.parametrize(
    ("ts", "freq", "label"),
    [
        ("2025-03-31T23:59:59Z", "M", "2025-03"),
        ("2025-04-01T00:00:00Z", "M", "2025-04"),
        ("2025-03-31T23:59:59.999999Z", "Q", "2025-Q1"),
        ("2025-04-01T00:00:00Z", "Q", "2025-Q2"),
        ("2025-12-31T23:59:59Z", "Y", "2025"),
        ("2026-01-01T00:00:00Z", "Y", "2026"),
        ("2025-03-31T23:59:59Z", "D", "2025-03-31"),
        ("2025-04-01T00:00:00Z", "D", "2025-04-01"),
        # weeks start on Monday: Sunday 2025-03-30 is in the week of Monday 24 March
        ("2025-03-30T23:59:59Z", "W", "2025-W13"),
        ("2025-03-31T00:00:00Z", "W", "2025-W14"),
        # ISO weeks across a year end: Monday 2024-12-30 starts 2025-W01
        ("2024-12-29T23:59:59Z", "W", "2024-W52"),
        ("2024-12-30T00:00:00Z", "W", "2025-W01"),
        # a time in another zone is placed by its UTC time
        ("2025-04-01T01:30:00+02:00", "M", "2025-03"),
    ],
)
def test_boundaries_by_hand(ts, freq, label):
    s = _utc([ts])
    assert periods.period_label(s, freq).tolist() == [label]
    start = periods.floor(s, freq).iloc[0]
    end = periods.shift(start, freq)
    assert periods.within(s, start, end).all()
    assert periods.label(start, freq) == label


def test_week_starts_are_mondays_at_midnight_utc():
    s = _utc(["2025-03-26T15:00:00Z"])
    start = periods.floor(s, "W").iloc[0]
    assert start == pd.Timestamp("2025-03-24", tz="UTC") and start.day_name() == "Monday"
    assert periods.shift(start, "W") == pd.Timestamp("2025-03-31", tz="UTC")


def test_period_label_keeps_missing_and_reads_naive_as_utc():
    s = pd.Series(pd.to_datetime(["2025-03-31 23:59:59", None]))
    out = periods.period_label(s, "month")
    assert out.iloc[0] == "2025-03" and pd.isna(out.iloc[1])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.datetimes(min_value=pd.Timestamp("2000-01-01"), max_value=pd.Timestamp("2040-12-31")),
    st.sampled_from(periods.CODES),
)
def test_every_time_is_in_exactly_its_period(t, freq):
    """floor(t) <= t < shift(floor(t)), and the label parses back to the same period."""
    ts = pd.Timestamp(t, tz="UTC")
    start = periods.floor_one(ts, freq)
    end = periods.shift(start, freq)
    assert start <= ts < end
    assert periods.floor_one(end, freq) == end and periods.shift(end, freq, -1) == start
    assert periods.parse_period(periods.label(start, freq), freq) == start
