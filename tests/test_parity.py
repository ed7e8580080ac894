"""Parity: public functions that answer the same question give the same answer.

The pairs not covered by the concept's own tests (tests/test_definitions.py for won deals, new
customers and retention; tests/test_stage_parity.py for reached stages and the persona funnel;
tests/test_periods.py for the period a row belongs to). Expected values come from the other
function or from plain pandas, never from the function itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt

T0 = pd.Timestamp("2025-01-01", tz="UTC")


def test_customers_of_persona_outcomes_are_the_funnel_customers(sample):
    labels = (sample.leads["company_size"] > 200).astype(int).to_numpy()
    outcomes = salesmkt.persona_outcomes(sample, labels)
    funnel = salesmkt.lifecycle_funnel(sample.leads.assign(band=labels), by="band")
    customers = funnel.query("stage == 'customer'").set_index("band")["entered"]
    by_persona = outcomes.set_index("persona")["customers"]
    assert {str(k): v for k, v in by_persona.items()} == customers.to_dict()


def test_conversions_from_leads_are_the_leads_that_reached_customer(sample):
    conv = salesmkt.customer_conversions(sample.leads, sample.deals, source="leads")
    reached = salesmkt.data.leads_reached(sample.leads, "customer")
    assert len(conv) == int(reached.sum())
    assert conv.attrs["n_excluded"] == reached.attrs["n_excluded"]


def test_conversions_from_deals_are_the_leads_with_a_won_deal(sample):
    conv = salesmkt.customer_conversions(sample.leads, sample.deals, source="deals")
    won = salesmkt.data.won_deals(sample.deals)
    assert set(conv["person_id"]) == set(won["lead_id"].dropna().astype(str))


def test_win_rate_counts_are_the_won_deals(sample):
    table = salesmkt.kpi_table(sample, kpis=["win_rate"], freq="M")
    total = table.query("item == 'total'")
    won = salesmkt.data.won_deals(sample.deals)
    assert total["numerator"].sum() == len(won)
    closed = sample.deals["status"].isin(["won", "lost"]) & sample.deals["closed_at"].notna()
    assert total["denominator"].sum() == int(closed.sum())


def test_table_overview_rows_are_the_dataset_rows(sample):
    overview = salesmkt.table_overview(sample).set_index("table")["rows"]
    assert overview.to_dict() == {name: len(df) for name, df in sample.tables.items()}


stamps = st.one_of(st.none(), st.integers(0, 200))


@st.composite
def lead_tables(draw):
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        mql, sql, opp, cust = draw(stamps), draw(stamps), draw(stamps), draw(stamps)
        rows.append(
            {
                "lead_id": f"L{i}",
                "created_at": T0,
                "mql_at": None if mql is None else T0 + pd.Timedelta(days=mql),
                "sql_at": None if sql is None else T0 + pd.Timedelta(days=sql),
                "opportunity_at": None if opp is None else T0 + pd.Timedelta(days=opp),
                "customer_at": None if cust is None else T0 + pd.Timedelta(days=cust),
                "band": draw(st.sampled_from([0, 1])),
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("mql_at", "sql_at", "opportunity_at", "customer_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


@settings(max_examples=60, deadline=None)
@given(lead_tables())
def test_customer_counts_agree_on_random_leads(leads):
    """The funnel, persona outcomes and conversions count the same customers, out-of-order
    leads left out of all three alike."""
    funnel = salesmkt.lifecycle_funnel(leads)
    funnel_customers = int(funnel.set_index("stage").loc["customer", "entered"])
    conv = salesmkt.customer_conversions(leads, None, source="leads")
    ds = salesmkt.Dataset(leads=leads)
    outcomes = salesmkt.persona_outcomes(ds, leads["band"].to_numpy())
    # by hand: stamps in stage order (missing ones skipped) never go backwards
    stamps_ = leads[["created_at", "mql_at", "sql_at", "opportunity_at", "customer_at"]]
    ordered = stamps_.apply(lambda r: r.dropna().is_monotonic_increasing, axis=1)
    expected = int((ordered & leads["customer_at"].notna()).sum())
    assert funnel_customers == len(conv) == int(outcomes["customers"].sum()) == expected
    assert np.all(outcomes["customers"] <= outcomes["leads"])
