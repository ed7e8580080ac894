"""Charts for event funnels: the funnel, its breakdown, time to convert and trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from salesmkt.plotting._style import (
    CHANNEL_COLORS,
    MUTED,
    PRIMARY,
    finish,
    get_ax,
    percent_axis,
    thousands_axis,
)

__all__ = ["plot_funnel", "plot_funnel_breakdown", "plot_time_to_convert", "plot_funnel_trends"]

_PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#d69e2e", "#319795", "#e53e3e"]


def _pct(x: float) -> str:
    return f"{x:.1%}" if 0 < x < 0.01 else f"{x:.0%}"


def _group_col(table: pd.DataFrame) -> str | None:
    first = table.columns[0]
    return None if first == "step" else first


def _colors(values) -> list[str]:
    out, i = [], 0
    for v in values:
        if v in CHANNEL_COLORS:
            out.append(CHANNEL_COLORS[v])
        else:
            out.append(_PALETTE[i % len(_PALETTE)])
            i += 1
    return out


def _caption(ax: Axes, table: pd.DataFrame) -> None:
    text = table.attrs.get("semantics")
    if text:
        ax.text(0, 1.0, text, transform=ax.transAxes, fontsize=8, color="#4a5568", va="bottom")


def plot_funnel(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bars of persons per step, labelled with conversion, with the drop-off between steps.

    Persons who stopped before a step but may still reach it (``in_window``) are drawn as a
    light hatched cap on that step's bar. A table with a breakdown is summed over its groups
    (each person is in one group); draw the groups with :func:`plot_funnel_breakdown`.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.funnel`.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> t = salesmkt.funnel(ev, ["visit_pricing", "start_trial", "activate"], window="30D")
    >>> ax = plot_funnel(t)
    >>> len(ax.patches) >= 3
    True
    """
    data = table.groupby(["step", "step_name"], as_index=False, sort=True)[
        ["persons", "in_window"]
    ].sum()
    n = len(data)
    ax = get_ax(ax, (max(6.0, 1.8 * n + 1), 4.5))
    x = np.arange(n)
    persons = data["persons"].to_numpy(dtype=float)
    first = persons[0] if n and persons[0] else np.nan
    ax.bar(x, persons, color=PRIMARY, width=0.62, zorder=2)
    ax.bar(
        x,
        data["in_window"],
        bottom=persons,
        color="white",
        edgecolor=MUTED,
        hatch="///",
        width=0.62,
        zorder=2,
    )
    top = float(np.nanmax(persons + data["in_window"].to_numpy())) if n else 1.0
    top = top or 1.0
    for i, p in enumerate(persons):
        share = p / first if first == first else np.nan
        label = f"{p:,.0f}" + ("" if np.isnan(share) else f"\n{_pct(share)} of step 1")
        ax.text(i, p + data["in_window"].iloc[i] + 0.02 * top, label, ha="center", va="bottom",
                fontsize=9)  # fmt: skip
        if i:
            prev = persons[i - 1]
            lost = prev - p
            rate = lost / prev if prev else np.nan
            text = f"-{lost:,.0f}" + ("" if np.isnan(rate) else f"\n({_pct(rate)} drop)")
            ax.annotate(text, xy=(i - 0.5, 0.55 * top), ha="center", va="center", fontsize=8,
                        color="#c53030")  # fmt: skip
    ax.set_xticks(
        x, [f"{s}. {name}" for s, name in zip(data["step"], data["step_name"], strict=True)]
    )
    ax.set_ylim(0, top * 1.25)
    thousands_axis(ax.yaxis)
    if data["in_window"].sum():
        ax.legend(
            handles=[
                Patch(color=PRIMARY, label="reached the step"),
                Patch(facecolor="white", edgecolor=MUTED, hatch="///", label="may still reach it"),
            ],
            loc="upper right",
            fontsize=8,
            frameon=False,
        )
    _caption(ax, table)
    finish(ax, None, ylabel="persons")
    ax.set_title("Funnel: persons reaching each step", loc="left", fontsize=12,
                 fontweight="bold", pad=16)  # fmt: skip
    return ax


def plot_funnel_breakdown(table: pd.DataFrame, *, top: int = 8, ax: Axes | None = None) -> Axes:
    """Conversion from step 1 at every step, one line per breakdown value.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.funnel` with ``by=``.
    top : int
        Show the groups with the most persons at step 1 (the rest are left out of the chart).

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events.assign(half=lambda d: d["ts"].dt.month <= 6)
    >>> t = salesmkt.funnel(ev, ["visit_pricing", "start_trial"], window="30D", by="half")
    >>> len(plot_funnel_breakdown(t).get_lines())
    2
    """
    group = _group_col(table)
    if group is None:
        raise ValueError("plot_funnel_breakdown needs a funnel table computed with by=...")
    sizes = table[table["step"] == 1].set_index(group)["persons"].sort_values(ascending=False)
    keep = sizes.index[:top]
    ax = get_ax(ax, (8, 4.5))
    names = table.drop_duplicates("step").sort_values("step")
    for value, color in zip(keep, _colors(keep), strict=True):
        g = table[table[group] == value].sort_values("step")
        ax.plot(g["step"], g["conversion_from_first"], marker="o", color=color, lw=2,
                label=f"{value} (n={sizes[value]:,})")  # fmt: skip
    ax.set_xticks(
        names["step"], [f"{s}. {n}" for s, n in zip(names["step"], names["step_name"], strict=True)]
    )
    percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, frameon=False, title=group, title_fontsize=8, loc="upper right")
    hidden = len(sizes) - len(keep)
    title = f"Conversion from step 1 by {group}"
    if hidden:
        title += f" (top {len(keep)} of {len(sizes)})"
    _caption(ax, table)
    finish(ax, None, ylabel="share of step-1 persons")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold", pad=16)
    return ax


