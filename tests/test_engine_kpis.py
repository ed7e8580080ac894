"""The web KPIs and retention computed where the data lives give the pandas figures.

The web KPIs over sessions are one Ibis definition (pandas sessions run by DuckDB in-process);
retention keeps a pandas twin for data in memory, held here to its Ibis form. Checked: the
worked example of the KPI reference (section 9) with sessions as an Ibis table; random sessions
(period boundaries, zero-length and missing durations, bounces, time zones) against a plain
computation written here; random orders (stated terms, rhythms, boundaries) against the pandas
rules; the sample company on PySpark (local mode). PostgreSQL is in tests/test_postgres.py.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kpis import kt, row, val, worked_example

import salesmkt
from salesmkt.data import definitions as defs
from salesmkt.data import retention_engine

WEB = ["avg_session_duration", "traffic_by_channel_group", "bounce_rate", "traffic_to_lead"]
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _duck(df: pd.DataFrame, name: str):
    """``df`` as a table of a fresh in-process DuckDB database (data not in memory)."""
    import ibis

    con = ibis.duckdb.connect()
    return con.create_table(name, df)


# --- the worked example, with the sessions in a database -------------------------------------


def test_worked_example_web_kpis_from_a_database_table():
    ex = worked_example()
    db = replace(ex, sessions=_duck(ex.sessions, "sessions"))
    feb = kt(db, WEB)
    r = row(feb, "avg_session_duration")
    assert r["value"] == pytest.approx(1290 / 7)  # 184.29 s, S7's null duration left out
    assert (r["median"], r["n_excluded"], r["denominator"]) == (45, 1, 7)
    assert val(feb, "traffic_by_channel_group", "organic") == 0.25
    assert val(feb, "traffic_by_channel_group", "paid") == 0.50
    assert val(feb, "traffic_by_channel_group", "organic_to_paid") == 0.5
    b = row(feb, "bounce_rate")
    assert (b["numerator"], b["denominator"]) == (3, 8)
    assert (
        val(kt(db, ["bounce_rate"], {"bounce_definition": "single_page"}), "bounce_rate") == 0.625
    )
    assert val(kt(db, ["bounce_rate"], {"bounce_definition": "column"}), "bounce_rate") == 0.5
    assert val(feb, "traffic_to_lead") == 0.625
    assert val(feb, "traffic_to_lead", "per_visitor") == pytest.approx(5 / 7)
    assert val(feb, "traffic_to_lead", "web_linked") == 0.5
    # a breakdown by the sessions' own column and by their lead's column
    by = kt(db, ["traffic_by_channel_group"], by="channel")
    assert row(by, "traffic_by_channel_group", "paid", channel="display")["numerator"] == 2
    mem = kt(ex, WEB, by="owner_id")
    pd.testing.assert_frame_equal(kt(db, WEB, by="owner_id"), mem)


# --- random sessions: the engine against a plain computation ---------------------------------

BOUNDARIES = [pd.Timestamp(s, tz="UTC") for s in ("2025-01-01", "2025-02-01", "2025-03-01")]
CHANNELS = ["organic_search", "paid_search", "display", "email", "direct", None]


@st.composite
def sessions(draw):
    n = draw(st.integers(0, 25))
    rows = []
    for i in range(n):
        edge = draw(st.sampled_from(BOUNDARIES))
        offset = draw(st.sampled_from([-86_400, -1, 0, 1, 3_600, 20 * 86_400]))
        rows.append(
            {
                "session_id": f"S{i}",
                "visitor_id": f"V{draw(st.integers(0, 5))}",
                "started_at": edge + pd.Timedelta(seconds=offset),
                "duration_s": draw(st.sampled_from([None, 0.0, 0.0, 5.0, 10.0, 10.5, 600.0])),
                "pageviews": draw(st.sampled_from([None, 0, 1, 1, 2, 5])),
                "bounced": draw(st.sampled_from([None, True, False])),
                "channel": draw(st.sampled_from(CHANNELS)),
                "lead_id": draw(st.sampled_from([None, None, "L1", "L2"])),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "session_id",
            "visitor_id",
            "started_at",
            "duration_s",
            "pageviews",
            "bounced",
            "channel",
            "lead_id",
        ],
    )
    zone = draw(st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]))
    return df.assign(
        started_at=pd.to_datetime(df["started_at"], utc=True).dt.tz_convert(zone),
        duration_s=df["duration_s"].astype("Float64"),
        pageviews=df["pageviews"].astype("Int64"),
        bounced=df["bounced"].astype("boolean"),
        channel=df["channel"].astype("string"),
        lead_id=df["lead_id"].astype("string"),
        visitor_id=df["visitor_id"].astype("string"),
        session_id=df["session_id"].astype("string"),
    )


LEADS = pd.DataFrame(
    {
        "lead_id": pd.array(["L1", "L2", "L3"], dtype="string"),
        "created_at": pd.to_datetime(
            ["2025-01-15", "2025-02-01", "2025-02-28T23:59:59"], utc=True, format="ISO8601"
        ),
    }
)


def _plain(s: pd.DataFrame, start, end) -> dict:
    """Every web figure of one period, by hand from the rows (no grouping machinery)."""
    utc = pd.to_datetime(s["started_at"], utc=True)
    p = s[(utc >= start) & (utc < end)]
    dur = [float(x) for x in p["duration_s"] if pd.notna(x)]
    eng = [
        (pd.notna(d) and d > 10) or (pd.notna(v) and v >= 2) or pd.notna(lead)
        for d, v, lead in zip(p["duration_s"], p["pageviews"], p["lead_id"], strict=True)
    ]
    paid = {"paid_search", "paid_social", "display"}
    chans = [c if pd.notna(c) else None for c in p["channel"]]
    leads = LEADS[(LEADS["created_at"] >= start) & (LEADS["created_at"] < end)]
    return {
        "duration": (sum(dur), len(dur), len(p) - len(dur), np.median(dur) if dur else np.nan),
        "groups": (
            sum(c == "organic_search" for c in chans),
            sum(c in paid for c in chans),
            len(p),
        ),
        "ga4": (eng.count(False), len(p)),
        "single": (
            sum(pd.notna(v) and v <= 1 for v in p["pageviews"]),
            int(p["pageviews"].notna().sum()),
        ),
        "column": (int(p["bounced"].fillna(False).sum()), int(p["bounced"].notna().sum())),
        "lead": (len(leads), len(p), p["visitor_id"].nunique()),
    }


def _figures(t: pd.DataFrame, period: str) -> dict:
    def r(kpi, item="total"):
        sel = t[(t["kpi"] == kpi) & (t["item"] == item) & (t["period"] == period)]
        if sel.empty:  # no sessions at all: only the headline item is listed (counts 0)
            return pd.Series({"numerator": 0.0, "denominator": 0.0})
        return row(t, kpi, item, period=period)

    d = r("avg_session_duration")
    return {
        "duration": (d["numerator"], d["denominator"], d["n_excluded"], d["median"]),
        "groups": (
            r("traffic_by_channel_group", "organic")["numerator"],
            r("traffic_by_channel_group", "paid")["numerator"],
            r("traffic_by_channel_group", "organic")["denominator"],
        ),
        "lead": (
            r("traffic_to_lead")["numerator"],
            r("traffic_to_lead")["denominator"],
            r("traffic_to_lead", "per_visitor")["denominator"],
        ),
    }


@SETTINGS
@given(s=sessions(), freq=st.sampled_from(["M", "W"]))
def test_web_kpis_on_duckdb_match_a_plain_computation(s, freq):
    ds = salesmkt.Dataset(leads=LEADS, sessions=s)
    db = replace(ds, sessions=_duck(s.assign(started_at=s["started_at"].dt.tz_convert("UTC")), "s"))
    args = dict(freq=freq, start="2025-01-01", end="2025-03-01", as_of="2025-03-01")
    for data in (ds, db):
        t = salesmkt.kpi_table(data, kpis=WEB, **args)
        bounce = {
            how: salesmkt.kpi_table(
                data, kpis=["bounce_rate"], settings={"bounce_definition": how}, **args
            )
            for how in ("ga4", "single_page", "column")
        }
        for _, p in t[["period", "period_start", "period_end"]].drop_duplicates().iterrows():
            want = _plain(s, p["period_start"], p["period_end"])
            got = _figures(t, p["period"])
            np.testing.assert_allclose(got["duration"], want["duration"], equal_nan=True)
            assert got["groups"] == want["groups"]
            assert got["lead"] == want["lead"]
            for how, key in (("ga4", "ga4"), ("single_page", "single"), ("column", "column")):
                b = row(bounce[how], "bounce_rate", period=p["period"])
                assert (b["numerator"], b["denominator"]) == want[key], how


# --- random orders: the pandas rules and their Ibis form agree --------------------------------

EDGES = [
    pd.Timestamp(s, tz="UTC") for s in ("2024-01-01", "2024-04-01", "2024-07-01", "2025-01-01")
]


@st.composite
def orders(draw):
    n = draw(st.integers(1, 30))
    rows = []
    for i in range(n):
        edge = draw(st.sampled_from(EDGES))
        days = draw(st.sampled_from([-1, 0, 0, 3, 40, 95, 200, 370]))
        sec = draw(st.sampled_from([-1, 0, 1]))
        rows.append(
            {
                "order_id": f"O{i}",
                "customer_id": f"C{draw(st.integers(0, 6))}",
                "ordered_at": edge + pd.Timedelta(days=days, seconds=sec),
                "revenue": draw(st.sampled_from([0.0, 50.0, 100.0, 1200.0])),
                "billing_period": draw(st.sampled_from([None, None, "annual", "Quarterly", "3"])),
            }
        )
    df = pd.DataFrame(rows)
    df["billing_period"] = df["billing_period"].astype("string")
    if draw(st.booleans()):
        df = df.drop(columns="billing_period")
    return df


@SETTINGS
@given(o=orders(), freq=st.sampled_from(["M", "Q", "W"]))
def test_retention_in_the_engine_matches_the_pandas_rules(o, freq):
    t = _duck(o, "orders")
    pd.testing.assert_frame_equal(
        defs.active_customers(o, freq=freq).reset_index(drop=True),
        defs.active_customers(t, freq=freq),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        defs.customer_retention(o, freq=freq),
        defs.customer_retention(t, freq=freq),
        check_dtype=False,
        check_index_type=False,
    )
    pd.testing.assert_frame_equal(
        defs.first_order_cohort(o, freq=freq).reset_index(drop=True),
        defs.first_order_cohort(t, freq=freq),
        check_dtype=False,
    )
    for as_of in (None, "2024-08-15"):
        pd.testing.assert_frame_equal(
            salesmkt.cohort_retention(o, freq=freq, as_of=as_of).reset_index(drop=True),
            salesmkt.cohort_retention(t, freq=freq, as_of=as_of).reset_index(drop=True),
            check_dtype=False,
            check_index_type=False,
        )


def test_annual_customer_stays_active_in_the_engine():
    """Worked by hand: each annual order covers its month and the eleven after it; periods
    after the last order's month are not listed."""
    o = pd.DataFrame(
        {
            "order_id": ["O1", "O2"],
            "customer_id": ["A", "A"],
            "ordered_at": pd.to_datetime(["2024-01-10", "2025-01-10"], utc=True),
            "revenue": [1200.0, 1200.0],
            "billing_period": ["annual", "annual"],
        }
    )
    act = retention_engine.active_customers(_duck(o, "orders"), freq="M")
    assert len(act) == 13 and act["revenue"].eq(100.0).all()  # January 2024 to January 2025
    assert act["paid"].tolist() == [True] + [False] * 11 + [True]
    r = defs.customer_retention(_duck(o, "orders"), freq="M")
    assert r["customer_retention"].eq(1.0).all() and len(r) == 12


