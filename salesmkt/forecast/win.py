"""Win probability and time to close of open deals, from what was known at a date.

Rules (docs/semantics/forecast.md):

* **As of a date.** :func:`deals_as_of` gives the deals table as it stood at ``as_of``: deals
  created after it are left out; a deal closed after it was still open then (its status,
  close time and stage are what the CRM showed then: open, no close, stage unknown). The table
  holds only each deal's *current* stage, so before the export time (the latest created or
  closed time in the table) no open deal's stage is known; at or after it, stages are as
  recorded. Won deals, new vs existing customers are those of
  :mod:`salesmkt.data.definitions`.
* **Time to close** runs from a deal's creation. A deal closed by ``as_of`` has an event (won
  or lost); an open one is *censored* at its age at ``as_of``. Won and lost are **competing
  risks**: a lost deal can no longer be won, so treating losses as censored (plain
  Kaplan-Meier of time to win) would overstate the chance of winning. The Aalen-Johansen
  estimator gives the cumulative incidence of a win, ``P(won by age t)``, and of a loss, beside
  the Kaplan-Meier probability ``P(still open at t)`` (:func:`time_to_close`).
* **An open deal of age a** wins within the next ``h`` days with probability
  ``(CIF_won(a + h) - CIF_won(a)) / S(a)`` (the cumulative incidence conditional on being open
  at ``a``), and eventually with ``(CIF_won(inf) - CIF_won(a)) / S(a)``
  (:func:`open_deal_win_probability`). Beyond the ages where fewer than ``min_at_risk`` deals
  were still open the estimate rests on too few deals: such a deal is treated as the oldest
  age with enough deals (and counted).
* **Stage win rates** need the stages deals passed through (a stage history); the deals table
  alone records only where each deal is now (:func:`stage_win_rates`).
* **Marketing- or sales-sourced**: a deal whose lead came through a channel (not missing, not
  ``other``) is marketing-sourced, else sales-sourced (the rule of the KPI
  ``mkt_sourced_pipeline``).

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> p = open_deal_win_probability(ds, as_of="2026-04-15", end="2026-07-01")
>>> bool(p["p_win_in_period"].between(0, 1).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import won_deals
from salesmkt.data.validate import check_columns

__all__ = [
    "deal_win_probability",
    "deals_as_of",
    "open_deal_win_probability",
    "stage_win_rates",
    "time_to_close",
]

DAY_NS = 86_400 * 10**9
UNKNOWN_STAGE = "(unknown at that date)"
MARKETING = "marketing"
SALES = "sales"


def _deals(data) -> pd.DataFrame:
    return data.deals if isinstance(data, Dataset) else data


def _leads(data) -> pd.DataFrame | None:
    return data.leads if isinstance(data, Dataset) else None


def snapshot_time(deals: pd.DataFrame) -> pd.Timestamp:
    """The export time of a deals table: its latest created or closed time."""
    cols = [c for c in ("created_at", "closed_at") if c in deals.columns]
    values = [deals[c].max() for c in cols if len(deals)]
    values = [v for v in values if pd.notna(v)]
    return max(values) if values else pd.Timestamp("1970-01-01", tz="UTC")


def deals_as_of(deals: pd.DataFrame, as_of) -> pd.DataFrame:
    """The deals table as it stood at ``as_of``: only what was known then.

    Deals created after ``as_of`` are left out. A deal closed after ``as_of`` (won or lost)
    was open then: its ``status`` becomes ``"open"`` and its ``closed_at`` missing. Before the
    export time (the latest created or closed time of the table) the ``stage`` of an open deal
    is unknown (the table keeps only the current stage) and reads ``"(unknown at that date)"``.

    Parameters
    ----------
    deals : DataFrame
        The canonical ``deals`` table (``deal_id, created_at, amount, status, closed_at``).
    as_of : timestamp or str
        The date (naive: UTC).

    Returns
    -------
    DataFrame
        The deals created by ``as_of`` with their columns as of then, plus ``age_days`` (days
        from creation to ``as_of``). ``attrs``: ``as_of``, ``n_created_later`` (left out),
        ``n_reopened`` (closed after ``as_of``: open then), ``n_closed_without_date`` (won or
        lost without ``closed_at``: their close time is unknown, kept as they are and left out
        of the open pipeline and of time to close), ``stage_known``.

    Examples
    --------
    >>> import pandas as pd
    >>> deals = pd.DataFrame({
    ...     "deal_id": ["D1", "D2", "D3"],
    ...     "created_at": pd.to_datetime(["2025-01-01", "2025-01-10", "2025-03-01"], utc=True),
    ...     "amount": [100.0, 200.0, 300.0],
    ...     "status": ["won", "lost", "open"],
    ...     "closed_at": pd.to_datetime(["2025-01-20", "2025-02-20", None], utc=True),
    ... })
    >>> then = deals_as_of(deals, "2025-02-01")
    >>> then[["deal_id", "status"]].values.tolist(), then.attrs["n_reopened"]
    ([['D1', 'won'], ['D2', 'open']], 1)
    """
    check_columns(deals, "deals", ["deal_id", "created_at", "amount"], caller="deals_as_of")
    at = _periods.to_utc(as_of)
    if at is None:
        raise ValueError("deals_as_of: as_of is missing; give a date such as '2026-03-31'")
    snap = snapshot_time(deals)
    created = pd.to_datetime(deals["created_at"], utc=True)
    known = (created <= at).fillna(False).to_numpy(dtype=bool)
    out = deals[known].copy()
    closed = (
        pd.to_datetime(out["closed_at"], utc=True)
        if "closed_at" in out.columns
        else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    )
    status = (
        out["status"].astype("string")
        if "status" in out.columns
        else pd.Series(pd.NA, index=out.index, dtype="string")
    )
    later = (closed > at).fillna(False).to_numpy(dtype=bool)
    status = status.mask(later, "open")
    status = status.mask(status.isna() & closed.isna().to_numpy(), "open")
    out["status"] = status.astype("string")
    out["closed_at"] = closed.mask(later)
    decided = status.isin(["won", "lost"]).to_numpy(dtype=bool)
    without_date = decided & out["closed_at"].isna().to_numpy(dtype=bool)
    stage_known = bool(at >= snap)
    if "stage" in out.columns:
        stage = out["stage"].astype("string")
    else:
        stage = pd.Series(pd.NA, index=out.index, dtype="string")
        stage_known = False
    is_open = status.eq("open").to_numpy(dtype=bool)
    if not stage_known:
        stage = stage.mask(is_open, UNKNOWN_STAGE)
    out["stage"] = stage.fillna(UNKNOWN_STAGE).where(is_open, stage)
    created_ns = pd.to_datetime(out["created_at"], utc=True).to_numpy("datetime64[ns]")
    out["age_days"] = (at.to_datetime64() - created_ns).astype(np.int64) / DAY_NS
    out.attrs = {
        "as_of": at,
        "n_created_later": int((~known).sum()),
        "n_reopened": int(later.sum()),
        "n_closed_without_date": int(without_date.sum()),
        "stage_known": stage_known,
    }
    return out


def customer_type_of(deals: pd.DataFrame) -> pd.Series:
    """``"new"``/``"existing"`` of each deal as if won now (:func:`won_deals`'s rule).

    Won deals keep their class; an open (or lost) deal is classed as it would be if it were won
    after every deal already won: ``deal_type`` decides, and an untyped deal is new when its
    customer has no earlier won deal.
    """
    won_mask = deals["status"].astype("string").eq("won").fillna(False).to_numpy(dtype=bool)
    won_mask &= deals["closed_at"].notna().to_numpy(dtype=bool)
    late = pd.Timestamp.max.tz_localize("UTC") - pd.Timedelta(days=1)
    as_won = deals.assign(
        status="won", closed_at=deals["closed_at"].where(won_mask, late), _pos=np.arange(len(deals))
    )
    typed = won_deals(as_won)
    out = np.empty(len(deals), dtype=object)
    out[typed["_pos"].to_numpy()] = typed["customer_type"].to_numpy()
    return pd.Series(out, index=deals.index, name="customer_type")


def sourced_by(deals: pd.DataFrame, leads: pd.DataFrame | None) -> pd.Series:
    """``"marketing"`` for deals whose lead came through a channel (not ``other``), else
    ``"sales"`` (the rule of the KPI ``mkt_sourced_pipeline``)."""
    if leads is None or "lead_id" not in deals.columns or "channel" not in leads.columns:
        return pd.Series(SALES, index=deals.index, name="sourced_by")
    chan = deals["lead_id"].map(leads.drop_duplicates("lead_id").set_index("lead_id")["channel"])
    chan = chan.astype("string")
    mkt = (chan.notna() & (chan != "other")).fillna(False).to_numpy(dtype=bool)
    return pd.Series(np.where(mkt, MARKETING, SALES), index=deals.index, name="sourced_by")


def _events(then: pd.DataFrame) -> pd.DataFrame:
    """Durations (days from creation) and cause (0 open, 1 won, 2 lost) of deals as of then."""
    status = then["status"].astype("string")
    closed = then["closed_at"]
    created = pd.to_datetime(then["created_at"], utc=True)
    cause = np.select(
        [status.eq("won").fillna(False), status.eq("lost").fillna(False)], [1, 2], 0
    ).astype(np.int8)
    dur = ((closed - created).dt.total_seconds() / 86_400).to_numpy(dtype=float)
    t = np.where(cause > 0, dur, then["age_days"].to_numpy(dtype=float))
    usable = np.isfinite(t) & (t >= 0)
    return then.assign(duration_days=t, cause=cause, _usable=usable)


def aalen_johansen(durations, causes) -> pd.DataFrame:
    """Kaplan-Meier survival and Aalen-Johansen cumulative incidences of cause 1 and 2.

    ``durations``: time to event or censoring; ``causes``: 0 censored, 1 and 2 the competing
    events. At each distinct event time ``t_j`` with ``n_j`` at risk (time >= t_j), ``d1_j``
    and ``d2_j`` events: ``S(t_j) = S(t_{j-1}) (1 - (d1_j + d2_j) / n_j)`` and ``F_k(t_j) =
    F_k(t_{j-1}) + S(t_{j-1}) d_kj / n_j``. A row at time 0 starts the curves.

    Examples
    --------
    >>> aalen_johansen([1, 2, 2, 3], [1, 2, 0, 1])[["days", "still_open", "cum_won"]].values.tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.75, 0.25], [2.0, 0.5, 0.25], [3.0, 0.0, 0.75]]
    """
    t = np.asarray(durations, dtype=float)
    c = np.asarray(causes, dtype=np.int8)
    times = np.unique(t[c > 0]) if len(t) else np.array([])
    t_sorted = np.sort(t)
    at_risk = len(t) - np.searchsorted(t_sorted, times, side="left")
    d1 = d2 = np.zeros(0, dtype=np.int64)
    if len(times):
        idx = np.searchsorted(times, t[c > 0])
        d1 = np.bincount(idx[c[c > 0] == 1], minlength=len(times))
        d2 = np.bincount(idx[c[c > 0] == 2], minlength=len(times))
    hazard = (d1 + d2) / np.maximum(at_risk, 1)
    surv = np.cumprod(1 - hazard)
    before = np.concatenate([[1.0], surv[:-1]])
    f1 = np.cumsum(before * d1 / np.maximum(at_risk, 1))
    f2 = np.cumsum(before * d2 / np.maximum(at_risk, 1))
    censored = np.bincount(
        np.searchsorted(np.append(times, np.inf), t[c == 0], side="left"),
        minlength=len(times) + 1,
    )[: len(times)]
    return pd.DataFrame(
        {
            "days": np.concatenate([[0.0], times]),
            "at_risk": np.concatenate([[len(t)], at_risk]).astype(np.int64),
            "won": np.concatenate([[0], d1]).astype(np.int64),
            "lost": np.concatenate([[0], d2]).astype(np.int64),
            "censored_before": np.concatenate([[0], censored]).astype(np.int64),
            "still_open": np.concatenate([[1.0], surv]),
            "cum_won": np.concatenate([[0.0], f1]),
            "cum_lost": np.concatenate([[0.0], f2]),
        }
    )


def _step(curve: pd.DataFrame, column: str, x) -> np.ndarray:
    """The right-continuous step function ``column`` of ``curve`` at times ``x``."""
    idx = np.searchsorted(curve["days"].to_numpy(), np.asarray(x, dtype=float), side="right") - 1
    return curve[column].to_numpy()[np.maximum(idx, 0)]


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _with_segments(then: pd.DataFrame, leads) -> pd.DataFrame:
    return then.assign(customer_type=customer_type_of(then), sourced_by=sourced_by(then, leads))


def time_to_close(dataset, *, as_of=None, by=None) -> pd.DataFrame:
    """How long deals take to close, won or lost, with open deals censored at ``as_of``.

    Time runs from a deal's creation. Won and lost are competing outcomes: ``cum_won`` is
    the Aalen-Johansen cumulative incidence ``P(won within t days)``, ``cum_lost`` the same for
    losses and ``still_open`` the Kaplan-Meier ``P(still open at t)``; the three add up to 1.
    (A Kaplan-Meier of time to win with losses censored would overstate wins: it pretends a
    lost deal could still be won.) Deals closed before they were created (a CRM error) have no
    duration and are left out, counted in ``attrs["n_left_out"]``.

    Parameters
    ----------
    dataset : Dataset or DataFrame
        The sample or a user's data (or the deals table alone).
    as_of : timestamp, optional
        Use only what was known then (:func:`deals_as_of`). Default: the export time.
    by : str or list of str, optional
        Columns of the deals to break down by, or ``"customer_type"`` (new/existing) or
        ``"sourced_by"`` (marketing/sales).

    Returns
    -------
    DataFrame
        ``[by,] days, at_risk, won, lost, censored_before, still_open, cum_won, cum_lost``:
        one row per distinct close time (and one at 0 days) per group. ``attrs``: ``as_of``,
        ``n_deals``, ``n_left_out``.

    Examples
    --------
    >>> import salesmkt
    >>> t = time_to_close(salesmkt.load_sample(), as_of="2026-04-01")
    >>> bool(((t["still_open"] + t["cum_won"] + t["cum_lost"]) - 1).abs().max() < 1e-9)
    True
    """
    deals = _deals(dataset)
    at = _periods.to_utc(as_of) if as_of is not None else snapshot_time(deals)
    then = _events(_with_segments(deals_as_of(deals, at), _leads(dataset)))
    keys = _as_list(by)
    check_columns(then, "deals", keys, caller="time_to_close")
    usable = then[then["_usable"]]
    parts = []
    groups = usable.groupby(keys, observed=True, sort=True) if keys else [((), usable)]
    for key, g in groups:
        curve = aalen_johansen(g["duration_days"], g["cause"])
        key = key if isinstance(key, tuple) else (key,)
        for k, v in zip(keys, key, strict=True):
            curve.insert(keys.index(k), k, v)
        parts.append(curve)
    out = pd.concat(parts, ignore_index=True) if parts else aalen_johansen([], [])
    out.attrs = {
        "as_of": at,
        "n_deals": int(len(usable)),
        "n_left_out": int((~then["_usable"]).sum()),
    }
    return out


def _conditional(curve: pd.DataFrame, age, horizon_days: float, min_at_risk: int):
    """P(won within horizon | open at age) and P(won eventually | open at age), ages capped."""
    ok = curve[curve["at_risk"] >= min_at_risk]
    cap = float(ok["days"].max()) if len(ok) else 0.0
    a = np.minimum(np.asarray(age, dtype=float), cap)
    s = _step(curve, "still_open", a)
    f0 = _step(curve, "cum_won", a)
    f1 = _step(curve, "cum_won", a + horizon_days)
    fin = float(curve["cum_won"].iloc[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(s > 0, (f1 - f0) / s, 0.0)
        ever = np.where(s > 0, (fin - f0) / s, 0.0)
    capped = np.asarray(age, dtype=float) > cap
    return np.clip(within, 0, 1), np.clip(ever, 0, 1), capped


def open_deal_win_probability(
    dataset,
    *,
    as_of,
    end,
    by: str | None = "customer_type",
    min_at_risk: int = 5,
    min_decided: int = 30,
) -> pd.DataFrame:
    """Each deal open at ``as_of``: the chance it is won before ``end``, from time to close.

    ``P(won within h days | open at age a) = (CIF_won(a + h) - CIF_won(a)) / S(a)`` with the
    Aalen-Johansen curves of :func:`time_to_close` fitted on what was known at ``as_of``,
    separately per ``by`` group (new vs existing customers by default: renewals close on
    another clock than new business) when the group has at least ``min_decided`` decided
    deals, else on all deals.

    Parameters
    ----------
    dataset : Dataset or DataFrame
        The data (or the deals table alone).
    as_of, end : timestamp
        The date of the forecast and the end of the period (exclusive).
    by : str, optional
        ``"customer_type"``, ``"sourced_by"``, a deals column, or None for one curve.
    min_at_risk : int
        Ages beyond the last one with this many deals still open are treated as that age.
    min_decided : int
        A group with fewer decided deals uses the curve of all deals.

    Returns
    -------
    DataFrame
        One row per open deal: ``deal_id, owner_id, amount, stage, customer_type, sourced_by,
        age_days, p_win_in_period, p_win_eventually, age_capped``. ``attrs``: ``as_of``,
        ``end``, ``n_age_capped``, ``curve_by``.

    Examples
    --------
    >>> import salesmkt
    >>> p = open_deal_win_probability(salesmkt.load_sample(), as_of="2026-06-30", end="2026-10-01")
    >>> bool((p["p_win_in_period"] <= p["p_win_eventually"] + 1e-12).all())
    True
    """
    deals = _deals(dataset)
    at, stop = _periods.to_utc(as_of), _periods.to_utc(end)
    if stop is None or stop <= at:
        raise ValueError(f"open_deal_win_probability: end={end!r} must be after as_of={as_of!r}")
    then = _events(_with_segments(deals_as_of(deals, at), _leads(dataset)))
    return _open_probabilities(then, at, stop, by, min_at_risk, min_decided)


def _open_probabilities(then, at, stop, by, min_at_risk, min_decided) -> pd.DataFrame:
    """:func:`open_deal_win_probability` on the deals as of ``at`` (from :func:`_events`)."""
    usable = then[then["_usable"]]
    h = (stop - at).total_seconds() / 86_400
    is_open = then["status"].eq("open").to_numpy(dtype=bool)
    opened = then[is_open].copy()
    pooled = aalen_johansen(usable["duration_days"], usable["cause"])
    within = np.zeros(len(opened))
    ever = np.zeros(len(opened))
    capped = np.zeros(len(opened), dtype=bool)
    groups = opened[by].astype(str).to_numpy() if by else np.full(len(opened), "")
    for g in np.unique(groups):
        rows = groups == g
        hist = usable[usable[by].astype(str) == g] if by else usable
        curve = pooled
        if by and int((hist["cause"] > 0).sum()) >= min_decided:
            curve = aalen_johansen(hist["duration_days"], hist["cause"])
        w, e, c = _conditional(curve, opened["age_days"].to_numpy()[rows], h, min_at_risk)
        within[rows], ever[rows], capped[rows] = w, e, c
    cols = [c for c in ("deal_id", "owner_id", "amount", "stage") if c in opened.columns]
    out = opened[cols].assign(
        customer_type=opened["customer_type"],
        sourced_by=opened["sourced_by"],
        age_days=opened["age_days"],
        p_win_in_period=within,
        p_win_eventually=ever,
        age_capped=capped,
    )
    if "owner_id" not in out.columns:
        out.insert(1, "owner_id", pd.NA)
    out = out.reset_index(drop=True)
    out.attrs = {"as_of": at, "end": stop, "n_age_capped": int(capped.sum()), "curve_by": by}
    return out


def _wilson(k, n, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import norm

    k, n = np.asarray(k, float), np.asarray(n, float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z**2 / n
        mid = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return np.where(n > 0, mid - half, np.nan), np.where(n > 0, mid + half, np.nan)


def stage_win_rates(
    dataset, *, as_of=None, history: pd.DataFrame | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Historical win rate of the deals that were in each open stage, with its Wilson interval.

    With a stage history (``history``: one row per deal and stage it entered, columns
    ``deal_id, stage, entered_at``, e.g. HubSpot's "date entered stage" fields or Salesforce's
    opportunity history), the rate of a stage is, among the deals that entered it by
    ``as_of`` and were decided (won or lost) by ``as_of``: won / decided. Without one, the
    deals table tells only where each deal is now (closed deals show "Closed Won/Lost"), so
    no per-stage rate can be measured: every stage gets the rate of all deals decided by
    ``as_of`` and ``basis`` says so.

    Parameters
    ----------
    dataset : Dataset or DataFrame
        The data (or the deals table alone).
    as_of : timestamp, optional
        Only what was known then. Default: the export time.
    history : DataFrame, optional
        ``deal_id, stage, entered_at``.
    confidence : float
        Of the Wilson interval.

    Returns
    -------
    DataFrame
        One row per stage: ``stage, open_deals, open_amount, won, lost, decided, win_rate,
        win_rate_low, win_rate_high, basis`` (``open_*``: the deals in that stage at
        ``as_of``).

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> r = stage_win_rates(ds)
    >>> int(r["open_deals"].sum()) == int((ds.deals["status"] == "open").sum())
    True
    >>> r["basis"].iloc[0]
    'all decided deals (no stage history)'
    """
    deals = _deals(dataset)
    at = _periods.to_utc(as_of) if as_of is not None else snapshot_time(deals)
    return _stage_rates(deals_as_of(deals, at), at, history, confidence)


