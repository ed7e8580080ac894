"""One definition of "reached stage": every count of leads reaching a stage agrees.

The persona funnel and the lifecycle funnel by persona, the stage-conversion KPI, the
``reached_stage`` filter and ``leads_reached`` all count through :mod:`salesmkt.data.stages`.
They are compared with each other on the sample company, with a brute-force count written here
from the rules on random lead tables, and with a 6-lead example worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data.stages import leads_reached, reached_stage, stage_entries
from salesmkt.funnels.lifecycle import lifecycle_funnel
from salesmkt.io import Dataset
from salesmkt.kpis.compute import kpi_table
from salesmkt.personas import PersonaModel, persona_funnel

NAMES = ["lead", "mql", "sql", "opportunity", "customer"]
COLS = ["created_at", "mql_at", "sql_at", "opportunity_at", "customer_at"]


def _pairs(pf: pd.DataFrame, lf: pd.DataFrame, col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The persona funnel and the lifecycle funnel by ``col`` side by side, same row order."""
    left = pf.assign(key=pf["persona"].astype(str)).set_index(["key", "stage"]).sort_index()
    right = lf.assign(key=lf[col].astype(str)).set_index(["key", "stage"]).sort_index()
    return left, right


def _assert_same_cells(pf: pd.DataFrame, lf: pd.DataFrame, col: str) -> None:
    left, right = _pairs(pf, lf, col)
    assert left.index.equals(right.index)
    np.testing.assert_array_equal(left["leads"].to_numpy(), right["entered"].to_numpy())
    np.testing.assert_array_equal(left["n_excluded"].to_numpy(), right["n_excluded"].to_numpy())
    np.testing.assert_allclose(left["rate"], right["conversion_from_first"], equal_nan=True)
    np.testing.assert_allclose(left["step_rate"], right["conversion_from_previous"], equal_nan=True)
    assert (left["as_of"] == right["as_of"]).all()


# -- the sample company, with the personas of a fitted model ---------------------------------


@pytest.fixture(scope="module")
def labels(sample):
    return PersonaModel(5, random_state=0).fit(sample.leads).labels_


@pytest.mark.parametrize("as_of", [None, "2026-01-01T00:00Z"])
def test_persona_funnel_equals_lifecycle_funnel_by_persona_on_the_sample(sample, labels, as_of):
    leads = sample.leads
    pf = persona_funnel(leads, labels, as_of=as_of)
    lf = lifecycle_funnel(leads.assign(persona=labels), by="persona", as_of=as_of)
    assert len(pf) == 5 * 5
    _assert_same_cells(pf, lf, "persona")
    # out of order, counted here column by column: a stage time before an earlier stage's
    ts = leads[COLS]
    bad = np.zeros(len(leads), dtype=bool)
    for j in range(1, len(COLS)):
        bad |= (ts.iloc[:, j] < ts.iloc[:, :j].max(axis=1)).to_numpy()
    first = pf[pf["stage"] == "lead"]
    assert first["n_excluded"].sum() == bad.sum() == 22
    if as_of is None:  # every lead is created by then: counted once, in the funnel or excluded
        assert first["leads"].sum() + first["n_excluded"].sum() == len(leads)


def test_kpi_stage_conversion_counts_equal_the_lifecycle_funnel(sample):
    leads = sample.leads
    as_of = "2026-06-01T00:00Z"
    k = kpi_table(sample, ["stage_conversion"], freq="M", as_of=as_of)
    total = lifecycle_funnel(leads, as_of=as_of).set_index("stage")
    cohorts = lifecycle_funnel(leads, cohort="M", as_of=as_of)
    # lead -> X: a cohort by creation month, i.e. the lifecycle funnel's cohort rows
    for nxt in ("mql", "customer"):
        part = k[k["item"] == f"lead_to_{nxt}"].set_index("period_start")
        for start, row in part.iterrows():
            c = cohorts[cohorts["cohort"] == start].set_index("stage")
            assert row["denominator"] == c.loc["lead", "entered"]
            assert row["numerator"] == c.loc[nxt, "entered"]
            assert row["n_excluded"] == c.loc["lead", "n_excluded"]
    # stage k -> k+1, summed over periods covering every lead: the funnel's totals
    for cur, nxt in zip(NAMES[:-1], NAMES[1:], strict=True):
        part = k[k["item"] == f"{cur}_to_{nxt}"]
        assert part["denominator"].sum() == total.loc[cur, "entered"]
        assert part["numerator"].sum() == total.loc[nxt, "entered"]


