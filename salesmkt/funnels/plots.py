"""Charts of funnels: event funnels (the funnel, its breakdown, time to convert, trends) and the
lifecycle funnel of CRM leads (stage bars, conversion by segment, time in stage)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from salesmkt._base.style import (
    BAD,
    CHANNEL_COLORS,
    INK,
    MUTED,
    PAPER,
    PRIMARY,
    SUBTLE,
    annotated_heatmap,
    category_colors,
    column_label,
    finish,
    get_ax,
    light,
    percent_axis,
    thousands_axis,
)

__all__ = [
    "plot_funnel",
    "plot_funnel_breakdown",
    "plot_time_to_convert",
    "plot_funnel_trends",
    "plot_lifecycle_funnel",
    "plot_lifecycle_breakdown",
    "plot_time_in_stage",
]


def _pct(x: float) -> str:
    return f"{x:.1%}" if 0 < x < 0.01 else f"{x:.0%}"


def _group_col(table: pd.DataFrame) -> str | None:
    first = table.columns[0]
    return None if first == "step" else first


def _colors(values) -> list[str]:
    return category_colors(values, fixed=CHANNEL_COLORS)


def _caption(ax: Axes, table: pd.DataFrame) -> None:
    text = table.attrs.get("semantics")
    if text:
        ax.text(0, 1.0, text, transform=ax.transAxes, fontsize=8, color=SUBTLE, va="bottom")


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
        color=PAPER,
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
                        color=BAD)  # fmt: skip
    ax.set_xticks(
        x, [f"{s}. {name}" for s, name in zip(data["step"], data["step_name"], strict=True)]
    )
    ax.set_ylim(0, top * 1.25)
    thousands_axis(ax.yaxis)
    if data["in_window"].sum():
        ax.legend(
            handles=[
                Patch(color=PRIMARY, label="reached the step"),
                Patch(facecolor=PAPER, edgecolor=MUTED, hatch="///", label="may still reach it"),
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
        ax.bar(left, ttc["persons"], width=width, align="edge", color=PRIMARY, edgecolor=PAPER)
        median = None
    else:
        unit, name = _unit(ttc["duration"])
        values = (ttc["duration"] / unit).to_numpy(dtype=float)
        if len(values):
            ax.hist(values, bins=bins, color=PRIMARY, edgecolor=PAPER)
        median = float(np.median(values)) if len(values) else None
    if median is not None:
        ax.axvline(median, color=INK, lw=1.5, ls="--")
        ax.text(median, 1.0, f" median {median:.1f} {name}", color=INK, fontsize=9,
                transform=ax.get_xaxis_transform(), va="top")  # fmt: skip
    if not len(ttc):
        ax.text(0.5, 0.5, "Nobody converted", ha="center", va="center", transform=ax.transAxes,
                color=SUBTLE)  # fmt: skip
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
        steps[["step", "step_name"]].itertuples(index=False),
        category_colors(steps["step"]),
        strict=True,
    ):
        g = later[later["step"] == step].sort_values("period")
        done = ~g["period"].isin(open_periods)
        ax.plot(g["period"], g["conversion_from_first"], color=color, lw=1, ls=":")
        ax.plot(g.loc[done, "period"], g.loc[done, "conversion_from_first"], "o-", color=color,
                lw=2, label=f"{step}. {name}")  # fmt: skip
        ax.plot(g.loc[~done, "period"], g.loc[~done, "conversion_from_first"], "o",
                mfc=PAPER, color=color)  # fmt: skip
    percent_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False, title="reached step", title_fontsize=8)
    unit = trends.attrs.get("freq", "period")
    if open_periods:
        ax.text(1.0, 1.0, "hollow: entrants may still convert", transform=ax.transAxes,
                fontsize=8, color=SUBTLE, ha="right", va="bottom")  # fmt: skip
    finish(ax, None, xlabel=f"entry {unit}", ylabel="conversion from step 1")
    ax.set_title(f"Funnel conversion by entry {unit}", loc="left", fontsize=12,
                 fontweight="bold", pad=16)  # fmt: skip
    return ax


def _keys(funnel: pd.DataFrame) -> list[str]:
    """The breakdown columns of a lifecycle funnel: those before ``stage`` (its documented
    layout is ``[cohort], [by...], stage, step, ...``)."""
    return list(funnel.columns[: funnel.columns.get_loc("stage")])


def plot_lifecycle_funnel(funnel: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of leads reaching each stage, with conversion and drop-off labels.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`salesmkt.lifecycle_funnel` without ``by`` or ``cohort`` (one group).

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_lifecycle_funnel(salesmkt.lifecycle_funnel(salesmkt.load_sample().leads))
    >>> len(ax.patches)  # a bar per stage and its drop-off
    10
    """
    keys = [k for k in _keys(funnel) if funnel[k].nunique() > 1]
    if keys:
        raise ValueError(
            f"plot_lifecycle_funnel draws one funnel; this table is broken down by {keys}. "
            "Use plot_lifecycle_breakdown, or compute the funnel without by/cohort."
        )
    f = funnel.sort_values("step")
    ax = get_ax(ax, (8, 0.6 * len(f) + 1.2))
    y = np.arange(len(f))[::-1]
    top = max(float(f["entered"].max()), 1.0)
    ax.barh(y, f["entered"], color=PRIMARY, height=0.65)
    ax.barh(y, f["dropped"], left=f["entered"], color=MUTED, alpha=0.35, height=0.65)
    for yi, (_, r) in zip(y, f.iterrows(), strict=True):
        text = f"{int(r['entered']):,}"
        if r["step"] > 1 and pd.notna(r["conversion_from_previous"]):
            text += f"  ({r['conversion_from_previous']:.0%} of previous"
            text += f", {int(r['dropped']):,} dropped)" if r["dropped"] > 0 else ")"
        ax.text(
            r["entered"] + r["dropped"] + top * 0.01,
            yi,
            text,
            va="center",
            ha="left",
            fontsize=9,
            color=INK,
        )
    ax.set_yticks(y, f["stage"])
    ax.set_xlim(0, top * 1.55)
    excluded = int(f["n_excluded"].iloc[0]) if len(f) else 0
    note = f"{excluded} leads with stages out of order left out" if excluded else ""
    return finish(ax, "Lifecycle funnel: leads reaching each stage", xlabel=note)


