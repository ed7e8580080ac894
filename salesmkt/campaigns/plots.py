"""Charts for campaign evaluation: spend vs return, CAC and CPL, attribution, journeys, lift."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salesmkt._base.style import (
    BAD,
    CHANNEL_COLORS,
    DEFAULT_CURRENCY,
    DIVERGING_CMAP,
    GOOD,
    INK,
    MUTED,
    PAPER,
    PRIMARY,
    SECONDARY,
    SEQUENTIAL_CMAP,
    SUBTLE,
    annotated_heatmap,
    currency_axis,
    currency_symbol,
    finish,
    get_ax,
    label_points,
    light,
    no_data,
    percent_axis,
    text_color_on,
)

__all__ = [
    "plot_attribution",
    "plot_cac_cpl",
    "plot_lift",
    "plot_spend_vs_return",
    "plot_transitions",
]


def _money(x, currency: str | None = None) -> str:
    """A short amount for a chart: $12k, €1.2M, $45."""
    sign, prefix = ("-" if x < 0 else ""), currency_symbol(currency)
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{sign}{prefix}{abs(x) / div:.3g}{suffix}"
    return f"{sign}{prefix}{abs(x):.3g}"


def plot_spend_vs_return(
    metrics: pd.DataFrame,
    *,
    label: str = "name",
    currency: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Spend against sourced revenue per campaign, with the break-even line (ROAS = 1).

    Each point is labelled with its campaign; labels that would overlap are moved apart
    (stacked beside their points, with a leader line when set apart).

    Parameters
    ----------
    metrics : DataFrame
        Output of :func:`salesmkt.spend_metrics` with ``by="campaign_id"``. Rows without
        spend (cost unknown) are left out and counted in the caption.
    label : str
        Column naming the points.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``; default USD).

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_spend_vs_return(salesmkt.spend_metrics(salesmkt.load_sample()))
    >>> ax.get_title(loc="left")
    'Spend and the revenue it sourced'
    """
    ax = get_ax(ax, (9, 5.5))
    data = metrics[metrics["spend"].notna() & (metrics["spend"] > 0)]
    skipped = len(metrics) - len(data)
    if data.empty:
        no_data(ax, metrics.attrs.get("note", "No campaign has spend in the period."))
        return finish(ax, "Spend and the revenue it sourced")
    colors = [CHANNEL_COLORS.get(c, MUTED) for c in data.get("channel", ["other"] * len(data))]
    ax.scatter(data["spend"], data["revenue"], s=60, c=colors, zorder=3, edgecolor=PAPER)
    xmax = float(max(data["spend"].max(), 1.0)) * 1.2
    ymax = float(max(data["revenue"].max(), 1.0)) * 1.1
    edge = min(xmax, ymax)
    ax.plot([0, edge], [0, edge], color=BAD, lw=1, ls="--", zorder=1)
    ax.text(edge, edge, " break-even\n (ROAS 1)", color=BAD, ha="left", va="top", fontsize=8)
    names = data[label] if label in data.columns else data.iloc[:, 0]
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, ymax)
    currency_axis(ax.xaxis, currency)
    currency_axis(ax.yaxis, currency)
    if "channel" in data.columns:
        for ch in dict.fromkeys(data["channel"].astype(str)):
            ax.scatter([], [], color=CHANNEL_COLORS.get(ch, MUTED), label=ch)
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    zero = names[data["revenue"].to_numpy() <= 0].astype(str).tolist()
    notes = []
    if zero:
        notes.append("no sourced revenue: " + ", ".join(zero))
    if skipped:
        notes.append(f"{skipped} groups without spend rows not shown (cost unknown)")
    if notes:  # wrapped: one long line of names is wider than the figure (layout collapses)
        ax.text(
            1,
            -0.12,
            "\n".join(textwrap.fill(n, 120) for n in notes),
            va="top",
            transform=ax.transAxes,
            ha="right",
            fontsize=8,
            color=SUBTLE,
        )
    finish(
        ax,
        "Spend and the revenue it sourced",
        xlabel=f"spend ({currency or DEFAULT_CURRENCY})",
        ylabel=f"won revenue, lead source ({currency or DEFAULT_CURRENCY})",
    )
    # the labels last, measured in the finished chart; campaigns without sourced revenue are
    # listed in the caption instead of piling up at the origin. Largest revenue first: the
    # campaigns a reader looks for get the spots nearest their points.
    shown = data.assign(_name=names.astype(str).to_numpy())[data["revenue"] > 0]
    shown = shown.sort_values(["revenue", "spend"], ascending=False, kind="stable")
    label_points(
        ax,
        shown["spend"].astype(float).tolist(),
        shown["revenue"].astype(float).tolist(),
        [n if len(n) <= 30 else n[:29].rstrip() + "…" for n in shown["_name"]],
        marker_size=60,
        color=INK,
        leader_color=SUBTLE,
    )
    return ax


