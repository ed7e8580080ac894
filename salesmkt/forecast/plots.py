"""Forecast charts: the fan of cumulative bookings against target, the distribution of the
period's simulated bookings, the backtest at past dates and the time-to-close curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from salesmkt._base.style import (
    BAD,
    CATEGORICAL,
    DEFAULT_CURRENCY,
    GOOD,
    INK,
    MUTED,
    PRIMARY,
    SECONDARY,
    currency_axis,
    currency_symbol,
    finish,
    format_unit,
    get_ax,
    light,
    no_data,
    percent_axis,
)

__all__ = ["plot_backtest", "plot_forecast_distribution", "plot_forecast_fan", "plot_win_curve"]


def _money(value: float, currency: str) -> str:
    sym = currency_symbol(currency)
    v = abs(value)
    text = f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}k" if v >= 1e3 else f"{v:.0f}"
    return f"{'-' if value < 0 else ''}{sym}{text}"


def plot_forecast_fan(forecast, *, item: str = "total", ax: Axes | None = None) -> Axes:
    """Cumulative bookings to date and the P10-P90 / P25-P75 fan to the period end.

    Parameters
    ----------
    forecast : Forecast
        The result of :func:`salesmkt.revenue_forecast` (its ``path``: the total only).
    item : str
        Only ``"total"`` has a path.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15",
    ...                               n_simulations=1000)
    >>> ax = plot_forecast_fan(f)
    """
    ax = get_ax(ax)
    path = forecast.path
    if path is None or path.empty:
        return no_data(ax, "No forecast path (revenue_forecast(..., fan=False))")
    c = forecast.currency
    past = path[path["booked"].notna()]
    future = path[path["p50"].notna()]
    ax.plot(past["date"], past["booked"], color=INK, lw=2, label="booked so far")
    if len(future):
        ax.fill_between(
            future["date"],
            future["p10"],
            future["p90"],
            color=light(PRIMARY),
            lw=0,
            label="P10-P90",
        )
        ax.fill_between(
            future["date"],
            future["p25"],
            future["p75"],
            color=PRIMARY,
            alpha=0.35,
            lw=0,
            label="P25-P75",
        )
        ax.plot(future["date"], future["p50"], color=PRIMARY, lw=2, ls="--", label="P50")
    row = forecast.row(item)
    target = row["target"]
    if np.isfinite(target):
        ax.axhline(target, color=BAD, lw=1.5, ls=":", label=f"target {_money(target, c)}")
    ax.axvline(forecast.as_of, color=MUTED, lw=1)
    ax.text(forecast.as_of, ax.get_ylim()[1], " today", color=MUTED, va="top", fontsize=9)
    currency_axis(ax.yaxis, c)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    ax.tick_params(axis="x", labelrotation=30)
    title = f"{forecast.period}: P50 {_money(row['p50'], c)}"
    if np.isfinite(target):
        title += f", {row['p_reach_target']:.0%} chance of the target"
    return finish(ax, title, ylabel=f"Bookings, cumulative ({c})")


def plot_forecast_distribution(
    forecast, *, item: str = "total", bins: int = 50, ax: Axes | None = None
) -> Axes:
    """Histogram of the period's simulated bookings, the target marked, the chance stated.

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.revenue_forecast(salesmkt.load_sample(), as_of="2026-05-15",
    ...                               n_simulations=1000, fan=False)
    >>> ax = plot_forecast_distribution(f)
    """
    ax = get_ax(ax)
    c = forecast.currency
    row = forecast.row(item)
    sims = forecast.simulations(item)
    target = row["target"]
    _, edges, patches = ax.hist(sims, bins=bins, color=PRIMARY, edgecolor=PRIMARY)
    if np.isfinite(target):
        for patch, left in zip(patches, edges[:-1], strict=True):
            if left < target:
                patch.set_facecolor(light(PRIMARY))
                patch.set_hatch("//")
        ax.axvline(target, color=BAD, lw=2, ls=":", label=f"target {_money(target, c)}")
    for q, name in ((row["p10"], "P10"), (row["p50"], "P50"), (row["p90"], "P90")):
        ax.axvline(q, color=INK, lw=1, ls="--")
        ax.text(q, ax.get_ylim()[1], f" {name}", color=INK, va="top", fontsize=9)
    currency_axis(ax.xaxis, c)
    if np.isfinite(target):
        ax.legend(loc="upper right", frameon=False, fontsize=9)
        title = (
            f"{forecast.period}: {row['p_reach_target']:.0%} chance of reaching "
            f"{_money(target, c)} (hatched: short of it)"
        )
    else:
        title = f"{forecast.period}: simulated bookings (no target set)"
    return finish(ax, title, xlabel=f"Bookings in the period ({c})", ylabel="Simulations")


def plot_backtest(
    backtest: pd.DataFrame, *, currency: str | None = None, ax: Axes | None = None
) -> Axes:
    """Actual bookings against the P50 and its P10-P90 band at each past date.

    Actuals inside the band are drawn as filled circles, misses as crosses (shape, not only
    colour).

    Examples
    --------
    >>> import salesmkt
    >>> bt = salesmkt.forecast_backtest(salesmkt.load_sample(), dates=["2026-04-15",
    ...                                 "2026-05-15"], n_simulations=500)
    >>> ax = plot_backtest(bt)
    """
    ax = get_ax(ax)
    if backtest.empty:
        return no_data(ax, "No backtest dates")
    x = pd.to_datetime(backtest["as_of"])
    low = backtest["p50"] - backtest["p10"]
    high = backtest["p90"] - backtest["p50"]
    ax.errorbar(
        x,
        backtest["p50"],
        yerr=[low, high],
        fmt="_",
        color=PRIMARY,
        ecolor=light(PRIMARY),
        elinewidth=6,
        markersize=12,
        label="forecast P50 and P10-P90",
    )
    inside = backtest["inside_band"].to_numpy(dtype=bool)
    ax.scatter(
        x[inside],
        backtest["actual"][inside],
        marker="o",
        color=GOOD,
        zorder=3,
        label="actual, inside the band",
    )
    ax.scatter(
        x[~inside],
        backtest["actual"][~inside],
        marker="X",
        s=70,
        color=BAD,
        zorder=3,
        label="actual, outside the band",
    )
    currency_axis(ax.yaxis, currency)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    ax.tick_params(axis="x", labelrotation=30)
    title = f"Backtest: the actual fell inside the P10-P90 band at {inside.mean():.0%} of dates"
    return finish(
        ax,
        title,
        xlabel="Forecast date",
        ylabel=f"Bookings in the period ({currency or DEFAULT_CURRENCY})",
    )


def plot_win_curve(curve: pd.DataFrame, *, by: str | None = None, ax: Axes | None = None) -> Axes:
    """Time to close: the share of deals won (and lost) within each number of days.

    Takes :func:`salesmkt.time_to_close`; with ``by``, one pair of curves per group (won:
    solid, lost: dashed).

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_win_curve(salesmkt.time_to_close(salesmkt.load_sample(), by="customer_type"),
    ...                     by="customer_type")
    """
    ax = get_ax(ax)
    if curve.empty:
        return no_data(ax, "No closed deals")
    groups = curve.groupby(by, sort=True) if by else [("all deals", curve)]
    for i, (name, g) in enumerate(groups):
        color = CATEGORICAL[i % len(CATEGORICAL)] if by else PRIMARY
        ax.step(g["days"], g["cum_won"], where="post", color=color, lw=2, label=f"{name}: won")
        lost_color = color if by else SECONDARY
        ax.step(
            g["days"],
            g["cum_lost"],
            where="post",
            color=lost_color,
            lw=1.5,
            ls="--",
            label=f"{name}: lost",
        )
        final = float(g["cum_won"].iloc[-1])
        ax.text(
            g["days"].iloc[-1],
            final,
            f" {format_unit(final, 'share')} won",
            color=color,
            va="center",
            fontsize=9,
        )
    percent_axis(ax.yaxis)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return finish(
        ax,
        "Deals won or lost within t days (open deals censored)",
        xlabel="Days since the deal was created",
        ylabel="Share of deals",
    )
