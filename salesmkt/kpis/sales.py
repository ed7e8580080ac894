"""Sales and handoff KPIs of the catalog (docs/semantics/kpis.md).

Each function takes a :class:`~salesmkt.kpis.base.Context` and returns KPI parts.
"""

from __future__ import annotations

import pandas as pd

from salesmkt.data.definitions import won_deals
from salesmkt.data.stages import stage_entries, stages_in
from salesmkt.kpis.base import Context, grouped, join, parts, ratio

_DAY = 86_400.0


def _entries(ctx: Context, leads: pd.DataFrame) -> pd.DataFrame:
    """Stage entries of ``leads`` by ``ctx.as_of`` (:mod:`salesmkt.data.stages`), on its index."""
    e = stage_entries(leads, stages=stages_in(leads), as_of=ctx.as_of, caller="kpi_table")
    e.index = leads.index
    return e


def stage_conversion(ctx: Context) -> pd.DataFrame:
    """Cohort conversion: entered stage k in P, reached k+1 or later by ``as_of``.

    Leads with stage timestamps out of order are counted in ``n_excluded`` by creation period.
    """
    leads = ctx.table("leads")
    spec = stages_in(leads)
    e = _entries(ctx, leads)
    names = [n for n, _ in spec]
    disq = (
        leads["disqualified_at"].where(leads["disqualified_at"] <= ctx.as_of)
        if "disqualified_at" in leads.columns
        else pd.Series(pd.NaT, index=leads.index)
    )
    excl = leads.assign(_x=e["excluded"].to_numpy())
    g_ex = grouped(ctx, excl, "created_at", "leads", x=("_x", "sum"))
    out = []
    pairs = [(names[k], names[k + 1]) for k in range(len(names) - 1)]
    pairs.append((names[0], names[-1]))
    for cur, nxt in pairs:
        entered = e[cur].notna()
        moved = e[nxt].notna()
        pending = entered & ~moved & disq.isna()
        rows = leads.assign(_in=entered, _mv=moved & entered, _pend=pending)[entered.to_numpy()]
        g = grouped(
            ctx,
            rows,
            e.loc[entered, cur],
            "leads",
            n=("_in", "sum"),
            k=("_mv", "sum"),
            p=("_pend", "sum"),
        )
        g = join(g, g_ex)
        out.append(
            parts(
                g,
                num="k",
                den="n",
                item=f"{cur}_to_{nxt}",
                excluded="x",
                pending="p",
                variant="cohort",
            )
        )
    return pd.concat(out, ignore_index=True)


def mql_sql_acceptance(ctx: Context) -> pd.DataFrame:
    """MQLs of P (leads with their own ``mql_at`` in P) that reached SQL or later by ``as_of``.

    Sales-sourced leads (SQL reached without an MQL: the MQL stage skipped) measure no handoff;
    they are excluded and counted by the period they reached SQL in. Leads with stage
    timestamps out of order are excluded and counted by their ``mql_at``.
    """
    leads = ctx.table("leads")
    e = _entries(ctx, leads)
    acc = e["sql"].notna()
    own_mql = e["mql"].notna() & ~e["mql_skipped"]
    disq = (
        (leads["disqualified_at"] <= ctx.as_of).fillna(False).astype(bool)
        if ("disqualified_at" in leads.columns)
        else pd.Series(False, index=leads.index)
    )
    mql = leads.assign(_one=1, _acc=acc, _pend=~acc & ~disq)[own_mql.to_numpy()]
    g = grouped(
        ctx,
        mql,
        e.loc[own_mql, "mql"],
        "leads",
        n=("_one", "sum"),
        k=("_acc", "sum"),
        p=("_pend", "sum"),
    )
    direct = (acc & e["mql_skipped"]).to_numpy()
    gx = grouped(
        ctx, leads.assign(_one=1)[direct], e.loc[direct, "sql"], "leads", x=("_one", "sum")
    )
    bad = (e["excluded"] & leads["mql_at"].notna()).to_numpy()
    gb = grouped(ctx, leads.assign(_one=1)[bad], "mql_at", "leads", y=("_one", "sum"))
    g = join(g, gx, gb)
    g["x"] = g["x"] + g["y"]
    return parts(g, num="k", den="n", excluded="x", pending="p", variant="cohort")


