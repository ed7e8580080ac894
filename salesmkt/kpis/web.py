"""The web KPIs over sessions, written once as Ibis expressions (docs/semantics/kpis.md §3).

Average time on site, organic vs paid traffic, bounce rate and the traffic side of the
web-traffic-to-lead ratio. The sessions table may be a pandas DataFrame (run by DuckDB
in-process) or an Ibis table on any backend (a DuckDB or Parquet file, PostgreSQL, PySpark):
the same expression runs, in the backend, and only one row per period (and breakdown value)
comes back. Leads stay in pandas (they are small).
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesmkt.data.engine import as_table, execute, period_index
from salesmkt.kpis.base import Context, engine_segment, grouped, join, parts

__all__ = ["avg_session_duration", "bounce_rate", "traffic_by_channel_group", "traffic_to_lead"]

# The session columns any web KPI reads (and a breakdown column, added per call).
_COLUMNS = [
    "started_at",
    "visitor_id",
    "duration_s",
    "pageviews",
    "bounced",
    "channel",
    "campaign_id",
    "lead_id",
]


def _sessions(ctx: Context) -> ir.Table:
    """The sessions as an Ibis table (cached on the context)."""
    key = ("sessions_table", ctx.by)
    if key not in ctx._cache:
        cols = [*_COLUMNS, *([ctx.by] if ctx.by else [])]
        ctx._cache[key] = as_table(ctx.table("sessions"), cols)
    return ctx._cache[key]


def engine_grouped(
    ctx: Context, t: ir.Table, ts: str, aggs: dict[str, Callable[[ir.Table], ir.Scalar]]
) -> pd.DataFrame:
    """As :func:`salesmkt.kpis.base.grouped`, in the engine: rows of ``t`` placed in the
    periods by ``ts``, aggregated per (period, segment); one row per group comes back."""
    t = engine_segment(ctx, t)
    t = t.mutate(_p=period_index(t[ts], ctx.periods))
    t = t.filter(t["_p"].notnull())
    expr = t.group_by(["_p", "_segment"]).aggregate(**{k: f(t) for k, f in aggs.items()})
    df = execute(expr)
    starts = ctx.periods["period_start"].reset_index(drop=True)
    at = pd.DatetimeIndex(starts.iloc[df["_p"].astype("int64").to_numpy()], tz="UTC")
    idx = pd.MultiIndex.from_arrays(
        [at, df["_segment"].astype(object).to_numpy()], names=["period_start", "segment"]
    )
    out = df.drop(columns=["_p", "_segment"]).set_axis(idx)
    for k in aggs:
        out[k] = pd.to_numeric(out[k], errors="coerce").astype(float)
    return out.sort_index()


def _count(cond: Callable[[ir.Table], ir.BooleanColumn]) -> Callable[[ir.Table], ir.Scalar]:
    """Rows where ``cond`` holds (a missing condition counts as false)."""
    return lambda t: cond(t).fill_null(False).ifelse(1, 0).sum()


def _float(t: ir.Table, col: str) -> ir.Column:
    return t[col].cast("float64") if col in t.columns else ibis.null().cast("float64")


def avg_session_duration(ctx: Context) -> pd.DataFrame:
    """Mean and median session duration; sessions without a duration counted apart."""
    t = _sessions(ctx)
    g = engine_grouped(
        ctx,
        t,
        "started_at",
        {
            "total": lambda t: _float(t, "duration_s").sum(),
            "n": lambda t: _float(t, "duration_s").count(),
            "excl": _count(lambda t: _float(t, "duration_s").isnull()),
            "median": lambda t: _float(t, "duration_s").median(),
        },
    )
    g["total"] = g["total"].fillna(0.0)
    return parts(
        g, num="total", den="n", excluded="excl", median="median", variant="session_duration"
    )


def _group(ctx: Context, t: ir.Table) -> ir.StringColumn:
    """The channel group of each session: paid wins over organic, the rest unpaid other."""
    groups = ctx.settings["channel_groups"]
    if "channel" not in t.columns:
        return ibis.literal("unpaid_other")
    ch = t["channel"].cast("string")
    paid, organic = list(groups.get("paid", [])), list(groups.get("organic", []))
    branches = []
    if paid:
        branches.append((ch.isin(paid).fill_null(False), "paid"))
    if organic:
        branches.append((ch.isin(organic).fill_null(False), "organic"))
    return ibis.cases(*branches, else_="unpaid_other") if branches else ibis.literal("unpaid_other")


def traffic_by_channel_group(ctx: Context) -> pd.DataFrame:
    t = _sessions(ctx)
    t = t.mutate(_group=_group(ctx, t))
    aggs = {k: _count(lambda t, k=k: t["_group"] == k) for k in ("organic", "paid", "unpaid_other")}
    g = engine_grouped(ctx, t, "started_at", {**aggs, "n": lambda t: t.count()})
    out = [
        parts(g, num=k, den="n", item=k, variant="organic_search_only")
        for k in ("organic", "paid", "unpaid_other")
    ]
    out.append(
        parts(g, num="organic", den="paid", item="organic_to_paid", variant="organic_search_only")
    )
    return pd.concat(out, ignore_index=True)


def bounce_rate(ctx: Context) -> pd.DataFrame:
    t = _sessions(ctx)
    how = ctx.settings["bounce_definition"]
    if how == "ga4":
        seconds = float(ctx.settings["engaged_seconds"])
        engaged = (_float(t, "duration_s") > seconds).fill_null(False) | (
            _float(t, "pageviews") >= 2
        ).fill_null(False)
        if "lead_id" in t.columns:
            engaged = engaged | t["lead_id"].notnull()
        bounced, usable = ~engaged, ibis.literal(True)
    elif how == "single_page":
        pv = _float(t, "pageviews")
        bounced, usable = (pv <= 1).fill_null(False), pv.notnull()
    elif how == "column":
        flag = t["bounced"].cast("boolean")
        bounced, usable = flag.fill_null(False), flag.notnull()
    else:
        raise ValueError(
            f"settings.bounce_definition must be 'ga4', 'single_page' or 'column', got {how!r}"
        )
    t = t.mutate(_b=bounced & usable, _u=usable)
    g = engine_grouped(
        ctx,
        t,
        "started_at",
        {
            "b": _count(lambda t: t["_b"]),
            "n": _count(lambda t: t["_u"]),
            "x": _count(lambda t: ~t["_u"]),
        },
    )
    return parts(g, num="b", den="n", excluded="x", variant=how)


def traffic_to_lead(ctx: Context) -> pd.DataFrame:
    t = _sessions(ctx)
    leads = ctx.table("leads")
    if "lead_id" in t.columns:  # at most one row per lead: small whatever the sessions
        ids = t.filter(t["lead_id"].notnull()).select(_id=t["lead_id"].cast("string")).distinct()
        linked = set(execute(ids)["_id"])
    else:
        linked = set()
    web = leads["lead_id"].astype("string").isin(linked).fillna(False).to_numpy(dtype=bool)
    leads = leads.assign(_one=1, _web=web)
    n = grouped(ctx, leads, "created_at", "leads", leads=("_one", "sum"), web=("_web", "sum"))
    ses = engine_grouped(
        ctx,
        t,
        "started_at",
        {"sessions": lambda t: t.count(), "visitors": lambda t: t["visitor_id"].nunique()},
    )
    g = join(n, ses)
    return pd.concat(
        [
            parts(g, num="leads", den="sessions", variant="per_session"),
            parts(g, num="leads", den="visitors", item="per_visitor", variant="per_visitor"),
            parts(g, num="web", den="sessions", item="web_linked", variant="web_linked_leads"),
        ],
        ignore_index=True,
    )
