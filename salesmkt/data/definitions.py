"""Business definitions every analysis shares: won deal, new vs existing customer, active and
retained customer (the KPI semantics page, docs/semantics/kpis.md).

These are the one home of the rules. The KPI catalog, spend metrics, holdout tests and persona
outcomes call them here, so a deal is won, a customer is new and a customer is retained in the
same sense in every report.

Rules
-----
* **Customer key.** ``account_id``, with ``lead_id`` standing in where the account is missing
  (deals, leads); ``customer_id`` for orders.
* **Won deal.** ``status == "won"`` with a ``closed_at``. A won deal without a close time has
  no period and is not a won deal for any period KPI; it is counted
  (``attrs["n_won_without_close"]``). A deal won *before it was created* (``closed_at <
  created_at``, a CRM data error) is still a won deal: its amount counts, it is flagged
  (``closed_before_created``) and counted (``attrs["n_closed_before_created"]``); only
  durations (sales cycle) leave it out, and say so.
* **New vs existing.** A won deal is *new business* when ``deal_type == "new_business"`` and
  *existing* for ``expansion`` or ``renewal``. A won deal **without a type** (vendor exports
  often leave it empty) is new business when it is the first won deal of its customer (by
  ``closed_at``, then ``deal_id``), existing otherwise. A *new customer* is a customer at the
  close of its first won new-business deal; it is new once.
* **New vs existing revenue (orders).** An order is from a new customer when the customer's
  first order with revenue above 0 falls in the same period as the order.
* **Active customer** in a period: a paying order (revenue above 0) in the period, or a
  paying order earlier whose contract term covers the period. An order's term is its
  ``term_months`` column (months), else its ``billing_period`` or ``term`` column (``monthly``,
  ``quarterly``, ``semiannual``, ``annual``/``yearly``, or a number of months); without one,
  the customer's own rhythm: the median gap between its consecutive paying orders, snapped to
  1, 3, 6 or 12 months (a customer with a single paying order: its own period only). An
  annual customer paying once a year is thus active in the eleven months between payments,
  not churned and won back. Orders of one month or less cover their own period only (the
  rule without terms). See :func:`active_customers`.
* **Retention**, three measures that answer different questions and carry different names:

  ``customer_retention``
      logo retention, period on period: customers active in the previous period who are
      active again in this one / customers active in the previous period (churn = 1 − it).
  ``revenue_retention``
      this period's revenue from the previous period's active customers / their revenue then
      (net, NRR, with expansion) and the same with each customer capped at its earlier
      revenue (gross, GRR).
  ``cohort_retention``
      share of a first-order cohort active ``k`` periods after its first order
      (:func:`salesmkt.cohort_retention`, the retention heatmap); it falls with age, so it is
      lower than period-on-period retention.

  The campaign review's ``monthly_retention`` (:func:`salesmkt.referral_summary`) is a fourth,
  model-based figure: one minus the monthly churn hazard estimated from order intervals.
  :data:`RETENTION_LABELS` holds the label a report shows for each.

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> won = won_deals(ds.deals)
>>> len(won), won.attrs["n_closed_before_created"]
(331, 5)
>>> len(new_customers(ds.deals))
153
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.engine import execute, is_table
from salesmkt.data.validate import check_columns

__all__ = [
    "RETENTION_LABELS",
    "active_customers",
    "contract_terms",
    "customer_key",
    "customer_retention",
    "first_order_cohort",
    "new_customers",
    "order_customer_type",
    "revenue_retention",
    "won_deals",
]

NEW = "new"
EXISTING = "existing"

#: The label a report or chart shows for each retention measure (see the module docstring).
RETENTION_LABELS: dict[str, str] = {
    "customer_retention": "Customer retention (share of last period's customers buying again)",
    "churn_rate": "Customer churn (share of last period's customers not buying again)",
    "nrr": "Net revenue retention (last period's customers' revenue now / then)",
    "grr": "Gross revenue retention (as net, each customer capped at its earlier revenue)",
    "cohort_retention": "Cohort retention (share of a first-order cohort buying k periods later)",
    "monthly_retention": "Monthly survival (1 − monthly churn hazard, from order intervals)",
}


def customer_key(df: pd.DataFrame) -> pd.Series:
    """The customer of each deal or lead: ``account_id``, else ``lead_id`` (§1.5).

    Parameters
    ----------
    df : DataFrame
        Deals or leads, with ``account_id`` and/or ``lead_id``.

    Returns
    -------
    Series
        String keys, missing where a row has neither.

    Examples
    --------
    >>> import pandas as pd
    >>> customer_key(pd.DataFrame({"account_id": ["A1", None], "lead_id": ["L1", "L2"]})).tolist()
    ['A1', 'L2']
    """
    acc = df["account_id"].astype("string") if "account_id" in df.columns else None
    lead = df["lead_id"].astype("string") if "lead_id" in df.columns else None
    if acc is None and lead is None:
        raise ValueError("customer_key: the table has neither account_id nor lead_id")
    if acc is None:
        return lead
    return acc if lead is None else acc.fillna(lead)


def won_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """Won deals, each classed as new business or existing customer.

    A won deal has ``status == "won"`` and a ``closed_at``. New vs existing: ``deal_type``
    ``new_business`` is new; ``expansion`` and ``renewal`` are existing; a deal without a type
    is new when it is the first won deal of its customer (:func:`customer_key`; order by
    ``closed_at``, then ``deal_id``), existing otherwise. A deal without account and lead is
    its own customer (an untyped one is new).

    Parameters
    ----------
    deals : DataFrame
        The deals table (needs ``status`` and ``closed_at``).

    Returns
    -------
    DataFrame
        The won deals with all their columns plus ``customer`` (the key),
        ``customer_type`` (``"new"`` or ``"existing"``), ``type_rule`` (``"deal_type"`` or
        ``"first_won_deal"``: which rule classed it) and ``closed_before_created``.
        ``attrs``: ``n_won_without_close`` (won deals without ``closed_at``, left out) and
        ``n_closed_before_created`` (kept and flagged).

    Examples
    --------
    >>> import salesmkt
    >>> won = won_deals(salesmkt.load_sample().deals)
    >>> won["customer_type"].value_counts().to_dict()
    {'existing': 178, 'new': 153}
    >>> untyped = won_deals(salesmkt.load_sample().deals.assign(deal_type=None))
    >>> untyped["customer_type"].value_counts().to_dict()  # the first won deal of each account
    {'new': 260, 'existing': 71}
    """
    check_columns(deals, "deals", ["status", "closed_at"], caller="won_deals")
    status = deals["status"].astype("string").eq("won").fillna(False).to_numpy(dtype=bool)
    closed = deals["closed_at"].notna().to_numpy(dtype=bool)
    won = deals[status & closed]
    key = customer_key(won) if {"account_id", "lead_id"} & set(won.columns) else None
    if key is None:
        key = pd.Series(pd.NA, index=won.index, dtype="string")
    sort = ["closed_at", "deal_id"] if "deal_id" in won.columns else ["closed_at"]
    order = pd.DataFrame({c: won[c].to_numpy() for c in sort})
    order = order.assign(_key=key.to_numpy(), _pos=np.arange(len(won)))
    order = order.sort_values(sort, kind="stable")
    first = np.empty(len(won), dtype=bool)  # positions, so a repeated index label is harmless
    first[order["_pos"].to_numpy()] = (
        ~order["_key"].duplicated() | order["_key"].isna()
    ).to_numpy()
    if "deal_type" in won.columns:
        dtype = won["deal_type"].astype("string")
        typed = dtype.notna().to_numpy(dtype=bool)
        typed_new = dtype.eq("new_business").fillna(False).to_numpy(dtype=bool)
    else:
        typed = typed_new = np.zeros(len(won), dtype=bool)
    is_new = np.where(typed, typed_new, first)
    if "created_at" in won.columns:
        early = (won["closed_at"] < won["created_at"]).fillna(False).to_numpy(dtype=bool)
    else:
        early = np.zeros(len(won), dtype=bool)
    out = won.assign(
        customer=key,
        customer_type=np.where(is_new, NEW, EXISTING),
        type_rule=np.where(typed, "deal_type", "first_won_deal"),
        closed_before_created=early,
    )
    out.attrs["n_won_without_close"] = int((status & ~closed).sum())
    out.attrs["n_closed_before_created"] = int(early.sum())
    return out


def new_customers(deals: pd.DataFrame) -> pd.DataFrame:
    """One row per new customer: its first won new-business deal (see :func:`won_deals`).

    A customer becomes new at the close of its first won deal classed ``"new"``; later
    new-business deals of the same customer do not make it new again. Won deals without a
    customer key (no account, no lead) cannot be told apart from other customers' and are left
    out, counted in ``attrs["n_without_customer"]``.

    Parameters
    ----------
    deals : DataFrame
        The deals table.

    Returns
    -------
    DataFrame
        The columns of :func:`won_deals` plus ``became_customer_at`` (its ``closed_at``),
        sorted by it; ``attrs`` as :func:`won_deals`'s plus ``n_without_customer``.

    Examples
    --------
    >>> import salesmkt
    >>> new = new_customers(salesmkt.load_sample().deals)
    >>> new["customer"].is_unique, new["became_customer_at"].min().year
    (True, 2025)
    """
    won = won_deals(deals)
    new = won[won["customer_type"] == NEW]
    sort = ["closed_at", "deal_id"] if "deal_id" in new.columns else ["closed_at"]
    new = new.sort_values(sort, kind="stable")
    keyed = new["customer"].notna()
    out = new[keyed].drop_duplicates("customer")
    out = out.assign(became_customer_at=out["closed_at"])
    out.attrs = {**won.attrs, "n_without_customer": int((~keyed).sum())}
    return out


def first_order_cohort(orders: pd.DataFrame, *, freq: str) -> pd.DataFrame:
    """Each customer's first order with revenue above 0 and its period (its cohort).

    Parameters
    ----------
    orders : DataFrame or ibis.Table
        The orders table; an Ibis table is computed in its backend (same rules).
    freq : {"W", "M", "Q", "Y"}
        Period length.

    Returns
    -------
    DataFrame
        ``customer_id, first_order_at, cohort`` (period start), one row per customer with a
        paying order.

    Examples
    --------
    >>> import salesmkt
    >>> c = first_order_cohort(salesmkt.load_sample().orders, freq="Q")
    >>> c.columns.tolist(), c["customer_id"].is_unique
    (['customer_id', 'first_order_at', 'cohort'], True)
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["first_order_cohort"], caller="first_order_cohort"
    )
    check_columns(orders, "orders", ["customer_id", "ordered_at", "revenue"], caller="cohorts")
    if is_table(orders):  # in a database: one row per customer comes back
        t = orders.filter(orders["revenue"] > 0)
        first = execute(t.group_by("customer_id").aggregate(first_order_at=t["ordered_at"].min()))
        out = first.sort_values("customer_id", kind="stable").reset_index(drop=True)
        out["first_order_at"] = pd.to_datetime(out["first_order_at"], utc=True)
        return out.assign(cohort=_periods.floor(out["first_order_at"], freq))
    paying = orders[orders["revenue"] > 0]
    first = paying.groupby("customer_id", observed=True)["ordered_at"].min()
    out = first.rename("first_order_at").reset_index()
    return out.assign(cohort=_periods.floor(out["first_order_at"], freq))