def _unit(td: pd.Series) -> tuple[pd.Timedelta, str]:
    med = td.median() if len(td) else pd.Timedelta(0)
    if pd.notna(med) and med < pd.Timedelta(days=2):
        return pd.Timedelta(hours=1), "hours"
    return pd.Timedelta(days=1), "days"


def plot_time_to_convert(ttc: pd.DataFrame, *, bins: int = 20, ax: Axes | None = None) -> Axes:
    """Histogram of the time persons took between two funnel steps, with the median marked.

    Parameters
    ----------
    ttc : DataFrame
        Output of :func:`salesmkt.time_to_convert`, per person or binned (``bins=``).
    bins : int
        Number of bars when ``ttc`` is per person.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> ttc = salesmkt.time_to_convert(ev, ["visit_pricing", "start_trial"], window="30D")
    >>> plot_time_to_convert(ttc).get_xlabel()
    'hours from visit_pricing to start_trial'
    """
    ax = get_ax(ax, (8, 4))
    frm, to = ttc.attrs.get("from_name", "from step"), ttc.attrs.get("to_name", "to step")
    if "bin_start" in ttc.columns:
        unit, name = _unit(ttc["bin_end"])
        left = ttc["bin_start"] / unit
        width = (ttc["bin_end"] - ttc["bin_start"]) / unit
        ax.bar(left, ttc["persons"], width=width, align="edge", color=PRIMARY, edgecolor="white")
        median = None
    else:
        unit, name = _unit(ttc["duration"])
        values = (ttc["duration"] / unit).to_numpy(dtype=float)
        if len(values):
            ax.hist(values, bins=bins, color=PRIMARY, edgecolor="white")
        median = float(np.median(values)) if len(values) else None
    if median is not None:
        ax.axvline(median, color="#c53030", lw=1.5, ls="--")
        ax.text(median, 1.0, f" median {median:.1f} {name}", color="#c53030", fontsize=9,
                transform=ax.get_xaxis_transform(), va="top")  # fmt: skip
    if not len(ttc):
        ax.text(0.5, 0.5, "Nobody converted", ha="center", va="center", transform=ax.transAxes)
    return finish(ax, f"Time to convert: {frm} to {to}", xlabel=f"{name} from {frm} to {to}",
                  ylabel="persons")  # fmt: skip


def plot_funnel_trends(trends: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Conversion from step 1 by entry period, one line per later step.

    Periods whose entrants may still convert (``in_window > 0``) are drawn with hollow markers
    and a dotted line: their rates will still rise.

    Parameters
    ----------
    trends : DataFrame
        Output of :func:`salesmkt.funnel_trends`.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> tr = salesmkt.funnel_trends(ev, ["visit_pricing", "start_trial"], window="30D", freq="M")
    >>> len(plot_funnel_trends(tr).get_lines()) >= 1
    True
    """
    ax = get_ax(ax, (9, 4.5))
    later = trends[trends["step"] > 1]
    steps = later.drop_duplicates("step").sort_values("step")
    open_periods = set(trends.loc[trends["in_window"] > 0, "period"])
    for (step, name), color in zip(
        steps[["step", "step_name"]].itertuples(index=False), _PALETTE, strict=False
    ):
        g = later[later["step"] == step].sort_values("period")
        done = ~g["period"].isin(open_periods)
        ax.plot(g["period"], g["conversion_from_first"], color=color, lw=1, ls=":")
        ax.plot(g.loc[done, "period"], g.loc[done, "conversion_from_first"], "o-", color=color,
                lw=2, label=f"{step}. {name}")  # fmt: skip
        ax.plot(g.loc[~done, "period"], g.loc[~done, "conversion_from_first"], "o",
                mfc="white", color=color)  # fmt: skip
    percent_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False, title="reached step", title_fontsize=8)
    unit = trends.attrs.get("freq", "period")
    if open_periods:
        ax.text(1.0, 1.0, "hollow: entrants may still convert", transform=ax.transAxes,
                fontsize=8, color="#4a5568", ha="right", va="bottom")  # fmt: skip
    finish(ax, None, xlabel=f"entry {unit}", ylabel="conversion from step 1")
    ax.set_title(f"Funnel conversion by entry {unit}", loc="left", fontsize=12,
                 fontweight="bold", pad=16)  # fmt: skip
    return ax