def plot_cac_cpl(
    metrics: pd.DataFrame, *, currency: str | None = None, ax: Axes | None = None
) -> Axes:
    """Cost per lead and customer acquisition cost per channel, side by side (log scale).

    Parameters
    ----------
    metrics : DataFrame
        Output of :func:`salesmkt.spend_metrics` with ``by="channel"``. Channels whose cost is
        unknown are listed with a note instead of a bar.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``; default USD).

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_cac_cpl(salesmkt.spend_metrics(salesmkt.load_sample(), by="channel"))
    >>> ax.get_title(loc="left")
    'Cost per lead and per new customer'
    """
    data = metrics[metrics["leads"] > 0].copy()
    data = data.sort_values(["cac", "cpl"], na_position="first")
    ax = get_ax(ax, (9, 0.45 * len(data) + 1.5))
    y = np.arange(len(data))
    ax.barh(y + 0.2, data["cpl"], height=0.4, color=PRIMARY, label="cost per lead (CPL)")
    ax.barh(
        y - 0.2,
        data["cac"],
        height=0.4,
        color=SECONDARY,
        label="cost per new customer (CAC)",
    )
    ax.set_yticks(y, data["channel"])
    finite = data[["cpl", "cac"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size:  # a log axis needs a positive value (no spend table: none)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _money(x, currency)))
        ax.set_xlim(finite.min() / 2, finite.max() * 4)
    else:
        ax.set_xticks([])
    for yi, (cpl, cac) in enumerate(zip(data["cpl"], data["cac"], strict=True)):
        if np.isnan(cpl):
            ax.text(
                1.0,
                yi,
                " cost unknown (no spend rows)",
                va="center",
                fontsize=8,
                color=SUBTLE,
                transform=ax.get_yaxis_transform(),
            )
            continue
        ax.text(cpl, yi + 0.2, f" {_money(cpl, currency)}", va="center", fontsize=8)
        if np.isfinite(cac):
            ax.text(cac, yi - 0.2, f" {_money(cac, currency)}", va="center", fontsize=8)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return finish(
        ax,
        "Cost per lead and per new customer",
        xlabel=f"cost ({currency or DEFAULT_CURRENCY}, log scale)",
    )


def plot_attribution(
    table: pd.DataFrame, *, models: list[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Heatmap of each channel's share of conversions under each attribution model.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.attribute`.
    models : list of str, optional
        Models to show, in this order (default: all in the table).

    Examples
    --------
    >>> import pandas as pd
    >>> import salesmkt
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [2, 1],
    ...                       "total_null": [1, 1]})
    >>> ax = plot_attribution(salesmkt.attribute(paths, models=["first_touch", "markov"]))
    >>> ax.get_title(loc="left")
    'Share of conversions credited, by model'
    """
    by = table.columns[0]
    wide = table.pivot_table(index=by, columns="model", values="share", sort=False)
    if models is not None:
        wide = wide[models]
    wide = wide.loc[wide.mean(axis=1).sort_values(ascending=False).index]
    wide = wide.set_axis([m.replace("_", " ") for m in wide.columns], axis=1)
    ax = get_ax(ax, (1.1 * wide.shape[1] + 3, 0.42 * wide.shape[0] + 1.5))
    values = wide.to_numpy(dtype=float)
    negative = bool(values.size and np.nanmin(values) < 0)  # e.g. Shapley credits
    annotated_heatmap(
        wide,
        fmt=".0%",
        cmap=DIVERGING_CMAP if negative else SEQUENTIAL_CMAP,
        vmin=None if negative else 0.0,
        center=0.0 if negative else None,
        xlabel="attribution model",
        ylabel=str(by).replace("_", " "),
        title="Share of conversions credited, by model",
        ax=ax,
    )
    ax.tick_params(axis="x", labelrotation=35)
    return ax


def plot_transitions(
    transitions: pd.DataFrame, *, min_probability: float = 0.0, ax: Axes | None = None
) -> Axes:
    """Heatmap of the Markov chain: where journeys go next from each state.

    Parameters
    ----------
    transitions : DataFrame
        Output of :func:`salesmkt.markov_transition_matrix`.
    min_probability : float
        Hide numbers below this probability (the colour still shows).

    Examples
    --------
    >>> import pandas as pd
    >>> import salesmkt
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [2, 1],
    ...                       "total_null": [1, 1]})
    >>> ax = plot_transitions(salesmkt.markov_transition_matrix(paths))
    >>> ax.get_title(loc="left")
    'Where journeys go next'
    """
    wide = transitions.pivot_table(
        index="from_state",
        columns="to_state",
        values="probability",
        fill_value=0.0,
        sort=False,
    )
    rows = [s for s in wide.index if s != "(start)"]
    rows = ["(start)", *sorted(rows)] if "(start)" in wide.index else sorted(rows)
    cols = sorted(c for c in wide.columns if not c.startswith("("))
    cols += [c for c in ("(conversion)", "(null)") if c in wide.columns]
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0)
    ax = get_ax(ax, (0.6 * len(cols) + 3, 0.45 * len(rows) + 1.5))
    shown = (wide > 0) & (wide >= min_probability)
    labels = wide.map(lambda v: f"{v:.0%}").where(shown, "")
    annotated_heatmap(
        wide,
        labels=labels,
        vmin=0.0,
        vmax=max(float(wide.to_numpy().max()) if wide.size else 0.0, 1e-9),
        xlabel="next state",
        ylabel="from",
        title="Where journeys go next",
        fontsize=7,
        ax=ax,
    )
    ax.tick_params(axis="x", labelrotation=40)
    return ax


def plot_lift(result: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Conversion rate of control and treatment with their intervals, and the lift.

    Parameters
    ----------
    result : DataFrame
        One row from :func:`salesmkt.conversion_lift` or :func:`salesmkt.holdout_test`.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_lift(salesmkt.conversion_lift(50, 1000, 90, 1000))
    >>> ax.get_title(loc="left")
    'Conversion with and without the campaign'
    """
    row = result.iloc[0]
    ax = get_ax(ax, (7, 4))
    if row["n_control"] + row["n_treatment"] == 0:  # e.g. no assignments table
        no_data(ax, str(row["verdict"]))
        return finish(ax, "Conversion with and without the campaign")
    labels = ["control (held out)", "treatment (received it)"]
    rates = np.array([row["rate_control"], row["rate_treatment"]], dtype=float)
    low = np.array([row["rate_control_low"], row["rate_treatment_low"]], dtype=float)
    high = np.array([row["rate_control_high"], row["rate_treatment_high"]], dtype=float)
    significant = row["p_value"] < 0.05 if np.isfinite(row["p_value"]) else False
    colors = [MUTED, GOOD if significant and row["absolute_lift"] > 0 else PRIMARY]
    ax.bar(labels, rates, color=colors, width=0.55)
    ax.errorbar(
        labels,
        rates,
        yerr=[rates - low, high - rates],
        fmt="none",
        ecolor=INK,
        capsize=6,
        lw=1,
    )
    counts = [row["n_control"], row["n_treatment"]]
    for x, (r, n, c) in enumerate(zip(rates, counts, colors, strict=True)):
        ax.text(
            x,
            r / 2,
            f"{r:.1%}\nof {int(n):,}",
            ha="center",
            va="center",
            color=text_color_on(c),
            fontsize=9,
            fontweight="bold",
        )
    ax.text(
        0.5,
        0.97,
        f"lift {row['absolute_lift'] * 100:+.1f} points "
        f"(95% interval {row['lift_low'] * 100:+.1f} to {row['lift_high'] * 100:+.1f}; "
        + ("significant at 5 %)" if significant else "not significant)"),
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=9,
    )
    percent_axis(ax.yaxis)
    ax.set_ylim(0, max(np.nanmax(high) * 1.25, 0.01))
    return finish(ax, "Conversion with and without the campaign", ylabel="conversion rate")


