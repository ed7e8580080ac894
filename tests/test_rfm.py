"""RFM scores, the R×F segment map, rule tables with coverage, and the tie warning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data.validate import ValidationError
from salesmkt.personas.rfm_segments import RFM_SEGMENTS, RFMTieWarning, rfm, rfm_coverage

DAY0 = pd.Timestamp("2025-01-01", tz="UTC")


def _orders(spec: dict[str, list[tuple[int, float]]]) -> pd.DataFrame:
    """{customer: [(day offset, revenue), ...]} -> an orders table."""
    rows = [
        (f"O{i}", c, DAY0 + pd.Timedelta(days=d), v)
        for i, (c, d, v) in enumerate((c, d, v) for c, items in spec.items() for d, v in items)
    ]
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "revenue"])


def test_quintile_scores_per_customer():
    spec = {f"C{i:02d}": [(i * 10 - j, 100.0 * (10 - i)) for j in range(i)] for i in range(1, 11)}
    # monetary ties (900 twice, 1600 twice, ...) straddle quintile edges: warned
    with pytest.warns(RFMTieWarning, match=r"8 customers \(80%\) on monetary"):
        t = rfm(_orders(spec), as_of=DAY0 + pd.Timedelta(days=101)).set_index("customer_id")
    assert t["r_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert t["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # monetary: C01 spent 900 once, C10 spent 0 ten times
    assert t.loc["C01", "monetary"] == 900.0 and t.loc["C03", "monetary"] == 3 * 700.0
    assert t.loc["C10", "m_score"] == 1
    assert t.loc["C10", "rfm_cell"] == "551" and t.loc["C10", "segment"] == "Champions"
    assert t.loc["C01", "segment"] == "Hibernating"  # R1 F1
    assert t.loc["C05", "segment"] == "Need Attention"  # R3 F3


def test_cut_points_by_hand():
    orders = _orders(
        {
            "a": [(0, 10.0), (50, 10.0), (99, 10.0)],  # recency 1, F 3, M 30
            "b": [(40, 500.0)],  # recency 60, F 1, M 500
            "c": [(0, 1.0)] * 6,  # recency 100, F 6, M 6
        }
    )
    t = rfm(
        orders,
        as_of=DAY0 + pd.Timedelta(days=100),
        bins={
            "recency": [7, 30, 60, 90],
            "frequency": [2, 3, 4, 6],
            "monetary": [10, 50, 100, 400],
        },
    ).set_index("customer_id")
    assert t.loc["a", ["r_score", "f_score", "m_score"]].tolist() == [5, 3, 2]
    # recency 60 is the largest recency of score 3 (cut points are inclusive upper bounds)
    assert t.loc["b", ["r_score", "f_score", "m_score"]].tolist() == [3, 1, 5]
    assert t.loc["c", ["r_score", "f_score", "m_score"]].tolist() == [1, 5, 1]
    assert t["segment"].tolist() == ["Potential Loyalists", "About to Sleep", "Can't Lose Them"]
    with pytest.raises(ValueError, match="4 increasing cut points"):
        rfm(orders, bins={"frequency": [3, 2, 4, 6]})


def test_standard_grid_is_an_exact_partition():
    assert len(RFM_SEGMENTS) == 25
    assert not RFM_SEGMENTS.duplicated(["r_score", "f_score"]).any()
    assert RFM_SEGMENTS["segment"].nunique() == 10
    cov = rfm_coverage(RFM_SEGMENTS)
    assert cov.set_index("segment").loc["(falls through)", "cells_caught"] == 0
    assert cov["cells_shadowed"].sum() == 0
    assert cov["cells_caught"].sum() == 125


REFERENCE_B = pd.DataFrame(
    [
        ("Champions", 4, 5, 4, 5, 4, 5),
        ("Loyal Customers", 2, 5, 3, 5, 3, 5),
        ("Potential Loyalist", 3, 5, 1, 3, 1, 3),
        ("New Customers", 4, 5, 1, 1, 1, 1),
        ("Promising", 3, 4, 1, 1, 1, 1),
        ("Need Attention", 2, 3, 2, 3, 2, 3),
        ("About To Sleep", 2, 3, 1, 2, 1, 2),
        ("At Risk", 1, 2, 2, 5, 2, 5),
        ("Can't Lose Them", 1, 1, 4, 5, 4, 5),
        ("Lost", 1, 2, 1, 2, 1, 2),
    ],
    columns=["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"],
)


def test_coverage_of_the_overlapping_reference_table():
    cov = rfm_coverage(REFERENCE_B).set_index("segment")
    assert cov.loc["Champions", "cells_caught"] == 8  # 2 x 2 x 2, first in line
    assert cov.loc["Loyal Customers", "cells_matching"] == 4 * 3 * 3
    assert cov.loc["Loyal Customers", "cells_shadowed"] == 8
    # New Customers lies inside Potential Loyalist, Can't Lose Them inside At Risk
    assert cov.loc["New Customers", "never_fires"] and cov.loc["Can't Lose Them", "never_fires"]
    assert cov.loc["Promising", "cells_caught"] == 0
    assert cov["cells_caught"].sum() == 125
    falls = cov.loc["(falls through)"]
    assert falls["cells_caught"] == 125 - cov["cells_caught"].iloc[:-1].sum()
    assert "515" in falls["cells"].split()  # recent, one order, big spender: no rule fits
    # order matters: with Loyal first, Champions can never fire (the rfm issue #56 trap)
    swapped = rfm_coverage(REFERENCE_B.iloc[[1, 0, *range(2, 10)]]).set_index("segment")
    assert swapped.loc["Champions", "never_fires"]


def test_rule_tables_are_first_match_wins():
    orders = _orders({"a": [(99, 10.0)], "b": [(0, 1.0)]})
    rules = pd.DataFrame(
        [("Recent", 4, 5, 1, 5, 1, 5), ("Everyone recent-ish", 3, 5, 1, 5, 1, 5)],
        columns=["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"],
    )
    t = rfm(
        orders,
        as_of=DAY0 + pd.Timedelta(days=100),
        bins={
            "recency": [7, 30, 60, 90],
            "frequency": [2, 3, 4, 6],
            "monetary": [10, 50, 100, 400],
        },
        segments=rules,
    ).set_index("customer_id")
    assert t.loc["a", "segment"] == "Recent" and t.loc["b", "segment"] == "Others"
    with pytest.raises(ValueError, match="r_min"):
        rfm(orders, bins={"frequency": [2, 3, 4, 6]}, segments=pd.DataFrame({"segment": ["x"]}))


def test_tie_warning_and_its_cure(sample):
    with pytest.warns(RFMTieWarning, match="frequency"):
        rfm(sample.orders)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = rfm(sample.orders, bins={"frequency": [2, 3, 4, 6]})
    assert len(t) == sample.orders["customer_id"].nunique()
    assert t.loc[t["frequency"] == 1, "f_score"].eq(1).all()


def test_excluded_orders_are_counted_and_errors_are_clear():
    orders = _orders({"a": [(0, 5.0), (10, 5.0)], "b": [(20, 1.0)]})
    orders.loc[1, "customer_id"] = None
    t = rfm(orders, as_of=DAY0 + pd.Timedelta(days=15))  # b's order is after as_of
    assert t["customer_id"].tolist() == ["a"] and t["n_orders_excluded"].iloc[0] == 2
    with pytest.raises(ValidationError, match="orders.revenue"):
        rfm(orders.drop(columns="revenue"))


def test_is_public_as_salesmkt_rfm(sample):
    import salesmkt.personas.rfm_segments as module

    t = salesmkt.rfm(sample.orders, bins={"frequency": [2, 3, 4, 6]})
    assert module.rfm_coverage is salesmkt.rfm_coverage is rfm_coverage and len(t) > 100


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 300), st.floats(0, 1e4)),
                min_size=1, max_size=60))  # fmt: skip
def test_invariants(items):
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(items))],
            "customer_id": [f"C{c}" for c, _, _ in items],
            "ordered_at": [DAY0 + pd.Timedelta(days=d) for _, d, _ in items],
            "revenue": [v for _, _, v in items],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RFMTieWarning)
        t = rfm(orders)
    assert t["frequency"].sum() == len(orders)
    assert np.isclose(t["monetary"].sum(), orders["revenue"].sum())
    assert t[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert (t["recency_days"] >= 0).all()
    # more recent never scores lower
    s = t.sort_values(["recency_days", "customer_id"])
    assert (np.diff(s["r_score"].to_numpy()) <= 0).all()


def test_no_orders_table_gives_an_empty_table_that_says_so(sample):
    import matplotlib.pyplot as plt

    t = salesmkt.rfm(None)
    full = salesmkt.rfm(sample.orders, bins={"frequency": [2, 3, 4, 6]})
    assert t.empty and t.columns.tolist() == full.columns.tolist()
    assert (t.dtypes.astype(str) == full.dtypes.astype(str)).all()
    assert "no orders table" in t.attrs["note"]
    assert salesmkt.rfm_summary(t).empty
    ax = salesmkt.plot_rfm_grid(t)
    assert "no orders table" in ax.texts[0].get_text()
    plt.close("all")
