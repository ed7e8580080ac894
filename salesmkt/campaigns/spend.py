"""What each campaign and channel cost and returned: spend metrics, unit economics, referrals.

Definitions follow docs/semantics/kpis.md (CPL, CAC, ROI, ROAS, lead value, LTV, payback):

* a period is the half-open UTC interval ``[start, end)`` (:mod:`salesmkt.data.periods`);
  spend goes by
  ``spend.date``, sessions by ``started_at``, leads by ``created_at``, MQLs by ``mql_at``;
* a deal is *sourced* by its lead's ``channel`` and ``campaign_id`` (first touch, §1.7); deals
  without a lead are unsourced (``"(unsourced)"``); multi-touch credit is
  :func:`salesmkt.attribute`'s job;
* won deals, new customers and their rule for a missing ``deal_type`` are those of
  :mod:`salesmkt.data.definitions`: *new customers* are customers (``account_id``,
  ``lead_id`` standing in) whose first won new-business deal closed in the period; *revenue*
  is the amount of won deals closed in the period;
* a group without spend rows has unknown cost (missing), explicit zero-spend rows cost 0;
  every zero denominator gives a missing value.

Examples
--------
>>> import salesmkt
>>> m = spend_metrics(salesmkt.load_sample(), by="channel")
>>> m.loc[m["channel"] == "organic_search", "cpl"].isna().item()  # no spend rows
True
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import customer_key, new_customers, won_deals
from salesmkt.data.engine import execute, is_table
from salesmkt.data.engine import within as _within_engine
from salesmkt.data.validate import check_columns

__all__ = ["spend_metrics", "referral_summary", "attributed_returns", "returns_note"]

UNSOURCED = "(unsourced)"


_EMPTY = {
    "spend": lambda: pd.DataFrame(
        {
            "date": pd.Series(dtype="datetime64[ns, UTC]"),
            "campaign_id": pd.Series(dtype="string"),
            "amount": pd.Series(dtype=float),
        }
    ),
    "campaigns": lambda: pd.DataFrame(
        {"campaign_id": pd.Series(dtype="string"), "channel": pd.Series(dtype="string")}
    ),
}


def _bounds(dataset: Dataset, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    if start is None or end is None:
        spend = dataset.spend["date"] if dataset.spend is not None else dataset.leads["created_at"]
        lo = min(dataset.leads["created_at"].min(), spend.min())
        hi = max(dataset.leads["created_at"].max(), spend.max())
        start = lo.normalize() if start is None else start
        end = (hi.normalize() + pd.Timedelta(days=1)) if end is None else end
    return _periods.to_utc(start), _periods.to_utc(end)


def _in(s: pd.Series, start, end) -> pd.Series:
    return _periods.within(s, start, end)


def _key(df: pd.DataFrame, by: str, campaign_channel: pd.Series) -> pd.Series:
    if by == "channel" and "channel" not in df.columns and "campaign_id" in df.columns:
        return df["campaign_id"].map(campaign_channel).astype("string").fillna("(missing)")
    col = df[by] if by in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    return col.astype("string").fillna(f"(no {by})")


def _session_counts(sessions, by: str, channel_of: pd.Series, start, end) -> pd.Series:
    """Sessions started in ``[start, end)`` per group; counted in the engine when the table
    stays in its database or Parquet file (one row per value of the grouping column comes back,
    then grouped as :func:`_key` groups in-memory rows)."""
    if sessions is None:
        return pd.Series(dtype=float)
    if not is_table(sessions):
        s = sessions[_in(sessions["started_at"], start, end)]
        return s.groupby(_key(s, by, channel_of)).size()
    t = sessions.filter(_within_engine(sessions["started_at"], start, end))
    col = by if by in t.columns else None
    if col is None and by == "channel" and "campaign_id" in t.columns:
        col = "campaign_id"  # the channel comes from the campaign, as in _key
    counts = execute(
        t.group_by(col).aggregate(n=t.count()) if col else t.aggregate(n=t.count())
    )  # small: one row per channel or campaign
    return counts.groupby(_key(counts, by, channel_of))["n"].sum()


def _sourced_deals(dataset: Dataset, by: str) -> pd.DataFrame:
    """Deals with the sourcing group of their lead and the customer key."""
    deals = dataset.deals
    check_columns(
        deals, "deals", ["lead_id", "amount", "closed_at", "status"], caller="spend_metrics"
    )
    leads = dataset.leads.drop_duplicates("lead_id").set_index("lead_id")
    group = deals["lead_id"].map(leads[by].astype("string") if by in leads.columns else None)
    group = group.fillna(f"(no {by})").where(deals["lead_id"].isin(leads.index), UNSOURCED)
    account = customer_key(deals)
    lead_created = deals["lead_id"].map(leads["created_at"])
    return deals.assign(group=group.astype("string"), account=account, lead_created=lead_created)


def _unit_economics(dataset: Dataset, deals: pd.DataFrame, start, end) -> pd.DataFrame:
    """Monthly revenue per customer and monthly churn hazard per group, from orders.

    Each customer's billing interval is the median gap between their orders (13 months for a
    single order, the usual annual renewal plus a grace month). A customer is lost when
    ``1.5`` intervals pass after the last order without a new one by the end of the data. The
    monthly churn hazard is losses / customer-months observed (exponential survival); monthly
    revenue per customer is revenue / customer-months. Orders up to ``end`` are used, from
    customers acquired by then.
    """
    if dataset.orders is None:
        return pd.DataFrame(columns=["arpa_monthly", "churn_monthly", "observed_months"])
    new = new_customers(deals)
    new = new[new["closed_at"] < end]
    source = new.set_index("customer")["group"]
    orders = dataset.orders[dataset.orders["ordered_at"] < end]
    o = pd.DataFrame(
        {
            "account": orders["customer_id"].astype("string"),
            "at": orders["ordered_at"],
            "revenue": orders["revenue"].astype(float),
        }
    )
    o["group"] = o["account"].map(source)
    observed = (
        (end - o["at"].min()).total_seconds() / 86_400.0 / _periods.DAYS_PER_MONTH if len(o) else 0
    )
    o = o.dropna(subset=["group"]).sort_values(["account", "at"])
    if o.empty:
        return pd.DataFrame(columns=["arpa_monthly", "churn_monthly", "observed_months"])
    gap = o.groupby("account")["at"].diff().dt.total_seconds() / 86_400.0
    per = (
        o.assign(gap=gap)
        .groupby("account")
        .agg(
            group=("group", "first"),
            first=("at", "min"),
            last=("at", "max"),
            revenue=("revenue", "sum"),
            interval=("gap", "median"),
        )
    )
    interval = per["interval"].fillna(13 * _periods.DAYS_PER_MONTH)
    due = per["last"] + pd.to_timedelta(1.5 * interval, unit="D")
    lost = due < end
    stop = per["last"] + pd.to_timedelta(interval, unit="D")
    stop = stop.where(lost, end).clip(upper=end)
    months = (stop - per["first"]).dt.total_seconds() / 86_400.0 / _periods.DAYS_PER_MONTH
    per = per.assign(lost=lost, months=months.clip(lower=1.0))
    g = per.groupby("group").agg(
        revenue=("revenue", "sum"), months=("months", "sum"), lost=("lost", "sum")
    )
    return pd.DataFrame(
        {
            "arpa_monthly": g["revenue"] / g["months"],
            "churn_monthly": g["lost"] / g["months"],
            "observed_months": observed,
        }
    )


def _one_period(dataset, by, start, end, margin, campaigns) -> pd.DataFrame:
    channel_of = campaigns.set_index("campaign_id")["channel"].astype("string")
    spend = dataset.spend[_in(dataset.spend["date"], start, end)]
    spend_by = spend.groupby(_key(spend, by, channel_of))["amount"].sum()
    n_sessions = _session_counts(dataset.sessions, by, channel_of, start, end)
    leads = dataset.leads
    new_leads = leads[_in(leads["created_at"], start, end)]
    n_leads = new_leads.groupby(_key(new_leads, by, channel_of)).size()
    mqls = leads[_in(leads["mql_at"], start, end)] if "mql_at" in leads.columns else leads.iloc[:0]
    n_mqls = mqls.groupby(_key(mqls, by, channel_of)).size()
    deals = _sourced_deals(dataset, by)
    all_won = won_deals(deals)
    won = all_won[_in(all_won["closed_at"], start, end)]
    revenue = won.groupby("group")["amount"].sum()
    new = new_customers(deals)
    customers = new[_in(new["closed_at"], start, end)].groupby("group")["customer"].nunique()
    cohort = all_won[_in(all_won["lead_created"], start, end)]
    cohort_value = cohort.groupby("group")["amount"].sum()
    econ = _unit_economics(dataset, deals, start, end)
    index = sorted(
        set(spend_by.index) | set(n_leads.index) | set(revenue.index) | set(n_sessions.index)
    )
    out = pd.DataFrame({by: pd.array(index, dtype="string")})
    get = lambda s, fill=0.0: out[by].map(s).astype(float).fillna(fill).to_numpy()  # noqa: E731
    out["spend"] = get(spend_by, np.nan)
    out["sessions"] = get(n_sessions).astype(np.int64)
    out["leads"] = get(n_leads).astype(np.int64)
    out["mqls"] = get(n_mqls).astype(np.int64)
    out["customers"] = get(customers).astype(np.int64)
    out["revenue"] = get(revenue)
    m = 1.0 if margin is None else float(margin)

    def ratio(num, den):
        num, den = np.asarray(num, float), np.asarray(den, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    out["cpl"] = ratio(out["spend"], out["leads"])
    out["cost_per_mql"] = ratio(out["spend"], out["mqls"])
    out["cac"] = ratio(out["spend"], out["customers"])
    out["roas"] = ratio(out["revenue"], out["spend"])
    out["roi"] = ratio(out["revenue"] * m - out["spend"], out["spend"])
    out["lead_value"] = ratio(get(cohort_value), out["leads"])
    arpa = out[by].map(econ["arpa_monthly"]).astype(float).to_numpy()
    churn = out[by].map(econ["churn_monthly"]).astype(float).to_numpy()
    observed = float(econ["observed_months"].iloc[0]) if len(econ) else np.nan
    with np.errstate(divide="ignore"):
        expected = np.where(np.isnan(arpa) | np.isnan(churn), np.nan, 1 / churn)  # inf: no churn
    lifetime = np.minimum(expected, observed)
    out["lifetime_months"] = lifetime
    out["lifetime_capped"] = (expected > observed).astype(bool)
    out["ltv"] = arpa * m * lifetime
    out["ltv_cac"] = ratio(out["ltv"], out["cac"])
    out["payback_months"] = ratio(out["cac"], arpa * m)
    out["roas_on_margin"] = ratio(out["revenue"] * m, out["spend"])
    no_leads = (out["leads"] == 0) & (out["revenue"] == 0) & (out["spend"] > 0)
    for col in ("roas", "roi", "roas_on_margin", "ltv_cac", "payback_months"):
        out.loc[no_leads, col] = np.nan
    out["status"] = np.where(no_leads, "no leads sourced", "")
    out["variant"] = "revenue" if margin is None else "margin"
    return out


def spend_metrics(
    dataset: Dataset,
    *,
    by: str = "campaign_id",
    start=None,
    end=None,
    freq: str | None = None,
    gross_margin: float | None = None,
    attribution: pd.DataFrame | None = None,
    model: str | None = None,
    **deprecated,
) -> pd.DataFrame:
    """Spend, volume and return per campaign or channel, with unit economics.

    Parameters
    ----------
    dataset : Dataset
        Needs leads and deals; spend, campaigns, sessions and orders are used when present.
        Without a spend table, spend and every figure that needs it are missing (not zero),
        and ``attrs["note"]`` says so in plain words.
    by : {"campaign_id", "channel"}
        Grouping. Spend rows take their campaign's channel.
    start, end : date-like, optional
        The half-open UTC interval ``[start, end)``; default: the whole data range. The old
        names ``period_start`` and ``period_end`` still work for one release with a
        DeprecationWarning.
    freq : {"D", "W", "M", "Q", "Y"} or a word such as ``"month"``, optional
        Split the period into days, weeks (Monday start), months, quarters or years (column
        ``period``, labelled ``2025-02``, ``2025-Q1``... as in :func:`salesmkt.kpi_table`);
        the first and last parts are cut at ``start`` and ``end``.
    gross_margin : float, optional
        Margin for ROI, ROAS on margin, LTV and payback. ``None``: revenue-based values,
        labelled ``variant="revenue"`` (they overstate return); ``attrs["assumptions"]`` says
        which.
    attribution : DataFrame, optional
        Output of :func:`salesmkt.attribute` with the same ``by``: adds the *attributed*
        returns (multi-touch credit) beside the *sourced* ones (first touch, the lead's own
        campaign). Only without ``freq`` (attribution has no periods).
    model : str, optional
        The attribution model to use when ``attribution`` holds several (required then).

    Returns
    -------
    DataFrame
        One row per group (and period): ``<by>, spend, sessions, leads, mqls, customers,
        revenue, cpl, cost_per_mql, cac, roas, roi, lead_value, lifetime_months,
        lifetime_capped, ltv, ltv_cac, payback_months, roas_on_margin, status, variant``
        (plus ``name``, ``offer`` of campaigns for ``by="campaign_id"``; plus
        ``attributed_revenue, attributed_roas, attributed_roi`` with ``attribution``).
        ``revenue``, ``roas``, ``roi`` are *sourced*: won deals whose lead came from the group.
        ``roas`` is revenue per unit of spend; ``roas_on_margin`` is gross profit (revenue ×
        margin) per unit of spend, break-even at 1. ``status`` is ``"no leads sourced"`` for
        a group with spend but no lead and no revenue in the period: its returns are missing,
        not -100 % (its value, if any, shows in the attributed returns or a holdout test),
        else empty. ``lead_value`` is the won amount of the period's leads (cohort, closed by
        the end of the data) per lead; ``lifetime_months`` is the expected customer lifetime,
        1 / the monthly churn hazard of the group's customers, capped at the months of order
        history observed (``lifetime_capped`` says where; a group without churn gets the
        observed months); ``ltv`` = monthly revenue per active customer × margin ×
        ``lifetime_months``; ``payback_months`` = CAC / (monthly revenue per customer ×
        margin).

    Examples
    --------
    >>> import salesmkt
    >>> m = spend_metrics(salesmkt.load_sample(), by="channel", gross_margin=0.8)
    >>> m.columns.tolist()[:7]
    ['channel', 'spend', 'sessions', 'leads', 'mqls', 'customers', 'revenue']
    """
    kw = _periods.renamed_keywords(
        "spend_metrics",
        deprecated,
        {"period_start": "start", "period_end": "end"},
        start=start,
        end=end,
    )
    if freq is not None:
        freq = _periods.check_freq(
            freq, allowed=_periods.SUPPORTED["spend_metrics"], caller="spend_metrics"
        )
    if by not in ("campaign_id", "channel"):
        raise ValueError(f"spend_metrics: by must be 'campaign_id' or 'channel', got {by!r}")
    for name in ("leads", "deals"):
        if getattr(dataset, name) is None:
            raise ValueError(f"spend_metrics: the dataset has no {name} table")
    absent = [name for name in ("spend", "campaigns") if getattr(dataset, name) is None]
    if absent:  # a team without an ad-spend export still sees its volumes and revenue
        dataset = dataclasses.replace(dataset, **{name: _EMPTY[name]() for name in absent})
    check_columns(dataset.spend, "spend", ["date", "campaign_id", "amount"], caller="spend_metrics")
    check_columns(
        dataset.campaigns, "campaigns", ["campaign_id", "channel"], caller="spend_metrics"
    )
    if gross_margin is not None and not 0 < gross_margin <= 1:
        raise ValueError(f"spend_metrics: gross_margin must be in (0, 1], got {gross_margin}")
    if attribution is not None and freq is not None:
        raise ValueError("spend_metrics: attribution has no periods; use it without freq")
    start, end = _bounds(dataset, kw["start"], kw["end"])
    campaigns = dataset.campaigns
    if freq is None:
        out = _one_period(dataset, by, start, end, gross_margin, campaigns)
    else:
        parts = []
        for p in _periods.period_frame(start, end, freq).itertuples():
            lo, hi = max(p.period_start, start), min(p.period_end, end)
            if lo >= hi:
                continue
            part = _one_period(dataset, by, lo, hi, gross_margin, campaigns)
            parts.append(part.assign(period=p.period))
        out = pd.concat(parts, ignore_index=True)
        out = out[["period", *[c for c in out.columns if c != "period"]]]
    if by == "campaign_id":
        info = campaigns.set_index("campaign_id")
        for col in ("name", "channel", "offer"):  # missing (not left out) when unknown
            known = info[col] if col in info.columns else pd.Series(dtype="string")
            out.insert(1 + (freq is not None), col, out["campaign_id"].map(known).astype("string"))
    out = out.reset_index(drop=True)
    if attribution is not None:
        out = _with_attributed(out, attribution, by=by, model=model, margin=gross_margin)
    orders = dataset.orders
    observed = (
        (end - orders["ordered_at"].min()).total_seconds() / 86_400.0 / _periods.DAYS_PER_MONTH
        if orders is not None and orders["ordered_at"].notna().any()
        else np.nan
    )
    out.attrs["assumptions"] = {
        "margin": "no gross margin given: returns, LTV and payback on revenue, which "
        "overstates them"
        if gross_margin is None
        else f"gross margin {gross_margin:.0%}",
        "lifetime": "expected lifetime 1 / monthly churn, capped at the "
        f"{observed:.0f} months of order history observed"
        if np.isfinite(observed)
        else "no orders: no lifetime value",
    }
    if absent:
        out.attrs["note"] = (
            f"The data has no {' and no '.join(absent)} table: spend and the figures that need "
            "it (CPL, cost per MQL, CAC, ROAS, ROI, LTV:CAC, payback) are missing."
        )
    return out


def _with_attributed(out, attribution, *, by, model, margin) -> pd.DataFrame:
    check_columns(
        attribution,
        "attribution",
        [by, "model", "attributed_revenue"],
        caller="spend_metrics",
    )
    models = list(dict.fromkeys(attribution["model"]))
    if model is None:
        if len(models) != 1:
            raise ValueError(
                f"spend_metrics: attribution holds the models {', '.join(models)}; name one "
                "with model="
            )
        model = models[0]
    elif model not in models:
        raise ValueError(
            f"spend_metrics: attribution has no model {model!r}; it has {', '.join(models)}"
        )
    a = attribution[attribution["model"] == model]
    rev = a.groupby(a[by].astype("string"))["attributed_revenue"].sum()
    m = 1.0 if margin is None else float(margin)
    out = out.copy()
    out["attributed_revenue"] = out[by].map(rev).astype(float).fillna(0.0).to_numpy()
    spend = out["spend"].to_numpy(dtype=float)
    arev = out["attributed_revenue"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["attributed_roas"] = np.where(spend > 0, arev / spend, np.nan)
        out["attributed_roi"] = np.where(spend > 0, (arev * m - spend) / spend, np.nan)
    out.attrs["attribution_model"] = model
    return out


def referral_summary(
    dataset: Dataset,
    *,
    start=None,
    end=None,
    gross_margin: float | None = None,
    referral_channel: str = "referral",
    **deprecated,
) -> pd.DataFrame:
    """The referral channel beside the others: share of new customers, CAC and retention.

    Parameters
    ----------
    dataset : Dataset
        As for :func:`spend_metrics`.
    start, end : date-like, optional
        The half-open UTC interval ``[start, end)``; default: the whole data range. The old
        names ``period_start`` and ``period_end`` still work for one release with a
        DeprecationWarning.
    gross_margin : float, optional
        Margin for LTV (see :func:`spend_metrics`).
    referral_channel : str
        The channel value of referrals.

    Returns
    -------
    DataFrame
        One row per channel: ``channel, is_referral, customers, share_of_new_customers,
        revenue, spend, cac, monthly_retention, ltv, ltv_cac``, referral first, then by
        customers; deals without a lead are left out. ``monthly_retention`` is
        a model estimate, 1 − the monthly churn hazard from order intervals (see
        ``spend_metrics``), not the period-on-period ``customer_retention`` of
        :mod:`salesmkt.data.definitions` nor cohort retention; referral programmes usually pay in offers
        (credits, free months) rather than media, so their cost is missing unless spend rows
        record it.

    Examples
    --------
    >>> import salesmkt
    >>> r = referral_summary(salesmkt.load_sample())
    >>> r["channel"].iloc[0], round(float(r["share_of_new_customers"].sum()), 6)
    ('referral', 1.0)
    """
    kw = _periods.renamed_keywords(
        "referral_summary",
        deprecated,
        {"period_start": "start", "period_end": "end"},
        start=start,
        end=end,
    )
    m = spend_metrics(dataset, by="channel", gross_margin=gross_margin, **kw)
    start, end = _bounds(dataset, kw["start"], kw["end"])
    econ = _unit_economics(dataset, _sourced_deals(dataset, "channel"), start, end)
    m = m[m["channel"] != UNSOURCED]  # deals without a lead have no channel to compare
    total = m["customers"].sum()
    out = pd.DataFrame(
        {
            "channel": m["channel"],
            "is_referral": m["channel"].eq(referral_channel).to_numpy(dtype=bool),
            "customers": m["customers"],
            "share_of_new_customers": m["customers"] / total if total else np.nan,
            "revenue": m["revenue"],
            "spend": m["spend"],
            "cac": m["cac"],
            "monthly_retention": 1 - m["channel"].map(econ["churn_monthly"]).astype(float),
            "ltv": m["ltv"],
            "ltv_cac": m["ltv_cac"],
        }
    )
    out = out.sort_values(["is_referral", "customers"], ascending=[False, False])
    return out.reset_index(drop=True)


def returns_note(metrics: pd.DataFrame, *, other_costs=None, model: str | None = None) -> str:
    """One paragraph stating how the returns of :func:`spend_metrics` are computed.

    The margin (or that none is known), that ROAS and ROI set revenue against media spend
    only while the other sales and marketing costs (``kpis.yml`` ``settings.other_costs``)
    are in the KPI report's fully loaded CAC and cost per lead, what sourced and attributed
    returns credit, and the lifetime assumption behind LTV.

    Parameters
    ----------
    metrics : DataFrame
        Output of :func:`spend_metrics` (its ``attrs["assumptions"]``).
    other_costs : mapping or number, optional
        ``kpis.yml``'s ``settings.other_costs`` (``None``: none set).
    model : str, optional
        The attribution model of the attributed returns, if shown.

    Examples
    --------
    >>> import salesmkt
    >>> m = spend_metrics(salesmkt.load_sample(), by="channel", gross_margin=0.8)
    >>> returns_note(m, other_costs={"salaries": 1}).startswith("**How returns are computed.**")
    True
    """
    a = metrics.attrs.get("assumptions", {})
    margin = a.get("margin", "no gross margin given")
    costs = (
        "the other sales and marketing costs of kpis.yml (salaries, tools) are not in them: "
        "they are in the KPI report's fully loaded CAC and cost per lead"
        if other_costs
        else "kpis.yml sets no other costs"
    )
    parts = [
        margin.replace("gross margin ", "Returns on a gross margin of ")
        if margin.startswith("gross margin")
        else margin,
        f"ROAS and ROI set won revenue against media spend only; {costs}",
        "ROAS on margin is gross profit per unit of spend (break-even at 1)",
        "Sourced returns credit the campaign or channel that brought the lead"
        + (
            "; attributed ones share each new customer's revenue across the touches of its "
            f"journey ({model.replace('_', ' ')} model)"
            if model
            else ""
        ),
        "A campaign that sourced no lead is shown as such, not as a -100 % return",
    ]
    if "lifetime" in a:
        parts.append(f"Lifetime value: {a['lifetime']}")
    text = ". ".join(p[0].upper() + p[1:] for p in parts) + "."
    return f"**How returns are computed.** {text}"


def attributed_returns(attribution: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """CAC and ROAS of each channel (or campaign) under each attribution model.

    Spend comes from :func:`spend_metrics`; customers and revenue from
    :func:`salesmkt.attribute` (docs/semantics/attribution.md: channel CAC under model m =
    channel spend / customers credited to it by m). Use the same period for both.

    Parameters
    ----------
    attribution : DataFrame
        Output of :func:`salesmkt.attribute` (``by`` = ``"channel"`` or ``"campaign_id"``).
    metrics : DataFrame
        Output of :func:`spend_metrics` with the same ``by``.

    Returns
    -------
    DataFrame
        ``<by>, model, spend, attributed_conversions, attributed_revenue, cac, roas``;
        missing where the spend is unknown or nothing was credited.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> j = salesmkt.build_journeys(ds.touchpoints, salesmkt.customer_conversions(ds.leads, ds.deals))
    >>> t = attributed_returns(salesmkt.attribute(j, models=["first_touch", "markov"]),
    ...                        spend_metrics(ds, by="channel"))
    >>> t.columns.tolist()
    ['channel', 'model', 'spend', 'attributed_conversions', 'attributed_revenue', 'cac', 'roas']
    """
    by = attribution.columns[0]
    check_columns(metrics, "metrics", [by, "spend"], caller="attributed_returns")
    check_columns(
        attribution,
        "attribution",
        [by, "model", "attributed_conversions", "attributed_revenue"],
        caller="attributed_returns",
    )
    spend = metrics.groupby(by)["spend"].sum(min_count=1)
    out = attribution[[by, "model", "attributed_conversions", "attributed_revenue"]].copy()
    out.insert(2, "spend", out[by].map(spend).astype(float))
    conv = out["attributed_conversions"].to_numpy(dtype=float)
    rev = out["attributed_revenue"].to_numpy(dtype=float)
    cost = out["spend"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cac"] = np.where(conv > 0, cost / conv, np.nan)
        out["roas"] = np.where(cost > 0, rev / cost, np.nan)
    return out.reset_index(drop=True)
