"""Active customers, customer retention and cohort retention as Ibis expressions (private).

The rules are those of :mod:`salesmkt.data.definitions` (contract terms from a column or the
customer's rhythm, an order covering the periods of its term, retention of last period's
customers, first-order cohorts). :func:`salesmkt.data.definitions.active_customers`,
:func:`~salesmkt.data.definitions.customer_retention` and :func:`salesmkt.cohort_retention`
send an orders table that is not in memory (an Ibis table: a database, a Parquet file) here;
the work runs in its backend and what comes back is small: the distinct (period, term) pairs
of the orders, then one row per period (retention) or per cohort and period (cohort
retention). The tests hold these to the pandas rules on DuckDB, PySpark and PostgreSQL.

Periods are numbered (0 = the period of the first order) by comparing timestamps with the
boundaries of :mod:`salesmkt.data.periods`, so every backend places an order in the same
period as pandas does, whatever its own time zone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.engine import as_table, execute, period_index

# nearest of 1, 3, 6, 12 months on a log scale: the borders are the geometric means
_SNAP = [(math.sqrt(3.0), 1.0), (math.sqrt(18.0), 3.0), (math.sqrt(72.0), 6.0)]


def _paying(orders, extra=()):
    import ibis

    cols = ["customer_id", "ordered_at", "revenue", "term_months", "billing_period", "term"]
    t = as_table(orders, [*cols, *extra])
    t = t.mutate(revenue=t["revenue"].cast("float64"))
    return t.filter(t["revenue"] > 0), ibis


def _index(start: pd.Timestamp, base: pd.Timestamp, freq: str) -> int:
    f = _periods.FREQS[freq]
    a = start.tz_convert("UTC").tz_localize(None).to_period(f)
    b = base.tz_convert("UTC").tz_localize(None).to_period(f)
    return int((a - b).n)


class _Frame:
    """The periods the orders span, numbered from the first order's period."""

    def __init__(self, t, freq: str, until=None):
        lo_hi = execute(t.aggregate(lo=t["ordered_at"].min(), hi=t["ordered_at"].max()))
        lo, hi = lo_hi["lo"].iloc[0], lo_hi["hi"].iloc[0]
        self.empty = lo is None or pd.isna(lo)
        self.freq = freq
        if self.empty:
            return
        lo, hi = _periods.to_utc(lo), _periods.to_utc(hi)
        self.base = _periods.floor_one(lo, freq)
        last = _periods.floor_one(hi, freq)
        if until is not None:
            last = max(last, _periods.floor_one(_periods.to_utc(until), freq))
        self.last = _index(last, self.base, freq)
        self.periods = _periods.period_frame(self.base, hi + pd.Timedelta(1), freq)

    def start(self, idx) -> pd.Series:
        """Period start of each index."""
        idx = pd.Series(idx, dtype="int64")
        base = self.base.tz_localize(None).to_period(_periods.FREQS[self.freq])
        return pd.Series(
            [(base + int(i)).start_time.tz_localize("UTC") for i in idx],
            dtype="datetime64[ns, UTC]",
        )


def _given_term(t, ibis):
    """The term stated on the order (``term_months``, else ``billing_period``/``term``)."""
    given = ibis.null().cast("float64")
    for col in ("term_months", "billing_period", "term"):
        if col not in t.columns:
            continue
        c = t[col]
        if c.type().is_numeric():
            num = c.cast("float64")
            words = ibis.null().cast("float64")
        else:
            s = c.cast("string").strip()
            num = s.re_search(r"^[+]?[0-9]+(\.[0-9]+)?$").ifelse(s, None).cast("float64")
            low = s.lower()
            words = ibis.cases(
                *[(low == w, float(m)) for w, m in _periods.TERM_WORDS.items()], else_=None
            )
            words = words.cast("float64")
        given = given.fill_null((num > 0).ifelse(num, None)).fill_null(words)
    return given