def _durations(
    ctx, df, start, end, table, variant, unit=_DAY, clamp=False, item="total", excluded=None
):
    days = (df[end] - df[start]).dt.total_seconds() / unit
    bad = days < 0
    if excluded is not None:  # rows left out by a definition (stage timestamps out of order)
        bad = bad | excluded
        days = days.where(~excluded)
    if clamp:
        days, bad = days.clip(lower=0), pd.Series(False, index=df.index)
    df = df.assign(_d=days.where(~bad), _ok=~bad, _bad=bad)
    g = grouped(
        ctx,
        df,
        end,
        table,
        total=("_d", "sum"),
        n=("_ok", "sum"),
        x=("_bad", "sum"),
        median=("_d", "median"),
    )
    return parts(
        g,
        num="total",
        den="n",
        value="median",
        median="median",
        excluded="x",
        item=item,
        variant=variant,
    )


def time_to_purchase(ctx: Context) -> pd.DataFrame:
    """Days from creation to customer of the leads that became customers in P (by ``as_of``).

    Leads with stage timestamps out of order are excluded and counted by their ``customer_at``.
    """
    leads = ctx.table("leads")
    e = _entries(ctx, leads)
    raw = leads["customer_at"]
    cust = (e["customer"].notna() | (e["excluded"] & raw.notna() & (raw <= ctx.as_of))).to_numpy()
    df = leads[cust].assign(_start=e.loc[cust, "lead"], _end=raw[cust])
    x = e.loc[cust, "excluded"].astype(bool)
    return _durations(ctx, df, "_start", "_end", "leads", "median_days", excluded=x)


def lead_response_time(ctx: Context) -> pd.DataFrame:
    clock = ctx.settings["response_clock"]
    if clock not in ("mql_at", "created_at"):
        raise ValueError(f"settings.response_clock must be 'mql_at' or 'created_at', got {clock!r}")
    leads = ctx.table("leads")
    leads = leads[leads[clock].notna()]
    resp = leads["first_response_at"].where(leads["first_response_at"] <= ctx.as_of)
    hours = ((resp - leads[clock]).dt.total_seconds() / 3600).clip(lower=0)  # early = 0 h
    leads = leads.assign(_h=hours, _ok=hours.notna(), _none=hours.isna(), _one=1)
    g = grouped(
        ctx,
        leads,
        clock,
        "leads",
        total=("_h", "sum"),
        n=("_ok", "sum"),
        none=("_none", "sum"),
        all=("_one", "sum"),
        median=("_h", "median"),
    )
    label = "mql_clock" if clock == "mql_at" else "created_clock"
    return pd.concat(
        [
            parts(
                g,
                num="total",
                den="n",
                value="median",
                median="median",
                excluded="none",
                variant=label,
            ),
            parts(g, num="none", den="all", item="no_response_share", variant=label),
        ],
        ignore_index=True,
    )


def _closed(ctx: Context, status: str) -> pd.DataFrame:
    d = ctx.table("deals")
    if status == "won":  # the one definition of a won deal
        return won_deals(d)
    return d[(d["status"] == status) & d["closed_at"].notna()]


def avg_deal_size(ctx: Context) -> pd.DataFrame:
    won = _closed(ctx, "won").assign(_one=1)
    g = grouped(
        ctx,
        won,
        "closed_at",
        "deals",
        s=("amount", "sum"),
        n=("_one", "sum"),
        median=("amount", "median"),
    )
    return parts(g, num="s", den="n", median="median", variant="won_mean")


