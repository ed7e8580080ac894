"""Business definitions (salesmkt.data.definitions): hand-worked rules and parity between every
pair of public functions that answer the same question."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data import definitions as df_
from salesmkt.io import Dataset

NA = pd.NA


def _t(s):
    return pd.Timestamp(s, tz="UTC") if s is not None else pd.NaT


def _deals(rows) -> pd.DataFrame:
    cols = ["deal_id", "account_id", "lead_id", "status", "deal_type", "created_at", "closed_at"]
    d = pd.DataFrame(rows, columns=[*cols, "amount"])
    for c in cols[:5]:
        d[c] = d[c].astype("string")
    for c in ("created_at", "closed_at"):
        d[c] = pd.to_datetime(d[c].map(_t), utc=True)
    d["amount"] = d["amount"].astype(float)
    return d


#: hand-worked: A1 is new by type, D2 its later untyped deal is existing; A2's first won deal is
#: untyped (new); A3's first won deal is a renewal, so its untyped D5 is existing; D6 has no
#: account (lead L6 is the customer), is untyped (new) and was won before it was created; D7 is
#: lost; D8 is won without a close time.
HAND = _deals(
    [
        ("D1", "A1", "L1", "won", "new_business", "2025-01-01", "2025-01-10", 100),
        ("D2", "A1", "L1", "won", None, "2025-01-15", "2025-02-10", 50),
        ("D3", "A2", "L2", "won", None, "2025-01-02", "2025-01-20", 200),
        ("D4", "A3", None, "won", "renewal", "2025-01-01", "2025-01-15", 30),
        ("D5", "A3", None, "won", None, "2025-01-20", "2025-02-01", 70),
        ("D6", None, "L6", "won", None, "2025-02-10", "2025-02-05", 400),
        ("D7", "A4", "L7", "lost", None, "2025-01-01", "2025-01-05", 999),
        ("D8", "A5", "L8", "won", None, "2025-01-01", None, 999),
    ]
)


def test_won_deals_hand_worked():
    won = df_.won_deals(HAND).set_index("deal_id")
    assert list(won.index) == ["D1", "D2", "D3", "D4", "D5", "D6"]
    assert won["customer_type"].to_dict() == {
        "D1": "new",
        "D2": "existing",
        "D3": "new",
        "D4": "existing",
        "D5": "existing",
        "D6": "new",
    }
    assert won["type_rule"].to_dict()["D1"] == "deal_type"
    assert won["type_rule"].to_dict()["D3"] == "first_won_deal"
    assert won["customer"].tolist() == ["A1", "A1", "A2", "A3", "A3", "L6"]
    assert won["closed_before_created"].tolist() == [False] * 5 + [True]
    assert won.attrs == {"n_won_without_close": 1, "n_closed_before_created": 1}


def test_new_customers_hand_worked_and_once():
    new = df_.new_customers(HAND)
    assert new["customer"].tolist() == ["A1", "A2", "L6"]
    assert new["deal_id"].tolist() == ["D1", "D3", "D6"]
    # a second new-business deal of A1 does not make it new again
    again = pd.concat([HAND, HAND.iloc[[0]].assign(deal_id="D9", closed_at=_t("2025-03-01"))])
    assert df_.new_customers(again)["customer"].tolist() == ["A1", "A2", "L6"]
    # a won deal without account and lead has no customer: left out and counted
    orphan = pd.concat([HAND, HAND.iloc[[2]].assign(deal_id="D10", account_id=NA, lead_id=NA)])
    assert df_.new_customers(orphan).attrs["n_without_customer"] == 1


def test_untyped_deals_without_the_column():
    won = df_.won_deals(HAND.drop(columns="deal_type")).set_index("deal_id")
    # first won deal per customer: A1 D1, A2 D3, A3 D4, L6 D6
    assert sorted(won.index[won["customer_type"] == "new"]) == ["D1", "D3", "D4", "D6"]


ORDERS = pd.DataFrame(
    {
        "order_id": [f"O{i}" for i in range(8)],
        "customer_id": ["A0", "A0", "A9", "A0", "A1", "A1", "A3", "A0"],
        "ordered_at": pd.to_datetime(
            [
                "2024-12-05",
                "2025-01-05",
                "2025-01-18",
                "2025-02-05",
                "2025-02-14",
                "2025-02-20",
                "2025-02-20",
                "2025-02-25",
            ],
            utc=True,
        ),
        "revenue": [3000.0, 3000, 2000, 3000, 10000, 0, 6000, 4000],
    }
)


def test_order_customer_type_hand_worked():
    o = df_.order_customer_type(ORDERS, freq="M")
    feb = o[o["ordered_at"] >= _t("2025-02-01")]
    new = feb.loc[feb["customer_type"] == "new", "revenue"].sum()
    assert new == 16000  # A1 10000 (+ its 0 order) and A3 6000; kpis.md §9: 16000 / 23000
    assert feb["revenue"].sum() == 26000 - 3000  # A0's 3000 + 4000 are existing


def test_retention_hand_worked_kpis_md_example():
    """kpis.md §9: January active {A0, A9}, February {A0, A1, A3}: retention 1/2, NRR 1.40,
    GRR 0.60."""
    r = df_.customer_retention(ORDERS, freq="M").set_index("period_start")
    feb = r.loc[_t("2025-02-01")]
    assert (feb["customers_previous"], feb["retained"], feb["customer_retention"]) == (2, 1, 0.5)
    assert r.loc[_t("2025-01-01"), "customer_retention"] == 1.0  # A0 of December came back
    rr = df_.revenue_retention(ORDERS, freq="M").set_index("period_start").loc[_t("2025-02-01")]
    assert rr["nrr"] == pytest.approx(1.40)
    assert rr["grr"] == pytest.approx(0.60)


def test_active_customers_hand_worked():
    a = df_.active_customers(ORDERS, freq="M")
    feb = a[a["period_start"] == _t("2025-02-01")].set_index("customer_id")["revenue"]
    assert feb.to_dict() == {"A0": 7000.0, "A1": 10000.0, "A3": 6000.0}


# ------------------------------------------------------------------ parity on the sample
@pytest.fixture(scope="module")
def sample() -> Dataset:
    return salesmkt.load_sample()


def _blank(ds: Dataset) -> Dataset:
    blank = pd.Series(NA, index=ds.deals.index, dtype="string")
    return dataclasses.replace(ds, deals=ds.deals.assign(deal_type=blank))


def _by_period(t: pd.DataFrame, kpi: str, col: str) -> pd.Series:
    rows = t[(t["kpi"] == kpi) & (t["item"] == "total")]
    s = rows.set_index("period")[col].astype(float)
    return s[s != 0]


@pytest.mark.parametrize("blank", [False, True], ids=["typed", "deal_type_blank"])
def test_new_customers_and_won_revenue_agree_on_sample(sample, blank):
    ds = _blank(sample) if blank else sample
    t = salesmkt.kpi_table(ds, kpis=["cac", "avg_deal_size"], freq="M")
    m = salesmkt.spend_metrics(ds, by="channel", freq="M")
    kpi_new = _by_period(t, "cac", "denominator")
    sm_new = m.groupby("period")["customers"].sum().astype(float)
    sm_new = sm_new[sm_new != 0]
    pd.testing.assert_series_equal(kpi_new, sm_new, check_names=False, check_index_type=False)
    new = df_.new_customers(ds.deals)
    # by hand from deals.csv: 153 won new_business deals; with the type blank every account's
    # first won deal makes a new customer: 260 accounts have a won deal
    assert kpi_new.sum() == len(new) == (260 if blank else 153)
    # won revenue: the deal-size KPI's numerator and spend_metrics' revenue, month by month
    kpi_rev = _by_period(t, "avg_deal_size", "numerator")
    sm_rev = m.groupby("period")["revenue"].sum()
    sm_rev = sm_rev[sm_rev != 0]
    pd.testing.assert_series_equal(kpi_rev, sm_rev, check_names=False, check_index_type=False)
    assert kpi_rev.sum() == df_.won_deals(ds.deals)["amount"].sum()


def test_revenue_share_deals_variant_uses_the_rule(sample):
    ds = _blank(sample)
    t = salesmkt.kpi_table(
        ds, kpis=["revenue_share_new"], freq="M", settings={"revenue_share_source": "deals"}
    )
    won = df_.won_deals(ds.deals)
    expected = won.loc[won["customer_type"] == "new", "amount"].sum()
    assert _by_period(t, "revenue_share_new", "numerator").sum() == pytest.approx(expected)


def test_attributed_returns_spend_and_conversions_agree(sample):
    ds = sample
    conv = salesmkt.customer_conversions(ds.leads, ds.deals)
    won = df_.won_deals(ds.deals)
    first = won[won["lead_id"].notna()].sort_values(["closed_at", "deal_id"])
    first = first.drop_duplicates("lead_id")
    assert set(conv["person_id"]) == set(first["lead_id"])
    assert conv["value"].sum() == pytest.approx(first["amount"].sum())
    m = salesmkt.spend_metrics(ds, by="channel")
    j = salesmkt.build_journeys(ds.touchpoints, conv)
    r = salesmkt.attributed_returns(salesmkt.attribute(j, models=["first_touch"]), m)
    spend = m.set_index("channel")["spend"]
    got = r.set_index("channel")["spend"]
    pd.testing.assert_series_equal(got, spend.reindex(got.index), check_names=False)


def test_scorecard_retention_is_customer_retention(sample):
    sc = salesmkt.scorecard(sample)
    row = sc[sc["kpi"] == "customer_retention"].iloc[0]
    start = pd.Period(row["period"], freq="M").start_time.tz_localize("UTC")
    r = df_.customer_retention(sample.orders, freq="M").set_index("period_start")
    assert row["value"] == pytest.approx(r.loc[start, "customer_retention"])
    t = salesmkt.kpi_table(sample, kpis=["customer_retention", "nrr", "grr"], freq="M")
    rr = df_.revenue_retention(sample.orders, freq="M").set_index("period_start")
    for kpi, col in (("nrr", "nrr"), ("grr", "grr")):
        got = t[(t["kpi"] == kpi) & (t["item"] == "total")].set_index("period_start")["value"]
        both = got.dropna().index.intersection(rr.index)
        assert len(both) > 12
        np.testing.assert_allclose(got[both], rr.loc[both, col])


def test_cohort_retention_labelled_apart(sample):
    r = salesmkt.cohort_retention(sample.orders, freq="Q")
    title = salesmkt.plot_cohort_retention(r).get_title(loc="left")
    assert "Cohort retention" in title
    names = salesmkt.kpi_catalog().set_index("id")["name"]
    assert "period on period" in names["customer_retention"]
    assert set(df_.RETENTION_LABELS) >= {"customer_retention", "cohort_retention", "nrr", "grr"}


# ------------------------------------------------------------------ parity on random data
def _independent_new_count(deals: pd.DataFrame) -> int:
    """New customers by a plain loop over each customer's won deals in close order."""
    won = deals[(deals["status"] == "won").fillna(False) & deals["closed_at"].notna()]
    won = won.sort_values(["closed_at", "deal_id"])
    seen, new = set(), set()
    for r in won.itertuples():
        key = r.account_id if pd.notna(r.account_id) else r.lead_id
        if pd.isna(key):
            continue
        typ = r.deal_type
        is_new = typ == "new_business" if pd.notna(typ) else key not in seen
        seen.add(key)
        if is_new:
            new.add(key)
    return len(new)