def _with_terms(t, ibis, terms: bool = True, given: bool = True):
    """Paying orders with ``_term`` (months): stated, else the customer's rhythm, else 1."""
    if not terms:
        return t.mutate(_term=ibis.literal(1.0))
    w = ibis.window(group_by=t["customer_id"], order_by=t["ordered_at"])
    secs = t["ordered_at"].epoch_seconds().cast("float64")
    t = t.mutate(_gap=(secs - secs.lag().over(w)) / 86_400 / _periods.DAYS_PER_MONTH)
    med = t.group_by("customer_id").aggregate(_med=t["_gap"].median())
    t = t.left_join(med, "customer_id")
    m = t["_med"]
    snapped = ibis.cases(
        *[((m > 0) & (m <= edge), value) for edge, value in _SNAP], (m > 0, 12.0), else_=None
    ).cast("float64")
    stated = _given_term(t, ibis) if given else ibis.null().cast("float64")
    return t.mutate(_term=stated.fill_null(snapped).fill_null(1.0)).drop("_gap", "_med")


def _cover(frame: _Frame, pairs: pd.DataFrame) -> pd.DataFrame:
    """For each (period, term) of the orders, the periods it covers (as the pandas rule)."""
    rows = []
    f = _periods.FREQS[frame.freq]
    base = frame.base.tz_localize(None).to_period(f)
    for p, term in zip(pairs["_p"].astype(int), pairs["_term"].astype(float), strict=True):
        p0 = (base + p).start_time.tz_localize("UTC")
        if term <= 1:
            cover = [p]
        else:
            stop = p0 + pd.DateOffset(months=int(round(term)))
            cover, q, s = [], p, p0
            while s < stop:
                cover.append(q)
                q, s = q + 1, _periods.shift(s, frame.freq)
        rows += [(p, term, q, float(len(cover))) for q in cover]
    return pd.DataFrame(rows, columns=["_p", "_term", "_q", "_n"]).astype(
        {"_p": "int64", "_term": "float64", "_q": "int64", "_n": "float64"}
    )


def _active(t, ibis, frame: _Frame, by: str | None, terms: bool = True, given: bool = True):
    """Ibis table of (customer_id, [by], _q, revenue, paid): customers active per period."""
    t = t.mutate(_p=period_index(t["ordered_at"], frame.periods))
    t = _with_terms(t, ibis, terms=terms, given=given)
    pairs = execute(t.select("_p", "_term").distinct())
    cover = ibis.memtable(_cover(frame, pairs))
    j = t.inner_join(cover, ["_p", "_term"])
    j = j.mutate(_rev=j["revenue"] / j["_n"], _paid=j["_q"] == j["_p"])
    j = j.filter(j["_q"] <= frame.last)
    keys = ["customer_id", *([by] if by else []), "_q"]
    return j.group_by(keys).aggregate(revenue=j["_rev"].sum(), paid=j["_paid"].any())


