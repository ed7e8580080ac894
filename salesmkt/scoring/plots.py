"""Lead score charts: the reliability curve, cumulative gain and lift, the score by persona or
channel, and the MQL threshold trade-off against sales' capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from salesmkt._base.style import (
    GOOD,
    INK,
    LIGHT,
    MUTED,
    PRIMARY,
    SECONDARY,
    SUBTLE,
    finish,
    get_ax,
    light,
    no_data,
    percent_axis,
)

__all__ = [
    "plot_calibration",
    "plot_gain_lift",
    "plot_score_distribution",
    "plot_threshold_tradeoff",
]


def _pct(x: float) -> str:
    """A share as readable percent: 18 %, 2.5 %."""
    v = 100 * x
    return f"{v:.0f} %" if abs(v - round(v)) < 1e-9 or v >= 10 else f"{v:.1f} %"


def _share_axis(axis, top: float) -> None:
    """A 0-1 axis as percentages; one decimal when it ends below 20 %, so ticks stay distinct."""
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0 if top > 0.2 else 1))


#: Height of the score histogram under the reliability curve, as a share of the 0-1 axis.
_HIST_HEIGHT = 0.15


def plot_calibration(
    table: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None
) -> Axes:
    """Reliability curve: the observed conversion rate of each score bin against its mean score.

    A calibrated score follows the diagonal. Each point carries the 95 % interval of its
    observed rate; the grey bars at the bottom show how many leads each bin holds (the
    histogram of scores, scaled to the lowest 15 % of the chart).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.calibration_table`.
    title : str, optional
        Default: "Predicted against observed conversion".

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.calibration_table([0, 0, 1, 0, 1, 1], [.1, .2, .3, .6, .7, .8], bins=2)
    >>> len(plot_calibration(t).lines) >= 2
    True
    """
    ax = get_ax(ax, (6, 5))
    if table.empty:
        return no_data(ax, "No scored leads to draw")
    top = float(max(table["p_high"].max(), table["ci_high"].max(), table["mean_predicted"].max()))
    top = min(1.0, max(0.05, top * 1.1))
    n = table["n"].to_numpy(float)
    width = (table["p_high"] - table["p_low"]).to_numpy(float)
    ax.bar(
        table["p_low"].to_numpy(float),
        n / n.max() * _HIST_HEIGHT * top,
        width=np.maximum(width, top / 200),
        align="edge",
        color=LIGHT,
        edgecolor=MUTED,
        linewidth=0.5,
        label="leads per bin (scaled)",
    )
    ax.plot([0, top], [0, top], color=SUBTLE, ls="--", lw=1, label="perfectly calibrated")
    x, y = table["mean_predicted"].to_numpy(float), table["observed_rate"].to_numpy(float)
    err = np.vstack([y - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - y])
    ax.errorbar(x, y, yerr=err, fmt="none", ecolor=light(PRIMARY), capsize=3, lw=1.2)
    ax.plot(x, y, color=PRIMARY, marker="o", lw=1.5, label="observed rate (95 % interval)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    _share_axis(ax.xaxis, top)
    _share_axis(ax.yaxis, top)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return finish(
        ax,
        title or "Predicted against observed conversion",
        xlabel="mean predicted probability of the bin",
        ylabel="share of the bin's leads that converted",
    )


def plot_gain_lift(
    table: pd.DataFrame,
    *,
    kind: str = "gain",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative gain (with the random and perfect lines) or lift by group of the score.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.gain_lift`.
    kind : {"gain", "lift"}
        ``gain``: share of all conversions among the best-scored share of leads; ``lift``: each
        group's conversion rate as a multiple of the base rate (bars, the base rate at 1).
    title : str, optional

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.gain_lift([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2,
    ...                        .1, .05], groups=5)
    >>> ax = plot_gain_lift(t)
    >>> [line.get_label() for line in ax.lines]
    ['random order', 'perfect score', 'the score']
    """
    if kind not in ("gain", "lift"):
        raise ValueError(f"plot_gain_lift: kind must be 'gain' or 'lift', got {kind!r}")
    ax = get_ax(ax, (7, 4.5))
    if table.empty:
        return no_data(ax, "No scored leads to draw")
    if kind == "lift":
        groups = table["group"].astype(int).to_numpy()
        lift = table["lift"].to_numpy(float)
        bars = ax.bar(groups, lift, color=light(PRIMARY), edgecolor=PRIMARY, linewidth=0.8)
        ax.axhline(1, color=INK, ls="--", lw=1, label="base rate (lift 1)")
        for bar, v in zip(bars, lift, strict=True):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.1f}x", ha="center",
                    va="bottom", fontsize=8, color=INK)  # fmt: skip
        ax.set_xticks(groups)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
        return finish(
            ax,
            title or "Lift by score group",
            xlabel="score group (1 = highest scores)",
            ylabel="conversion rate / base rate",
        )
    leads = int(table["leads"].sum())
    base = float(table["conversions"].sum()) / leads if leads else np.nan
    x = np.concatenate([[0.0], table["cum_leads_share"].to_numpy(float)])
    y = np.concatenate([[0.0], table["gain"].to_numpy(float)])
    ax.plot([0, 1], [0, 1], color=SUBTLE, ls="--", lw=1, label="random order")
    ax.plot([0, base, 1], [0, 1, 1], color=GOOD, ls=":", lw=1.5, label="perfect score")
    ax.plot(x, y, color=PRIMARY, marker="o", lw=2, label="the score")
    for xi, yi in zip(x[1:], y[1:], strict=True):
        if xi <= 0.31:  # the first groups, where the gain is read
            ax.annotate(f"{yi:.0%}".replace("%", " %"), (xi, yi), textcoords="offset points",
                        xytext=(4, -12), fontsize=8, color=INK)  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return finish(
        ax,
        title or "Conversions held by the best-scored leads",
        xlabel="share of leads, highest scores first",
        ylabel="share of all conversions (gain)",
    )


def plot_score_distribution(
    scores: pd.DataFrame,
    *,
    by: str = "persona",
    p: str = "probability",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The score's distribution per persona (or channel, or any column): one box per group.

    Boxes span the middle half of the scores, the line inside is the median, whiskers reach
    1.5 box lengths; groups are ordered by median score, highest on top, with their counts.

    Parameters
    ----------
    scores : DataFrame
        One row per lead: the ``by`` column and the probability ``p`` (e.g. the output of
        :func:`salesmkt.score_leads` joined to the persona of each lead).
    by, p : str
        Column names.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"persona": ["a", "a", "b", "b"], "probability": [.1, .3, .6, .8]})
    >>> [t.get_text() for t in plot_score_distribution(s).get_yticklabels()]
    ['B  (n=2)', 'A  (n=2)']
    """
    for col in (by, p):
        if col not in scores.columns:
            raise ValueError(
                f"scores.{col}: plot_score_distribution needs this column, which is missing"
            )
    d = pd.DataFrame(
        {
            "group": scores[by].astype(object).where(scores[by].notna(), "(missing)").astype(str),
            "p": pd.to_numeric(scores[p], errors="coerce"),
        }
    ).dropna(subset=["p"])
    ax = get_ax(ax, (7.5, 0.45 * max(d["group"].nunique(), 2) + 1.6))
    if d.empty:
        return no_data(ax, "No scored leads to draw")
    order = d.groupby("group")["p"].median().sort_values(ascending=False).index.tolist()
    counts = d["group"].value_counts()
    positions = np.arange(len(order))[::-1]  # the highest median on top
    ax.boxplot(
        [d.loc[d["group"] == g, "p"].to_numpy(float) for g in order],
        positions=positions,
        orientation="horizontal",
        widths=0.6,
        patch_artist=True,
        boxprops={"facecolor": light(PRIMARY), "edgecolor": PRIMARY, "linewidth": 1},
        medianprops={"color": INK, "linewidth": 1.5},
        whiskerprops={"color": PRIMARY, "linewidth": 1},
        capprops={"color": PRIMARY, "linewidth": 1},
        flierprops={
            "marker": ".",
            "markersize": 3,
            "markerfacecolor": MUTED,
            "markeredgecolor": MUTED,
        },  # fmt: skip
    )
    ax.set_yticks(positions, [f"{g}  (n={counts[g]:,})" for g in order], fontsize=8)
    _share_axis(ax.xaxis, float(d["p"].max()))
    return finish(
        ax,
        title or f"Lead score by {by.replace('_', ' ')}",
        xlabel="probability of becoming a customer",
        ylabel="",
    )


