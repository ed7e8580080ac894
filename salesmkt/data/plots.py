"""Charts for the data check: missing values, channel mix, monthly volume."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from salesmkt._base.style import (
    CHANNEL_COLORS,
    LIGHT,
    MUTED,
    PRIMARY,
    SUBTLE,
    category_colors,
    finish,
    get_ax,
    no_data,
    percent_axis,
    thousands_axis,
)

__all__ = ["plot_missing_values", "plot_channel_mix", "plot_monthly_volume"]


def plot_missing_values(missing: pd.DataFrame, *, top: int = 15, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the columns with the largest share of missing values.

    Parameters
    ----------
    missing : DataFrame
        Output of :func:`salesmkt.missing_values`.
    top : int
        How many columns to show.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_missing_values(salesmkt.missing_values(salesmkt.load_sample()))
    >>> ax.get_title(loc="left")
    'Columns with the most missing values'
    """
    ax = get_ax(ax, (8, 0.35 * top + 1))
    data = missing.query("missing > 0").nlargest(top, "share").iloc[::-1]
    labels = data["table"] + "." + data["column"]
    ax.barh(labels, data["share"], color=PRIMARY)
    percent_axis(ax.xaxis)
    ax.set_xlim(0, 1)
    if data.empty:
        ax.text(0.5, 0.5, "No missing values", ha="center", va="center", transform=ax.transAxes,
                color=SUBTLE)  # fmt: skip
    return finish(ax, "Columns with the most missing values", xlabel="share of rows missing")


def plot_channel_mix(mix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Stacked bars: each table's rows split by channel.

    Parameters
    ----------
    mix : DataFrame
        Output of :func:`salesmkt.channel_mix`.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_channel_mix(salesmkt.channel_mix(salesmkt.load_sample()))
    >>> len(ax.get_legend().get_texts()) >= 5
    True
    >>> plot_channel_mix(salesmkt.channel_mix(salesmkt.load_sample()).iloc[:0]).get_legend() is None
    True
    """
    ax = get_ax(ax, (8, 1.2 * mix["table"].nunique() + 1.5))
    wide = mix.pivot_table(index="table", columns="channel", values="share", fill_value=0)
    if wide.empty:
        no_data(ax, "No table records a channel.")
        return finish(ax, "Channel mix")
    order = wide.sum().sort_values(ascending=False).index
    left = pd.Series(0.0, index=wide.index)
    for channel in order:
        ax.barh(
            wide.index,
            wide[channel],
            left=left,
            label=channel,
            color=CHANNEL_COLORS.get(channel, MUTED),
        )
        left += wide[channel]
    percent_axis(ax.xaxis)
    if ax.get_legend_handles_labels()[0]:  # no channel at all: no empty legend (and no warning)
        ax.legend(
            ncols=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False
        )
    return finish(ax, "Channel mix", xlabel="share of rows")


def plot_monthly_volume(
    volume: pd.DataFrame, *, tables: list[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Lines of rows per month for each table, indexed to its own average (100 = average month).

    Indexing lets tables of very different sizes share one chart, and shows seasonality and
    gaps at a glance.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_monthly_volume(salesmkt.monthly_volume(salesmkt.load_sample()),
    ...                          tables=["leads", "sessions"])
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['leads', 'sessions']
    """
    ax = get_ax(ax, (9, 4))
    names = tables or list(volume["table"].unique())
    for name, color in zip(names, category_colors(names), strict=True):
        part = volume[volume["table"] == name]
        ax.plot(part["month"], 100 * part["rows"] / part["rows"].mean(), marker="o", ms=3,
                label=name, color=color)  # fmt: skip
    ax.axhline(100, color=LIGHT, lw=1, zorder=0)
    thousands_axis(ax.yaxis)
    ax.legend(ncols=3, fontsize=8, frameon=False)
    return finish(ax, "Monthly volume (100 = the table's average month)", ylabel="index")