def _stage_rates(then, at, history, confidence) -> pd.DataFrame:
    """:func:`stage_win_rates` on the deals as of ``at`` (from :func:`deals_as_of`)."""
    status = then["status"].astype("string")
    opened = then[status.eq("open").fillna(False).to_numpy(dtype=bool)]
    open_by = opened.groupby("stage", observed=True).agg(
        open_deals=("deal_id", "size"), open_amount=("amount", "sum")
    )
    decided = then[then["closed_at"].notna() & status.isin(["won", "lost"]).fillna(False)]
    if history is None:
        won = int(decided["status"].eq("won").sum())
        n = len(decided)
        rows = pd.DataFrame({"won": won, "decided": n}, index=open_by.index)
        basis = "all decided deals (no stage history)"
    else:
        check_columns(
            history, "history", ["deal_id", "stage", "entered_at"], caller="stage_win_rates"
        )
        h = history[pd.to_datetime(history["entered_at"], utc=True) <= at]
        h = h.drop_duplicates(["deal_id", "stage"])
        h = h.merge(decided[["deal_id", "status"]], on="deal_id", how="inner")
        rows = h.groupby("stage", observed=True).agg(
            won=("status", lambda s: int((s == "won").sum())), decided=("deal_id", "size")
        )
        basis = "deals that entered the stage"
        rows = rows.reindex(rows.index.union(open_by.index), fill_value=0)
    out = open_by.reindex(rows.index, fill_value=0).join(rows).reset_index()
    out = out.rename(columns={"index": "stage"})
    out["open_deals"] = out["open_deals"].astype(np.int64)
    out["lost"] = (out["decided"] - out["won"]).astype(np.int64)
    out["win_rate"] = out["won"] / out["decided"].where(out["decided"] > 0)
    low, high = _wilson(out["won"], out["decided"], confidence)
    out["win_rate_low"], out["win_rate_high"] = low, high
    out["basis"] = basis
    cols = ["stage", "open_deals", "open_amount", "won", "lost", "decided", "win_rate"]
    out = out[[*cols, "win_rate_low", "win_rate_high", "basis"]]
    out.attrs = {"as_of": at}
    return out.sort_values("stage", kind="stable").reset_index(drop=True)