def win_rate(ctx: Context) -> pd.DataFrame:
    d = ctx.table("deals")
    closed = d[d["closed_at"].notna()]
    st = closed["status"].astype("string")
    won = won_deals(d)
    closed = closed.assign(
        _won=closed.index.isin(won.index) & (st == "won").fillna(False).to_numpy(dtype=bool),
        _dec=st.isin(["won", "lost"]).fillna(False).astype(bool),
        _x=~st.isin(["won", "lost"]).fillna(False).astype(bool),
    )
    closed = closed.assign(
        _wamt=closed["amount"].where(closed["_won"], 0.0),
        _damt=closed["amount"].where(closed["_dec"], 0.0),
    )
    g = grouped(
        ctx,
        closed,
        "closed_at",
        "deals",
        won=("_won", "sum"),
        dec=("_dec", "sum"),
        x=("_x", "sum"),
        wamt=("_wamt", "sum"),
        damt=("_damt", "sum"),
    )
    return pd.concat(
        [
            parts(g, num="won", den="dec", excluded="x", variant="decided_count"),
            parts(g, num="wamt", den="damt", item="value_weighted", variant="decided_value"),
        ],
        ignore_index=True,
    )


def sales_cycle_length(ctx: Context) -> pd.DataFrame:
    return pd.concat(
        [
            _durations(ctx, _closed(ctx, "won"), "created_at", "closed_at", "deals", "won_median"),
            _durations(
                ctx,
                _closed(ctx, "lost"),
                "created_at",
                "closed_at",
                "deals",
                "lost_median",
                item="lost",
            ),
        ],
        ignore_index=True,
    )


def _quota_rows(ctx: Context) -> pd.DataFrame:
    q = ctx.table("quotas")
    return q.assign(_p=ctx.place(q["period_start"])) if not q.empty else q


def quota_attainment(ctx: Context) -> pd.DataFrame:
    q = _quota_rows(ctx)
    won = _closed(ctx, "won")
    won = won.assign(_p=ctx.place(won["closed_at"]), segment=ctx.segment(won, "deals"))
    q = q.assign(segment=ctx.segment(q, "quotas"))
    quota = q[q["_p"].notna()].groupby(["_p", "segment", "owner_id"], observed=True)["quota"].sum()
    amount = (
        won[won["_p"].notna()].groupby(["_p", "segment", "owner_id"], observed=True)["amount"].sum()
    )
    per = pd.concat([amount.rename("won"), quota.rename("quota")], axis=1)
    per["won"] = per["won"].fillna(0.0)
    has_quota = per["quota"].notna() & (per["quota"] > 0)
    orphan = won[won["_p"].notna()].merge(
        per[~has_quota].reset_index()[["_p", "segment", "owner_id"]],
        on=["_p", "segment", "owner_id"],
    )
    per = per.assign(att=ratio(per["won"], per["quota"]))
    per = per.rename_axis(["period_start", "segment", "owner_id"]).reset_index()
    ok = per[has_quota.to_numpy()]
    team = ok.groupby(["period_start", "segment"]).agg(
        won=("won", "sum"),
        quota=("quota", "sum"),
        n=("owner_id", "size"),
        at=("att", lambda a: int((a >= 1).sum())),
    )
    x = orphan.groupby(["_p", "segment"]).size().rename_axis(["period_start", "segment"])
    team = join(team, x.rename("x").to_frame())
    out = [
        parts(team, num="won", den="quota", excluded="x", variant="team_sum"),
        parts(team, num="at", den="n", item="share_at_quota", variant="owners_at_quota"),
    ]
    owners = ok.set_index(["period_start", "segment"])
    for owner, g in owners.groupby("owner_id"):
        out.append(parts(g, num="won", den="quota", item=f"owner {owner}", variant="owner"))
    return pd.concat(out, ignore_index=True)


def _open_at_start(ctx: Context) -> tuple[pd.DataFrame, str]:
    """Deals open at each period start, one row per (deal, period)."""
    d = ctx.table("deals")
    rows = []
    use_expected = "expected_close_at" in d.columns and d["expected_close_at"].notna().any()
    for start, end in zip(ctx.periods["period_start"], ctx.periods["period_end"], strict=True):
        open_ = (d["created_at"] <= start) & (d["closed_at"].isna() | (d["closed_at"] > start))
        if use_expected:  # deals with a planned close outside P do not cover P's quota
            exp = d["expected_close_at"]
            open_ &= exp.isna() | ((exp >= start) & (exp < end))
        part = d[open_.fillna(False).to_numpy()]
        rows.append(part.assign(_start=start))
    out = pd.concat(rows, ignore_index=True) if rows else d.iloc[:0].assign(_start=pd.NaT)
    return out, "expected_in_period" if use_expected else "all_open_upper_bound"