def plot_conversion_rates(
    rates: pd.DataFrame,
    *,
    breakdown: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Conversion rate of each group with its interval, against the rate of all leads.

    Parameters
    ----------
    rates : DataFrame
        Output of :func:`salesmkt.conversion_rates`.
    breakdown : str, optional
        Which of its breakdowns to draw; default the first.
    title : str, optional
        Default: conversion by the breakdown column.

    Examples
    --------
    >>> import salesmkt
    >>> rates = salesmkt.conversion_rates(salesmkt.load_sample().leads, "channel")
    >>> len(plot_conversion_rates(rates).get_yticklabels()) > 3
    True
    """
    breakdown = breakdown or rates["breakdown"].iloc[0]
    t = rates[rates["breakdown"] == breakdown]
    ax = get_ax(ax, (7.5, 0.42 * len(t) + 1.6))
    y = np.arange(len(t))[::-1]
    rate = t["rate"].to_numpy(float)
    err = np.vstack([rate - t["rate_low"].to_numpy(float), t["rate_high"].to_numpy(float) - rate])
    ax.barh(y, rate, color=light(PRIMARY), height=0.6)
    ax.errorbar(rate, y, xerr=err, fmt="none", ecolor=PRIMARY, capsize=3, lw=1)
    overall = t["converted"].sum() / t["leads"].sum() if len(t) else np.nan
    ax.axvline(overall, color=INK, ls="--", lw=1, label=f"all leads: {overall:.1%}")
    labels = [f"{g}  (n={n:,})" for g, n in zip(t["group"], t["leads"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share converted, with its 95 % interval")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title(title or f"Conversion by {str(breakdown).replace('_', ' ')}", loc="left",
                 fontsize=12, fontweight="bold")  # fmt: skip
    return ax
