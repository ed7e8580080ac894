"""The revenue forecast: a Monte Carlo of the period's bookings against target and quota.

What is simulated (docs/semantics/forecast.md), for the rest of the period ``(as_of, end)``:

* **Open deals.** Each deal open at ``as_of`` is won within the period with its probability
  from time to close (:func:`~salesmkt.forecast.win.open_deal_win_probability`), independently
  of the others, for its amount as recorded.
* **New pipeline.** Deals not yet created that will be created and won before the period
  ends, per cell of new/existing customer × marketing/sales-sourced: the number of such wins
  is Poisson with mean ``rate × ∫ P(won within s days) ds`` over the time left (a Poisson
  process of creations thinned by the chance to close in time), its rate multiplied by a
  Gamma factor fitted to the month-to-month spread of creations in the lookback (so a quiet
  or busy quarter is as likely as it was), and each win is a won deal of that cell drawn from
  the lookback (its amount and owner).
* **Renewals.** With orders that state their terms, contracts ending in the period without
  a renewal deal yet renew at the past renewal rate (and renewal deals leave the new
  pipeline); otherwise renewals are deals of the existing cell, open or expected.
* **Booked so far**: won deals closed in ``[period start, as_of]`` (:func:`salesmkt.won_deals`).

Not simulated: changes of amount before the close, deals slipping in from later periods
beyond what time to close says, a trend in the creation rate beyond the lookback, churn of
recurring revenue (bookings are won deals, not invoices).

Examples
--------
>>> import salesmkt
>>> f = revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15", n_simulations=2000)
>>> f.summary.columns.tolist()[:6]
['dimension', 'item', 'booked', 'open_pipeline', 'open_deals', 'p10']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesmkt._base.formats import (
    DEFAULT_CURRENCY,
    format_amount,
    format_percent,
)
from salesmkt._base.formats import (
    compact_money as _money,
)
from salesmkt.data import periods as _periods
from salesmkt.data.definitions import contract_terms, won_deals
from salesmkt.data.validate import check_columns
from salesmkt.forecast.win import (
    _deals,
    _events,
    _leads,
    _open_probabilities,
    _stage_rates,
    _with_segments,
    aalen_johansen,
    deals_as_of,
)

__all__ = ["Forecast", "revenue_forecast"]

#: Columns of :attr:`Forecast.summary`.
SUMMARY_COLUMNS = [
    "dimension",
    "item",
    "booked",
    "open_pipeline",
    "open_deals",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "mean",
    "from_open_deals",
    "from_new_pipeline",
    "weighted_pipeline_forecast",
    "target",
    "quota",
    "p_reach_target",
    "gap",
    "coverage",
    "gap_text",
]
DIMENSIONS = ("total", "customer_type", "sourced_by", "owner_id")
_CHUNK_BYTES = 2**20  # a chunk of draws stays in the CPU cache
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
QUANTILE_NAMES = ("p10", "p25", "p50", "p75", "p90")


@dataclass(frozen=True)
class Forecast:
    """The result of :func:`revenue_forecast`.

    Attributes
    ----------
    summary : DataFrame
        One row per group (:data:`SUMMARY_COLUMNS`): ``dimension`` (``total``,
        ``customer_type``, ``sourced_by``, ``owner_id`` or the ``by`` column) and ``item``;
        ``booked`` (won so far in the period), ``open_pipeline`` and ``open_deals`` (open at
        ``as_of``), ``p10 ... p90`` and ``mean`` of the period's simulated bookings (booked
        included), ``from_open_deals`` and ``from_new_pipeline`` (mean simulated wins of each
        source), ``weighted_pipeline_forecast`` (booked + amount × stage win rate of the open
        deals, HubSpot's weighted forecast, for comparison), ``target``, ``quota``,
        ``p_reach_target``, ``gap`` (target − booked), ``coverage`` (open pipeline / gap) and
        ``gap_text`` (the gap in words).
    draws : ndarray
        ``(n_simulations, n_groups)``: each simulation's bookings of the period per group (the
        rows of ``summary``, in order), booked included.
    deals : DataFrame
        The open deals with their probabilities (:func:`open_deal_win_probability`).
    new_pipeline : DataFrame
        Per cell: ``customer_type, sourced_by, created_per_day, dispersion, p_win_in_time,
        expected_wins, mean_amount``.
    renewals : DataFrame
        The contracts ending in the period without a renewal deal yet: ``customer,
        contract_end, amount, owner_id, sourced_by, p_renew`` (their renewals are part of
        ``from_new_pipeline``).
    path : DataFrame
        ``date, booked, p10, p25, p50, p75, p90`` of the cumulative bookings from the period
        start to its end (actual up to ``as_of``, simulated after; the fan chart).
    as_of, start, end : Timestamp
        The forecast date and the period ``[start, end)``.
    period : str
        Its label (``2026-Q2``).
    currency : str
        ISO code of the amounts.
    """

    summary: pd.DataFrame
    draws: np.ndarray = field(repr=False)
    deals: pd.DataFrame = field(repr=False)
    new_pipeline: pd.DataFrame = field(repr=False)
    path: pd.DataFrame = field(repr=False)
    renewals: pd.DataFrame = field(repr=False)
    as_of: pd.Timestamp
    start: pd.Timestamp
    end: pd.Timestamp
    period: str
    currency: str = DEFAULT_CURRENCY

    def row(self, item: str = "total", dimension: str | None = None) -> pd.Series:
        """The summary row of one group (``"total"``, ``"new"``, ``"marketing"``, an owner)."""
        s = self.summary
        hit = s[(s["item"] == item) & ((s["dimension"] == dimension) if dimension else True)]
        if hit.empty:
            raise KeyError(f"Forecast: no group {item!r}; groups are {s['item'].tolist()}")
        return hit.iloc[0]

    def simulations(self, item: str = "total", dimension: str | None = None) -> np.ndarray:
        """The simulated bookings of the period for one group (a column of :attr:`draws`)."""
        return self.draws[:, int(self.row(item, dimension).name)]

    def headline(self, item: str = "total") -> str:
        """One sentence: the median against the target, the chance of making it, coverage.

        Examples
        --------
        >>> import salesmkt
        >>> f = revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15", n_simulations=500)
        >>> f.headline().startswith("P50 $")
        True
        """
        r = self.row(item)
        c = self.currency
        who = "" if item == "total" else f" ({item})"
        band = f"P10 {_money(r['p10'], c)} to P90 {_money(r['p90'], c)}"
        if not np.isfinite(r["target"]):
            return f"P50 {_money(r['p50'], c)}{who} for {self.period} ({band}); no target set."
        chance = format_percent(r["p_reach_target"], decimals=0)
        text = (
            f"P50 {_money(r['p50'], c)}{who} against a {_money(r['target'], c)} target: "
            f"{chance} chance of making {self.period} ({band})"
        )
        if r["gap"] <= 0:
            return text + "; the target is already booked."
        cover = r["coverage"]
        return text + f"; the open pipeline covers {cover:.1f}x the remaining gap."

    def table(self, dimension: str | list[str] | None = None) -> pd.DataFrame:
        """The summary for a report: plain column names, amounts with their currency.

        Parameters
        ----------
        dimension : str or list of str, optional
            Only the groups of these dimensions (``"owner_id"``, ``"customer_type"``, ...).

        Returns
        -------
        DataFrame
            ``Group, Booked so far, P10, P50, P90, Target, Quota, Chance of reaching the
            target, Open pipeline, Pipeline coverage, Weighted pipeline forecast`` as text.

        Examples
        --------
        >>> import salesmkt
        >>> f = revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15", n_simulations=500,
        ...                      fan=False)
        >>> f.table("customer_type")["Group"].tolist()
        ['New customers', 'Existing customers']
        """
        s = self.summary
        if dimension is not None:
            wanted = [dimension] if isinstance(dimension, str) else list(dimension)
            s = s[s["dimension"].isin(wanted)]
        names = {
            "total": "Total",
            "new": "New customers",
            "existing": "Existing customers",
            "marketing": "Marketing-sourced",
            "sales": "Sales-sourced",
        }
        order = {"new": 0, "existing": 1}
        dims = list(dict.fromkeys(s["dimension"]))
        rank = [
            (dims.index(d), order.get(i, 2)) for d, i in zip(s["dimension"], s["item"], strict=True)
        ]
        s = s.iloc[sorted(range(len(s)), key=lambda j: rank[j])]
        c = self.currency
        amount = lambda col: [format_amount(v, c) for v in s[col]]  # noqa: E731
        return pd.DataFrame(
            {
                "Group": [names.get(i, i) for i in s["item"]],
                "Booked so far": amount("booked"),
                "P10": amount("p10"),
                "P50": amount("p50"),
                "P90": amount("p90"),
                "Target": amount("target"),
                "Quota": amount("quota"),
                "Chance of reaching the target": [
                    format_percent(v, decimals=0) for v in s["p_reach_target"]
                ],
                "Open pipeline": amount("open_pipeline"),
                "Pipeline coverage": [
                    "–" if not np.isfinite(v) else f"{v:.1f}x" for v in s["coverage"]
                ],
                "Weighted pipeline forecast": amount("weighted_pipeline_forecast"),
            }
        ).reset_index(drop=True)

    def explain(self) -> str:
        """A few sentences: what is booked, where the rest comes from, the gap in words."""
        r = self.row("total")
        c = self.currency
        lines = [
            self.headline(),
            f"Booked so far in {self.period} (to {self.as_of:%Y-%m-%d}): {_money(r['booked'], c)}.",
            f"Expected from the {int(r['open_deals'])} open deals "
            f"({_money(r['open_pipeline'], c)} of pipeline): {_money(r['from_open_deals'], c)}; "
            f"from deals not created yet: {_money(r['from_new_pipeline'], c)}.",
            f"The weighted pipeline forecast (amount × stage win rate) says "
            f"{_money(r['weighted_pipeline_forecast'], c)}.",
            str(r["gap_text"]),
        ]
        return " ".join(lines)


def _period(as_of: pd.Timestamp, horizon) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    text = str(horizon).strip()
    try:
        code = _periods.check_freq(text, allowed=("M", "Q", "Y"), keyword="horizon")
    except ValueError:
        code = None
    if code is None:
        end = _periods.to_utc(horizon)
        if end is None or end <= as_of:
            raise ValueError(
                f"revenue_forecast: horizon={horizon!r} must be 'M', 'Q', 'Y' or a date "
                f"after as_of ({as_of:%Y-%m-%d})"
            )
        return as_of, end, f"{as_of:%Y-%m-%d} to {end:%Y-%m-%d}"
    start = _periods.floor_one(as_of, code)
    return start, _periods.shift(start, code), _periods.label(start, code)


def _codes(frame: pd.DataFrame, groups: list[tuple[str, str]]) -> dict[str, tuple]:
    """Per dimension: each row's item as a column of ``groups`` (-1: none) and those columns."""
    out: dict[str, tuple] = {}
    for dim in dict.fromkeys(g[0] for g in groups):
        cols = np.array([j for j, g in enumerate(groups) if g[0] == dim])
        if dim == "total":
            out[dim] = (np.zeros(len(frame), dtype=np.int64), cols)
            continue
        items = [groups[j][1] for j in cols]
        values = frame[dim].astype("string") if dim in frame.columns else None
        code = np.full(len(frame), -1, dtype=np.int64)
        if values is not None:
            found = pd.Index(items).get_indexer(values.fillna("\0").to_numpy(dtype=object))
            code = found.astype(np.int64)
        out[dim] = (code, cols)
    return out