def pipeline_coverage(ctx: Context) -> pd.DataFrame:
    op, variant = _open_at_start(ctx)
    op = op.assign(_one=1)
    g = grouped(ctx, op, "_start", "deals", amount=("amount", "sum"), n=("_one", "sum"))
    q = _quota_rows(ctx)
    gq = grouped(ctx, q, "period_start", "quotas", quota=("quota", "sum")) if not q.empty else None
    g = join(g, gq) if gq is not None else g.assign(quota=0.0)
    return parts(g, num="amount", den="quota", variant=variant)


def pipeline_velocity(ctx: Context) -> pd.DataFrame:
    op, variant = _open_at_start(ctx)
    n_open = grouped(ctx, op.assign(_one=1), "_start", "deals", n_open=("_one", "sum"))
    wr = win_rate(ctx).query("item == 'total'").set_index(["period_start", "segment"])["value"]
    size = avg_deal_size(ctx).set_index(["period_start", "segment"])["value"]
    cyc = sales_cycle_length(ctx).query("item == 'total'").set_index(["period_start", "segment"])
    mean_cycle = ratio(cyc["numerator"], cyc["denominator"])
    g = pd.concat(
        [n_open["n_open"], wr.rename("wr"), size.rename("size"), mean_cycle.rename("cycle")], axis=1
    )
    g["n_open"] = g["n_open"].fillna(0)
    g["flow"] = g["n_open"] * g["wr"] * g["size"]
    return parts(g, num="flow", den="cycle", variant=f"mean_cycle_{variant}")


def sla_compliance(ctx: Context) -> pd.DataFrame:
    leads = ctx.table("leads")
    t = pd.Timedelta(hours=float(ctx.settings["sla_response_hours"]))
    mql = leads[leads["mql_at"].notna()]
    resp = mql["first_response_at"].where(mql["first_response_at"] <= ctx.as_of)
    comply = (resp - mql["mql_at"] <= t).fillna(False).astype(bool)
    due = resp.notna() | (mql["mql_at"] + t <= ctx.as_of)
    mql = mql.assign(_ok=comply & due, _due=due, _pend=~due)
    g = grouped(
        ctx, mql, "mql_at", "leads", k=("_ok", "sum"), n=("_due", "sum"), p=("_pend", "sum")
    )
    return parts(g, num="k", den="n", pending="p", variant=f"within_{t.total_seconds() / 3600:g}h")


def _sourced(ctx: Context, deals: pd.DataFrame, ts: str) -> pd.DataFrame:
    chan = ctx.deal_channel(deals)
    mkt = (chan.notna() & (chan != "other")).fillna(False).astype(bool)
    deals = deals.assign(
        _mamt=deals["amount"].where(mkt, 0.0).astype(float), _amt=deals["amount"].astype(float)
    )
    g = grouped(ctx, deals, ts, "deals", m=("_mamt", "sum"), a=("_amt", "sum"))
    return parts(g, num="m", den="a", value="m", variant="lead_source")


def mkt_sourced_pipeline(ctx: Context) -> pd.DataFrame:
    return _sourced(ctx, ctx.table("deals"), "created_at")


def mkt_sourced_revenue(ctx: Context) -> pd.DataFrame:
    return _sourced(ctx, _closed(ctx, "won"), "closed_at")


__all__ = [
    "stage_conversion",
    "mql_sql_acceptance",
    "time_to_purchase",
    "lead_response_time",
    "avg_deal_size",
    "win_rate",
    "sales_cycle_length",
    "quota_attainment",
    "pipeline_coverage",
    "pipeline_velocity",
    "sla_compliance",
    "mkt_sourced_pipeline",
    "mkt_sourced_revenue",
]