def active_customers(orders, *, freq: str, by: str | None = None, terms: bool = True, until=None):
    """:func:`salesmkt.data.definitions.active_customers` in the engine."""
    t, ibis = _paying(orders, [by] if by else [])
    frame = _Frame(t, freq, until)
    cols = ["customer_id", *([by] if by else []), "period_start", "revenue", "paid"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    act = execute(_active(t, ibis, frame, by, terms=terms))
    keys = ["customer_id", *([by] if by else []), "_q"]
    act = act.sort_values(keys, kind="stable").reset_index(drop=True)
    act["period_start"] = frame.start(act["_q"]).to_numpy()
    act["paid"] = act["paid"].astype(bool)
    act["revenue"] = act["revenue"].astype(float)
    return act[cols]


def customer_retention(orders, *, freq: str, by: str | None = None) -> pd.DataFrame:
    """:func:`salesmkt.data.definitions.customer_retention` in the engine: one row per period."""
    t, ibis = _paying(orders, [by] if by else [])
    frame = _Frame(t, freq)
    keys = ["period_start", *([by] if by else [])]
    cols = [*keys, "customers_previous", "retained", "customer_retention"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    act = _active(t, ibis, frame, by, terms=True)
    on = ["customer_id", *([by] if by else [])]
    prev = act.select(*on, _q=act["_q"] + 1, _before=act["revenue"])
    now = act.select(*on, "_q", _now=act["revenue"])
    both = prev.left_join(now, [*on, "_q"])
    both = both.filter(both["_q"] <= frame.last)
    kept = (both["_now"].fill_null(0.0) > 0).ifelse(1, 0)
    g = both.group_by(["_q", *([by] if by else [])]).aggregate(
        customers_previous=both.count(), retained=kept.sum()
    )
    out = execute(g).sort_values(["_q", *([by] if by else [])], kind="stable")
    out = out.reset_index(drop=True)
    out["period_start"] = frame.start(out["_q"]).to_numpy()
    out["customers_previous"] = out["customers_previous"].astype(np.int64)
    out["retained"] = out["retained"].astype(np.int64)
    out["customer_retention"] = out["retained"] / out["customers_previous"]
    return out[cols]


def cohort_matrix(orders, *, freq: str, as_of: pd.Timestamp, max_age=None) -> pd.DataFrame:
    """:func:`salesmkt.kpis.customers.cohort_matrix` (no segment) in the engine."""
    import ibis

    t, _ = _paying(orders)
    t = t.filter(t["ordered_at"] <= ibis.literal(as_of.to_pydatetime(), type="timestamp('UTC')"))
    cols = ["cohort", "segment", "age", "customers", "active", "revenue", "cum_revenue", "mature"]
    frame = _Frame(t, freq, as_of)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    tp = t.mutate(_p=period_index(t["ordered_at"], frame.periods))
    first = tp.group_by("customer_id").aggregate(_c=tp["_p"].min())
    size = execute(first.group_by("_c").aggregate(customers=first.count()))
    withc = tp.inner_join(first, "customer_id")
    revenue = execute(withc.group_by(["_c", "_p"]).aggregate(revenue=withc["revenue"].sum()))
    terms = _with_terms(tp, ibis)
    longest = execute(terms.aggregate(longest=terms["_term"].max()))
    longest = float(longest["longest"].iloc[0])
    # as the pandas rule: activity from the orders' rhythm (stated terms set only maturity)
    act = _active(t, ibis, frame, None, given=False)
    actc = act.inner_join(first, "customer_id")
    active = execute(actc.group_by(["_c", "_q"]).aggregate(active=actc["customer_id"].nunique()))
    rev = {
        (int(c), int(p)): float(r) for c, p, r in revenue[["_c", "_p", "revenue"]].itertuples(False)
    }
    act_n = {
        (int(c), int(q)): int(n) for c, q, n in active[["_c", "_q", "active"]].itertuples(False)
    }
    settled = as_of - pd.DateOffset(months=int(np.ceil(longest)))
    rows = []
    for c, n in sorted(zip(size["_c"].astype(int), size["customers"].astype(int), strict=True)):
        start = frame.start([c]).iloc[0]
        age, idx, cum = 0, c, 0.0
        while _periods.shift(start, freq) <= as_of and (max_age is None or age <= max_age):
            r = rev.get((c, idx), 0.0)
            cum += r
            rows.append(
                {
                    "cohort": frame.start([c]).iloc[0],
                    "segment": "(all)",
                    "age": age,
                    "customers": n,
                    "active": act_n.get((c, idx), 0),
                    "revenue": r,
                    "cum_revenue": cum,
                    "mature": bool(start <= settled),
                }
            )
            age, idx, start = age + 1, idx + 1, _periods.shift(start, freq)
    return pd.DataFrame(rows, columns=cols)