@st.composite
def _company(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        rows.append(
            (
                f"D{i:02d}",
                draw(st.sampled_from(["A1", "A2", "A3", None])),
                draw(st.sampled_from(["L1", "L2", "L3", None])),
                draw(st.sampled_from(["won", "won", "lost", "open"])),
                draw(st.sampled_from(["new_business", "expansion", "renewal", None, None])),
                "2025-01-01",
                f"2025-0{draw(st.integers(1, 3))}-{draw(st.integers(1, 28)):02d}",
                float(draw(st.integers(0, 5))) * 100,
            )
        )
    deals = _deals(rows)
    leads = pd.DataFrame(
        {
            "lead_id": pd.array(["L1", "L2", "L3"], dtype="string"),
            "created_at": pd.to_datetime(["2024-12-01"] * 3, utc=True),
            "channel": pd.array(["paid_search", "email", "referral"], dtype="string"),
        }
    )
    spend = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-01-15"], utc=True),
            "campaign_id": pd.array(["C1"], dtype="string"),
            "amount": [100.0],
            "channel": pd.array(["paid_search"], dtype="string"),
        }
    )
    return Dataset(leads=leads, deals=deals, spend=spend)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_company())
def test_new_customers_parity_random(ds):
    expected = _independent_new_count(ds.deals)
    assert len(df_.new_customers(ds.deals)) == expected
    t = salesmkt.kpi_table(ds, kpis=["cac"], freq="M", start="2025-01-01", end="2025-04-01")
    assert _by_period(t, "cac", "denominator").sum() == expected
    m = salesmkt.spend_metrics(ds, by="channel", period_start="2025-01-01", period_end="2025-04-01")
    assert m["customers"].sum() == expected
    won = df_.won_deals(ds.deals)
    assert m["revenue"].sum() == won["amount"].sum()