def order_customer_type(orders: pd.DataFrame, *, freq: str) -> pd.DataFrame:
    """Orders classed as from a new or an existing customer, for a period length.

    An order is from a *new* customer when the customer's first order with revenue above 0 is
    in the same period as the order (so a new customer's repeat orders in its first period are
    new revenue too); otherwise from an *existing* one. Customers without any paying order are
    existing.

    Parameters
    ----------
    orders : DataFrame
        The orders table.
    freq : {"W", "M", "Q", "Y"}
        Period length.

    Returns
    -------
    DataFrame
        The orders with ``first_order_at`` and ``customer_type`` (``"new"``/``"existing"``).

    Examples
    --------
    >>> import salesmkt
    >>> o = order_customer_type(salesmkt.load_sample().orders, freq="M")
    >>> sorted(o["customer_type"].unique())
    ['existing', 'new']
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["order_customer_type"], caller="order_customer_type"
    )
    first = first_order_cohort(orders, freq=freq).set_index("customer_id")["first_order_at"]
    at = pd.Series(pd.NaT, index=orders.index, dtype="datetime64[ns, UTC]")
    if len(first):
        at = pd.to_datetime(orders["customer_id"].map(first), utc=True)
    same = _periods.floor(at, freq) == _periods.floor(orders["ordered_at"], freq)
    is_new = same.fillna(False).to_numpy(dtype=bool)
    return orders.assign(first_order_at=at, customer_type=np.where(is_new, NEW, EXISTING))


_SNAP_MONTHS = np.array([1.0, 3.0, 6.0, 12.0])


def contract_terms(orders: pd.DataFrame) -> pd.DataFrame:
    """The months each paying order covers, and where that comes from.

    The rule (module docstring, *Active customer*): the order's ``term_months`` column, else
    its ``billing_period`` or ``term`` column (words of :data:`~salesmkt.data.periods.TERM_WORDS` or a number of
    months), else the customer's median gap between consecutive paying orders snapped to 1,
    3, 6 or 12 months (nearest on a log scale, so 11 to 13 months give 12), else 1 month (a
    customer with a single paying order).

    Parameters
    ----------
    orders : DataFrame
        The orders table.

    Returns
    -------
    DataFrame
        The paying orders (revenue above 0) with ``term_months`` (float) and ``term_source``
        (``column``, ``rhythm`` or ``single order``).

    Examples
    --------
    >>> import salesmkt
    >>> t = contract_terms(salesmkt.load_sample().orders)
    >>> bool(t["term_months"].isin([1, 3, 6, 12]).all())
    True
    """
    check_columns(
        orders, "orders", ["customer_id", "ordered_at", "revenue"], caller="contract_terms"
    )
    o = orders[orders["revenue"] > 0]
    given = pd.Series(np.nan, index=o.index)
    for col in ("term_months", "billing_period", "term"):
        if col in o.columns:
            raw = o[col]
            num = pd.to_numeric(raw, errors="coerce")
            words = raw.astype("string").str.strip().str.lower().map(_periods.TERM_WORDS)
            given = given.fillna(num.where(num > 0)).fillna(words.astype(float))
    ts = pd.to_datetime(o["ordered_at"], utc=True)
    gap = (
        o.assign(_ts=ts)
        .sort_values(["customer_id", "_ts"], kind="stable")
        .groupby("customer_id")["_ts"]
        .diff()
        .dt.total_seconds()
        / 86_400
        / _periods.DAYS_PER_MONTH
    )
    median_gap = gap.groupby(o.loc[gap.index, "customer_id"]).median()
    snapped = median_gap.map(
        lambda g: (
            float(_SNAP_MONTHS[np.argmin(np.abs(np.log(_SNAP_MONTHS) - np.log(g)))])
            if pd.notna(g) and g > 0
            else np.nan
        )
    )
    rhythm = o["customer_id"].map(snapped).astype(float)
    term = given.fillna(rhythm).fillna(1.0)
    source = np.where(given.notna(), "column", np.where(rhythm.notna(), "rhythm", "single order"))
    return o.assign(term_months=term.to_numpy(), term_source=source)


def active_customers(
    orders: pd.DataFrame,
    *,
    freq: str,
    by: str | None = None,
    terms: bool = True,
    until=None,
) -> pd.DataFrame:
    """Customers active in each period: a paying order in it, or a contract term covering it.

    An order covers the periods from its own to the last one starting before its period's
    start plus its term (:func:`contract_terms`): a 12-month order covers 12 months, 4
    quarters or 52-53 weeks; an order of one month or less covers its own period only. Its
    revenue is spread evenly over the periods it covers (recognised revenue), so revenue per
    active customer is a per-period amount, not an annual invoice. Periods after the last
    period with an order (the end of the data) are not listed.

    Parameters
    ----------
    orders : DataFrame or ibis.Table
        The orders table; an Ibis table is computed in its backend (same rules).
    freq : {"W", "M", "Q", "Y"}
        Period length.
    by : str, optional
        A column of ``orders`` to break down by (a customer active in two segments counts in
        each).
    terms : bool
        ``False``: the rule without contract terms, active only in periods with a paying order
        and all of its revenue there.
    until : timestamp, optional
        List periods up to the one holding this time (a cut-off later than the last order:
        contract terms still cover the periods in between). Default: the last period with an
        order.

    Returns
    -------
    DataFrame
        ``customer_id, [by,] period_start, revenue, paid`` (``revenue``: the revenue of its
        paying orders recognised in the period; ``paid``: a paying order falls in the period).

    Examples
    --------
    >>> import salesmkt
    >>> a = active_customers(salesmkt.load_sample().orders, freq="M")
    >>> bool((a["revenue"] > 0).all())
    True
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["active_customers"], caller="active_customers"
    )
    cols = ["customer_id", "ordered_at", "revenue", *([by] if by else [])]
    check_columns(orders, "orders", cols, caller="active_customers")
    if is_table(orders):  # in a database: the same rules as Ibis expressions, run there
        from salesmkt.data import retention_engine

        return retention_engine.active_customers(orders, freq=freq, by=by, terms=terms, until=until)
    o = contract_terms(orders) if terms else orders[orders["revenue"] > 0].assign(term_months=1.0)
    o = o.assign(period_start=_periods.floor(o["ordered_at"], freq))
    keys = ["customer_id", *([by] if by else []), "period_start"]
    if len(o):
        last = o["period_start"].max()
        if until is not None:
            last = max(last, _periods.floor(pd.Series([_periods.to_utc(until)]), freq).iloc[0])
        spans: dict[tuple, list] = {}
        for p0, term in set(zip(o["period_start"], o["term_months"], strict=True)):
            if term <= 1:
                spans[(p0, term)] = [p0]
                continue
            stop = p0 + pd.DateOffset(months=int(round(term)))
            starts, p = [], p0
            while p < stop:
                starts.append(p)
                p = _periods.shift(p, freq)
            spans[(p0, term)] = starts
        cover = [spans[k] for k in zip(o["period_start"], o["term_months"], strict=True)]
        n = np.array([len(c) for c in cover], dtype=float)
        o = o.assign(
            _paid_at=o["period_start"],
            period_start=cover,
            revenue=o["revenue"].astype(float) / n,
        ).explode("period_start")
        o["period_start"] = pd.to_datetime(o["period_start"], utc=True)
        o = o[o["period_start"] <= last]
        o = o.assign(paid=o["period_start"] == o["_paid_at"])
    else:
        o = o.assign(paid=pd.Series(dtype=bool))
    out = (
        o.groupby(keys, observed=True, sort=True)
        .agg(revenue=("revenue", "sum"), paid=("paid", "any"))
        .reset_index()
    )
    return out