def plot_lifecycle_breakdown(
    funnel: pd.DataFrame,
    *,
    by: str | None = None,
    top: int = 10,
    order: str = "size",
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of stage-to-stage conversion per segment (rows) and stage (columns).

    With ``order="size"`` segments are sorted by leads entering the funnel and the ``top``
    largest are shown; with ``order="name"`` they are sorted by value and the last ``top`` are
    shown (for ``by="cohort"``: the most recent cohorts). Row labels carry the number of
    leads, so small segments are read with care.

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.lifecycle_funnel(salesmkt.load_sample().leads, by="channel")
    >>> ax = plot_lifecycle_breakdown(f)
    >>> ax.get_title(loc="left")
    'Stage conversion by channel'
    """
    keys = _keys(funnel)
    by = by or (keys[0] if keys else None)
    if by is None or by not in funnel.columns:
        raise ValueError("plot_lifecycle_breakdown needs a funnel computed with by=<column>")
    size = funnel[funnel["step"] == 1].groupby(by)["entered"].sum()
    if order == "size":
        size = size.sort_values(ascending=False, kind="stable").head(top)
    elif order == "name":
        size = size.sort_index().tail(top)
    else:
        raise ValueError(f"order must be 'size' or 'name', got {order!r}")
    f = funnel[(funnel["step"] > 1) & funnel[by].isin(size.index)]
    wide = f.pivot_table(
        index=by, columns="step", values="conversion_from_previous", aggfunc="first"
    ).reindex(size.index)
    names = f.drop_duplicates("step").set_index("step")["stage"]
    prev = funnel.drop_duplicates("step").set_index("step")["stage"]
    names_ = [f"{s:%Y-%m}" if isinstance(s, pd.Timestamp) else str(s) for s in size.index]
    wide = wide.set_axis([f"{prev[s - 1]} → {names[s]}" for s in wide.columns], axis=1)
    wide = wide.set_axis([f"{s} ({int(n):,})" for s, n in zip(names_, size, strict=True)])
    ax = get_ax(ax, (9, 0.45 * len(wide) + 1.6))
    return annotated_heatmap(
        wide,
        fmt=".0%",
        vmin=0,
        vmax=1,
        xlabel="from stage → to stage (share of leads moving on)",
        ylabel=f"{column_label(by)} (leads)",
        title=f"Stage conversion by {by}",
        fontsize=9,
        ax=ax,
    )


def plot_time_in_stage(durations: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Box plot of days spent in each stage by leads that advanced (outliers hidden).

    Parameters
    ----------
    durations : DataFrame
        Output of :func:`salesmkt.stage_durations`.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_time_in_stage(salesmkt.stage_durations(salesmkt.load_sample().leads))
    >>> ax.get_xlabel()
    'days in stage before moving on (box: middle half, line: median)'
    """
    adv = durations[durations["status"] == "advanced"]
    order = list(dict.fromkeys(durations["stage"]))
    data = [adv.loc[adv["stage"] == s, "days"].to_numpy() for s in order]
    ax = get_ax(ax, (8, 0.6 * len(order) + 1.2))
    ax.boxplot(
        data,
        orientation="horizontal",
        showfliers=False,
        tick_labels=order,
        widths=0.5,
        medianprops={"color": INK, "lw": 2},
        patch_artist=True,
        boxprops={"facecolor": light(PRIMARY), "edgecolor": PRIMARY},
        whiskerprops={"color": PRIMARY},
        capprops={"color": PRIMARY},
    )
    ax.invert_yaxis()
    for i, d in enumerate(data, start=1):
        if len(d):
            ax.text(np.median(d), i - 0.33, f"{np.median(d):.1f} d", ha="center", fontsize=8,
                    color=INK)  # fmt: skip
    return finish(
        ax,
        "Time in stage",
        xlabel="days in stage before moving on (box: middle half, line: median)",
    )
