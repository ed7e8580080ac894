"""Customer and revenue KPIs of the catalog: revenue mix, retention, lead value and unit
economics (docs/semantics/kpis.md).

A customer is *active* in a period when its order revenue in the period is above 0 (§1.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.definitions import (
    NEW,
    active_customers,
    contract_terms,
    first_order_cohort,
    order_customer_type,
    won_deals,
)
from salesmkt.kpis.base import Context, grouped, join, parts, ratio
from salesmkt.kpis.marketing import cac

UNKNOWN_PRODUCT = "(unknown)"


def _activity(ctx: Context) -> pd.DataFrame:
    """Revenue per (customer, segment, period), over all orders (not only requested periods)."""
    if "activity" not in ctx._cache:
        o = ctx.table("orders")
        o = o.assign(segment=ctx.segment(o, "orders"))
        act = active_customers(o, freq=ctx.freq, by="segment")
        ctx._cache["activity"] = act.rename(columns={"period_start": "_p"})
    return ctx._cache["activity"]


def revenue_share_new(ctx: Context) -> pd.DataFrame:
    if ctx.settings["revenue_share_source"] == "deals":
        won = won_deals(ctx.table("deals"))
        new = won["customer_type"] == NEW
        won = won.assign(_new=won["amount"].where(new, 0.0), _old=won["amount"].where(~new, 0.0))
        g = grouped(
            ctx,
            won,
            "closed_at",
            "deals",
            new=("_new", "sum"),
            old=("_old", "sum"),
            all=("amount", "sum"),
        )
        variant = "deals"
    else:
        o = order_customer_type(ctx.table("orders"), freq=ctx.freq)
        is_new = o["customer_type"] == NEW
        o = o.assign(_new=o["revenue"].where(is_new, 0.0), _old=o["revenue"].where(~is_new, 0.0))
        g = grouped(
            ctx,
            o,
            "ordered_at",
            "orders",
            new=("_new", "sum"),
            old=("_old", "sum"),
            all=("revenue", "sum"),
        )
        variant = "orders"
    return pd.concat(
        [
            parts(g, num="new", den="all", variant=variant),
            parts(g, num="old", den="all", item="existing", variant=variant),
        ],
        ignore_index=True,
    )


def revenue_by_product(ctx: Context) -> pd.DataFrame:
    if ctx.settings["revenue_by_product_source"] == "deals":
        rows = won_deals(ctx.table("deals")).rename(columns={"amount": "_r"})
        ts, table, variant = "closed_at", "deals", "deals"
    else:
        rows = ctx.table("orders").rename(columns={"revenue": "_r"})
        ts, table, variant = "ordered_at", "orders", "orders"
    product = rows["product"] if "product" in rows.columns else pd.Series(pd.NA, index=rows.index)
    rows = rows.assign(_prod=product.astype("string").fillna(UNKNOWN_PRODUCT))
    total = grouped(ctx, rows, ts, table, r=("_r", "sum"))
    out = [parts(total, num="r", den="r", value="r", variant=variant)]
    for prod, part in rows.groupby("_prod", sort=True):
        g = join(grouped(ctx, part, ts, table, p=("_r", "sum")), total)
        out.append(parts(g, num="p", den="r", value="p", item=str(prod), variant=variant))
    return pd.concat(out, ignore_index=True)


def _retention_base(ctx: Context) -> pd.DataFrame:
    """Per (period, segment): |S| (active in P-1), retained, and revenues of S in P-1 and P."""
    if "retention" in ctx._cache:
        return ctx._cache["retention"]
    act = _activity(ctx)
    rows = []
    for start in ctx.periods["period_start"]:
        prev = _periods.shift(start, ctx.freq, -1)
        s = act[act["_p"] == prev].set_index(["customer_id", "segment"])["revenue"]
        now = act[act["_p"] == start].set_index(["customer_id", "segment"])["revenue"]
        both = pd.concat([s.rename("before"), now.rename("after")], axis=1, join="outer")
        base = both[both["before"].notna()].fillna(0.0)
        active = now.groupby(level="segment").agg(["size", "sum"])
        base = base.assign(_kept=base["after"] > 0, _min=np.minimum(base["before"], base["after"]))
        agg = base.groupby(level="segment").agg(
            S=("before", "size"),
            kept=("_kept", "sum"),
            rev_before=("before", "sum"),
            rev_after=("after", "sum"),
            rev_min=("_min", "sum"),
        )
        agg = agg.join(active.rename(columns={"size": "active", "sum": "revenue"}), how="outer")
        agg["period_start"] = start
        rows.append(agg.reset_index())
    cols = [
        "period_start",
        "segment",
        "S",
        "kept",
        "rev_before",
        "rev_after",
        "rev_min",
        "active",
        "revenue",
    ]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    out = out.reindex(columns=cols).fillna(0.0).set_index(["period_start", "segment"])
    ctx._cache["retention"] = out
    return out


def customer_retention(ctx: Context) -> pd.DataFrame:
    return parts(_retention_base(ctx), num="kept", den="S", variant="identity")


def churn_rate(ctx: Context) -> pd.DataFrame:
    g = _retention_base(ctx)
    return parts(g.assign(lost=g["S"] - g["kept"]), num="lost", den="S", variant="logo")


def nrr(ctx: Context) -> pd.DataFrame:
    return parts(_retention_base(ctx), num="rev_after", den="rev_before", variant="k=1")


def grr(ctx: Context) -> pd.DataFrame:
    return parts(_retention_base(ctx), num="rev_min", den="rev_before", variant="k=1")


def lead_value(ctx: Context) -> pd.DataFrame:
    leads = ctx.table("leads")
    won = won_deals(ctx.table("deals"))
    won = won[won["closed_at"] <= ctx.as_of]
    won = won[won["lead_id"].notna()] if "lead_id" in won else won.iloc[:0]
    by_lead = won.groupby("lead_id")["amount"].sum()
    leads = leads.assign(_one=1, _rev=leads["lead_id"].map(by_lead).fillna(0.0).astype(float))
    n = grouped(ctx, leads, "created_at", "leads", n=("_one", "sum"), cohort=("_rev", "sum"))
    period = grouped(ctx, won, "closed_at", "deals", period=("amount", "sum"))
    g = join(n, period)
    return pd.concat(
        [
            parts(g, num="cohort", den="n", variant="lead_cohort"),
            parts(g, num="period", den="n", item="period", variant="same_period"),
        ],
        ignore_index=True,
    )


def _arpa(ctx: Context) -> pd.Series:
    g = _retention_base(ctx)
    return ratio(g["revenue"], g["active"])


def observed_periods(ctx: Context) -> float:
    """Periods of order history observed: from the first order to ``as_of``."""
    o = ctx.table("orders")
    if o.empty or o["ordered_at"].isna().all():
        return np.nan
    days = (ctx.as_of - o["ordered_at"].min()).total_seconds() / 86_400
    return days / _periods.DAYS_PER_MONTH / _periods.MONTHS_PER_PERIOD[ctx.freq]


def clv_simple(ctx: Context) -> pd.DataFrame:
    """ARPA x margin x expected lifetime; the lifetime 1 / churn is capped at the periods of
    order history observed (a churn of 1 % a month would otherwise promise 100 months from
    two years of data); the denominator is the churn used, max(churn, 1 / observed)."""
    margin, label = ctx.margin
    ctx.margin_note("clv_simple")
    span = observed_periods(ctx)
    g = _retention_base(ctx)
    churn = ratio(g["S"] - g["kept"], g["S"])
    floor_churn = 1 / span if span and np.isfinite(span) and span > 0 else np.nan
    capped = churn.where(~(churn < floor_churn), floor_churn)
    g = g.assign(arpa_m=_arpa(ctx) * margin, churn=capped)
    if np.isfinite(floor_churn) and (churn < floor_churn).any():
        label = f"{label}_lifetime_capped"
    ctx.assume(
        "clv_simple",
        f"expected lifetime 1 / churn, capped at the {span:.0f} periods of order history observed"
        if np.isfinite(span)
        else "expected lifetime 1 / churn",
    )
    return parts(g, num="arpa_m", den="churn", variant=label)


def _headline(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    return rows[rows["item"] == "total"].set_index(["period_start", "segment"])["value"]


def ltv_cac(ctx: Context) -> pd.DataFrame:
    clv = clv_simple(ctx)
    ctx.assume("ltv_cac", ctx.assumptions.get("clv_simple", ""))
    g = pd.concat(
        [_headline(ctx, clv).rename("clv"), _headline(ctx, cac(ctx)).rename("cac")],
        axis=1,
    )
    return parts(g, num="clv", den="cac", variant="simple_clv_blended_cac")


def cac_payback_months(ctx: Context) -> pd.DataFrame:
    margin, label = ctx.margin
    ctx.margin_note("cac_payback_months")
    monthly = _arpa(ctx) / _periods.MONTHS_PER_PERIOD[ctx.freq] * margin
    g = pd.concat([_headline(ctx, cac(ctx)).rename("cac"), monthly.rename("m")], axis=1)
    return parts(g, num="cac", den="m", variant=label)


def horizon(ctx: Context) -> int:
    h = ctx.settings.get("clv_horizon")
    return int(h) if h is not None else {"M": 12, "Q": 4, "W": 52}[ctx.freq]


def clv_cohort(ctx: Context) -> pd.DataFrame:
    """Cumulative margin per acquired customer by age; ``total`` is the value at the horizon."""
    margin, label = ctx.margin
    ctx.margin_note("clv_cohort")
    tri = cohort_matrix(
        ctx.table("orders"),
        freq=ctx.freq,
        as_of=ctx.as_of,
        segment=lambda o: ctx.segment(o, "orders"),
        max_age=horizon(ctx),
    )
    tri = tri[tri["cohort"].isin(ctx.periods["period_start"])]
    tri = tri.assign(cum=tri["cum_revenue"] * margin, period_start=tri["cohort"])
    out = []
    h = horizon(ctx)
    for age, g in tri.groupby("age"):
        g = g.set_index(["period_start", "segment"])
        out.append(parts(g, num="cum", den="customers", item=f"age {age}", variant=label))
        if age == h:
            out.append(parts(g, num="cum", den="customers", variant=label))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def cohort_matrix(orders: pd.DataFrame, *, freq: str, as_of, segment=None, max_age=None):
    """Customers by first-order cohort and age: active count, cash revenue and maturity.

    Cells are listed only when the period ``cohort + age`` has ended by ``as_of``; orders
    after ``as_of`` are not looked at. A customer is *active* in a period as in
    :func:`salesmkt.data.definitions.active_customers` with contract terms (a paying order
    in it, or an earlier order whose term covers it), so an annual customer paying once a
    year stays active between payments. ``revenue`` is the cash of the orders placed in the
    period (what the cohort's lifetime value adds up). A cell is ``mature`` when the data
    runs at least the longest contract term of the orders past the start of its period: a
    customer who looks lapsed there would have renewed by then, and its status is settled.
    """
    o = orders[orders["revenue"] > 0]
    o = o[o["ordered_at"] <= as_of]
    o = o.assign(
        _p=_periods.floor(o["ordered_at"], freq), segment=segment(o) if segment else "(all)"
    )
    # the cohort of a customer: the period of its first paying order (data.definitions)
    first = first_order_cohort(o, freq=freq).set_index("customer_id")["cohort"]
    o = o.join(first, on="customer_id")
    seg = (
        o.sort_values("ordered_at")
        .drop_duplicates("customer_id")
        .set_index("customer_id")["segment"]
    )
    o["segment"] = o["customer_id"].map(seg)
    size = first.to_frame().join(seg).groupby(["cohort", "segment"]).size().rename("customers")
    revenue = o.groupby(["cohort", "segment", "_p"], observed=True)["revenue"].sum().to_dict()
    longest = 1.0
    active: dict = {}
    if len(o):
        longest = float(contract_terms(o)["term_months"].max())
        act = active_customers(o[["customer_id", "ordered_at", "revenue"]], freq=freq, until=as_of)
        act = act.join(first, on="customer_id").assign(
            segment=act["customer_id"].map(seg).to_numpy()
        )
        active = (
            act.groupby(["cohort", "segment", "period_start"], observed=True)["customer_id"]
            .nunique()
            .to_dict()
        )
    settled = as_of - pd.DateOffset(months=int(np.ceil(longest)))
    rows = []
    for (c, s), n in size.items():
        age, start, cum = 0, c, 0.0
        while _periods.shift(start, freq) <= as_of and (max_age is None or age <= max_age):
            rev = float(revenue.get((c, s, start), 0.0))
            cum += rev
            rows.append(
                {
                    "cohort": c,
                    "segment": s,
                    "age": age,
                    "customers": int(n),
                    "active": int(active.get((c, s, start), 0)),
                    "revenue": rev,
                    "cum_revenue": cum,
                    "mature": bool(start <= settled),
                }
            )
            age, start = age + 1, _periods.shift(start, freq)
    cols = ["cohort", "segment", "age", "customers", "active", "revenue", "cum_revenue", "mature"]
    return pd.DataFrame(rows, columns=cols)