def plot_threshold_tradeoff(
    tradeoff: pd.DataFrame,
    *,
    threshold: float | pd.DataFrame | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """MQLs per period as the score threshold moves, against sales' capacity, with the share
    of expected conversions the MQLs hold (right axis) and the chosen threshold marked.

    Parameters
    ----------
    tradeoff : DataFrame
        Output of :func:`salesmkt.threshold_tradeoff` (with ``capacity`` for the capacity line).
    threshold : float or DataFrame, optional
        The chosen threshold, or the output of :func:`salesmkt.mql_threshold`.
    title : str, optional

    Examples
    --------
    >>> import pandas as pd
    >>> import salesmkt
    >>> s = pd.DataFrame({"created_at": pd.to_datetime(["2025-01-05"] * 4, utc=True),
    ...                   "probability": [0.9, 0.6, 0.3, 0.2]})
    >>> t = salesmkt.threshold_tradeoff(s, capacity=2)
    >>> ax = plot_threshold_tradeoff(t, threshold=salesmkt.mql_threshold(s, capacity=2))
    >>> "sales capacity: 2 a month" in [line.get_label() for line in ax.lines]
    True
    """
    ax = get_ax(ax, (8, 4.5))
    if tradeoff.empty:
        return no_data(ax, "No thresholds to draw")
    t = tradeoff.sort_values("threshold")
    per = {"M": "month", "W": "week", "Q": "quarter"}.get(
        str(t["period"].iloc[0]) if "period" in t else "", "period"
    )
    x = t["threshold"].to_numpy(float)
    ax.plot(x, t["mqls_per_period"].to_numpy(float), color=PRIMARY, lw=2,
            label=f"MQLs a {per}")  # fmt: skip
    capacity = t["capacity"].dropna()
    if len(capacity):
        cap = float(capacity.iloc[0])
        ax.axhline(cap, color=INK, ls="--", lw=1, label=f"sales capacity: {cap:,.0f} a {per}")
    share_ax = ax.twinx()
    share_ax.plot(x, t["expected_share_captured"].to_numpy(float), color=SECONDARY, lw=1.5,
                  ls="-.", label="share of expected customers among MQLs")  # fmt: skip
    share_ax.set_ylim(0, 1.02)
    percent_axis(share_ax.yaxis)
    share_ax.set_ylabel("share of expected customers", color=INK)
    share_ax.spines["top"].set_visible(False)
    if isinstance(threshold, pd.DataFrame):
        threshold = float(threshold["threshold"].iloc[0])
    if threshold is not None:
        ax.axvline(threshold, color=GOOD, lw=1.5, ls=":", label=f"threshold {_pct(threshold)}")
        ax.annotate(f"score ≥ {_pct(threshold)}", (threshold, 1),
                    xycoords=("data", "axes fraction"), xytext=(4, -12),
                    textcoords="offset points", fontsize=9, color=INK)  # fmt: skip
    ax.set_ylim(bottom=0)
    # show the thresholds where something happens: up to a little beyond the last with MQLs
    busy = x[t["mqls"].to_numpy() > 0]
    right = float(x.max()) if len(busy) == 0 else float(busy.max())
    right = min(float(x.max()), right + 0.1 * (right - float(x.min())) + 1e-9)
    if threshold is not None:
        right = max(right, min(float(x.max()), threshold * 1.5))
    ax.set_xlim(float(x.min()), right)
    _share_axis(ax.xaxis, right)
    lines = ax.get_legend_handles_labels()
    more = share_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8,
              frameon=False)  # fmt: skip
    ax.set_zorder(share_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    return finish(
        ax,
        title or "MQLs and customers as the score threshold moves",
        xlabel="score threshold (leads at or above it are MQLs)",
        ylabel=f"MQLs a {per}",
    )