# --- PySpark (local mode): the sample company --------------------------------------------------


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_sample_web_kpis_and_retention_on_spark(spark_con, sample):
    session = spark_con._session

    def spark(df: pd.DataFrame, name: str, cols: list[str]):
        plain = df[cols].astype(object).where(df[cols].notna(), None)
        for c in cols:
            if isinstance(df[c].dtype, pd.DatetimeTZDtype):
                plain[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        session.createDataFrame(plain).createOrReplaceTempView(name)
        return spark_con.table(name)

    s_cols = ["session_id", "visitor_id", "started_at", "duration_s", "pageviews", "bounced",
              "channel", "lead_id"]  # fmt: skip
    sessions_t = spark(sample.sessions, "sessions_kpi", s_cols)
    o_cols = ["order_id", "customer_id", "ordered_at", "revenue"]
    orders_t = spark(sample.orders.astype({"revenue": float}), "orders_kpi", o_cols)
    db = replace(sample, sessions=sessions_t)
    for by in (None, "channel"):
        want = salesmkt.kpi_table(sample, kpis=WEB, by=by)
        got = salesmkt.kpi_table(db, kpis=WEB, by=by)
        pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(
        defs.customer_retention(orders_t, freq="M"),
        defs.customer_retention(sample.orders, freq="M"),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        salesmkt.cohort_retention(orders_t, freq="Q").reset_index(drop=True),
        salesmkt.cohort_retention(sample.orders, freq="Q").reset_index(drop=True),
        check_dtype=False,
    )