@pytest.mark.parametrize("as_of", [None, "2025-12-01T00:00Z"])
def test_reached_stage_agrees_with_the_lifecycle_funnel(sample, as_of):
    f = lifecycle_funnel(sample.leads, as_of=as_of).set_index("stage")
    for stage in NAMES:
        kept = reached_stage(sample, stage, as_of=as_of).leads
        assert len(kept) == f.loc[stage, "entered"]
        assert kept.attrs["n_excluded"] == f.loc[stage, "n_excluded"]
        assert int(leads_reached(sample.leads, stage, as_of=as_of).sum()) == len(kept)


# -- random lead tables against a brute-force count of the rules -------------------------------

T0 = pd.Timestamp("2025-01-01", tz="UTC")
day = st.integers(0, 40)


@st.composite
def lead_tables(draw):
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        created = draw(day)
        later = [draw(st.one_of(st.none(), day)) for _ in COLS[1:]]  # missing, any order
        rows.append([created, *later])
    labels = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    as_of = draw(st.one_of(st.none(), day))
    leads = pd.DataFrame(
        {
            c: pd.to_datetime(
                [T0 + pd.Timedelta(days=r[j]) if r[j] is not None else pd.NaT for r in rows],
                utc=True,
            )
            for j, c in enumerate(COLS)
        }
    )
    leads.insert(0, "lead_id", pd.array([f"L{i}" for i in range(n)], dtype="string"))
    return leads, rows, np.array(labels), as_of


def _oracle(rows, labels, as_of_day):
    """Reached counts per (persona, stage) and excluded per persona, straight from the rules."""
    if as_of_day is None:  # default: the latest stage timestamp
        as_of_day = max(v for r in rows for v in r if v is not None)
    reached, excluded = {}, {}
    for r, p in zip(rows, labels, strict=True):
        seen = [v for v in r if v is not None]
        bad = any(seen[j] < max(seen[:j]) for j in range(1, len(seen)))
        excluded[p] = excluded.get(p, 0) + bad
        for k, name in enumerate(NAMES):
            hit = not bad and any(v is not None and v <= as_of_day for v in r[k:])
            reached[p, name] = reached.get((p, name), 0) + hit
    return reached, excluded


@settings(max_examples=100, deadline=None, derandomize=True)
@given(lead_tables())
def test_persona_funnel_lifecycle_funnel_and_the_rules_agree_on_random_leads(case):
    leads, rows, labels, as_of_day = case
    as_of = None if as_of_day is None else T0 + pd.Timedelta(days=as_of_day)
    pf = persona_funnel(leads, labels, as_of=as_of)
    lf = lifecycle_funnel(leads.assign(persona=labels), by="persona", as_of=as_of)
    _assert_same_cells(pf, lf, "persona")
    reached, excluded = _oracle(rows, labels, as_of_day)
    for r in pf.itertuples():
        assert r.leads == reached[r.persona, r.stage]
        assert r.n_excluded == excluded[r.persona]
    ds = Dataset(leads=leads)
    for stage in NAMES:
        kept = reached_stage(ds, stage, as_of=as_of).leads
        assert len(kept) == sum(v for (_, s), v in reached.items() if s == stage)
        assert kept.attrs["n_excluded"] == sum(excluded.values())


# -- six leads worked out by hand ---------------------------------------------------------------


def _six_leads() -> tuple[pd.DataFrame, list[int]]:
    n = None
    rows = [
        # id   created  mql      sql      opp      customer   persona
        ("L1", "01-01", "01-05", "01-10", "02-01", "02-20"),  # 0: every stage
        ("L2", "01-02", n, "01-15", n, n),  # 0: skipped MQL, passes it on 01-15
        ("L3", "01-03", "01-04", "03-10", n, n),  # 0: SQL after as_of 03-01
        ("L4", "01-05", "01-03", n, n, n),  # 1: MQL before created: out of order
        ("L5", "01-06", "01-07", n, n, "02-10"),  # 1: straight from MQL to customer
        ("L6", "03-05", "03-06", n, n, n),  # 1: created after as_of 03-01
    ]
    leads = pd.DataFrame(rows, columns=["lead_id", *COLS])
    for c in COLS:
        leads[c] = pd.to_datetime(
            leads[c].map(lambda v: f"2025-{v}T00:00Z" if isinstance(v, str) else None), utc=True
        )
    leads["lead_id"] = leads["lead_id"].astype("string")
    return leads, [0, 0, 0, 1, 1, 1]


AS_OF = "2025-03-01T00:00Z"