def _landmarks(then: pd.DataFrame, at: pd.Timestamp, horizon_days: float, step_days: float):
    """Rows (deal open at a past landmark L, L + horizon <= as_of): features and the outcome."""
    created = pd.to_datetime(then["created_at"], utc=True)
    closed = then["closed_at"]
    first = created.min()
    last = at - pd.Timedelta(days=horizon_days)
    rows = []
    if pd.isna(first) or last <= first:
        return pd.DataFrame()
    for lm in pd.date_range(first + pd.Timedelta(days=step_days), last, freq=f"{step_days}D"):
        alive = (created <= lm) & (closed.isna() | (closed > lm))
        d = then[alive.to_numpy(dtype=bool)]
        cl = d["closed_at"]
        won = d["status"].eq("won") & (cl <= lm + pd.Timedelta(days=horizon_days))
        age = (lm - pd.to_datetime(d["created_at"], utc=True)).dt.total_seconds() / 86_400
        rows.append(d.assign(age_days=age, _y=won.fillna(False).astype(int)))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _design(df: pd.DataFrame, cats: list[str]) -> pd.DataFrame:
    x = pd.DataFrame(
        {
            "log_amount": np.log1p(df["amount"].astype(float).clip(lower=0)).to_numpy(),
            "log_age_days": np.log1p(df["age_days"].astype(float).clip(lower=0)).to_numpy(),
        }
    )
    for c in cats:
        x[c] = df[c].astype("string").fillna("(missing)").to_numpy()
    return x


