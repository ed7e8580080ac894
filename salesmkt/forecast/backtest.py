"""Backtest of the revenue forecast: replayed at past dates with only what was known then.

At each past date the forecast (:func:`~salesmkt.forecast.revenue.revenue_forecast`) is
run on the deals as they stood then (:func:`~salesmkt.forecast.win.deals_as_of`: deals
created later left out, deals closed later still open, stages unknown) and compared with what
was actually booked in that period. Read it as: how often the actual fell inside the P10-P90
band (an honest 80 % band holds it about 8 times in 10; much more means the band is too wide,
much less too narrow or biased), how far the P50 was off (median absolute % error), and
whether it leans one way (bias: mean of P50 − actual over actual).

Examples
--------
>>> import salesmkt
>>> bt = forecast_backtest(salesmkt.load_sample(), dates=["2026-02-15", "2026-05-15"],
...                        n_simulations=1000)
>>> bt.columns.tolist()[:5]
['as_of', 'period', 'period_end', 'booked', 'p10']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.definitions import won_deals
from salesmkt.forecast.revenue import revenue_forecast
from salesmkt.forecast.win import _deals, snapshot_time

__all__ = ["backtest_summary", "forecast_backtest"]


def _default_dates(deals: pd.DataFrame, horizon: str, warmup_days: int) -> list[pd.Timestamp]:
    """The 1st and 15th of each month whose period ended by the export time, after a warm-up."""
    first = pd.to_datetime(deals["created_at"], utc=True).min() + pd.Timedelta(days=warmup_days)
    snap = snapshot_time(deals)
    out = []
    for month in pd.date_range(_periods.floor_one(first, "M"), snap, freq="MS"):
        for day in (month, month + pd.Timedelta(days=14)):
            end = _periods.shift(_periods.floor_one(day, horizon), horizon)
            if day >= first and end <= snap + _periods.FULL_SLACK:
                out.append(day)
    return out


def forecast_backtest(
    dataset,
    *,
    dates=None,
    horizon: str = "Q",
    n_simulations: int = 2000,
    seed: int = 0,
    warmup_days: int = 180,
    **options,
) -> pd.DataFrame:
    """Replay :func:`revenue_forecast` at past dates and compare with what was booked.

    Parameters
    ----------
    dataset : Dataset
        The data.
    dates : list of timestamps, optional
        The forecast dates. Default: the 1st and the 15th of every month from ``warmup_days``
        after the first deal whose period (``horizon``) ended by the export time.
    horizon : {"M", "Q", "Y"}
        The period forecast at each date (the one holding it).
    n_simulations, seed : int
        Passed on (``seed`` the same at every date).
    warmup_days : int
        History needed before the first default date.
    **options
        Passed to :func:`revenue_forecast` (``lookback_days``, ``min_decided``).

    Returns
    -------
    DataFrame
        One row per date: ``as_of, period, period_end, booked, p10, p50, p90, mean, actual,
        inside_band, error, pct_error, position`` (``booked``: won by the date; ``actual``: won
        in the whole period, as recorded now; ``error``: P50 − actual; ``position``: below,
        inside or above the band). :func:`backtest_summary` sums it up.

    Examples
    --------
    >>> import salesmkt
    >>> bt = forecast_backtest(salesmkt.load_sample(), dates=["2026-04-15"], n_simulations=500)
    >>> bool(bt["p10"].iloc[0] <= bt["p50"].iloc[0] <= bt["p90"].iloc[0])
    True
    """
    deals = _deals(dataset)
    code = _periods.check_freq(horizon, allowed=("M", "Q", "Y"), keyword="horizon")
    if dates is None:
        dates = _default_dates(deals, code, warmup_days)
    won = won_deals(deals)
    rows = []
    for d in dates:
        at = _periods.to_utc(d)
        f = revenue_forecast(
            dataset,
            as_of=at,
            horizon=code,
            n_simulations=n_simulations,
            seed=seed,
            fan=False,
            **options,
        )
        t = f.row("total")
        actual = float(won.loc[_periods.within(won["closed_at"], f.start, f.end), "amount"].sum())
        rows.append(
            {
                "as_of": at,
                "period": f.period,
                "period_end": f.end,
                "booked": t["booked"],
                "p10": t["p10"],
                "p50": t["p50"],
                "p90": t["p90"],
                "mean": t["mean"],
                "actual": actual,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=["as_of", "period", "period_end", "booked", "p10", "p50", "p90", "mean", "actual"],
    )
    out["inside_band"] = (out["actual"] >= out["p10"]) & (out["actual"] <= out["p90"])
    out["error"] = out["p50"] - out["actual"]
    out["pct_error"] = out["error"] / out["actual"].where(out["actual"] > 0)
    out["position"] = np.select(
        [out["actual"] < out["p10"], out["actual"] > out["p90"]], ["below", "above"], "inside"
    )
    out.attrs = {"horizon": code, "n_simulations": n_simulations}
    return out


def backtest_summary(backtest: pd.DataFrame) -> pd.DataFrame:
    """How far to trust the forecast: band coverage, P50 error and bias over the dates.

    Returns
    -------
    DataFrame
        One row: ``dates, band_coverage`` (share of dates whose actual fell inside P10-P90,
        0.8 for an honest band), ``below_band, above_band`` (counts), ``mape`` (mean absolute
        % error of the P50), ``median_abs_pct_error``, ``bias`` (mean % error: above 0 the
        P50 ran high) and ``sentence``.

    Examples
    --------
    >>> import pandas as pd
    >>> bt = pd.DataFrame({"inside_band": [True, True, False, True], "position":
    ...     ["inside", "inside", "above", "inside"], "pct_error": [0.1, -0.1, -0.3, 0.05]})
    >>> s = backtest_summary(bt)
    >>> float(s["band_coverage"].iloc[0]), round(float(s["mape"].iloc[0]), 4)
    (0.75, 0.1375)
    """
    n = len(backtest)
    pct = backtest["pct_error"].astype(float)
    cover = float(backtest["inside_band"].mean()) if n else np.nan
    below = int((backtest["position"] == "below").sum())
    above = int((backtest["position"] == "above").sum())
    mape = float(pct.abs().mean())
    bias = float(pct.mean())
    lean = "high" if bias > 0 else "low"
    sentence = (
        f"At {n} past dates the actual bookings fell inside the P10-P90 band {cover:.0%} of "
        f"the time (an honest band: about 80 %; {below} below, {above} above); the P50 was "
        f"off by {pct.abs().median():.0%} in the median and ran {abs(bias):.0%} {lean} on average."
    )
    return pd.DataFrame(
        {
            "dates": [n],
            "band_coverage": [cover],
            "below_band": [below],
            "above_band": [above],
            "mape": [mape],
            "median_abs_pct_error": [float(pct.abs().median())],
            "bias": [bias],
            "sentence": [sentence],
        }
    )