def _pairs(orders: pd.DataFrame, freq: str, by: str | None) -> pd.DataFrame:
    """Per (period, segment, customer of the previous period): revenue then and now."""
    act = active_customers(orders, freq=freq, by=by)
    keys = ["customer_id", *([by] if by else [])]
    before = act.assign(period_start=act["period_start"].map(lambda p: _periods.shift(p, freq)))
    both = before.merge(act, on=[*keys, "period_start"], how="left", suffixes=("_previous", "_now"))
    both["revenue_now"] = both["revenue_now"].fillna(0.0)
    if len(act):  # only periods up to the last one with orders
        both = both[both["period_start"] <= act["period_start"].max()]
    return both


def customer_retention(
    orders: pd.DataFrame, *, freq: str = "M", by: str | None = None
) -> pd.DataFrame:
    """Customer (logo) retention, period on period: share of last period's customers active
    again.

    For each period P: of the customers active in P − 1 (:func:`active_customers`), the share
    active in P. New customers of P enter neither part (identity form, robust to
    reactivation; docs/semantics/kpis.md). Churn is one minus it.

    Parameters
    ----------
    orders : DataFrame or ibis.Table
        The orders table; an Ibis table is computed in its backend (same rules).
    freq : {"W", "M", "Q", "Y"}
        Period length.
    by : str, optional
        A column of ``orders`` to break down by.

    Returns
    -------
    DataFrame
        ``period_start, [by,] customers_previous, retained, customer_retention``: one row per
        period following a period with active customers, up to the last period with orders.

    Examples
    --------
    >>> import salesmkt
    >>> r = customer_retention(salesmkt.load_sample().orders, freq="M")
    >>> r.columns.tolist()
    ['period_start', 'customers_previous', 'retained', 'customer_retention']
    >>> bool(r["customer_retention"].between(0, 1).all())
    True
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["customer_retention"], caller="customer_retention"
    )
    if is_table(orders):  # in a database: computed there, one row per period comes back
        from salesmkt.data import retention_engine

        check_columns(
            orders, "orders", ["customer_id", "ordered_at", "revenue"], caller="customer_retention"
        )
        return retention_engine.customer_retention(orders, freq=freq, by=by)
    both = _pairs(orders, freq, by)
    keys = ["period_start", *([by] if by else [])]
    out = (
        both.assign(_kept=both["revenue_now"] > 0)
        .groupby(keys, observed=True, sort=True)
        .agg(customers_previous=("customer_id", "size"), retained=("_kept", "sum"))
        .reset_index()
    )
    out["retained"] = out["retained"].astype(np.int64)
    out["customer_retention"] = out["retained"] / out["customers_previous"]
    return out


def revenue_retention(
    orders: pd.DataFrame, *, freq: str = "M", by: str | None = None
) -> pd.DataFrame:
    """Revenue retention, period on period: net (NRR) and gross (GRR).

    For each period P, over the customers active in P − 1: NRR = their revenue in P / their
    revenue in P − 1; GRR = the same with each customer's revenue in P capped at its revenue
    in P − 1 (no expansion). New customers of P enter neither part.

    Parameters
    ----------
    orders : DataFrame
        The orders table.
    freq : {"W", "M", "Q", "Y"}
        Period length.
    by : str, optional
        A column of ``orders`` to break down by.

    Returns
    -------
    DataFrame
        ``period_start, [by,] revenue_previous, revenue_now, revenue_now_capped, nrr, grr``.

    Examples
    --------
    >>> import salesmkt
    >>> r = revenue_retention(salesmkt.load_sample().orders, freq="M")
    >>> bool((r["grr"] <= r["nrr"] + 1e-12).all())
    True
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["revenue_retention"], caller="revenue_retention"
    )
    both = _pairs(orders, freq, by)
    keys = ["period_start", *([by] if by else [])]
    capped = np.minimum(both["revenue_previous"], both["revenue_now"])
    out = (
        both.assign(_cap=capped)
        .groupby(keys, observed=True, sort=True)
        .agg(
            revenue_previous=("revenue_previous", "sum"),
            revenue_now=("revenue_now", "sum"),
            revenue_now_capped=("_cap", "sum"),
        )
        .reset_index()
    )
    den = out["revenue_previous"].where(out["revenue_previous"] != 0)
    out["nrr"] = out["revenue_now"] / den
    out["grr"] = out["revenue_now_capped"] / den
    return out