def _weights(frame: pd.DataFrame, groups: list[tuple[str, str]], amount: np.ndarray) -> np.ndarray:
    """(n, n_groups): the amount of each row in each group it belongs to, else 0."""
    w = np.zeros((len(frame), len(groups)))
    rows = np.arange(len(frame))
    for code, cols in _codes(frame, groups).values():
        has = code >= 0
        w[rows[has], cols[code[has]]] = amount[has]
    return w


def _simulate_open(p, w, n_sims, rng, *, runs=None) -> np.ndarray:
    """Per simulation and group: the sum of the won open deals' amounts (exact per draw).

    Each deal is won in a simulation when a uniform draw falls below its probability. The
    draws are made in chunks of simulations (about 1 MB at a time, so a chunk stays in the CPU cache, never the whole
    simulations × deals matrix); within a chunk the 0/1 outcomes are summed per group by a
    matrix product with ``w`` (deals × groups amounts). ``runs`` (``(columns, starts)``):
    columns of ``w`` whose deals are consecutive runs beginning at ``starts`` (deals sorted by
    owner) are summed with ``np.add.reduceat`` instead, one pass however many owners.
    """
    n = len(p)
    out = np.zeros((n_sims, w.shape[1]))
    if n == 0:
        return out
    dense = np.arange(w.shape[1])
    amount = None
    if runs is not None:
        run_cols, starts = runs
        dense = np.setdiff1d(dense, run_cols)
        amount = w[:, run_cols].sum(axis=1)
    wd = np.ascontiguousarray(w[:, dense])
    rows = int(max(1, min(n_sims, _CHUNK_BYTES // (8 * n))))
    buf = np.empty((rows, n))
    for s in range(0, n_sims, rows):
        m = min(rows, n_sims - s)
        u = buf[:m]
        rng.random(out=u)
        np.less(u, p, out=u, casting="unsafe")  # 1.0 where won, in place
        out[s : s + m, dense] = u @ wd
        if runs is not None and len(run_cols):
            np.multiply(u, amount, out=u)
            out[s : s + m, run_cols] = np.add.reduceat(u, starts, axis=1)
    return out


def _shock_sd(then: pd.DataFrame, min_decided: int = 10) -> float:
    """How much deals' odds of winning move together, from the months before ``as_of``.

    Each decided deal's chance is its group's win rate (new/existing); a month's wins beyond
    chance vary by about ``v_m + s² v_m²`` squared, with ``v_m = Σ p(1 − p)`` over the month's
    decided deals, when all deals of a month share a shift ``z ~ N(0, s²)`` of their log-odds.
    Method of moments over the months with at least ``min_decided`` decided deals; 0 with
    fewer than 3 such months.
    """
    decided = then[(then["cause"] > 0).to_numpy(dtype=bool)]
    if decided.empty:
        return 0.0
    won = (decided["cause"] == 1).to_numpy(dtype=float)
    rate = pd.Series(won, index=decided.index).groupby(decided["customer_type"]).transform("mean")
    pr = rate.to_numpy(dtype=float)
    month = _periods.floor(decided["closed_at"], "M")
    g = pd.DataFrame({"m": month.to_numpy(), "k": won, "e": pr, "v": pr * (1 - pr)})
    g = g.groupby("m").agg(n=("k", "size"), k=("k", "sum"), e=("e", "sum"), v=("v", "sum"))
    g = g[g["n"] >= min_decided]
    if len(g) < 3 or (g["v"] ** 2).sum() == 0:
        return 0.0
    s2 = float((((g["k"] - g["e"]) ** 2) - g["v"]).sum() / (g["v"] ** 2).sum())
    return float(np.sqrt(min(max(s2, 0.0), 1.0)))


def _simulate_open_shocked(p, w, n_sims, rng, sd, *, runs=None, levels: int = 16):
    """:func:`_simulate_open` with a common shift of every deal's log-odds per simulation.

    The shift ``z ~ N(0, sd²)`` is drawn from ``levels`` equally likely values (the midpoints
    of its ``levels`` quantile bands), so each level's probabilities are computed once; the
    simulations of a level are run together and put back in random order.
    """
    if sd <= 0 or len(p) == 0:
        return _simulate_open(p, w, n_sims, rng, runs=runs)
    from scipy.special import expit, logit
    from scipy.stats import norm

    z = sd * norm.ppf((np.arange(levels) + 0.5) / levels)
    level = rng.integers(0, levels, size=n_sims)
    out = np.empty((n_sims, w.shape[1]))
    inner = (p > 0) & (p < 1)
    lo = logit(np.where(inner, p, 0.5))
    for k in range(levels):
        rows = np.flatnonzero(level == k)
        if len(rows):
            pk = np.where(inner, expit(lo + z[k]), p)
            out[rows] = _simulate_open(pk, w, len(rows), rng, runs=runs)
    return out


def _dispersion(created: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Gamma shape of the creation rate from 30-day counts (inf: no overdispersion)."""
    days = (end - start).days
    n_bins = max(days // 30, 1)
    edges = [start + pd.Timedelta(days=30 * i) for i in range(n_bins + 1)]
    counts = np.histogram(created.astype("int64"), bins=[e.value for e in edges])[0]
    if n_bins < 3:
        return np.inf
    mu, var = counts.mean(), counts.var(ddof=1)
    return float(mu**2 / (var - mu)) if var > mu and mu > 0 else np.inf


def _new_pipeline(
    hist, at, end, lookback_days, min_decided, rng, n_sims, groups, without_renewals=False
):
    """Per cell: the expected wins of deals created in (as_of, end); their simulated amounts.

    ``without_renewals``: renewal deals are left out of the rates and the amounts drawn
    (renewals due in the period come from the contracts instead, :func:`_renewals`).
    """
    horizon = (end - at).total_seconds() / 86_400
    lo = at - pd.Timedelta(days=lookback_days)
    if without_renewals and "deal_type" in hist.columns:
        renewal = hist["deal_type"].astype("string").eq("renewal").fillna(False)
        hist = hist[~renewal.to_numpy(dtype=bool)]
    created = pd.to_datetime(hist["created_at"], utc=True)
    recent = hist[(created > lo).to_numpy(dtype=bool)]
    usable = hist[hist["_usable"]]
    pooled = aalen_johansen(usable["duration_days"], usable["cause"])
    grid = np.linspace(0, horizon, 200)
    out = np.zeros((n_sims, len(groups)))
    cells = []
    for (ctype, src), cell in recent.groupby(["customer_type", "sourced_by"], observed=True):
        h = usable[(usable["customer_type"] == ctype) & (usable["sourced_by"] == src)]
        curve = pooled
        if int((h["cause"] > 0).sum()) >= min_decided:
            curve = aalen_johansen(h["duration_days"], h["cause"])
        idx = np.searchsorted(curve["days"].to_numpy(), grid, side="right") - 1
        mean_f = float(np.trapezoid(curve["cum_won"].to_numpy()[idx], grid) / max(horizon, 1e-9))
        rate = len(cell) / lookback_days
        shape = _dispersion(pd.to_datetime(cell["created_at"], utc=True), lo, at)
        lam = rate * horizon * mean_f
        pool = h[(h["cause"] == 1) & (pd.to_datetime(h["created_at"], utc=True) > lo)]
        if pool.empty:
            pool = h[h["cause"] == 1]
        if pool.empty or lam <= 0:
            cells.append((ctype, src, rate, shape, mean_f, 0.0, np.nan))
            continue
        g = rng.gamma(shape, 1 / shape, size=n_sims) if np.isfinite(shape) else 1.0
        k = rng.poisson(lam * g, size=n_sims)
        pick = rng.integers(0, len(pool), size=int(k.sum()))
        sim = np.repeat(np.arange(n_sims), k)
        # one pass over the picks: sums per simulation and combination of groups (in a cell
        # the owner, or the owner and the `by` value), then spread onto the groups
        member = _weights(pool, groups, np.ones(len(pool))) > 0
        combos, combo_of = np.unique(member, axis=0, return_inverse=True)
        k = len(combos)
        key = sim * k + combo_of.ravel()[pick]
        amounts = pool["amount"].to_numpy(dtype=float)[pick]
        sums = np.bincount(key, weights=amounts, minlength=n_sims * k).reshape(n_sims, k)
        out += sums @ combos.astype(float)
        cells.append((ctype, src, rate, shape, mean_f, lam, float(pool["amount"].mean())))
    table = pd.DataFrame(
        cells,
        columns=[
            "customer_type",
            "sourced_by",
            "created_per_day",
            "dispersion",
            "p_win_in_time",
            "expected_wins",
            "mean_amount",
        ],
    )
    return out, table


#: Contracts of at least this many months are renewed by a renewal deal (shorter terms are
#: subscriptions billed as they go).
RENEWAL_MIN_MONTHS = 6
#: A contract counts as renewed when the customer pays again within this many days of its end.
RENEWAL_GRACE = pd.Timedelta(days=60)


def _renewals(orders, then, at, end, rng, n_sims, groups):
    """Renewals of contracts ending in ``[as_of, end)`` that no renewal deal covers yet.

    From the paying orders known at ``as_of`` whose term the orders state (a ``term_months``,
    ``billing_period`` or ``term`` column, :func:`salesmkt.data.definitions.contract_terms`; a
    term read from a customer's rhythm is unknown before its second payment, so it is not
    used): each customer's latest order of at least :data:`RENEWAL_MIN_MONTHS` months ends at
    ``ordered_at + term``. One ending in the
    period, of a customer without a renewal deal created since that order, renews with the
    rate of the contracts that ended at least :data:`RENEWAL_GRACE` before ``as_of`` (renewed:
    a paying order within the grace of the end), for the contract's amount; owner and source
    are those of the customer's latest deal.
    """
    empty = pd.DataFrame(
        columns=["customer", "contract_end", "amount", "owner_id", "sourced_by", "p_renew"]
    )
    out = np.zeros((n_sims, len(groups)))
    if orders is None or orders.empty or "account_id" not in then.columns:
        return out, empty, False
    known = orders[(pd.to_datetime(orders["ordered_at"], utc=True) <= at).to_numpy(dtype=bool)]
    terms = contract_terms(known)
    # terms stated in the orders only: a term guessed from the customer's rhythm is unknown at
    # a date before its second payment, so first-year contracts would be missed
    stated = terms["term_source"].eq("column").to_numpy(dtype=bool)
    long = terms[stated & (terms["term_months"] >= RENEWAL_MIN_MONTHS).to_numpy(dtype=bool)]
    if long.empty:
        return out, empty, False
    ends = [
        t + pd.DateOffset(months=int(round(m)))
        for t, m in zip(long["ordered_at"], long["term_months"], strict=True)
    ]
    long = long.assign(contract_end=pd.to_datetime(pd.Series(ends, index=long.index), utc=True))
    ns = pd.to_datetime(known["ordered_at"], utc=True).to_numpy("datetime64[ns]").astype(np.int64)
    paid = pd.Series(ns, index=known.index).groupby(known["customer_id"]).apply(np.sort)
    # history: contracts that ended a grace period before as_of, renewed or not
    past = long[long["contract_end"] <= at - RENEWAL_GRACE]
    grace = RENEWAL_GRACE.value
    past_end = past["contract_end"].to_numpy("datetime64[ns]").astype(np.int64)
    renewed = [
        bool(np.any((p > e - grace) & (p <= e + grace)))
        for p, e in zip(past["customer_id"].map(paid), past_end, strict=True)
    ]
    rate = float(np.mean(renewed)) if len(renewed) else np.nan
    latest = long.sort_values("ordered_at").drop_duplicates("customer_id", keep="last")
    due = latest[_periods.within(latest["contract_end"], at, end)]
    deals = then.assign(_customer=then["account_id"].astype("string"))
    if "deal_type" in deals.columns:
        ren = deals[deals["deal_type"].astype("string").eq("renewal").fillna(False)]
        last_renewal = ren.groupby("_customer")["created_at"].max()
        covered = due["customer_id"].map(last_renewal) >= due["ordered_at"]
        due = due[~covered.fillna(False).to_numpy(dtype=bool)]
    if due.empty or not np.isfinite(rate):
        return out, empty, True
    last = deals.sort_values("created_at").drop_duplicates("_customer", keep="last")
    last = last.set_index("_customer")
    table = pd.DataFrame(
        {
            "customer": due["customer_id"].to_numpy(),
            "contract_end": due["contract_end"].to_numpy(),
            "amount": due["revenue"].to_numpy(dtype=float),
            "owner_id": due["customer_id"].map(last.get("owner_id", pd.Series())).to_numpy(),
            "sourced_by": due["customer_id"].map(last["sourced_by"]).fillna("sales").to_numpy(),
            "customer_type": "existing",
            "p_renew": rate,
        }
    )
    w = _weights(table, groups, table["amount"].to_numpy(dtype=float))
    renew = rng.random((n_sims, len(table))) < rate
    out += renew.astype(float) @ w
    return out, table.drop(columns="customer_type"), True


def _targets(targets, quotas, start, end, groups) -> tuple[np.ndarray, np.ndarray]:
    quota = np.full(len(groups), np.nan)
    if quotas is not None and len(quotas):
        check_columns(
            quotas, "quotas", ["owner_id", "period_start", "quota"], caller="revenue_forecast"
        )
        q = quotas[_periods.within(quotas["period_start"], start, end)]
        if len(q):
            per_owner = q.groupby("owner_id", observed=True)["quota"].sum()
            for j, (dim, item) in enumerate(groups):
                if dim == "total":
                    quota[j] = float(per_owner.sum())
                elif dim == "owner_id" and item in per_owner.index:
                    quota[j] = float(per_owner[item])
    target = np.full(len(groups), np.nan)
    if targets is None:
        target[:] = quota
    elif isinstance(targets, int | float):
        target[[j for j, g in enumerate(groups) if g[0] == "total"]] = float(targets)
    else:
        for j, (dim, item) in enumerate(groups):
            if item in targets:
                target[j] = float(targets[item])
            elif dim == "owner_id":
                target[j] = quota[j]
    return target, quota


def _gap_text(booked, target, p50, p_reach, coverage, open_pipe, currency, who, days) -> str:
    if not np.isfinite(target):
        return f"{who}: no target set; P50 {_money(p50, currency)}."
    gap = target - booked
    if gap <= 0:
        return f"{who}: the target of {_money(target, currency)} is already booked."
    chance = format_percent(p_reach, decimals=0)
    if coverage >= 3:
        cover = "3x or more, usually called well covered"
    elif coverage >= 1:
        cover = "little room to lose deals"
    else:
        cover = "short of it even if every open deal were won"
    left = f"{days:.0f} day{'s' if round(days) != 1 else ''}"
    return (
        f"{who}: {_money(gap, currency)} still to book in the {left} left to reach "
        f"{_money(target, currency)}; the open pipeline of {_money(open_pipe, currency)} is "
        f"{coverage:.1f}x the gap ({cover}); {chance} chance of making it in time."
    )


def _checkpoints(start, at, end) -> list[pd.Timestamp]:
    """Weekly dates after ``as_of`` up to the period end (the fan's points)."""
    days = pd.date_range(start, end, freq="D", inclusive="left")
    later = [d + pd.Timedelta(days=1) for d in days if d > at]
    return sorted({*later[::7], end}) if at < end else []


def _path(dataset, then, at, start, end, opened, new_total, booked_total, rng, min_decided):
    """Cumulative bookings by day: actual to as_of, simulated quantiles after (fan chart).

    The simulated part uses the first 2,000 draws: an open deal is won by a checkpoint when
    its uniform draw is below its chance of winning by then (so each simulated path only
    grows), and the new pipeline's wins accrue in proportion to the expected wins of deals
    created after ``as_of`` by that time (``∫ P(won within s days) ds``).
    """
    status = then["status"].eq("won").fillna(False).to_numpy(dtype=bool)
    won = then[status & then["closed_at"].notna().to_numpy(dtype=bool)]
    won = won[_periods.within(won["closed_at"], start, at + pd.Timedelta(microseconds=1))]
    closed = won["closed_at"].to_numpy("datetime64[ns]")
    amounts_won = won["amount"].to_numpy(dtype=float)
    rows = []
    for d in pd.date_range(start, at, freq="D"):
        stop = min(d + pd.Timedelta(days=1), at + pd.Timedelta(microseconds=1))
        rows.append(
            {"date": stop, "booked": float(amounts_won[closed < stop.to_datetime64()].sum())}
        )
    points = _checkpoints(start, at, end)
    if not points:
        return pd.DataFrame(rows, columns=["date", "booked", "p10", "p25", "p50", "p75", "p90"])
    n = min(2000, len(new_total))
    amounts = opened["amount"].to_numpy(dtype=float)
    u = rng.random((n, len(amounts)))
    usable = then[then["_usable"]]
    curve = aalen_johansen(usable["duration_days"], usable["cause"])
    horizon = (end - at).total_seconds() / 86_400
    grid = np.linspace(0, horizon, 400)
    f = curve["cum_won"].to_numpy()[np.searchsorted(curve["days"].to_numpy(), grid, "right") - 1]
    cum_f = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(grid))])
    rows.append({"date": at, "booked": np.nan, **dict.fromkeys(QUANTILE_NAMES, booked_total)})
    for cp in points:
        if cp >= end:
            p_t = opened["p_win_in_period"].to_numpy(dtype=float)
        else:
            p_t = _open_probabilities(then, at, cp, "customer_type", 5, min_decided)
            p_t = opened[["deal_id"]].merge(p_t[["deal_id", "p_win_in_period"]], on="deal_id")
            p_t = p_t["p_win_in_period"].to_numpy(dtype=float)
        t = (cp - at).total_seconds() / 86_400
        share = float(np.interp(t, grid, cum_f) / cum_f[-1]) if cum_f[-1] > 0 else 0.0
        total = booked_total + (u < p_t).astype(float) @ amounts + new_total[:n] * share
        q = np.quantile(total, QUANTILES)
        rows.append({"date": cp, "booked": np.nan, **dict(zip(QUANTILE_NAMES, q, strict=True))})
    return pd.DataFrame(rows, columns=["date", "booked", *QUANTILE_NAMES])


def revenue_forecast(
    dataset,
    *,
    as_of=None,
    horizon="Q",
    n_simulations: int = 10_000,
    seed: int = 0,
    by: str | None = None,
    targets=None,
    currency: str | None = None,
    lookback_days: int = 182,
    stage_rates: dict | None = None,
    min_decided: int = 30,
    fan: bool = True,
    new_pipeline: bool = True,
    correlated: bool = True,
    renewals: bool = True,
) -> Forecast:
    """Monte Carlo forecast of the period's bookings: P10, P50, P90 against target and quota.

    Bookings are won deal amounts by close time (:func:`salesmkt.won_deals`). For the rest of
    the period the forecast simulates which open deals are won (each with its chance from
    time to close, :func:`open_deal_win_probability`) and how many deals not yet created will
    be created and won in time (Poisson with a Gamma-spread rate per cell of new/existing ×
    marketing/sales-sourced, amounts drawn from the cell's recent wins); the module docstring
    lists what is and is not simulated. Everything is taken as known at ``as_of``
    (:func:`deals_as_of`), so the same call replays the forecast at a past date
    (:func:`~salesmkt.forecast.backtest.forecast_backtest`).

    Parameters
    ----------
    dataset : Dataset
        The data: ``deals`` (``leads`` for the sourcing, ``quotas`` for quota).
    as_of : timestamp, optional
        The forecast date. Default: the export time of the deals table.
    horizon : {"M", "Q", "Y"} or timestamp
        The period holding ``as_of`` (month, quarter, year), or an end date (the period is
        then ``[as_of, end)`` with nothing booked yet).
    n_simulations : int
        Number of simulated periods.
    seed : int
        Seed of the random numbers (the same seed gives the same draws).
    by : str, optional
        A further breakdown: a deals column (e.g. ``product``).
    targets : float or dict, optional
        The target of the total, or a dict item -> target (``{"total": 1.4e6, "new": 8e5}``;
        owners default to their quota). Default: the quota of the period (``quotas`` table).
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``). Default USD.
    lookback_days : int
        Days before ``as_of`` whose deal creations and wins set the new-pipeline rates.
    stage_rates : dict, optional
        Stage -> win probability for the weighted pipeline forecast (the CRM's own stage
        probabilities). Default: :func:`stage_win_rates`.
    min_decided : int
        A segment with fewer decided deals uses the time-to-close curve of all deals.
    correlated : bool
        Let the open deals' chances move together: per simulation one shift of every deal's
        log-odds, as large as the month-to-month swings of past win counts beyond chance
        (``summary.attrs["outcome_shock_sd"]``; 0 when they swung no more than chance).
        ``False``: deals won independently.
    renewals : bool
        Renewals of contracts (orders stating a term of 6 months or more, read by
        :func:`salesmkt.data.definitions.contract_terms`) ending in the period that no renewal
        deal covers yet, each renewed with the past renewal rate (``Forecast.renewals``); the
        new pipeline then leaves renewal deals out. ``False``, or orders without stated terms
        (the sample company's):
        renewal deals not created yet are part of the new pipeline.
    new_pipeline : bool
        Simulate deals not created yet (``False``: booked plus open deals only).
    fan : bool
        Compute :attr:`Forecast.path` (the fan chart's weekly quantiles; ``False`` skips it).

    Returns
    -------
    Forecast
        ``.summary`` (one row per group), ``.draws``, ``.deals``, ``.new_pipeline``, ``.path``,
        ``.headline()``, ``.explain()``.

    Examples
    --------
    >>> import salesmkt
    >>> f = revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15", n_simulations=2000)
    >>> t = f.row("total")
    >>> bool(t["booked"] <= t["p10"] <= t["p50"] <= t["p90"]), f.period
    (True, '2026-Q2')
    >>> sorted(f.summary["dimension"].unique())
    ['customer_type', 'owner_id', 'sourced_by', 'total']
    """
    deals = _deals(dataset)
    check_columns(deals, "deals", ["deal_id", "created_at", "amount"], caller="revenue_forecast")
    if n_simulations < 1:
        raise ValueError(f"revenue_forecast: n_simulations={n_simulations} must be at least 1")
    from salesmkt.forecast.win import snapshot_time

    at = _periods.to_utc(as_of) if as_of is not None else snapshot_time(deals)
    start, end, label = _period(at, horizon)
    currency = (currency or DEFAULT_CURRENCY).upper()
    rng = np.random.default_rng(seed)
    leads = _leads(dataset)
    then = _events(_with_segments(deals_as_of(deals, at), leads))
    if by is not None:
        check_columns(then, "deals", [by], caller="revenue_forecast")
    opened = _open_probabilities(then, at, end, "customer_type", 5, min_decided)
    extra = [by] if by and by not in opened.columns else []
    if extra:
        opened = opened.merge(then[["deal_id", by]], on="deal_id", how="left")
    won = won_deals(then) if len(then) else then
    won = won[_periods.within(won["closed_at"], start, at + pd.Timedelta(microseconds=1))]
    won = won.assign(sourced_by=then.loc[won.index, "sourced_by"]) if len(won) else won
    quotas = getattr(dataset, "quotas", None)
    dims = [*DIMENSIONS, *([by] if by else [])]
    groups: list[tuple[str, str]] = [("total", "total")]
    for dim in dims[1:]:
        values = set()
        for frame in (opened, won, then):
            if dim in frame.columns:
                values |= {str(v) for v in frame[dim].dropna().unique()}
        if dim == "owner_id" and quotas is not None and len(quotas):
            values |= {str(v) for v in quotas["owner_id"].dropna().unique()}
        groups += [(dim, v) for v in sorted(values)]
    owner_code, owner_cols = _codes(opened, groups)["owner_id"]
    order = np.argsort(np.where(owner_code < 0, len(owner_cols), owner_code), kind="stable")
    opened = opened.iloc[order].reset_index(drop=True)  # by owner: one run of deals each
    amount_open = opened["amount"].to_numpy(dtype=float)
    p = opened["p_win_in_period"].to_numpy(dtype=float)
    w_open = _weights(opened, groups, amount_open)
    owner_code = owner_code[order]
    present = np.unique(owner_code[owner_code >= 0])
    starts = np.searchsorted(owner_code[owner_code >= 0], present)  # owners first, sorted
    shock = _shock_sd(then) if correlated else 0.0
    open_draws = _simulate_open_shocked(
        p, w_open, n_simulations, rng, shock, runs=(owner_cols[present], starts)
    )
    orders = getattr(dataset, "orders", None) if renewals else None
    renewal_draws, renewal_table, by_contract = _renewals(
        orders, then, at, end, rng, n_simulations, groups
    )
    new_draws, cells = _new_pipeline(
        then, at, end, lookback_days, min_decided, rng, n_simulations, groups, by_contract
    )
    new_draws = new_draws + renewal_draws
    if not new_pipeline:
        new_draws = np.zeros_like(new_draws)
        cells = cells.iloc[0:0]
    booked = _weights(won, groups, won["amount"].to_numpy(dtype=float)).sum(axis=0)
    draws = booked + open_draws + new_draws
    rates = stage_rates
    if rates is None:
        sr = _stage_rates(then, at, None, 0.95)
        rates = dict(zip(sr["stage"], sr["win_rate"].fillna(0.0), strict=True))
    stage_p = opened["stage"].map(rates).astype(float).fillna(0.0).to_numpy() if len(opened) else p
    if "expected_close_at" in deals.columns:  # HubSpot counts deals expected to close in time
        expected = deals.drop_duplicates("deal_id").set_index("deal_id")["expected_close_at"]
        when = pd.to_datetime(opened["deal_id"].map(expected), utc=True)
        due = (when.isna() | (when < end)).to_numpy(dtype=bool)  # no date: counted
        stage_p = stage_p * due
    weighted = booked + (w_open * stage_p[:, None]).sum(axis=0)
    target, quota = _targets(targets, quotas, start, end, groups)
    q = np.quantile(draws, QUANTILES, axis=0)
    open_pipe = w_open.sum(axis=0)
    n_open = (w_open > 0).sum(axis=0) if len(opened) else np.zeros(len(groups))
    gap = target - booked
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.where(np.isfinite(target), (draws >= target).mean(axis=0), np.nan)
        coverage = np.where(gap > 0, open_pipe / gap, np.nan)
    summary = pd.DataFrame(
        {
            "dimension": [g[0] for g in groups],
            "item": [g[1] for g in groups],
            "booked": booked,
            "open_pipeline": open_pipe,
            "open_deals": n_open.astype(np.int64),
            "p10": q[0],
            "p25": q[1],
            "p50": q[2],
            "p75": q[3],
            "p90": q[4],
            "mean": draws.mean(axis=0),
            "from_open_deals": open_draws.mean(axis=0),
            "from_new_pipeline": new_draws.mean(axis=0),
            "weighted_pipeline_forecast": weighted,
            "target": target,
            "quota": quota,
            "p_reach_target": reach,
            "gap": gap,
            "coverage": coverage,
        }
    )
    summary["gap_text"] = [
        _gap_text(
            r.booked,
            r.target,
            r.p50,
            r.p_reach_target,
            r.coverage,
            r.open_pipeline,
            currency,
            "In total" if r.dimension == "total" else f"{r.item}",
            (end - at).total_seconds() / 86_400,
        )
        for r in summary.itertuples()
    ]
    summary.attrs = {
        "as_of": at,
        "start": start,
        "end": end,
        "period": label,
        "outcome_shock_sd": shock,
    }
    path = (
        _path(dataset, then, at, start, end, opened, new_draws[:, 0], booked[0], rng, min_decided)
        if fan
        else pd.DataFrame(columns=["date", "booked", *QUANTILE_NAMES])
    )
    return Forecast(
        summary=summary,
        draws=draws,
        deals=opened,
        new_pipeline=cells,
        path=path,
        renewals=renewal_table,
        as_of=at,
        start=start,
        end=end,
        period=label,
        currency=currency,
    )
