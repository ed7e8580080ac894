"""The MQL threshold from the sales-marketing agreement: the lowest score that fills sales'
capacity, what it captures and misses, and what changes as it moves.

A lead is a (score-based) MQL when its probability is at or above the threshold. Sales can work
``capacity`` MQLs per period (``sla.sales_capacity`` of ``kpis.yml``); the threshold is the
**lowest** one whose MQLs per period, averaged over the periods the scores span (empty periods
included), stay within that capacity: every lead sales has time for is handed over, the best
first. Thresholds move in steps of ``step`` (1 point by default), so the rule reads "scores of 18
% or more". Expected conversions are sums of probabilities (a calibrated score's expectation);
where the outcome is known, observed conversions stand beside them.

:func:`mql_leads` turns a threshold into the MQL definition the SLA report accepts
(``salesmkt.sla_report(dataset, mql=...)``).

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({
...     "lead_id": ["a", "b", "c", "d"],
...     "created_at": pd.to_datetime(["2025-01-03", "2025-01-20", "2025-02-02", "2025-02-10"],
...                                  utc=True),
...     "probability": [0.42, 0.08, 0.25, 0.11],
... })
>>> r = mql_threshold(scores, capacity=1)
>>> float(r["threshold"].iloc[0]), float(r["mqls_per_period"].iloc[0])
(0.12, 1.0)
>>> threshold_sentence(r)
'Scoring leads at 12 % or more gives 1 MQL a month, within sales’ capacity of 1; they hold 78 % of the expected customers.'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.scoring.quality import _floats

__all__ = ["mql_threshold", "threshold_tradeoff", "threshold_sentence", "mql_leads"]

_PERIOD_WORDS = {"M": "month", "W": "week", "Q": "quarter", "D": "day", "Y": "year"}


def _scores(scores, *, p: str, at: str | None, y: str | None, caller: str):
    """Probabilities, the period of each lead, and outcomes (or None), checked."""
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"{caller}: scores must be a pandas DataFrame")
    need = [p] + ([at] if at else [])
    for col in need:
        if col not in scores.columns:
            raise ValueError(
                f"scores.{col}: {caller} needs this column, which is missing "
                f"(columns: {', '.join(map(str, scores.columns))})"
            )
    pv = _floats(scores[p])
    bad = np.isnan(pv) | (pv < 0) | (pv > 1)
    if bad.any():
        first = ", ".join(str(int(i)) for i in np.flatnonzero(bad)[:3])
        raise ValueError(
            f"scores.{p}: {int(bad.sum())} values are missing or outside 0-1, first at rows {first}"
        )
    yv = None
    if y is not None and y in scores.columns:
        yv = _floats(scores[y])
        odd = (~np.isin(yv, [0.0, 1.0]) & ~np.isnan(yv)) | (
            np.isnan(yv) & scores[y].notna().to_numpy()
        )
        if odd.any():
            raise ValueError(f"scores.{y}: outcomes must be 0/1, True/False or missing (unknown)")
    return pv, yv


def _n_periods(scores: pd.DataFrame, at: str, freq: str, caller: str) -> tuple[int, pd.Series]:
    ts = pd.to_datetime(scores[at], utc=True, errors="coerce")
    if ts.isna().any():
        raise ValueError(
            f"scores.{at}: {int(ts.isna().sum())} missing or unreadable timestamps; {caller} "
            "needs the date of every scored lead"
        )
    if ts.empty:
        raise ValueError(f"{caller}: no scored leads")
    frame = _periods.period_frame(ts.min(), ts.max() + pd.Timedelta(1, "ns"), freq)
    return len(frame), _periods.period_label(ts, freq)


def _tradeoff(pv, yv, thresholds, n_periods, capacity) -> pd.DataFrame:
    order = np.sort(pv)
    cum_p = np.concatenate([[0.0], np.cumsum(order)])  # sum of the lowest i probabilities
    t = np.asarray(thresholds, dtype=float)
    below_n = np.searchsorted(order, t, side="left")  # leads scored below t
    mqls = len(pv) - below_n
    exp_total = cum_p[-1]
    exp_below = cum_p[below_n]
    exp_above = exp_total - exp_below
    out = pd.DataFrame(
        {
            "threshold": t,
            "mqls": mqls,
            "mqls_per_period": mqls / n_periods,
            "share_of_leads": mqls / len(pv),
            "capacity": np.nan if capacity is None else float(capacity),
            "capacity_use": np.nan if capacity is None else mqls / n_periods / capacity,
            "expected_captured": exp_above,
            "expected_missed": exp_below,
            "expected_share_captured": exp_above / exp_total if exp_total else np.nan,
            "expected_precision": np.where(mqls > 0, exp_above / np.maximum(mqls, 1), np.nan),
        }
    )
    if yv is not None:
        known = ~np.isnan(yv)
        above = pv[:, None] >= t[None, :]
        won = (yv == 1)[:, None]
        cap = (above & won).sum(axis=0)
        miss = (~above & won).sum(axis=0)
        n_known_above = (above & known[:, None]).sum(axis=0)
        total = cap + miss
        out["observed_captured"] = cap
        out["observed_missed"] = miss
        out["observed_share_captured"] = np.where(total > 0, cap / np.maximum(total, 1), np.nan)
        out["observed_precision"] = np.where(
            n_known_above > 0, cap / np.maximum(n_known_above, 1), np.nan
        )
    else:
        for col in ("observed_captured", "observed_missed"):
            out[col] = pd.array([pd.NA] * len(t), dtype="Int64")
        out["observed_share_captured"] = np.nan
        out["observed_precision"] = np.nan
    return out


def threshold_tradeoff(
    scores: pd.DataFrame,
    *,
    thresholds=None,
    capacity: float | None = None,
    period: str = "M",
    p: str = "probability",
    at: str = "created_at",
    y: str | None = "converted",
) -> pd.DataFrame:
    """What changes as the MQL threshold moves: MQLs per period, conversions captured and missed.

    Parameters
    ----------
    scores : DataFrame
        One row per scored lead: the probability ``p``, the date ``at`` it was scored (or
        created), and optionally the observed outcome ``y`` (0/1; missing = not known yet).
    thresholds : array-like, optional
        Default 0, 0.01, ..., 0.99.
    capacity : float, optional
        MQLs sales can work per period (``capacity_use`` is missing without it).
    period : {"M", "W", "Q"}
        Period of the capacity.
    p, at, y : str
        Column names. Without a ``y`` column the observed columns are missing.

    Returns
    -------
    DataFrame
        One row per threshold: ``threshold, mqls`` (leads scored at or above it), ``mqls_per_period``
        (mqls / the number of periods from the first scored lead's to the last's),
        ``share_of_leads, capacity, capacity_use`` (mqls_per_period / capacity),
        ``expected_captured, expected_missed`` (sums of probabilities above and below),
        ``expected_share_captured, expected_precision`` (expected conversions per MQL),
        ``observed_captured, observed_missed, observed_share_captured, observed_precision``
        (from the known outcomes).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"created_at": pd.to_datetime(["2025-01-05"] * 4, utc=True),
    ...                   "probability": [0.9, 0.6, 0.3, 0.2], "converted": [1, 0, 1, 0]})
    >>> threshold_tradeoff(s, thresholds=[0.5, 0.25])[
    ...     ["threshold", "mqls", "expected_captured", "observed_captured"]]
       threshold  mqls  expected_captured  observed_captured
    0       0.50     2                1.5                  1
    1       0.25     3                1.8                  2
    """
    freq = _periods.check_freq(period, allowed=("M", "W", "Q"), caller="threshold_tradeoff")
    pv, yv = _scores(scores, p=p, at=at, y=y, caller="threshold_tradeoff")
    n_periods, _ = _n_periods(scores, at, freq, "threshold_tradeoff")
    if thresholds is None:
        thresholds = np.round(np.arange(0, 100) / 100, 2)
    if capacity is not None:
        _check_capacity(capacity, "threshold_tradeoff")
    out = _tradeoff(pv, yv, thresholds, n_periods, capacity)
    out.insert(2, "period", freq)
    return out


def _check_capacity(capacity, caller: str) -> float:
    if isinstance(capacity, bool) or not isinstance(capacity, int | float | np.number):
        raise ValueError(
            f"{caller}: capacity must be a number of MQLs per period, got {capacity!r}"
        )
    if not np.isfinite(capacity) or capacity <= 0:
        raise ValueError(f"{caller}: capacity must be above 0, got {capacity!r}")
    return float(capacity)


def mql_threshold(
    scores: pd.DataFrame,
    *,
    capacity: float,
    period: str = "M",
    step: float | None = 0.01,
    p: str = "probability",
    at: str = "created_at",
    y: str | None = "converted",
) -> pd.DataFrame:
    """The lowest score threshold whose MQLs per period fit sales' capacity.

    Parameters
    ----------
    scores : DataFrame
        One row per scored lead: probability ``p``, date ``at``, optionally the outcome ``y``.
    capacity : float
        MQLs sales can work per period (``kpis.yml``: ``sla.sales_capacity``).
    period : {"M", "W", "Q"}
        Period of the capacity (``kpis.yml``: ``freq``).
    step : float or None
        Thresholds are multiples of ``step`` (0.01: whole percentage points, readable as a rule);
        ``None`` tries every distinct score, filling capacity as closely as ties allow.
    p, at, y : str
        Column names.

    Returns
    -------
    DataFrame
        One row, the columns of :func:`threshold_tradeoff` at the threshold, and ``periods``
        (how many), ``leads_per_period, peak_mqls`` (MQLs of the busiest period) and
        ``fits`` (``mqls_per_period <= capacity``; with a threshold above every score it
        always does). When all leads fit, the threshold is 0: no lead need be held back.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"created_at": pd.to_datetime(["2025-01-05"] * 4, utc=True),
    ...                   "probability": [0.9, 0.6, 0.3, 0.2]})
    >>> mql_threshold(s, capacity=2)[["threshold", "mqls", "expected_share_captured"]]
       threshold  mqls  expected_share_captured
    0       0.31     2                      0.75
    """
    freq = _periods.check_freq(period, allowed=("M", "W", "Q"), caller="mql_threshold")
    capacity = _check_capacity(capacity, "mql_threshold")
    pv, yv = _scores(scores, p=p, at=at, y=y, caller="mql_threshold")
    n_periods, labels = _n_periods(scores, at, freq, "mql_threshold")
    if step is None:
        candidates = np.concatenate([[0.0], np.unique(pv), [np.nextafter(pv.max(), 2.0)]])
    else:
        if not 0 < step <= 1:
            raise ValueError(f"mql_threshold: step must be above 0 and at most 1, got {step!r}")
        k = int(np.ceil(1 / step))
        candidates = np.round(np.arange(0, k + 2) * step, 10)
    order = np.sort(pv)
    mqls = len(pv) - np.searchsorted(order, candidates, side="left")
    fits = mqls <= capacity * n_periods + 1e-9
    t = float(candidates[np.argmax(fits)])
    out = _tradeoff(pv, yv, [t], n_periods, capacity)
    out.insert(2, "period", freq)
    per = pd.Series(pv >= t).groupby(labels.to_numpy()).sum()
    out.insert(3, "periods", n_periods)
    out.insert(4, "leads_per_period", len(pv) / n_periods)
    out["peak_mqls"] = int(per.max()) if len(per) else 0
    out["fits"] = bool(out["mqls_per_period"].iloc[0] <= capacity + 1e-9)
    return out


def _pct(x: float) -> str:
    v = 100 * x
    for d in (0, 1, 2):
        if abs(v - round(v, d)) < 1e-9:
            return f"{v:.{d}f} %"
    return f"{v:.2f} %"


def threshold_sentence(result: pd.DataFrame) -> str:
    """The threshold of :func:`mql_threshold` in plain words, for a report.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"threshold": [0.18], "period": ["M"], "mqls_per_period": [115.2],
    ...                   "capacity": [120.0], "expected_share_captured": [0.713],
    ...                   "observed_share_captured": [float("nan")]})
    >>> threshold_sentence(r)
    'Scoring leads at 18 % or more gives 115 MQLs a month, within sales’ capacity of 120; they hold 71 % of the expected customers.'
    """
    r = result.iloc[0]
    per = _PERIOD_WORDS.get(r["period"], "period")
    n = float(r["mqls_per_period"])
    mqls = f"{n:,.0f} MQL{'' if round(n) == 1 else 's'} a {per}"
    cap = f"{float(r['capacity']):,.0f}"
    share = f"{float(r['expected_share_captured']):.0%}".replace("%", " %")
    if float(r["threshold"]) <= 0:
        text = (
            f"Every lead fits within sales’ capacity of {cap} a {per} ({mqls}): no score "
            "threshold is needed to hold leads back."
        )
    else:
        within = "within" if n <= float(r["capacity"]) + 1e-9 else "above"
        text = (
            f"Scoring leads at {_pct(float(r['threshold']))} or more gives {mqls}, {within} "
            f"sales’ capacity of {cap}; they hold {share} of the expected customers."
        )
    observed = r.get("observed_share_captured", np.nan)
    if observed is not None and pd.notna(observed) and float(r["threshold"]) > 0:
        text = text[:-1] + (
            f" (and {float(observed):.0%} of the customers actually won among these leads)."
        ).replace("%", " %")
    return text


def mql_leads(
    scores: pd.DataFrame,
    *,
    threshold: float,
    lead_id: str = "lead_id",
    p: str = "probability",
    at: str = "created_at",
) -> pd.DataFrame:
    """The score-based MQL definition: leads scored at or above ``threshold``, with the time
    they became MQLs (their ``at`` column: when they were scored, by default created).

    Pass the result as ``mql=`` to :func:`salesmkt.sla_report`, :func:`salesmkt.sla_breaches` or
    :func:`salesmkt.scorecard` to hold the SLA to the score's MQLs instead of the CRM's
    ``mql_at``.

    Returns
    -------
    DataFrame
        ``lead_id, mql_at`` (UTC), one row per MQL, in the order of ``scores``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"lead_id": ["a", "b"], "probability": [0.3, 0.1],
    ...                   "created_at": pd.to_datetime(["2025-01-05", "2025-01-06"], utc=True)})
    >>> mql_leads(s, threshold=0.2)["lead_id"].tolist()
    ['a']
    """
    for col in (lead_id, p, at):
        if col not in scores.columns:
            raise ValueError(f"scores.{col}: mql_leads needs this column, which is missing")
    pv, _ = _scores(scores, p=p, at=at, y=None, caller="mql_leads")
    keep = pv >= threshold
    return pd.DataFrame(
        {
            "lead_id": scores[lead_id].to_numpy()[keep],
            "mql_at": pd.to_datetime(scores[at], utc=True).to_numpy()[keep],
        }
    ).assign(mql_at=lambda d: pd.to_datetime(d["mql_at"], utc=True))