def _orders(rows, **extra) -> pd.DataFrame:
    o = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "revenue"])
    o["order_id"] = [f"O{i}" for i in range(len(o))]
    o["ordered_at"] = pd.to_datetime(o["ordered_at"], utc=True)
    o["revenue"] = o["revenue"].astype(float)
    return o.assign(**extra)


#: AN pays 12000 once a year (2025-01, 2026-01); MO pays 100 monthly Jan-Mar 2025; ONE pays 500
#: once in 2025-02; the data ends in 2026-01.
ANNUAL = _orders(
    [
        ("AN", "2025-01-15", 12000),
        ("AN", "2026-01-10", 12000),
        ("MO", "2025-01-03", 100),
        ("MO", "2025-02-03", 100),
        ("MO", "2025-03-03", 100),
        ("ONE", "2025-02-20", 500),
    ]
)


def test_an_annual_customer_is_active_between_payments():
    a = df_.active_customers(ANNUAL, freq="M")
    an = a[a["customer_id"] == "AN"].set_index("period_start")
    # January 2025 to January 2026: 13 months, each with 12000 / 12 = 1000 recognised; the
    # second year's other 11 months lie after the data's end and are not listed
    assert len(an) == 13 and an.index.min() == _t("2025-01-01")
    assert an.index.max() == _t("2026-01-01")
    assert (an["revenue"] == 1000).all()
    assert an["paid"].sum() == 2  # paid in January 2025 and January 2026 only
    # monthly and single-order customers: their own periods, all revenue there
    mo = a[a["customer_id"] == "MO"]
    assert mo["period_start"].tolist() == [_t(f"2025-0{m}-01") for m in (1, 2, 3)]
    assert (mo["revenue"] == 100).all()
    one = a[a["customer_id"] == "ONE"]
    assert one["period_start"].tolist() == [_t("2025-02-01")] and one["revenue"].item() == 500
    # retention: in June 2025 the previous month's customers are {AN}; AN is kept (old rule: 0)
    r = df_.customer_retention(ANNUAL, freq="M").set_index("period_start")
    assert r.loc[_t("2025-06-01"), "customer_retention"] == 1.0
    # April: March had {AN, MO}; MO stopped paying, AN is covered: 1 / 2
    assert r.loc[_t("2025-04-01"), "customer_retention"] == 0.5
    # the rule without terms reads the annual customer as lost after January
    old = df_.active_customers(ANNUAL, freq="M", terms=False)
    assert old[old["customer_id"] == "AN"]["revenue"].tolist() == [12000, 12000]


def test_contract_terms_column_wins_over_rhythm_and_quarters():
    o = ANNUAL.assign(billing_period=["annual", "annual", "quarterly", NA, NA, "annual"])
    t = df_.contract_terms(o).set_index("order_id")
    assert t.loc["O0", "term_months"] == 12 and t.loc["O0", "term_source"] == "column"
    assert t.loc["O2", "term_months"] == 3  # the column, though the rhythm says monthly
    assert t.loc["O3", "term_months"] == 1 and t.loc["O3", "term_source"] == "rhythm"
    assert t.loc["O5", "term_months"] == 12  # ONE's single order, annual by the column
    q = df_.active_customers(o, freq="Q")
    one = q[q["customer_id"] == "ONE"]
    # February 2025 + 12 months: Q1 2025 to Q4 2025 (4 quarters), 125 each
    assert len(one) == 4 and (one["revenue"] == 125).all()
