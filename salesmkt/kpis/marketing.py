"""Marketing KPIs of the catalog: cost and return (docs/semantics/kpis.md); the web-traffic
KPIs are in :mod:`salesmkt.kpis.web`.

Each function takes a :class:`~salesmkt.kpis.base.Context` and returns KPI parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data.definitions import new_customers, won_deals
from salesmkt.kpis.base import Context, grouped, join, parts


def _new_customers(ctx: Context) -> pd.DataFrame:
    """One row per new customer: ``at`` (when it became one), ``channel`` (its source), and
    the deal or order row it came from (for segments). §1.5."""
    if ctx.settings["new_customer_source"] == "orders":
        o = ctx.table("orders")
        o = o[o["revenue"] > 0].sort_values("ordered_at", kind="stable")
        first = o.drop_duplicates("customer_id")
        chan = first["customer_id"].astype("string").map(ctx.account_attr("channel"))
        return first.assign(at=first["ordered_at"], channel=chan, _table="orders")
    first = new_customers(ctx.table("deals"))
    return first.assign(at=first["closed_at"], channel=ctx.deal_channel(first), _table="deals")


def _spend_grouped(ctx: Context, paid_only: bool = False) -> pd.DataFrame:
    sp = ctx.spend()
    if paid_only:
        sp = sp[ctx.is_paid(sp["channel"]).to_numpy()]
    sp = sp.assign(_one=1)
    return grouped(ctx, sp, "date", "spend", spend=("amount", "sum"), rows=("_one", "sum"))


def _cost(ctx: Context, g: pd.DataFrame, add_other: bool) -> tuple[pd.Series, str]:
    """Spend, missing where there are no spend rows (cost unknown), plus other costs."""
    cost = g["spend"].where(g["rows"] > 0)
    if not add_other or ctx.by is not None or ctx.settings.get("other_costs") is None:
        return cost, "media_only"
    ends = dict(zip(ctx.periods["period_start"], ctx.periods["period_end"], strict=True))
    extra = [ctx.other_costs(p, ends[p]) for p in cost.index.get_level_values("period_start")]
    return cost + np.asarray(extra, dtype=float), "fully_loaded"


def cac(ctx: Context) -> pd.DataFrame:
    new = _new_customers(ctx)
    new = new.assign(_one=1, _paid=ctx.is_paid(new["channel"]).to_numpy())
    table = new["_table"].iloc[0] if len(new) else "deals"
    cust = grouped(ctx, new, "at", table, n=("_one", "sum"), n_paid=("_paid", "sum"))
    return _cost_per(ctx, cust)


def _won_revenue_by_channel_spend(ctx: Context, paid_only: bool) -> pd.DataFrame:
    """Spend in P and the won amount closed in P sourced by channels with spend rows in P."""
    sp = ctx.spend()
    if paid_only:
        sp = sp[ctx.is_paid(sp["channel"]).to_numpy()]
    sp_p = sp.assign(_p=ctx.place(sp["date"]))
    spent = set(zip(sp_p["_p"], sp_p["channel"].astype("string").fillna("-"), strict=True))
    won = won_deals(ctx.table("deals"))
    chan = ctx.deal_channel(won).fillna("-")
    key = list(zip(ctx.place(won["closed_at"]), chan, strict=True))
    counted = np.array([k in spent for k in key], dtype=bool)
    won = won.assign(_rev=won["amount"].where(counted, 0.0).astype(float))
    rev = grouped(ctx, won, "closed_at", "deals", revenue=("_rev", "sum"))
    return join(_spend_grouped(ctx, paid_only=paid_only), rev)


def marketing_roi(ctx: Context) -> pd.DataFrame:
    margin, label = ctx.margin
    ctx.margin_note("marketing_roi")
    g = _won_revenue_by_channel_spend(ctx, paid_only=False)
    spend = g["spend"].where(g["rows"] > 0)
    g = g.assign(profit=g["revenue"] * margin - spend, cost=spend)
    return parts(g, num="profit", den="cost", variant=label)


def roas(ctx: Context) -> pd.DataFrame:
    g = _won_revenue_by_channel_spend(ctx, paid_only=True)
    g = g.assign(cost=g["spend"].where(g["rows"] > 0))
    margin, label = ctx.margin
    ctx.margin_note("roas")
    out = [parts(g, num="revenue", den="cost", variant="same_period")]
    # ROAS on margin: gross profit per unit of ad spend (break-even at 1), beside revenue ROAS
    gm = g.assign(profit=g["revenue"] * margin)
    out.append(parts(gm, num="profit", den="cost", item="on_margin", variant=label))
    # cohort view: won amount (by as_of) of paid leads created in P / paid spend in P
    leads = ctx.table("leads")
    won = won_deals(ctx.table("deals"))
    won = won[won["closed_at"] <= ctx.as_of]
    amount = won.groupby("lead_id")["amount"].sum() if "lead_id" in won else pd.Series(dtype=float)
    paid = leads[ctx.is_paid(leads["channel"]).to_numpy()] if "channel" in leads else leads.iloc[:0]
    paid = paid.assign(_rev=paid["lead_id"].map(amount).fillna(0.0).astype(float))
    rev = grouped(ctx, paid, "created_at", "leads", cohort_revenue=("_rev", "sum"))
    gc = join(g, rev)
    out.append(parts(gc, num="cohort_revenue", den="cost", item="cohort", variant="lead_cohort"))
    return pd.concat(out, ignore_index=True)


def cost_per_lead(ctx: Context) -> pd.DataFrame:
    leads = ctx.table("leads")
    paid = ctx.is_paid(leads["channel"]) if "channel" in leads else pd.Series(False, leads.index)
    leads = leads.assign(_one=1, _paid=paid.to_numpy())
    n = grouped(ctx, leads, "created_at", "leads", n=("_one", "sum"), n_paid=("_paid", "sum"))
    return _cost_per(ctx, n)


__all__ = [
    "cac",
    "marketing_roi",
    "roas",
    "cost_per_lead",
]


def _cost_per(ctx, counts: pd.DataFrame) -> pd.DataFrame:
    """Spend per unit counted in ``counts`` (columns ``n`` and ``n_paid`` per period and
    segment): blended (all spend, plus other costs when set) and paid media only."""
    g = join(_spend_grouped(ctx), counts)
    gp = join(_spend_grouped(ctx, paid_only=True), counts)
    cost, label = _cost(ctx, g, add_other=True)
    g = g.assign(cost=cost)
    gp = gp.assign(cost=gp["spend"].where(gp["rows"] > 0))
    return pd.concat(
        [
            parts(g, num="cost", den="n", variant=f"blended_{label}"),
            parts(gp, num="cost", den="n_paid", item="paid", variant="paid_media_only"),
        ],
        ignore_index=True,
    )
