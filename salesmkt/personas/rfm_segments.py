"""RFM: recency, frequency and monetary value of customers, their scores and named segments.

Semantics: the persona and RFM page of the docs, docs/semantics/personas.md:

* **recency** = whole days from a customer's last order to ``as_of`` (default: the day after
  the last order in the data); **frequency** = number of orders; **monetary** = total revenue
  (or the average order, ``monetary="mean"``).
* **Scores** 1-5. By default quintiles of the customers' ranks, with R reversed (5 = most
  recent). Tied values are ranked by customer id, so when many customers share a value
  (frequency 1 is typical) quintiles split them arbitrarily: :func:`rfm` then warns
  (:class:`RFMTieWarning`) and counts the customers concerned. Cut points avoid this:
  ``bins={"frequency": [2, 3, 4, 6]}`` gives F = 1 for one order, 2 for two, 3 for three,
  4 for four or five and 5 for six or more. Frequency and monetary cut points are the lowest
  value of scores 2..5; recency cut points are the largest recency (days) of scores 5..2.
* **Segments**: by default the standard 10-segment R×F grid (:data:`RFM_SEGMENTS`), an exact
  partition of the 25 R×F cells. A custom rule table (columns ``segment, r_min, r_max, f_min,
  f_max, m_min, m_max``, inclusive ranges) is evaluated first match wins in its row order;
  customers no rule catches are ``"Others"``. :func:`rfm_coverage` shows, for all 125 score
  cells, which rule catches them, which rules overlap or never fire and which cells fall
  through.

Examples
--------
>>> import salesmkt
>>> table = rfm(salesmkt.load_sample().orders, bins={"frequency": [2, 3, 4, 6]})
>>> table.columns.tolist()[:5]
['customer_id', 'recency_days', 'frequency', 'monetary', 'r_score']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from salesmkt.data.validate import check_columns

__all__ = ["rfm", "rfm_coverage", "rfm_summary", "RFM_SEGMENTS", "RFMTieWarning"]

_GRID = {  # R score -> segment for F = 1..5 (reference table 2.2 a)
    5: ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers",
        "Loyal Customers"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers",
        "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
}  # fmt: skip

#: The standard R×F segment map: one row per (r_score, f_score) cell with its segment.
RFM_SEGMENTS = pd.DataFrame(
    [(r, f, _GRID[r][f - 1]) for r in range(5, 0, -1) for f in range(1, 6)],
    columns=["r_score", "f_score", "segment"],
)

RULE_COLUMNS = ["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"]


class RFMTieWarning(UserWarning):
    """Quintile scores split customers with the same value into different scores."""


def _quintile(values: pd.Series, ids: pd.Series, reverse: bool) -> tuple[np.ndarray, int]:
    order = pd.DataFrame({"v": values.to_numpy(), "id": ids.to_numpy()})
    order = order.sort_values(["v", "id"], kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order.index.to_numpy()] = np.arange(len(order))
    score = (rank * 5 // len(order)) + 1
    if reverse:
        score = 6 - score
    # customers whose value also occurs under another score were split arbitrarily
    per_value = pd.Series(score).groupby(values.to_numpy()).nunique()
    split = values.map(per_value).to_numpy() > 1
    return score, int(split.sum())


def _cut(values: pd.Series, cuts, name: str, reverse: bool) -> np.ndarray:
    cuts = np.asarray(cuts, dtype=float)
    if cuts.shape != (4,) or np.any(np.diff(cuts) <= 0):
        raise ValueError(f"rfm: bins[{name!r}] must be 4 increasing cut points, got {list(cuts)}.")
    if reverse:  # recency: days <= c1 -> 5, <= c2 -> 4, ...
        return 5 - np.searchsorted(cuts, values.to_numpy(dtype=float), side="left")
    return 1 + np.searchsorted(cuts, values.to_numpy(dtype=float), side="right")


def _apply_rules(rules: pd.DataFrame, r, f, m) -> np.ndarray:
    out = np.full(len(r), "Others", dtype=object)
    done = np.zeros(len(r), dtype=bool)
    for rule in rules.itertuples(index=False):
        hit = (
            ~done
            & (r >= rule.r_min) & (r <= rule.r_max)
            & (f >= rule.f_min) & (f <= rule.f_max)
            & (m >= rule.m_min) & (m <= rule.m_max)
        )  # fmt: skip
        out[hit] = rule.segment
        done |= hit
    return out


def _check_rules(rules: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(rules, pd.DataFrame):
        raise TypeError("rfm: segments must be a DataFrame (a rule table or a cell map).")
    if {"r_score", "f_score", "segment"} <= set(rules.columns):
        return rules
    missing = [c for c in RULE_COLUMNS if c not in rules.columns]
    if missing:
        raise ValueError(
            f"rfm: the segment rule table lacks {', '.join(missing)}; it needs columns "
            f"{', '.join(RULE_COLUMNS)} (inclusive score ranges)."
        )
    return rules


def rfm(
    orders: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    value_col: str = "revenue",
    as_of=None,
    monetary: str = "sum",
    bins: dict | None = None,
    segments: pd.DataFrame | None = None,
    tie_tolerance: float = 0.05,
) -> pd.DataFrame:
    """One row per customer: recency, frequency, monetary value, scores and segment.

    Parameters
    ----------
    orders : DataFrame or None
        One row per order (the ``orders`` table). ``None`` (the data has no orders table)
        gives an empty table whose ``attrs["note"]`` says so.
    customer_col, date_col, value_col : str
        Column names.
    as_of : timestamp-like, optional
        Analysis date; default the day after the last order. Orders after it are left out
        and counted in ``n_orders_excluded``, like orders without a customer or date.
    monetary : {"sum", "mean"}
    bins : dict, optional
        Cut points per measure (``"recency"``, ``"frequency"``, ``"monetary"``), 4 each;
        measures without cut points are scored by quintiles.
    segments : DataFrame, optional
        A cell map like :data:`RFM_SEGMENTS` (``r_score, f_score, segment``) or a rule table
        (``segment, r_min, r_max, f_min, f_max, m_min, m_max``; first match wins). Default
        :data:`RFM_SEGMENTS`.
    tie_tolerance : float
        Warn when quintiles split tied values for more than this share of customers on a
        measure (a few tied recencies at a boundary are harmless; half the customers with one
        order are not).

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (named after ``customer_col``), ``recency_days, frequency,
        monetary, r_score, f_score, m_score, rfm_cell, segment, n_orders_excluded``.

    Warns
    -----
    RFMTieWarning
        When quintile scoring splits customers with the same value into different scores.

    Examples
    --------
    >>> orders = pd.DataFrame({"order_id": list("abcde"), "customer_id": list("xxyzz"),
    ...     "ordered_at": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01",
    ...                                   "2025-01-15", "2025-02-20"], utc=True),
    ...     "revenue": [100.0, 50.0, 400.0, 20.0, 30.0]})
    >>> rfm(orders, bins={"recency": [10, 20, 30, 40], "frequency": [2, 3, 4, 5],
    ...                   "monetary": [50, 100, 200, 300]})[["customer_id", "recency_days",
    ...     "frequency", "monetary", "rfm_cell", "segment"]]
      customer_id  recency_days  frequency  monetary rfm_cell            segment
    0           x             1          2     150.0      523  Potential Loyalists
    1           y            29          1     400.0      315     About to Sleep
    2           z            10          2      50.0      522  Potential Loyalists
    """
    if orders is None:  # a team without an orders export: an empty table that says so
        out = pd.DataFrame(
            {customer_col: pd.Series(dtype="string")}
            | {c: pd.Series(dtype="int64") for c in ("recency_days", "frequency")}
            | {"monetary": pd.Series(dtype="float64")}
            | {c: pd.Series(dtype="int64") for c in ("r_score", "f_score", "m_score")}
            | {c: pd.Series(dtype="str") for c in ("rfm_cell", "segment")}
            | {"n_orders_excluded": pd.Series(dtype="int64")}
        )
        out.attrs["note"] = "The data has no orders table: no customer segments to show."
        return out
    check_columns(orders, "orders", [customer_col, date_col, value_col], caller="rfm")
    if monetary not in ("sum", "mean"):
        raise ValueError(f"rfm: monetary={monetary!r}; use 'sum' or 'mean'.")
    bins = dict(bins or {})
    unknown = set(bins) - {"recency", "frequency", "monetary"}
    if unknown:
        raise ValueError(f"rfm: bins for unknown measures {sorted(unknown)}.")
    ts = pd.to_datetime(orders[date_col], utc=True)
    if as_of is None:
        as_of = ts.max().normalize() + pd.Timedelta(days=1)
    else:
        as_of = pd.Timestamp(as_of)
        as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    keep = orders[customer_col].notna() & ts.notna() & (ts < as_of)
    n_excluded = int((~keep).sum())
    if not keep.any():
        raise ValueError("rfm: no orders with a customer and a date before as_of.")
    o = pd.DataFrame({"c": orders.loc[keep, customer_col].astype("string"), "t": ts[keep],
                      "v": orders.loc[keep, value_col].astype("float64")})  # fmt: skip
    g = o.groupby("c", sort=True)
    out = pd.DataFrame({
        customer_col: g["t"].max().index.astype("string"),
        "recency_days": ((as_of - g["t"].max()).dt.total_seconds() // 86_400).astype(np.int64)
        .to_numpy(),
        "frequency": g.size().to_numpy(),
        "monetary": (g["v"].sum() if monetary == "sum" else g["v"].mean()).to_numpy(),
    })  # fmt: skip
    ids = out[customer_col]
    ties = {}
    for measure, col, score_col, reverse in (
        ("recency", "recency_days", "r_score", True),
        ("frequency", "frequency", "f_score", False),
        ("monetary", "monetary", "m_score", False),
    ):
        if measure in bins:
            out[score_col] = _cut(out[col], bins[measure], measure, reverse)
        else:
            out[score_col], ties[measure] = _quintile(out[col], ids, reverse)
    split = {k: v for k, v in ties.items() if v > tie_tolerance * len(out)}
    if split:
        detail = ", ".join(f"{n:,} customers ({n / len(out):.0%}) on {k}" for k, v in
                           split.items() for n in [v])  # fmt: skip
        warnings.warn(
            f"rfm: quintiles split tied values into different scores ({detail}); those scores "
            "depend on customer id order. Pass cut points for that measure, e.g. "
            "bins={'frequency': [2, 3, 4, 6]}.",
            RFMTieWarning,
            stacklevel=2,
        )
    out["rfm_cell"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    rules = _check_rules(RFM_SEGMENTS if segments is None else segments)
    if "r_score" in rules.columns:
        cell = rules.set_index(["r_score", "f_score"])["segment"]
        key = pd.MultiIndex.from_arrays([out["r_score"], out["f_score"]])
        out["segment"] = cell.reindex(key).fillna("Others").to_numpy()
    else:
        out["segment"] = _apply_rules(
            rules, out["r_score"].to_numpy(), out["f_score"].to_numpy(), out["m_score"].to_numpy()
        )
    out["n_orders_excluded"] = n_excluded
    return out


def rfm_coverage(rules: pd.DataFrame) -> pd.DataFrame:
    """Which of the 125 R/F/M score cells each segment rule catches, first match wins.

    Parameters
    ----------
    rules : DataFrame
        A rule table (``segment, r_min, r_max, f_min, f_max, m_min, m_max``) or a cell map
        like :data:`RFM_SEGMENTS`.

    Returns
    -------
    DataFrame
        One row per rule in order, then a ``"(falls through)"`` row: ``order, segment,
        cells_matching`` (cells inside its ranges), ``cells_caught`` (cells it wins),
        ``cells_shadowed`` (matching cells an earlier rule already took), ``never_fires``
        and ``cells`` (the caught cells as RFM codes, R then F then M).

    Examples
    --------
    >>> rules = pd.DataFrame({"segment": ["Loyal", "Champions"], "r_min": [2, 4],
    ...     "r_max": [5, 5], "f_min": [3, 4], "f_max": [5, 5], "m_min": [3, 4], "m_max": [5, 5]})
    >>> cov = rfm_coverage(rules)
    >>> cov[["segment", "cells_caught", "cells_shadowed", "never_fires"]]
               segment  cells_caught  cells_shadowed  never_fires
    0            Loyal            36               0        False
    1        Champions             0               8         True
    2  (falls through)            89               0        False
    """
    rules = _check_rules(rules)
    grid = np.array([(r, f, m) for r in range(5, 0, -1) for f in range(5, 0, -1)
                     for m in range(5, 0, -1)])  # fmt: skip
    r, f, m = grid.T
    if "r_score" in rules.columns:
        rules = pd.DataFrame([
            {"segment": s.segment, "r_min": s.r_score, "r_max": s.r_score, "f_min": s.f_score,
             "f_max": s.f_score, "m_min": 1, "m_max": 5}
            for s in rules.itertuples(index=False)
        ])  # fmt: skip
    taken = np.zeros(len(grid), dtype=bool)
    rows = []
    codes = np.array([f"{a}{b}{c}" for a, b, c in grid])
    for i, rule in enumerate(rules.itertuples(index=False)):
        inside = (
            (r >= rule.r_min) & (r <= rule.r_max) & (f >= rule.f_min) & (f <= rule.f_max)
            & (m >= rule.m_min) & (m <= rule.m_max)
        )  # fmt: skip
        caught = inside & ~taken
        rows.append({
            "order": i + 1, "segment": rule.segment, "cells_matching": int(inside.sum()),
            "cells_caught": int(caught.sum()), "cells_shadowed": int((inside & taken).sum()),
            "never_fires": not caught.any(), "cells": " ".join(codes[caught]),
        })  # fmt: skip
        taken |= inside
    rows.append({
        "order": len(rows) + 1, "segment": "(falls through)", "cells_matching": int((~taken).sum()),
        "cells_caught": int((~taken).sum()), "cells_shadowed": 0, "never_fires": False,
        "cells": " ".join(codes[~taken]),
    })  # fmt: skip
    return pd.DataFrame(rows)


def rfm_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per segment of an :func:`rfm` table: customers, their share, median recency and
    frequency, total monetary value and its share, largest segment first.

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.rfm(salesmkt.load_sample().orders, bins={"frequency": [2, 3, 4, 6]})
    >>> s = rfm_summary(t)
    >>> int(s["customers"].sum()) == len(t), round(float(s["monetary_share"].sum()), 6)
    (True, 1.0)
    """
    check_columns(table, "rfm", ["segment", "recency_days", "frequency", "monetary"],
                  caller="rfm_summary")  # fmt: skip
    g = table.groupby("segment")
    out = pd.DataFrame({
        "customers": g.size(),
        "median_recency_days": g["recency_days"].median(),
        "median_frequency": g["frequency"].median(),
        "monetary": g["monetary"].sum(),
    })  # fmt: skip
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    total = out["monetary"].sum()
    out["monetary_share"] = out["monetary"] / total if total else np.nan
    return out.sort_values("customers", ascending=False).reset_index()