def deal_win_probability(
    dataset,
    *,
    as_of,
    end=None,
    horizon_days: float | None = None,
    features=("customer_type", "sourced_by", "owner_id", "product"),
    step_days: float = 14,
    random_state: int = 0,
) -> pd.DataFrame:
    """A model's chance that each open deal is won within the horizon (landmark logistic).

    Training rows are *landmarks*: every ``step_days`` before ``as_of``, each deal then open
    gives one row with its age, amount and ``features`` and whether it was won within
    ``horizon_days`` after the landmark; only landmarks whose outcome was known by ``as_of``
    are used, so nothing after ``as_of`` enters. A logistic regression (one-hot categories,
    standardised numbers) fitted on them scores each deal open at ``as_of``. The expected
    close date and the stage are not used: CRMs overwrite them as deals move, so their past
    values are unknown.

    Parameters
    ----------
    dataset : Dataset or DataFrame
        The data.
    as_of : timestamp
        The date of the forecast.
    end : timestamp, optional
        The period end; the horizon is ``end - as_of``. Or give ``horizon_days``.
    horizon_days : float, optional
        Default: 90 days when neither is given.
    features : sequence of str
        Categorical features (deals columns, ``customer_type``, ``sourced_by``); the missing
        ones are skipped.
    step_days : float
        Spacing of the landmarks.
    random_state : int
        Seed of the solver.

    Returns
    -------
    DataFrame
        ``deal_id, p_win_model``, one row per deal open at ``as_of``. ``attrs``:
        ``n_training_rows``, ``n_training_wins``, ``features``, ``horizon_days``, ``model``.

    Examples
    --------
    >>> import salesmkt
    >>> m = deal_win_probability(salesmkt.load_sample(), as_of="2026-04-01", end="2026-07-01")
    >>> bool(m["p_win_model"].between(0, 1).all()), m.attrs["n_training_wins"] > 0
    (True, True)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    deals = _deals(dataset)
    at = _periods.to_utc(as_of)
    if horizon_days is None:
        horizon_days = (_periods.to_utc(end) - at).total_seconds() / 86_400 if end else 90.0
    then = _with_segments(deals_as_of(deals, at), _leads(dataset))
    cats = [c for c in features if c in then.columns]
    train = _landmarks(then, at, float(horizon_days), float(step_days))
    opened = then[then["status"].eq("open").to_numpy(dtype=bool)]
    if train.empty or train["_y"].nunique() < 2:
        raise ValueError(
            f"deal_win_probability: too little history before {at:%Y-%m-%d} to learn from "
            f"({len(train)} landmark rows, {int(train['_y'].sum()) if len(train) else 0} wins)"
        )
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["log_amount", "log_age_days"]),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cats),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=1000, random_state=random_state))
    model.fit(_design(train, cats), train["_y"].to_numpy())
    p = model.predict_proba(_design(opened, cats))[:, 1] if len(opened) else np.zeros(0)
    out = pd.DataFrame({"deal_id": opened["deal_id"].to_numpy(), "p_win_model": p})
    out.attrs = {
        "n_training_rows": int(len(train)),
        "n_training_wins": int(train["_y"].sum()),
        "features": ["amount", "age_days", *cats],
        "horizon_days": float(horizon_days),
        "model": model,
    }
    return out