def test_six_leads_by_hand_persona_and_lifecycle_funnel():
    leads, labels = _six_leads()
    f = persona_funnel(leads, labels, as_of=AS_OF).set_index(["persona", "stage"])
    # persona 0: L1 L2 L3 are leads and MQLs (L2 skipped it); SQL L1 L2; opp and customer L1
    assert f.loc[0, "leads"].tolist() == [3, 3, 2, 1, 1]
    assert f.loc[0, "rate"].tolist() == pytest.approx([1, 1, 2 / 3, 1 / 3, 1 / 3])
    assert f.loc[0, "step_rate"].tolist() == pytest.approx([1, 1, 2 / 3, 1 / 2, 1])
    assert (f.loc[0, "n_excluded"] == 0).all()
    # persona 1: L4 out of order (counted, not in the funnel), L6 not created by as_of,
    # L5 passes every stage (SQL and opportunity with its customer date)
    assert f.loc[1, "leads"].tolist() == [1, 1, 1, 1, 1]
    assert (f.loc[1, "n_excluded"] == 1).all()
    total = lifecycle_funnel(leads, as_of=AS_OF).set_index("stage")
    assert total["entered"].tolist() == [4, 4, 3, 2, 2]
    assert (total["n_excluded"] == 1).all()
    # default as_of: the latest stage timestamp, 03-10: L3 reaches SQL, L6 lead and MQL
    d = persona_funnel(leads, labels).set_index(["persona", "stage"])
    assert d.loc[0, "leads"].tolist() == [3, 3, 3, 1, 1]
    assert d.loc[1, "leads"].tolist() == [2, 2, 1, 1, 1]
    assert d["as_of"].iloc[0] == pd.Timestamp("2025-03-10", tz="UTC")


def test_six_leads_by_hand_entries_and_reached_stage():
    leads, _ = _six_leads()
    e = stage_entries(leads, as_of=AS_OF).set_index("lead_id")
    assert e.loc["L2", "mql"] == pd.Timestamp("2025-01-15", tz="UTC") and e.loc["L2", "mql_skipped"]
    assert e.loc["L5", "sql"] == e.loc["L5", "opportunity"] == pd.Timestamp("2025-02-10", tz="UTC")
    assert e["excluded"].tolist() == [False, False, False, True, False, False]
    assert pd.isna(e.loc["L3", "sql"]) and pd.isna(e.loc["L6", "lead"])
    kept = reached_stage(Dataset(leads=leads), "sql", as_of=AS_OF).leads
    assert kept["lead_id"].tolist() == ["L1", "L2", "L5"] and kept.attrs["n_excluded"] == 1


def test_six_leads_by_hand_kpis():
    leads, _ = _six_leads()
    k = kpi_table(
        Dataset(leads=leads),
        ["stage_conversion", "mql_sql_acceptance", "time_to_purchase"],
        as_of=AS_OF,
    )
    k = k.set_index(["kpi", "period", "item"])
    # created in January and placed: L1 L2 L3 L5, all MQLs; L4 out of order
    r = k.loc[("stage_conversion", "2025-01", "lead_to_mql")]
    assert (r["denominator"], r["numerator"], r["n_excluded"]) == (4, 4, 1)
    # entered MQL in January: L3 01-04, L1 01-05, L5 01-07, L2 01-15 (skipped); SQL by as_of:
    # L1 L2 L5; L3 pending
    r = k.loc[("stage_conversion", "2025-01", "mql_to_sql")]
    assert (r["denominator"], r["numerator"], r["n_pending"]) == (4, 3, 1)
    # acceptance: MQLs with their own mql_at (L1 L3 L5), accepted L1 L5; excluded L2
    # (sales-sourced) and L4 (out of order)
    r = k.loc[("mql_sql_acceptance", "2025-01", "total")]
    assert (r["denominator"], r["numerator"], r["n_excluded"]) == (3, 2, 2)
    # customers in February: L1 after 50 days, L5 after 35
    r = k.loc[("time_to_purchase", "2025-02", "total")]
    assert (r["denominator"], r["median"], r["n_excluded"]) == (2, 42.5, 0)


def test_the_data_check_flags_the_leads_the_funnels_leave_out(sample):
    from salesmkt.data.validate import validate_table

    _, findings = validate_table("leads", sample.leads)
    flagged = [f for f in findings if "lifecycle stages out of order" in f.problem]
    assert len(flagged) == 1
    assert flagged[0].count == int(stage_entries(sample.leads)["excluded"].sum()) == 22


def test_one_home_many_doors():
    from salesmkt.data import stages

    assert salesmkt.stage_entries is salesmkt.data.stage_entries is stages.stage_entries
    assert salesmkt.reached_stage is salesmkt.data.reached_stage is stages.reached_stage
    assert salesmkt.data.leads_reached is stages.leads_reached
